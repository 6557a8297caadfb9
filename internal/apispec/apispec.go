// Package apispec renders the REST API's OpenAPI template
// (terraform/service/openapi.yaml.tftpl) exactly as Terraform's
// templatefile() does, with HashiCorp's HCL template engine and the same
// variables, and loads the result with kin-openapi. The local stack serves
// the API from this document, so it routes and validates what AWS would.
package apispec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/acme/request-dump/internal/repo"
)

// TemplateFile is the template's path inside the repository.
var TemplateFile = filepath.Join("terraform", "service", "openapi.yaml.tftpl")

// Vars are the template's variables: the same keys, with the same meaning,
// as the templatefile() call in terraform/service/api.tf.
type Vars struct {
	// Title is the API's name (the function and API name, e.g. request-dump-dev).
	Title string `cty:"title"`
	// InvokeARN is the function's invoke ARN, the integration's uri.
	InvokeARN string `cty:"invoke_arn"`
	// CredentialsARN is the role API Gateway assumes to invoke the function.
	CredentialsARN string `cty:"credentials_arn"`
	// TimeoutMillis is the integration timeout in milliseconds.
	TimeoutMillis int `cty:"timeout_ms"`
	// AccessMode is who may call: AccessNone, AccessAPIKey or AccessIAM.
	AccessMode string `cty:"access_mode"`
}

// The access modes of Vars.AccessMode: the service module's access.mode.
const (
	// AccessNone declares no security requirement: anyone may call.
	AccessNone = "none"
	// AccessAPIKey requires an API key in the x-api-key header.
	AccessAPIKey = "api_key"
	// AccessIAM requires a SigV4 signature (authorization AWS_IAM).
	AccessIAM = "iam"
)

// Value returns the vars as the cty object Terraform passes to templatefile().
func (v Vars) Value() (cty.Value, error) {
	ty, err := gocty.ImpliedType(v)
	if err != nil {
		return cty.NilVal, fmt.Errorf("apispec: vars type: %w", err)
	}
	val, err := gocty.ToCtyValue(v, ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("apispec: vars value: %w", err)
	}
	return val, nil
}

// Validate checks that every variable is set and in range.
func (v Vars) Validate() error {
	switch {
	case v.Title == "":
		return fmt.Errorf("apispec: vars: title is empty; set it to the API name, e.g. request-dump-dev")
	case v.InvokeARN == "":
		return fmt.Errorf("apispec: vars: invoke_arn is empty; set it to the function's invoke ARN")
	case v.CredentialsARN == "":
		return fmt.Errorf("apispec: vars: credentials_arn is empty; set it to the API Gateway role's ARN")
	case v.TimeoutMillis < 50 || v.TimeoutMillis > 29000:
		return fmt.Errorf("apispec: vars: timeout_ms %d is outside 50-29000, the range API Gateway accepts", v.TimeoutMillis)
	case v.AccessMode != AccessNone && v.AccessMode != AccessAPIKey && v.AccessMode != AccessIAM:
		return fmt.Errorf("apispec: vars: access_mode %q is not one of %s, %s, %s", v.AccessMode, AccessNone, AccessAPIKey, AccessIAM)
	}
	return nil
}

// Render returns the repository's OpenAPI template rendered with vars: the
// YAML document Terraform decodes into the REST API's body.
func Render(vars Vars) ([]byte, error) {
	path, err := repo.Path(TemplateFile)
	if err != nil {
		return nil, err
	}
	return RenderFile(path, vars)
}

// RenderFile renders the template at path with vars.
func RenderFile(path string, vars Vars) ([]byte, error) {
	if err := vars.Validate(); err != nil {
		return nil, err
	}
	val, err := vars.Value()
	if err != nil {
		return nil, err
	}
	out, err := renderTemplate(path, val)
	if err != nil {
		return nil, err
	}
	str, err := convert.Convert(out, cty.String)
	if err != nil || str.IsNull() || !str.IsKnown() {
		return nil, fmt.Errorf("apispec: %s does not render to a string (got %s)", path, out.Type().FriendlyName())
	}
	return []byte(str.AsString()), nil
}

