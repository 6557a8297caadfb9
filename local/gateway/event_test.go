package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/logs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestEventGolden compares the event a function receives with the committed
// one, fields that change from request to request normalised.
func TestEventGolden(t *testing.T) {
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option(),
		WithAPIID("a1b2c3d4e5"), WithAccountID("123456789012"),
		WithStageVariables(map[string]string{"flavor": "vanilla"}))
	body := readTestdata(t, "event-body.json")
	r := do(t, srv, call{
		method: "POST", path: "/events?b=2&a=1&a=3&empty=",
		header: hdr("Content-Type", "application/json", "X-Tenant", "t1", "X-Multi", "one", "X-Multi", "two", "X-Forwarded-For", "203.0.113.7"),
		body:   body,
		host:   "a1b2c3d4e5.execute-api.localhost:4566",
	})
	require.Equal(t, 200, r.status, string(r.body))

	payload := fns.events.lastPayload(t)
	var event events.APIGatewayProxyRequest
	require.NoError(t, json.Unmarshal(payload, &event))
	assert.Equal(t, r.header.Get("X-Amzn-Requestid"), event.RequestContext.RequestID, "the event's requestId is the caller's x-amzn-RequestId")
	assert.Equal(t, r.header.Get("X-Amz-Apigw-Id"), event.RequestContext.ExtendedRequestID)
	assert.Regexp(t, uuidPattern, fns.events.requestIDs[0], "the Lambda request id")
	assert.NotEqual(t, event.RequestContext.RequestID, fns.events.requestIDs[0], "Lambda's request id is its own")
	requestTime, err := time.Parse(clfTime, event.RequestContext.RequestTime)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), requestTime, time.Minute)
	assert.Equal(t, requestTime.Unix(), event.RequestContext.RequestTimeEpoch/1000)
	assert.Regexp(t, `^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`, event.Headers["X-Amzn-Trace-Id"])

	got := normaliseEvent(t, payload)
	golden := filepath.Join("testdata", "event.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
}

// normaliseEvent replaces the values that differ between runs and indents
// the event.
func normaliseEvent(t *testing.T, payload []byte) []byte {
	t.Helper()
	var raw map[string]any
	require.NoError(t, json.Unmarshal(payload, &raw))
	rc := raw["requestContext"].(map[string]any)
	rc["requestId"] = "<requestId>"
	rc["deploymentId"] = "<deploymentId>"
	rc["extendedRequestId"] = "<extendedRequestId>"
	rc["requestTime"] = "<requestTime>"
	rc["requestTimeEpoch"] = 0
	raw["headers"].(map[string]any)["X-Amzn-Trace-Id"] = "<traceId>"
	raw["multiValueHeaders"].(map[string]any)["X-Amzn-Trace-Id"] = []any{"<traceId>"}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(raw))
	return out.Bytes()
}

// TestEventShape: absent maps are null, as AWS sends them; repeated query
// parameters and headers keep their last value in the single-value maps.
func TestEventShape(t *testing.T) {
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option())

	r := do(t, srv, call{method: "GET", path: "/items/a%2Fb"})
	require.Equal(t, 200, r.status)
	payload := fns.items.lastPayload(t)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(payload, &raw))
	for _, k := range []string{"queryStringParameters", "multiValueQueryStringParameters", "stageVariables"} {
		assert.Equal(t, "null", string(raw[k]), k)
	}
	assert.Equal(t, `null`, string(raw["body"]), "no body is null (fidelity_test.go)")
	var event events.APIGatewayProxyRequest
	require.NoError(t, json.Unmarshal(payload, &event))
	assert.Equal(t, map[string]string{"id": "a%2Fb"}, event.PathParameters, "path parameters keep the client's encoding (fidelity_test.go)")
	assert.Equal(t, "/items/{id}", event.Resource)
	assert.Equal(t, "/items/a%2Fb", event.Path)
	assert.Equal(t, "/test/items/a%2Fb", event.RequestContext.Path)
	assert.Equal(t, "getItem", event.RequestContext.OperationName)

	r = do(t, srv, call{method: "GET", path: "/items?q=1&q=2&page=3", header: hdr("X-Tenant", "a", "X-Tenant", "b")})
	require.Equal(t, 200, r.status)
	require.NoError(t, json.Unmarshal(fns.items.lastPayload(t), &event))
	assert.Equal(t, map[string]string{"q": "2", "page": "3"}, event.QueryStringParameters)
	assert.Equal(t, map[string][]string{"q": {"1", "2"}, "page": {"3"}}, event.MultiValueQueryStringParameters)
	assert.Equal(t, "b", event.Headers["X-Tenant"])
	assert.Equal(t, []string{"a", "b"}, event.MultiValueHeaders["X-Tenant"])
	assert.Nil(t, event.PathParameters)
}

