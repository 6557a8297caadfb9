package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return bytes.TrimSpace(b)
}

// TestDefaultAnswers covers every answer API Gateway makes itself when no
// gateway response is customized, and that a rejected request never reaches
// the function.
func TestDefaultAnswers(t *testing.T) {
	doc := loadDoc(t, "api.yaml")
	delete(doc.Extensions, extGatewayResponses)
	fns := newFixtureFunctions()
	srv := serve(t, doc, fns.option())
	valid := readTestdata(t, "event-body.json")
	jsonTenant := hdr("Content-Type", "application/json", "X-Tenant", "t1")

	const (
		missingToken = `{"message":"Missing Authentication Token"}`
		badBody      = `{"message": "Invalid request body"}`
	)
	tests := []struct {
		name      string
		call      call
		status    int
		body      string
		errorType string // empty: the function answered
		calls     int
	}{
		{"unknown resource", call{method: "GET", path: "/nope"}, 403, missingToken, "MissingAuthenticationTokenException", 0},
		{"unknown method", call{method: "DELETE", path: "/events"}, 403, missingToken, "MissingAuthenticationTokenException", 0},
		{"root without methods", call{method: "GET", path: "/"}, 403, missingToken, "MissingAuthenticationTokenException", 0},
		{"greedy needs a segment", call{method: "GET", path: "/files"}, 403, missingToken, "MissingAuthenticationTokenException", 0},

		{"missing header", call{method: "POST", path: "/events", header: hdr("Content-Type", "application/json"), body: valid},
			400, `{"message": "Missing required request parameters: [X-Tenant]"}`, "BadRequestException", 0},
		{"missing query and header, path item's first", call{method: "GET", path: "/items"},
			400, `{"message": "Missing required request parameters: [q, X-Tenant]"}`, "BadRequestException", 0},
		{"blank query value", call{method: "GET", path: "/items?q=", header: hdr("X-Tenant", "t1")},
			400, `{"message": "Missing required request parameters: [q]"}`, "BadRequestException", 0},
		{"blank header value", call{method: "GET", path: "/items?q=a", header: hdr("X-Tenant", "  ")},
			400, `{"message": "Missing required request parameters: [X-Tenant]"}`, "BadRequestException", 0},
		{"header name in another case", call{method: "GET", path: "/items?q=a", header: hdr("x-tenant", "t1")},
			200, `{"ok":true}`, "", 1},
		{"parameters of an any-method", call{method: "DELETE", path: "/files/a"},
			400, `{"message": "Missing required request parameters: [X-Tenant]"}`, "BadRequestException", 0},

		{"body fails its model", call{method: "POST", path: "/events", header: jsonTenant, body: []byte(`{"event_id":"e","type":"bird"}`)},
			400, badBody, "BadRequestException", 0},
		{"body is not JSON", call{method: "POST", path: "/events", header: jsonTenant, body: []byte(`event_id=e&type=signup`)},
			400, badBody, "BadRequestException", 0},
		{"body has trailing data", call{method: "POST", path: "/events", header: jsonTenant, body: append(bytes.Clone(valid), []byte(` {}`)...)},
			400, badBody, "BadRequestException", 0},
		{"empty body", call{method: "POST", path: "/events", header: jsonTenant},
			400, badBody, "BadRequestException", 0},
		{"no Content-Type counts as application/json", call{method: "POST", path: "/events", header: hdr("X-Tenant", "t1"), body: []byte(`{}`)},
			400, badBody, "BadRequestException", 0},
		{"media type parameters are ignored", call{method: "POST", path: "/events", header: hdr("Content-Type", "Application/JSON; charset=utf-8", "X-Tenant", "t1"), body: []byte(`{}`)},
			400, badBody, "BadRequestException", 0},
		{"no model for the media type: not validated", call{method: "POST", path: "/events", header: hdr("Content-Type", "text/plain", "X-Tenant", "t1"), body: []byte(`{}`)},
			200, `{"ok":true}`, "", 1},
		{"$default model applies to any media type", call{method: "PATCH", path: "/items/special", header: hdr("Content-Type", "text/plain"), body: []byte(`{"op":"rename"}`)},
			400, badBody, "BadRequestException", 0},
		{"$default model passes", call{method: "PATCH", path: "/items/special", header: hdr("Content-Type", "text/plain"), body: []byte(`{"op":"add"}`)},
			200, `{"ok":true}`, "", 1},
		{"validator off", call{method: "POST", path: "/unchecked", header: hdr("Content-Type", "application/json"), body: []byte(`{"type":"bird"}`)},
			200, `{"ok":true}`, "", 1},
		{"valid request", call{method: "POST", path: "/events", header: jsonTenant, body: valid},
			200, `{"ok":true}`, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fns.total()
			r := do(t, srv, tt.call)
			assert.Equal(t, tt.status, r.status)
			assert.Equal(t, tt.body, string(r.body))
			if tt.errorType != "" {
				requireGatewayAnswer(t, r, tt.errorType)
				assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			} else {
				assert.Empty(t, r.header.Get("X-Amzn-Errortype"))
				assert.Regexp(t, uuidPattern, r.header.Get("X-Amzn-Requestid"))
			}
			assert.Equal(t, tt.calls, fns.total()-before, "function invocations")
		})
	}
}

