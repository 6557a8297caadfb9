package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewRejects: a document or configuration the gateway cannot serve as
// AWS would is refused with an error naming what is wrong.
func TestNewRejects(t *testing.T) {
	integration := func(doc *openapi3.T) map[string]any {
		return doc.Paths.Value("/events").Post.Extensions[extIntegration].(map[string]any)
	}
	withGet := func(path string) func(doc *openapi3.T) {
		return func(doc *openapi3.T) {
			op := openapi3.NewOperation()
			op.Extensions = map[string]any{extIntegration: integration(doc)}
			doc.Paths.Set(path, &openapi3.PathItem{Get: op})
		}
	}
	tests := []struct {
		name    string
		mutate  func(doc *openapi3.T)
		opts    []Option
		noStage bool
		want    string
	}{
		{name: "no stage", noStage: true, want: "no stage name: pass WithStage"},
		{name: "bad stage name", opts: []Option{WithStage("dev stage")}, want: `stage name "dev stage"`},
		{name: "function not provided", opts: []Option{WithFunctions(map[string]Function{"items-fn": &fakeFunction{}})},
			want: `calls function "events-fn", which WithFunctions does not provide (provided: [items-fn])`},
		{name: "non-proxy integration", mutate: func(doc *openapi3.T) { integration(doc)["type"] = "http" },
			want: `POST /events: integration type "http" is not served by the local gateway`},
		{name: "not an invoke ARN", mutate: func(doc *openapi3.T) {
			integration(doc)["uri"] = "arn:aws:lambda:ap-northeast-1:123456789012:function:events-fn"
		},
			want: "want a Lambda invoke ARN"},
		{name: "integration with GET", mutate: func(doc *openapi3.T) { integration(doc)["httpMethod"] = "GET" },
			want: "Lambda is invoked with POST"},
		{name: "no integration", mutate: func(doc *openapi3.T) { delete(doc.Paths.Value("/events").Post.Extensions, extIntegration) },
			want: "POST /events: no x-amazon-apigateway-integration"},
		{name: "timeout below AWS's minimum", mutate: func(doc *openapi3.T) { integration(doc)["timeoutInMillis"] = 10 },
			want: `timeoutInMillis "10"`},
		{name: "undefined validator", mutate: func(doc *openapi3.T) { doc.Paths.Value("/events").Post.Extensions[extValidator] = "strict" },
			want: `POST /events: request validator "strict" is not defined`},
		{name: "undefined default validator", mutate: func(doc *openapi3.T) { doc.Extensions[extValidator] = "strict" },
			want: `x-amazon-apigateway-request-validator "strict" is not defined`},
		{name: "unknown gateway response type", mutate: func(doc *openapi3.T) {
			doc.Extensions[extGatewayResponses] = map[string]any{"NOT_FOUND": map[string]any{"statusCode": "404"}}
		}, want: "NOT_FOUND: not a gateway response type"},
		{name: "gateway response status", mutate: func(doc *openapi3.T) {
			doc.Extensions[extGatewayResponses] = map[string]any{"DEFAULT_4XX": map[string]any{"statusCode": "4xx"}}
		}, want: `statusCode "4xx"`},
		{name: "gateway response parameter target", mutate: func(doc *openapi3.T) {
			doc.Extensions[extGatewayResponses] = map[string]any{"DEFAULT_4XX": map[string]any{"responseParameters": map[string]any{"method.response.header.X": "'a'"}}}
		}, want: "want gatewayresponse.header.<name>"},
		{name: "gateway response parameter source", mutate: func(doc *openapi3.T) {
			doc.Extensions[extGatewayResponses] = map[string]any{"DEFAULT_4XX": map[string]any{"responseParameters": map[string]any{"gatewayresponse.header.X": "unquoted"}}}
		}, want: `value "unquoted": want a 'quoted literal'`},
		{name: "security requirement", mutate: func(doc *openapi3.T) {
			doc.Paths.Value("/events").Post.Security = &openapi3.SecurityRequirements{{"api_key": {}}}
		}, want: `POST /events: security scheme "api_key" is not in components.securitySchemes`},
		{name: "two names for one parameter resource", mutate: withGet("/items/{other}/x"),
			want: "one resource cannot be both {id} and {other}"},
		{name: "greedy in the middle", mutate: withGet("/files/{rest+}/x"), want: "a greedy {rest+} must be the last segment"},
		{name: "partial parameter segment", mutate: withGet("/files-{id}"), want: "a parameter must be a whole segment"},
		{name: "stage variable name", opts: []Option{WithStageVariables(map[string]string{"log-level": "debug"})}, want: `stage variable "log-level": use letters, digits and _ only`},
		{name: "throttle", opts: []Option{WithThrottle(0, 10)}, want: "throttle rate 0 and burst 10: both must be positive"},
		{name: "access log", opts: []Option{WithAccessLog(&memorySink{}, "", "s", "$context.requestId")}, want: "access log needs a sink, a group, a stream and a format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := loadDoc(t, "api.yaml")
			if tt.mutate != nil {
				tt.mutate(doc)
			}
			var opts []Option
			if !tt.noStage {
				opts = append(opts, WithStage("test"))
			}
			opts = append(opts, newFixtureFunctions().option())
			opts = append(opts, tt.opts...)
			_, err := New(doc, opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	_, err := New(nil, WithStage("test"))
	assert.EqualError(t, err, "gateway: no OpenAPI document")
}

func TestFunctionName(t *testing.T) {
	tests := []struct{ uri, name, qualifier string }{
		{"arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:request-dump-dev/invocations", "request-dump-dev", ""},
		{"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:fn:live/invocations", "fn", "live"},
		{"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:fn:7/invocations", "fn", "7"},
		{"arn:aws-cn:apigateway:cn-north-1:lambda:path/2015-03-31/functions/arn:aws-cn:lambda:cn-north-1:123456789012:function:fn/invocations", "fn", ""},
	}
	for _, tt := range tests {
		name, qualifier, err := functionName(tt.uri)
		require.NoError(t, err, tt.uri)
		assert.Equal(t, tt.name, name)
		assert.Equal(t, tt.qualifier, qualifier)
	}
	for _, bad := range []string{
		"",
		"arn:aws:lambda:us-east-1:123456789012:function:fn",
		"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:/invocations",
		"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:fn",
		"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:fn:/invocations",
		"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:fn:a:b/invocations",
		"https://example.com/2015-03-31/functions/x/invocations",
	} {
		_, _, err := functionName(bad)
		assert.Error(t, err, bad)
	}
}

// The integration uri may name the alias through a stage variable, as the
// service module's does: each stage then invokes the alias it sets, and a
// stage that does not set the variable is refused when it is compiled.
func TestStageVariableQualifiesTheIntegration(t *testing.T) {
	doc := loadDoc(t, "api.yaml")
	integ := doc.Paths.Value("/events").Post.Extensions[extIntegration].(map[string]any)
	integ["uri"] = strings.Replace(integ["uri"].(string), "function:events-fn/", "function:events-fn:${stageVariables.lambda_alias}/", 1)
	live, candidate, bare := &fakeFunction{}, &fakeFunction{}, newFixtureFunctions()
	functions := func() Option {
		return WithFunctions(map[string]Function{
			"events-fn:live": live, "events-fn:candidate": candidate,
			"events-fn": bare.events, "items-fn": bare.items, "files-fn": bare.files, "slow-fn": bare.slow, "things": bare.things,
		})
	}
	for alias, fn := range map[string]*fakeFunction{"live": live, "candidate": candidate} {
		srv := serve(t, doc, functions(), WithStageVariables(map[string]string{"lambda_alias": alias}))
		before := fn.calls()
		require.Equal(t, 200, do(t, srv, call{method: "POST", path: "/events", header: hdr("Content-Type", "application/json", "X-Tenant", "t1"), body: readTestdata(t, "event-body.json")}).status)
		assert.Equal(t, before+1, fn.calls(), "the stage with lambda_alias=%s invokes events-fn:%s", alias, alias)
	}
	assert.Zero(t, bare.events.calls(), "a qualified provider wins over the bare name")

	_, err := New(doc, WithStage("dev"), functions())
	assert.ErrorContains(t, err, "names stage variable lambda_alias, which stage dev does not set (WithStageVariables)")
}

// TestAPIID: the default API id is shaped like AWS's, stable for a title,
// and what the event carries when WithAPIID is not used.
func TestAPIID(t *testing.T) {
	id := APIID("request-dump-dev")
	assert.Regexp(t, `^[a-z0-9]{10}$`, id)
	assert.Equal(t, id, APIID("request-dump-dev"))
	assert.NotEqual(t, id, APIID("request-dump-stg"))

	doc := loadDoc(t, "api.yaml")
	fns := newFixtureFunctions()
	srv := serve(t, doc, fns.option())
	require.Equal(t, 200, do(t, srv, call{method: "GET", path: "/items/1"}).status)
	var event struct {
		RequestContext struct {
			APIID string `json:"apiId"`
		} `json:"requestContext"`
	}
	require.NoError(t, json.Unmarshal(fns.items.lastPayload(t), &event))
	assert.Equal(t, APIID(doc.Info.Title), event.RequestContext.APIID)
}
