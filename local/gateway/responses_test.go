package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidationErrorString: a BAD_REQUEST_BODY override gets the draft-4
// validator's messages in $context.error.validationErrorString, escaped so
// the body stays JSON.
func TestValidationErrorString(t *testing.T) {
	var cases []struct {
		Name   string
		Body   json.RawMessage
		Errors string
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, "validation-cases.json"), &cases))
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			r := do(t, srv, call{method: "POST", path: "/events", header: hdr("Content-Type", "application/json", "X-Tenant", "t1"), body: c.Body})
			assert.Equal(t, 422, r.status, "the override's statusCode")
			requireGatewayAnswer(t, r, "BadRequestException")
			var got map[string]string
			require.NoError(t, json.Unmarshal(r.body, &got), "the rendered template is JSON: %s", r.body)
			assert.Equal(t, map[string]string{
				"message":    "Invalid request body",
				"errors":     c.Errors,
				"type":       "BAD_REQUEST_BODY",
				"request_id": r.header.Get("X-Amzn-Requestid"),
			}, got)
			assert.Equal(t, r.header.Get("X-Amzn-Requestid"), r.header.Get("X-Request-Id"), "context.requestId header mapping")
			assert.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"), "literal header mapping")
		})
	}
	assert.Zero(t, fns.total())
}

// TestGatewayResponseOverrides: a type's own entry, else its family's
// (DEFAULT_4XX, DEFAULT_5XX), else AWS's default; statuses, header
// mappings and templates chosen by Accept.
func TestGatewayResponseOverrides(t *testing.T) {
	things := &fakeFunction{}
	srv := serve(t, loadDoc(t, "responses.yaml"),
		WithFunctions(map[string]Function{"things": things}),
		WithAPIID("apiabc1234"),
		WithStageVariables(map[string]string{"flavor": "mint"}))

	tests := []struct {
		name      string
		call      call
		respond   func(context.Context, []byte) (Result, error)
		status    int
		errorType string
		body      string // exact, or a JSON document compared as JSON
		json      bool
		headers   map[string]string
		absent    []string
	}{
		{
			name:   "own entry, status from DEFAULT_4XX, headers from the request",
			call:   call{method: "GET", path: "/nowhere?q=x", header: hdr("Origin", "https://app.example")},
			status: 418, errorType: "MissingAuthenticationTokenException",
			body: `{"hint": "no route for GET /test/nowhere"}`, json: true,
			headers: map[string]string{"X-Origin": "https://app.example", "X-Query": "x", "X-Api": "apiabc1234", "Content-Type": "application/json"},
			absent:  []string{"Access-Control-Allow-Origin", "X-Flavor"},
		},
		{
			name:   "template chosen by Accept",
			call:   call{method: "POST", path: "/nowhere", header: hdr("Accept", "text/plain")},
			status: 418, errorType: "MissingAuthenticationTokenException",
			body:    "no route for POST /test/nowhere",
			headers: map[string]string{"Content-Type": "text/plain"},
			absent:  []string{"X-Origin", "X-Query"},
		},
		{
			name:   "uncustomized type falls back to DEFAULT_4XX",
			call:   call{method: "GET", path: "/things/1"},
			status: 418, errorType: "BadRequestException",
			body: `{"error": "Missing required request parameters: [q]", "type": "BAD_REQUEST_PARAMETERS", "stage": "test", "unknown": "$input.body", "quiet": "Missing required request parameters: [q]"}`, json: true,
			headers: map[string]string{"Access-Control-Allow-Origin": "https://example.com", "X-Flavor": "mint"},
		},
		{
			// AWS's access log has INTEGRATION_FAILURE for a function error
			// (TestFunctionErrorIsAnIntegrationFailure), so that type's entry
			// applies, with its documented default status.
			name: "function error takes INTEGRATION_FAILURE's entry",
			call: call{method: "GET", path: "/things/1?q=a"},
			respond: func(context.Context, []byte) (Result, error) {
				return Result{Payload: []byte(`{}`), FunctionError: true}, nil
			},
			status: 504, errorType: "InternalServerErrorException",
			body:    `{"message":"Internal server error"}`,
			headers: map[string]string{"Retry-After": "1"},
			absent:  []string{"Access-Control-Allow-Origin"},
		},
		{
			name: "malformed result falls back to DEFAULT_5XX, keeping 502",
			call: call{method: "GET", path: "/things/1?q=a"},
			respond: func(context.Context, []byte) (Result, error) {
				return Result{Payload: []byte(`{"statusCode": "test"}`)}, nil
			},
			status: 502, errorType: "InternalServerErrorException",
			body: `{"error": "upstream failed", "detail": "Internal server error", "request_id": "<id>"}`, json: true,
			absent: []string{"Access-Control-Allow-Origin", "Retry-After"},
		},
		{
			name: "customized without a status: the type's default status",
			call: call{method: "GET", path: "/things/1?q=a"},
			respond: func(context.Context, []byte) (Result, error) {
				return Result{}, fmt.Errorf("throttled: %w", ErrInvokeRejected)
			},
			status: 504, errorType: "InternalServerErrorException",
			body:    `{"message":"Internal server error"}`,
			headers: map[string]string{"Retry-After": "1"},
		},
		{
			name:    "own status; an entry without templates gets the default one",
			call:    call{method: "GET", path: "/things/1?q=a"},
			respond: waitForDeadline,
			status:  503, errorType: "InternalServerErrorException",
			body: `{"message":"Endpoint request timed out"}`,
		},
		{
			name:    "runtime failure",
			call:    call{method: "GET", path: "/things/1?q=a"},
			respond: func(context.Context, []byte) (Result, error) { return Result{}, errors.New("exit status 2") },
			status:  502, errorType: "InternalServerErrorException",
			body: `{"error": "upstream failed", "detail": "Internal server error", "request_id": "<id>"}`, json: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			things.respond = tt.respond
			r := do(t, srv, tt.call)
			assert.Equal(t, tt.status, r.status)
			requireGatewayAnswer(t, r, tt.errorType)
			want := tt.body
			if tt.json {
				want = jsonReplace(want, "<id>", r.header.Get("X-Amzn-Requestid"))
				assert.JSONEq(t, want, string(r.body))
			} else {
				assert.Equal(t, want, string(r.body))
			}
			for k, v := range tt.headers {
				assert.Equal(t, v, r.header.Get(k), k)
			}
			for _, k := range tt.absent {
				assert.Empty(t, r.header.Values(k), k)
			}
		})
	}
}