// TestIntegrationFailures covers what the caller gets when the function
// fails, answers something API Gateway cannot map, or is too slow.
func TestIntegrationFailures(t *testing.T) {
	const internal = `{"message": "Internal server error"}`
	tests := []struct {
		name      string
		respond   func(context.Context, []byte) (Result, error)
		status    int
		body      string
		errorType string
	}{
		{"function error", func(context.Context, []byte) (Result, error) {
			return Result{Payload: []byte(`{"errorMessage":"boom","errorType":"errorString"}`), FunctionError: true}, nil
		}, 502, internal, "InternalServerErrorException"},
		{"runtime failed during the invocation", func(context.Context, []byte) (Result, error) {
			return Result{}, errors.New("connection reset by peer")
		}, 502, internal, "InternalServerErrorException"},
		{"Lambda refused the invocation", func(context.Context, []byte) (Result, error) {
			return Result{}, fmt.Errorf("pool: no environment free: %w", ErrInvokeRejected)
		}, 500, internal, "InternalServerErrorException"},
		{"payload over the function's limit", func(context.Context, []byte) (Result, error) {
			return Result{}, fmt.Errorf("rie: %w", ErrRequestTooLarge)
		}, 413, `{"message": "Request Too Long"}`, "BadRequestException"},
		{"body marked base64 is not", answering(`{"statusCode":200,"isBase64Encoded":true,"body":"not base64!"}`),
			500, internal, "InternalServerErrorException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fns := newFixtureFunctions()
			fns.files.respond = tt.respond
			srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
			r := do(t, srv, call{method: "GET", path: "/files/a.png", header: hdr("Accept", "image/png")})
			assert.Equal(t, tt.status, r.status)
			assert.Equal(t, tt.body, string(r.body))
			requireGatewayAnswer(t, r, tt.errorType)
			assert.Equal(t, 1, fns.files.calls())
		})
	}

	var malformed []struct{ Name, Payload string }
	require.NoError(t, json.Unmarshal(readTestdata(t, "malformed-results.json"), &malformed))
	for _, m := range malformed {
		t.Run("malformed result: "+m.Name, func(t *testing.T) {
			fns := newFixtureFunctions()
			fns.files.respond = answering(m.Payload)
			srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
			r := do(t, srv, call{method: "GET", path: "/files/a"})
			assert.Equal(t, 502, r.status)
			assert.Equal(t, internal, string(r.body))
			requireGatewayAnswer(t, r, "InternalServerErrorException")
		})
	}
}

// TestIntegrationTimeout: the document's timeoutInMillis (100 ms for /slow)
// bounds the invocation, and the invocation's context ends with it.
func TestIntegrationTimeout(t *testing.T) {
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
	r := do(t, srv, call{method: "GET", path: "/slow"})
	assert.Equal(t, 504, r.status)
	assert.Equal(t, `{"message": "Endpoint request timed out"}`, string(r.body))
	requireGatewayAnswer(t, r, "InternalServerErrorException")
	assert.Equal(t, 1, fns.slow.calls())
}

