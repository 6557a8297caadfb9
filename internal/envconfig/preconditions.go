package envconfig

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/apispec"
)

var (
	resourceSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "resource", LabelNames: []string{"type", "name"}},
		{Type: "data", LabelNames: []string{"type", "name"}},
	}}
	lifecycleSchema    = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "lifecycle"}}}
	preconditionSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "precondition"}}}
)

// checkPreconditions evaluates the module's lifecycle preconditions that
// read input variables only, with the env's values, and returns the first
// that fails with its error_message: a plan would stop there, so the local
// stack refuses the env too (e.g. access none in stg or prod). A
// precondition that reads a resource is left to the plan: its value is not
// known here. HCL has no evaluation of Terraform's lifecycle blocks, hence
// this walk.
func checkPreconditions(moduleDir string, values map[string]cty.Value) error {
	files, err := parseDir(moduleDir)
	if err != nil {
		return err
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(values)},
		Functions: apispec.Functions(),
	}
	for _, f := range files {
		content, _, _ := f.Body.PartialContent(resourceSchema)
		for _, block := range content.Blocks {
			body, _, _ := block.Body.PartialContent(lifecycleSchema)
			for _, lifecycle := range body.Blocks {
				pre, _, _ := lifecycle.Body.PartialContent(preconditionSchema)
				for _, p := range pre.Blocks {
					if err := checkPrecondition(p, ctx); err != nil {
						return fmt.Errorf("envconfig: %s %s.%s (%s): %w", block.Type, block.Labels[0], block.Labels[1], filepath.Base(p.DefRange.Filename), err)
					}
				}
			}
		}
	}
	return nil
}

func checkPrecondition(p *hcl.Block, ctx *hcl.EvalContext) error {
	attrs, diags := p.Body.JustAttributes()
	if diags.HasErrors() {
		return diags
	}
	cond, msg := attrs["condition"], attrs["error_message"]
	if cond == nil || msg == nil {
		return fmt.Errorf("%s: a precondition needs condition and error_message", p.DefRange)
	}
	for _, tr := range cond.Expr.Variables() {
		if tr.RootName() != "var" {
			return nil
		}
	}
	ok, diags := cond.Expr.Value(ctx)
	if diags.HasErrors() {
		return diags
	}
	if ok.IsKnown() && !ok.IsNull() && ok.True() {
		return nil
	}
	text, diags := msg.Expr.Value(ctx)
	if diags.HasErrors() || text.Type() != cty.String {
		return fmt.Errorf("%s: precondition failed", p.DefRange)
	}
	return fmt.Errorf("%s", text.AsString())
}