func jsonReplace(s, old, new string) string {
	var v map[string]any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	for k, x := range v {
		if x == old {
			v[k] = new
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTemplateReferences(t *testing.T) {
	values := map[string]string{"context.requestId": "r-1", "context.error.message": "boom", "stageVariables.v": "sv"}
	lookup := func(name string) (string, bool) { v, ok := values[name]; return v, ok }
	tests := []struct {
		template, response, accessLog string
	}{
		{`{"id":"$context.requestId"}`, `{"id":"r-1"}`, `{"id":"r-1"}`},
		{`${context.requestId}x $!{context.error.message}.`, `r-1x boom.`, `r-1x boom.`},
		{`$context.requestId.$context.error.message`, `r-1.boom`, `r-1.boom`},
		{`$stageVariables.v/$stageVariables.none`, `sv/`, `sv/-`},
		{`$context.integrationLatency ms`, ` ms`, `- ms`},
		{`$input.body $util.escapeJavaScript($x) $ 5$ ${broken`, `$input.body $util.escapeJavaScript($x) $ 5$ ${broken`, `- -(-) $ 5$ ${broken`},
	}
	for _, tt := range tests {
		tpl := parseTemplate(tt.template)
		assert.Equal(t, tt.response, string(tpl.render(nil, lookup, false)), tt.template)
		assert.Equal(t, tt.accessLog, string(tpl.render(nil, lookup, true)), tt.template)
	}
}
