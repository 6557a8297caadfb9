package envconfig

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/apispec"
)

// CandidateDescription returns the description the service module gives
// the candidate alias (local.candidate_description in aliases.tf): the
// rollout marks the alias with another one while it runs, and puts this
// one back when the new version is live, so that the next plan shows no
// change only after a rollout finished.
func (c *Config) CandidateDescription() (string, error) {
	return c.moduleLocal("candidate_description")
}

// LiveDescription returns the description the service module gives the
// live alias when it creates it (local.live_description in aliases.tf).
func (c *Config) LiveDescription() (string, error) {
	return c.moduleLocal("live_description")
}

// moduleLocal evaluates a string local of the service module, which may
// refer to var.name only.
func (c *Config) moduleLocal(name string) (string, error) {
	dir := filepath.Join(c.Dir, ModuleSource)
	files, err := parseDir(dir)
	if err != nil {
		return "", err
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(c.Name)})},
		Functions: apispec.Functions(),
	}
	for _, f := range files {
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if a, ok := b.Body.Attributes[name]; ok && b.Type == "locals" {
				return evalString(a.Expr, ctx)
			}
		}
	}
	return "", fmt.Errorf("envconfig: %s has no local.%s", dir, name)
}
