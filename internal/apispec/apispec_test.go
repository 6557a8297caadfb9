package apispec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ctyyaml "github.com/zclconf/go-cty-yaml"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/acme/request-dump/internal/repo"
)

var devVars = Vars{
	Title:          "request-dump-dev",
	InvokeARN:      "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:000000000000:function:request-dump-dev/invocations",
	CredentialsARN: "arn:aws:iam::000000000000:role/request-dump-dev-api-gateway",
	TimeoutMillis:  29000,
	AccessMode:     AccessNone,
}

// templateFileCall finds the one templatefile() call in the service module.
func templateFileCall(t *testing.T) *hclsyntax.FunctionCallExpr {
	t.Helper()
	dir, err := repo.Path("terraform", "service")
	require.NoError(t, err)
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	require.NoError(t, err)
	var calls []*hclsyntax.FunctionCallExpr
	for _, p := range paths {
		src, err := os.ReadFile(p)
		require.NoError(t, err)
		f, diags := hclsyntax.ParseConfig(src, p, hcl.InitialPos)
		require.False(t, diags.HasErrors(), diags.Error())
		hclsyntax.VisitAll(f.Body.(*hclsyntax.Body), func(n hclsyntax.Node) hcl.Diagnostics {
			if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.Name == "templatefile" {
				calls = append(calls, call)
			}
			return nil
		})
	}
	require.Len(t, calls, 1, "terraform/service must render the OpenAPI template exactly once")
	return calls[0]
}