// TestPayloadLimits: API Gateway refuses a request over 10 MB before
// anything else; Lambda's 6 MB limit applies to the whole event.
func TestPayloadLimits(t *testing.T) {
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
	const tooLong = "HTTP content length exceeded 10485760 bytes."

	r := do(t, srv, call{method: "POST", path: "/unchecked", header: hdr("Content-Type", "text/plain"), body: bytes.Repeat([]byte("a"), maxRequestBytes+1)})
	assert.Equal(t, 413, r.status)
	assert.Equal(t, tooLong, string(r.body))
	assert.Empty(t, r.header.Get("X-Amzn-Requestid"), "AWS answers this before assigning a request id")

	// Without Content-Length (chunked), the limit applies while reading.
	req, err := http.NewRequest("POST", srv.URL+"/unchecked", io.MultiReader(bytes.NewReader(make([]byte, maxRequestBytes)), strings.NewReader("a")))
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 413, resp.StatusCode)
	assert.Equal(t, tooLong, string(body))

	r = do(t, srv, call{method: "POST", path: "/unchecked", header: hdr("Content-Type", "text/plain"), body: bytes.Repeat([]byte("a"), 7<<20)})
	assert.Equal(t, 413, r.status)
	assert.Equal(t, `{"message": "Request Too Long"}`, string(r.body))
	requireGatewayAnswer(t, r, "BadRequestException")

	// A binary body grows by a third in the event: 5 MB of PNG is over 6 MB.
	r = do(t, srv, call{method: "POST", path: "/files/big.png", header: hdr("Content-Type", "image/png", "X-Tenant", "t1"), body: make([]byte, 5<<20)})
	assert.Equal(t, 413, r.status)
	assert.Equal(t, `{"message": "Request Too Long"}`, string(r.body))

	assert.Zero(t, fns.total(), "no oversized request reaches a function")

	r = do(t, srv, call{method: "POST", path: "/unchecked", header: hdr("Content-Type", "text/plain"), body: bytes.Repeat([]byte("a"), 5<<20)})
	assert.Equal(t, 200, r.status, "a 5 MB text body fits in the event")
}

// TestThrottling: a method takes burst requests at once, then 429 until the
// bucket refills.
func TestThrottling(t *testing.T) {
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option(), WithThrottle(0.001, 2))
	get := call{method: "GET", path: "/items/1"}
	for i := range 2 {
		assert.Equal(t, 200, do(t, srv, get).status, "request %d", i+1)
	}
	r := do(t, srv, get)
	assert.Equal(t, 429, r.status)
	assert.Equal(t, `{"message":"Too Many Requests"}`, string(r.body))
	requireGatewayAnswer(t, r, "TooManyRequestsException")
	assert.Equal(t, 2, fns.items.calls())

	assert.Equal(t, 200, do(t, srv, call{method: "GET", path: "/files/x"}).status, "each method has its own bucket")
}

func TestTokenBucket(t *testing.T) {
	b := newTokenBucket(2, 3)
	t0 := time.Unix(1700000000, 0)
	for i := range 3 {
		assert.True(t, b.allow(t0), "burst token %d", i+1)
	}
	assert.False(t, b.allow(t0), "burst spent")
	assert.False(t, b.allow(t0.Add(400*time.Millisecond)), "0.8 token")
	assert.True(t, b.allow(t0.Add(500*time.Millisecond)), "1 token after 0.5 s at 2/s")
	assert.False(t, b.allow(t0.Add(500*time.Millisecond)))
	assert.True(t, b.allow(t0.Add(time.Hour)))
	assert.True(t, b.allow(t0.Add(time.Hour)))
	assert.True(t, b.allow(t0.Add(time.Hour)))
	assert.False(t, b.allow(t0.Add(time.Hour)), "refills up to burst only")
}