// Load renders the repository's template with vars and loads the result
// as an OpenAPI document, checked by kin-openapi and for the API Gateway
// extensions the service depends on.
func Load(vars Vars) (*openapi3.T, error) {
	data, err := Render(vars)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse loads a rendered document and checks it: kin-openapi's validation
// of the OpenAPI document, and for each operation an aws_proxy integration
// and a request validator that the document defines.
func Parse(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("apispec: rendered template is not an OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("apispec: rendered template is not valid OpenAPI: %w", err)
	}
	if err := checkExtensions(doc); err != nil {
		return nil, fmt.Errorf("apispec: %w", err)
	}
	return doc, nil
}

func checkExtensions(doc *openapi3.T) error {
	validators, _ := doc.Extensions["x-amazon-apigateway-request-validators"].(map[string]any)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			integ, ok := op.Extensions["x-amazon-apigateway-integration"].(map[string]any)
			if !ok {
				return fmt.Errorf("%s has no x-amazon-apigateway-integration", where)
			}
			if integ["type"] != "aws_proxy" || integ["httpMethod"] != "POST" {
				return fmt.Errorf("%s: integration must be type aws_proxy with httpMethod POST (Lambda proxy), got %v %v", where, integ["type"], integ["httpMethod"])
			}
			for _, key := range []string{"uri", "credentials"} {
				if s, _ := integ[key].(string); s == "" {
					return fmt.Errorf("%s: integration has no %s", where, key)
				}
			}
			name, _ := op.Extensions["x-amazon-apigateway-request-validator"].(string)
			if name == "" {
				name, _ = doc.Extensions["x-amazon-apigateway-request-validator"].(string)
			}
			if _, ok := validators[name]; !ok {
				return fmt.Errorf("%s: request validator %q is not in x-amazon-apigateway-request-validators", where, name)
			}
		}
	}
	return nil
}

// renderTemplate is Terraform 1.5's templatefile(path, vars): the file must
// be UTF-8, the vars an object or map whose keys are identifiers, every
// variable the template references must be in vars, and the template may
// call every function but templatefile itself.
func renderTemplate(path string, vars cty.Value) (cty.Value, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return cty.NilVal, fmt.Errorf("apispec: %w", err)
	}
	if !utf8.Valid(src) {
		return cty.NilVal, fmt.Errorf("apispec: %s contains invalid UTF-8", path)
	}
	expr, diags := hclsyntax.ParseTemplate(src, path, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("apispec: %w", diags)
	}
	if ty := vars.Type(); !ty.IsObjectType() && !ty.IsMapType() {
		return cty.NilVal, fmt.Errorf("apispec: invalid vars value: must be a map")
	}
	ctx := &hcl.EvalContext{Variables: vars.AsValueMap()}
	for name := range ctx.Variables {
		if !hclsyntax.ValidIdentifier(name) {
			return cty.NilVal, fmt.Errorf("apispec: invalid template variable name %q: must start with a letter, followed by zero or more letters, digits, and underscores", name)
		}
	}
	for _, traversal := range expr.Variables() {
		if _, ok := ctx.Variables[traversal.RootName()]; !ok {
			return cty.NilVal, fmt.Errorf("apispec: vars map does not contain key %q, referenced at %s", traversal.RootName(), traversal[0].SourceRange())
		}
	}
	funcs := pureFunctions()
	funcs["templatefile"] = recursiveTemplateFunc
	ctx.Functions = funcs
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("apispec: %w", diags)
	}
	return val, nil
}

var templateParams = []function.Parameter{
	{Name: "path", Type: cty.String},
	{Name: "vars", Type: cty.DynamicPseudoType},
}

var templateFileFunc = function.New(&function.Spec{
	Params: templateParams,
	Type: func(args []cty.Value) (cty.Type, error) {
		if !args[0].IsKnown() || !args[1].IsKnown() {
			return cty.DynamicPseudoType, nil
		}
		val, err := renderTemplate(args[0].AsString(), args[1])
		if err != nil {
			return cty.DynamicPseudoType, err
		}
		return val.Type(), nil
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return renderTemplate(args[0].AsString(), args[1])
	},
})

var recursiveTemplateFunc = function.New(&function.Spec{
	Params: templateParams,
	Type: func([]cty.Value) (cty.Type, error) {
		return cty.NilType, fmt.Errorf("cannot recursively call templatefile from inside templatefile call")
	},
})