// TestBinaryRequestBodies: a body whose media type is a binary media type
// reaches the function base64-encoded.
func TestBinaryRequestBodies(t *testing.T) {
	png := readTestdata(t, "pixel.png")
	tests := []struct {
		contentType string
		base64      bool
	}{
		{"image/png", true},
		{"application/octet-stream", true},
		{"text/plain", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			fns := newFixtureFunctions()
			srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
			h := hdr("X-Tenant", "t1")
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			payloadBody := png
			if !tt.base64 {
				payloadBody = []byte(`{"op":"add"}`)
			}
			r := do(t, srv, call{method: "PUT", path: "/files/img/pixel.png", header: h, body: payloadBody})
			require.Equal(t, 200, r.status, string(r.body))
			var event events.APIGatewayProxyRequest
			require.NoError(t, json.Unmarshal(fns.files.lastPayload(t), &event))
			assert.Equal(t, tt.base64, event.IsBase64Encoded)
			assert.Equal(t, map[string]string{"proxy": "img/pixel.png"}, event.PathParameters)
			assert.Equal(t, "/files/{proxy+}", event.Resource)
			assert.Equal(t, "PUT", event.HTTPMethod)
			assert.Equal(t, "anyFile", event.RequestContext.OperationName)
			if tt.base64 {
				decoded, err := base64.StdEncoding.DecodeString(event.Body)
				require.NoError(t, err)
				assert.Equal(t, png, decoded)
			} else {
				assert.Equal(t, string(payloadBody), event.Body)
			}
		})
	}
}

// TestBinaryMediaTypeWildcards: a binary media type such as image/* covers
// every subtype, for request bodies and for the Accept of a response.
func TestBinaryMediaTypeWildcards(t *testing.T) {
	png := readTestdata(t, "pixel.png")
	pngB64 := base64.StdEncoding.EncodeToString(png)
	doc := loadDoc(t, "api.yaml")
	doc.Extensions[extBinaryMediaTypes] = []string{"image/*"}
	fns := newFixtureFunctions()
	fns.files.respond = answering(`{"statusCode":200,"headers":{"Content-Type":"image/png"},"isBase64Encoded":true,"body":"` + pngB64 + `"}`)
	srv := serve(t, doc, fns.option())

	tests := []struct {
		contentType, accept string
		binary              bool
	}{
		{"image/png", "image/png", true},
		{"image/gif", "image/webp", true},
		{"text/plain", "text/plain", false},
		{"application/octet-stream", "application/json", false},
	}
	for _, tt := range tests {
		t.Run(tt.contentType+" "+tt.accept, func(t *testing.T) {
			r := do(t, srv, call{method: "PUT", path: "/files/a", header: hdr("Content-Type", tt.contentType, "Accept", tt.accept, "X-Tenant", "t1"), body: png})
			require.Equal(t, 200, r.status, string(r.body))
			var event events.APIGatewayProxyRequest
			require.NoError(t, json.Unmarshal(fns.files.lastPayload(t), &event))
			assert.Equal(t, tt.binary, event.IsBase64Encoded, "request body base64-encoded")
			if tt.binary {
				assert.Equal(t, png, r.body, "response body decoded")
			} else {
				assert.Equal(t, []byte(pngB64), r.body, "response body left as base64 text")
			}
		})
	}
}

