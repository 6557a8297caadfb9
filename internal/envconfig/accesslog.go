package envconfig

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/apispec"
)

// AccessLog returns the REST API stage's access log group and format, read
// from the service module's own HCL (the name of
// aws_cloudwatch_log_group.access and the format of aws_api_gateway_stage.this's
// access_log_settings) so that the local gateway logs what the stage logs.
func (c *Config) AccessLog() (group, format string, err error) {
	dir := filepath.Join(c.Dir, ModuleSource)
	files, err := parseDir(dir)
	if err != nil {
		return "", "", err
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(c.Name)})},
		Functions: apispec.Functions(),
	}
	var groupExpr, formatExpr hcl.Expression
	for _, f := range files {
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if b.Type != "resource" || len(b.Labels) != 2 {
				continue
			}
			switch b.Labels[0] + "." + b.Labels[1] {
			case "aws_cloudwatch_log_group.access":
				if a, ok := b.Body.Attributes["name"]; ok {
					groupExpr = a.Expr
				}
			case "aws_api_gateway_stage.this":
				for _, s := range b.Body.Blocks {
					if a, ok := s.Body.Attributes["format"]; ok && s.Type == "access_log_settings" {
						formatExpr = a.Expr
					}
				}
			}
		}
	}
	if groupExpr == nil || formatExpr == nil {
		return "", "", fmt.Errorf("envconfig: %s has no aws_cloudwatch_log_group.access name or aws_api_gateway_stage.this access_log_settings format", dir)
	}
	if group, err = evalString(groupExpr, ctx); err != nil {
		return "", "", err
	}
	if format, err = evalString(formatExpr, ctx); err != nil {
		return "", "", err
	}
	return group, format, nil
}

func evalString(expr hcl.Expression, ctx *hcl.EvalContext) (string, error) {
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return "", fmt.Errorf("envconfig: %w", diags)
	}
	if val.Type() != cty.String || val.IsNull() || !val.IsKnown() {
		return "", fmt.Errorf("envconfig: %s: not a known string", expr.Range())
	}
	return val.AsString(), nil
}
