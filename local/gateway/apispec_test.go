package gateway

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/repo"
)

// deployedVars are the template variables Terraform passes for dev.
var deployedVars = apispec.Vars{
	Title:          "request-dump-dev",
	InvokeARN:      "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:request-dump-dev/invocations",
	CredentialsARN: "arn:aws:iam::123456789012:role/request-dump-dev-api-gateway",
	TimeoutMillis:  10000,
	AccessMode:     apispec.AccessNone,
}

// TestDeployedTemplate serves the repository's OpenAPI template, rendered
// as Terraform renders it, and exercises POST /events.
func TestDeployedTemplate(t *testing.T) {
	doc, err := apispec.Load(deployedVars)
	require.NoError(t, err)
	fn := &fakeFunction{respond: answering(`{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"request_id\":\"r\",\"aws_request_id\":\"a\"}"}`)}
	sink := &memorySink{}
	srv := serve(t, doc, WithFunctions(map[string]Function{"request-dump-dev": fn}),
		WithAccessLog(sink, "/aws/apigateway/request-dump-dev", "access", deployedAccessLogFormat(t)))

	r := do(t, srv, call{method: "POST", path: "/events", header: hdr("Content-Type", "application/json"), body: readTestdata(t, "event-body.json")})
	require.Equal(t, 200, r.status, string(r.body))
	assert.JSONEq(t, `{"request_id":"r","aws_request_id":"a"}`, string(r.body))
	var event events.APIGatewayProxyRequest
	require.NoError(t, json.Unmarshal(fn.lastPayload(t), &event))
	assert.Equal(t, "/events", event.Resource)
	assert.Equal(t, "postEvent", event.RequestContext.OperationName)
	assert.JSONEq(t, string(readTestdata(t, "event-body.json")), event.Body)

	r = do(t, srv, call{method: "POST", path: "/events", header: hdr("Content-Type", "application/json"), body: []byte(`{"event_id":"e-1","user":{"email":"not an address"}}`)})
	assert.Equal(t, 400, r.status)
	requireGatewayAnswer(t, r, "BadRequestException")
	var detail map[string]string
	require.NoError(t, json.Unmarshal(r.body, &detail), string(r.body))
	assert.Equal(t, map[string]string{
		"message":    "Invalid request body",
		"errors":     `[object has missing required properties (["type"]), ECMA 262 regex "^[^@ ]+@[^@ ]+$" does not match input string "not an address"]`,
		"request_id": r.header.Get("X-Amzn-Requestid"),
	}, detail)

	r = do(t, srv, call{method: "GET", path: "/events"})
	assert.Equal(t, 403, r.status)
	assert.Equal(t, `{"message":"Missing Authentication Token"}`, string(r.body))

	r = do(t, srv, call{method: "POST", path: "/events", header: hdr("Content-Type", "application/x-www-form-urlencoded"), body: []byte("event_id=e-1&type=t")})
	assert.Equal(t, 400, r.status, "the $default model checks a body of any media type")
	requireGatewayAnswer(t, r, "BadRequestException")

	r = do(t, srv, call{method: "POST", path: "/events", header: hdr("Content-Type", "text/plain"), body: []byte(`{"event_id":"e-2","type":"t"}`)})
	assert.Equal(t, 200, r.status, "an Event declared as text/plain passes the $default model")
	assert.Equal(t, 2, fn.calls(), "only the accepted requests reached the function")

	require.Len(t, sink.lines, 5)
	for _, line := range sink.lines {
		var fields map[string]string
		require.NoError(t, json.Unmarshal([]byte(line), &fields), line)
		assert.Len(t, fields, 15)
		for _, k := range []string{"requestId", "extendedRequestId", "requestTime", "ip", "userAgent", "httpMethod", "status", "protocol", "responseLength", "responseLatency"} {
			assert.NotEqual(t, "-", fields[k], "%s in %s", k, line)
		}
	}
	var rejected map[string]string
	require.NoError(t, json.Unmarshal([]byte(sink.lines[2]), &rejected))
	assert.Equal(t, "Missing Authentication Token", rejected["errorMessage"])
	assert.Equal(t, "MISSING_AUTHENTICATION_TOKEN", rejected["errorResponseType"])
	assert.Equal(t, "-", rejected["resourcePath"])
	assert.Equal(t, "-", rejected["integrationStatus"])
}

// deployedAccessLogFormat evaluates the stage's access_log_settings format
// in terraform/service/api.tf as Terraform would.
func deployedAccessLogFormat(t testing.TB) string {
	t.Helper()
	path, err := repo.Path("terraform", "service", "api.tf")
	require.NoError(t, err)
	file, diags := hclparse.NewParser().ParseHCLFile(path)
	require.False(t, diags.HasErrors(), diags.Error())
	content, _, diags := file.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "resource", LabelNames: []string{"type", "name"}}}})
	require.False(t, diags.HasErrors(), diags.Error())
	for _, block := range content.Blocks {
		if block.Labels[0] != "aws_api_gateway_stage" {
			continue
		}
		stage, _, diags := block.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "access_log_settings"}}})
		require.False(t, diags.HasErrors(), diags.Error())
		require.Len(t, stage.Blocks, 1)
		attrs, _, diags := stage.Blocks[0].Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "format", Required: true}}})
		require.False(t, diags.HasErrors(), diags.Error())
		v, diags := attrs.Attributes["format"].Expr.Value(&hcl.EvalContext{Functions: apispec.Functions()})
		require.False(t, diags.HasErrors(), diags.Error())
		require.Equal(t, cty.String, v.Type())
		return v.AsString()
	}
	t.Fatalf("%s has no aws_api_gateway_stage", path)
	return ""
}