// TestProxyResponse maps the function's proxy result to the response.
func TestProxyResponse(t *testing.T) {
	png := readTestdata(t, "pixel.png")
	pngB64 := base64.StdEncoding.EncodeToString(png)
	tests := []struct {
		name    string
		result  string
		accept  string
		status  int
		body    []byte
		headers map[string][]string
	}{
		{
			name:   "status, headers and multiValueHeaders merged",
			result: `{"statusCode":201,"headers":{"content-type":"text/plain","X-One":"1","X-Two":"2"},"multiValueHeaders":{"Set-Cookie":["a=1","b=2"],"X-One":["m1","m2"]},"body":"created"}`,
			status: 201, body: []byte("created"),
			headers: map[string][]string{"Content-Type": {"text/plain"}, "X-One": {"1", "m1", "m2"}, "X-Two": {"2"}, "Set-Cookie": {"a=1", "b=2"}},
		},
		{
			name:   "no headers: application/json",
			result: `{"statusCode":200,"body":"{}"}`, status: 200, body: []byte("{}"),
			headers: map[string][]string{"Content-Type": {"application/json"}},
		},
		{
			name:   "no body",
			result: `{"statusCode":204}`, status: 204, body: []byte{},
		},
		{
			name:   "connection headers are remapped",
			result: `{"statusCode":200,"headers":{"Content-Length":"999","Date":"yesterday","Server":"fn"},"body":"x"}`,
			status: 200, body: []byte("x"),
			headers: map[string][]string{"X-Amzn-Remapped-Content-Length": {"999"}, "X-Amzn-Remapped-Date": {"yesterday"}, "X-Amzn-Remapped-Server": {"fn"}, "Content-Length": {"1"}},
		},
		{
			name:   "base64 body sent as binary to a caller accepting it",
			result: `{"statusCode":200,"headers":{"Content-Type":"image/png"},"isBase64Encoded":true,"body":"` + pngB64 + `"}`,
			accept: "image/png", status: 200, body: png,
		},
		{
			name:   "base64 body left as text for a caller accepting JSON",
			result: `{"statusCode":200,"headers":{"Content-Type":"image/png"},"isBase64Encoded":true,"body":"` + pngB64 + `"}`,
			accept: "application/json", status: 200, body: []byte(pngB64),
		},
		{
			name:   "only the first Accept media type counts",
			result: `{"statusCode":200,"headers":{"Content-Type":"image/png"},"isBase64Encoded":true,"body":"` + pngB64 + `"}`,
			accept: "application/json, image/png", status: 200, body: []byte(pngB64),
		},
		{
			name:   "the first Accept media type is binary",
			result: `{"statusCode":200,"headers":{"Content-Type":"image/png"},"isBase64Encoded":true,"body":"` + pngB64 + `"}`,
			accept: "image/png;q=0.9, application/json", status: 200, body: png,
		},
		{
			name:   "function's own error status",
			result: `{"statusCode":404,"body":"{\"message\":\"no such file\"}"}`, status: 404, body: []byte(`{"message":"no such file"}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fns := newFixtureFunctions()
			fns.files.respond = answering(tt.result)
			srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
			h := hdr()
			if tt.accept != "" {
				h.Set("Accept", tt.accept)
			}
			r := do(t, srv, call{method: "GET", path: "/files/f", header: h})
			assert.Equal(t, tt.status, r.status)
			assert.Equal(t, tt.body, r.body)
			for k, v := range tt.headers {
				assert.Equal(t, v, r.header.Values(k), k)
			}
			assert.Regexp(t, uuidPattern, r.header.Get("X-Amzn-Requestid"))
			assert.NotEmpty(t, r.header.Get("X-Amzn-Trace-Id"))
			assert.Empty(t, r.header.Get("X-Amzn-Errortype"))
		})
	}
}

// TestAccessLog writes one line per request in the stage's format.
func TestAccessLog(t *testing.T) {
	sink := &memorySink{}
	format := `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","method":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","length":"$context.responseLength","error":"$context.error.message","responseType":"$context.error.responseType","integrationStatus":"$context.integrationStatus","stage":"$context.stage","flavor":"$stageVariables.flavor"}`
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option(),
		WithAccessLog(sink, "API-Gateway-Execution-Logs/test", "access", format),
		WithStageVariables(map[string]string{"flavor": "mint"}))

	ok := do(t, srv, call{method: "GET", path: "/items/7"})
	missing := do(t, srv, call{method: "GET", path: "/nope"})

	require.Len(t, sink.lines, 2)
	var first, second map[string]string
	require.NoError(t, json.Unmarshal([]byte(sink.lines[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(sink.lines[1]), &second))
	assert.Equal(t, map[string]string{
		"requestId": ok.header.Get("X-Amzn-Requestid"), "ip": "127.0.0.1", "method": "GET",
		"resourcePath": "/items/{id}", "status": "200", "length": strconv.Itoa(len(ok.body)), "error": "-",
		"responseType": "-", "integrationStatus": "200", "stage": "test", "flavor": "mint",
	}, first)
	assert.Equal(t, map[string]string{
		"requestId": missing.header.Get("X-Amzn-Requestid"), "ip": "127.0.0.1", "method": "GET",
		"resourcePath": "-", "status": "403", "length": strconv.Itoa(len(missing.body)), "error": "Missing Authentication Token",
		"responseType": "MISSING_AUTHENTICATION_TOKEN", "integrationStatus": "-", "stage": "test", "flavor": "mint",
	}, second)
	assert.Equal(t, []string{"API-Gateway-Execution-Logs/test/access"}, sink.streams())
}

// TestFunctionErrorIsAnIntegrationFailure: a function's error is answered
// 502 {"message": "Internal server error"} and logged as an
// INTEGRATION_FAILURE with integration status 200, as AWS logs it: access
// log lines recorded from AWS in github.com/DataBiosphere/azul issues #8192
// (a response over 6291556 bytes: "error_responseType":
// "INTEGRATION_FAILURE", "integration_error": "Lambda Customer Function
// Error:Response payload size exceeded …", "integrationStatus": "200",
// "status": "502") and pull request #6624 (an unhandled exception:
// INTEGRATION_FAILURE, "Internal server error", "Lambda Customer Function
// Error:'AZUL_S3_BUCKET'"). A malformed result keeps DEFAULT_5XX.
func TestFunctionErrorIsAnIntegrationFailure(t *testing.T) {
	sink := &memorySink{}
	format := `{"status":"$context.status","error":"$context.error.message","responseType":"$context.error.responseType","integrationStatus":"$context.integrationStatus"}`
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option(), WithAccessLog(sink, "g", "s", format))

	fns.items.respond = func(context.Context, []byte) (Result, error) {
		return Result{Payload: []byte(`{"errorType":"Function.ResponseSizeTooLarge"}`), FunctionError: true}, nil
	}
	r := do(t, srv, call{method: "GET", path: "/items/7"})
	assert.Equal(t, 502, r.status)
	assert.Equal(t, `{"message": "Internal server error"}`, string(r.body))
	requireGatewayAnswer(t, r, "InternalServerErrorException")

	fns.items.respond = answering(`{"statusCode": "test"}`)
	malformed := do(t, srv, call{method: "GET", path: "/items/7"})
	assert.Equal(t, 502, malformed.status)

	require.Len(t, sink.lines, 2)
	var functionError, malformedResult map[string]string
	require.NoError(t, json.Unmarshal([]byte(sink.lines[0]), &functionError))
	require.NoError(t, json.Unmarshal([]byte(sink.lines[1]), &malformedResult))
	assert.Equal(t, map[string]string{"status": "502", "error": "Internal server error", "responseType": "INTEGRATION_FAILURE", "integrationStatus": "200"}, functionError)
	assert.Equal(t, "DEFAULT_5XX", malformedResult["responseType"])
}

type memorySink struct {
	lines []string
	where []string
}

func (s *memorySink) Append(group, stream string, evs ...logs.Event) error {
	for _, e := range evs {
		s.lines = append(s.lines, e.Message)
		s.where = append(s.where, group+"/"+stream)
	}
	return nil
}

func (s *memorySink) streams() []string {
	var out []string
	for _, w := range s.where {
		if len(out) == 0 || out[len(out)-1] != w {
			out = append(out, w)
		}
	}
	return out
}

var traceIDPattern = regexp.MustCompile(`Root=1-[0-9a-f]+-[0-9a-f]+`)

// TestRequestIDsAreUnique: every request gets its own ids.
func TestRequestIDsAreUnique(t *testing.T) {
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
	seen := map[string]bool{}
	for range 50 {
		r := do(t, srv, call{method: "GET", path: "/nope"})
		id := r.header.Get("X-Amzn-Requestid")
		require.False(t, seen[id], "request id %s repeated", id)
		seen[id] = true
	}
	r := do(t, srv, call{method: "GET", path: "/files/x"})
	assert.Regexp(t, traceIDPattern, r.header.Get("X-Amzn-Trace-Id"))
	assert.True(t, bytes.Contains(fns.files.lastPayload(t), []byte(r.header.Get("X-Amzn-Trace-Id"))), "the caller's trace id is the one the function sees")
}