func TestVarsAreTheTemplatefileKeys(t *testing.T) {
	call := templateFileCall(t)
	require.Len(t, call.Args, 2)

	pathSrc := string(call.Args[0].Range().SliceBytes(mustRead(t, call.Args[0].Range().Filename)))
	assert.Contains(t, pathSrc, filepath.Base(TemplateFile), "templatefile() must render %s", TemplateFile)

	obj, ok := call.Args[1].(*hclsyntax.ObjectConsExpr)
	require.True(t, ok, "templatefile()'s vars must be an object literal so its keys can be checked")
	var keys []string
	for _, item := range obj.Items {
		key := hcl.ExprAsKeyword(item.KeyExpr)
		require.NotEmpty(t, key, "templatefile() vars keys must be plain identifiers")
		keys = append(keys, key)
	}
	ty, err := gocty.ImpliedType(Vars{})
	require.NoError(t, err)
	var fields []string
	for name := range ty.AttributeTypes() {
		fields = append(fields, name)
	}
	sort.Strings(keys)
	sort.Strings(fields)
	assert.Equal(t, keys, fields, "apispec.Vars must have exactly the keys of the templatefile() call")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func TestLoadDescribesTheReferenceAPI(t *testing.T) {
	doc, err := Load(devVars)
	require.NoError(t, err)

	assert.Equal(t, "3.0.1", doc.OpenAPI)
	assert.Equal(t, devVars.Title, doc.Info.Title)
	require.Len(t, doc.Paths.Map(), 1)
	item := doc.Paths.Value("/events")
	require.NotNil(t, item, "POST /events must exist")
	require.Len(t, item.Operations(), 1, "only POST is routed")
	op := item.Post
	require.NotNil(t, op)

	integ := op.Extensions["x-amazon-apigateway-integration"].(map[string]any)
	assert.Equal(t, "aws_proxy", integ["type"])
	assert.Equal(t, "POST", integ["httpMethod"])
	assert.Equal(t, devVars.InvokeARN, integ["uri"])
	assert.Equal(t, devVars.CredentialsARN, integ["credentials"])
	assert.EqualValues(t, devVars.TimeoutMillis, integ["timeoutInMillis"])

	validators := doc.Extensions["x-amazon-apigateway-request-validators"].(map[string]any)
	name := op.Extensions["x-amazon-apigateway-request-validator"].(string)
	require.Contains(t, validators, name)
	assert.Equal(t, map[string]any{"validateRequestBody": true, "validateRequestParameters": true}, validators[name])

	require.True(t, op.RequestBody.Value.Required)
	schema := op.RequestBody.Value.Content.Get("$default").Schema.Value
	assert.ElementsMatch(t, []string{"event_id", "type"}, schema.Required)
	for _, field := range []string{"event_id", "type"} {
		assert.True(t, schema.Properties[field].Value.Type.Is(openapi3.TypeString), "%s is a string", field)
	}
	for _, field := range []string{"occurred_at", "user", "attributes"} {
		assert.Contains(t, schema.Properties, field)
	}
}

func TestRequestModelAgainstPayloads(t *testing.T) {
	doc, err := Load(devVars)
	require.NoError(t, err)
	schema := doc.Paths.Value("/events").Post.RequestBody.Value.Content.Get("$default").Schema.Value

	paths, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		t.Run(name, func(t *testing.T) {
			var body any
			require.NoError(t, json.Unmarshal(mustRead(t, p), &body))
			err := schema.VisitJSON(body)
			if strings.HasPrefix(name, "valid-") {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// Terraform passes jsonencode(yamldecode(templatefile(...))) as the body:
// the rendered YAML must survive Terraform's own YAML decoder (go-cty-yaml)
// and mean the same document as JSON.
func TestRenderedYAMLIsTheBodyTerraformSends(t *testing.T) {
	rendered, err := Render(devVars)
	require.NoError(t, err)

	decoded, err := ctyyaml.Standard.Unmarshal(rendered, cty.DynamicPseudoType)
	require.NoError(t, err, "Terraform's yamldecode rejects the rendered template")
	body, err := ctyjson.Marshal(decoded, decoded.Type())
	require.NoError(t, err)

	fromJSON, err := Parse(body)
	require.NoError(t, err)
	fromYAML, err := Parse(rendered)
	require.NoError(t, err)
	a, err := json.Marshal(fromJSON)
	require.NoError(t, err)
	b, err := json.Marshal(fromYAML)
	require.NoError(t, err)
	assert.JSONEq(t, string(b), string(a))
}

// The BAD_REQUEST_BODY template must be JSON once API Gateway substitutes
// its $context variables (it JSON-escapes validationErrorString's quotes).
func TestBadRequestBodyResponseIsJSON(t *testing.T) {
	doc, err := Load(devVars)
	require.NoError(t, err)
	responses := doc.Extensions["x-amazon-apigateway-gateway-responses"].(map[string]any)
	require.Equal(t, []string{"BAD_REQUEST_BODY"}, keysOf(responses), "override AWS defaults only where it helps")
	bad := responses["BAD_REQUEST_BODY"].(map[string]any)
	assert.Equal(t, "400", bad["statusCode"])
	tmpl := bad["responseTemplates"].(map[string]any)["application/json"].(string)

	body := strings.NewReplacer(
		"$context.error.validationErrorString", `[object has missing required properties ([\"event_id\"])]`,
		"$context.requestId", "c0ffee00-0000-4000-8000-000000000000",
	).Replace(tmpl)
	var got map[string]string
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	assert.Equal(t, "Invalid request body", got["message"], "keep AWS's message so clients matching on it still work")
	assert.Equal(t, `[object has missing required properties (["event_id"])]`, got["errors"])
	assert.NotEmpty(t, got["request_id"])
}

func keysOf(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestRenderRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	good := write("good.tftpl", "title: ${jsonencode(title)}\n")
	tests := []struct {
		name string
		path string
		vars Vars
		want string
	}{
		{"unknown variable", write("unknown.tftpl", "x: ${stage}\n"), devVars, `vars map does not contain key "stage", referenced at`},
		{"recursive templatefile", write("recursive.tftpl", `x: ${templatefile("good.tftpl", {})}`), devVars, "cannot recursively call templatefile"},
		{"syntax error", write("syntax.tftpl", "x: ${title\n"), devVars, "syntax.tftpl:1"},
		{"invalid utf-8", write("latin1.tftpl", "x: \xff\n"), devVars, "invalid UTF-8"},
		{"missing file", filepath.Join(dir, "absent.tftpl"), devVars, "no such file"},
		{"empty title", good, Vars{InvokeARN: "a", CredentialsARN: "b", TimeoutMillis: 1000, AccessMode: AccessNone}, "title is empty"},
		{"timeout too long", good, Vars{Title: "t", InvokeARN: "a", CredentialsARN: "b", TimeoutMillis: 30000, AccessMode: AccessNone}, "timeout_ms 30000 is outside 50-29000"},
		{"unknown access mode", good, Vars{Title: "t", InvokeARN: "a", CredentialsARN: "b", TimeoutMillis: 1000, AccessMode: "open"}, `access_mode "open" is not one of none, api_key, iam`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RenderFile(tt.path, tt.vars)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	out, err := RenderFile(good, devVars)
	require.NoError(t, err)
	assert.Equal(t, "title: \"request-dump-dev\"\n", string(out))
}

func TestParseRejectsDocumentsWithoutTheExtensions(t *testing.T) {
	base := `openapi: 3.0.1
info: {title: t, version: "1"}
paths:
  /events:
    post:
      responses: {"200": {description: ok}}
`
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"not openapi", "just: yaml\n", "not valid OpenAPI"},
		{"no integration", base, "has no x-amazon-apigateway-integration"},
		{"not a proxy", base + "      x-amazon-apigateway-integration: {type: http, httpMethod: POST, uri: u, credentials: c}\n", "must be type aws_proxy"},
		{"no credentials", base + "      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: u}\n", "has no credentials"},
		{"unknown validator", base + "      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: u, credentials: c}\n      x-amazon-apigateway-request-validator: all\n", `request validator "all" is not in`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestFunctionsMatchTerraform(t *testing.T) {
	tests := []struct {
		expr string
		want cty.Value
	}{
		{`alltrue([])`, cty.True},
		{`alltrue([true, false])`, cty.False},
		{`anytrue([false, true])`, cty.True},
		{`anytrue([])`, cty.False},
		{`startswith("dev/x.zip", "dev/")`, cty.True},
		{`startswith("stg/x.zip", "dev/")`, cty.False},
		{`endswith("x.zip", ".zip")`, cty.True},
		{`strcontains("request-dump", "dump")`, cty.True},
		{`length("héllo")`, cty.NumberIntVal(5)},
		{`length([1, 2])`, cty.NumberIntVal(2)},
		{`length({a = 1})`, cty.NumberIntVal(1)},
		{`tostring(8192)`, cty.StringVal("8192")},
		{`tonumber("12")`, cty.NumberIntVal(12)},
		{`join(",", sort(["b", "B", "a_b", "ab"]))`, cty.StringVal("B,a_b,ab,b")},
		{`can(regex("^[0-9]+$", "12a"))`, cty.False},
		{`jsonencode(yamldecode("a: [1, x]"))`, cty.StringVal(`{"a":[1,"x"]}`)},
	}
	ctx := &hcl.EvalContext{Functions: Functions()}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "test.tf", hcl.InitialPos)
			require.False(t, diags.HasErrors(), diags.Error())
			got, diags := expr.Value(ctx)
			require.False(t, diags.HasErrors(), diags.Error())
			assert.True(t, tt.want.RawEquals(got), "got %#v", got)
		})
	}
}

// TestAccessModeDeclaresTheSecurityScheme renders each access mode and
// checks the document declares what API Gateway's import reads: an API key
// from the x-api-key header, or a SigV4 scheme (x-amazon-apigateway-authtype
// awsSigv4, which the import turns into authorization AWS_IAM).
func TestAccessModeDeclaresTheSecurityScheme(t *testing.T) {
	for _, tc := range []struct {
		mode      string
		scheme    string
		keySource any
		authType  any
	}{
		{mode: AccessNone},
		{mode: AccessAPIKey, scheme: "api_key", keySource: "HEADER"},
		{mode: AccessIAM, scheme: "sigv4", authType: "awsSigv4"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			vars := devVars
			vars.AccessMode = tc.mode
			doc, err := Load(vars)
			require.NoError(t, err)
			op := doc.Paths.Value("/events").Post
			assert.Equal(t, tc.keySource, doc.Extensions["x-amazon-apigateway-api-key-source"])
			if tc.scheme == "" {
				assert.Nil(t, op.Security, "no security requirement")
				assert.Empty(t, doc.Components.SecuritySchemes)
				return
			}
			require.NotNil(t, op.Security)
			assert.Equal(t, openapi3.SecurityRequirements{{tc.scheme: {}}}, *op.Security)
			require.Contains(t, doc.Components.SecuritySchemes, tc.scheme)
			scheme := doc.Components.SecuritySchemes[tc.scheme].Value
			assert.Equal(t, "apiKey", scheme.Type)
			assert.Equal(t, "header", scheme.In)
			if tc.mode == AccessAPIKey {
				assert.Equal(t, "x-api-key", scheme.Name)
			} else {
				assert.Equal(t, "Authorization", scheme.Name)
				assert.Equal(t, tc.authType, scheme.Extensions["x-amazon-apigateway-authtype"])
			}
		})
	}
}
