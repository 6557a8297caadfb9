package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/runatlantis/atlantis/server/core/config"
	"github.com/runatlantis/atlantis/server/core/config/raw"
	"github.com/runatlantis/atlantis/server/core/config/valid"
	"github.com/runatlantis/atlantis/server/logging"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/acme/request-dump/internal/repo"
)

// policySetDir is where atlantis/Dockerfile installs each policy set.
const policySetDir = "/etc/atlantis/policies"

// checkPolicies holds the server-side config's policy checks to this
// repository's rules, as the server sees them when it runs with
// --enable-policy-checks:
//   - every project of atlantis.yaml runs policy_check (show, then conftest
//     with --all-namespaces: the packages are terraform.<rule>), and
//     policies_passed is among its apply requirements;
//   - conftest_version is the version scripts/tools.sh pins (the one make
//     test runs the policies with);
//   - each policy set is local, at the path the image puts policies/<set>,
//     has owners (who may approve an override), and its author cannot
//     approve their own override.
//
// The server's own parser skips the policies block's validation
// (raw.GlobalCfg.Validate does not call it), so it is run here too.
func checkPolicies(t *testing.T, root, repoCfgFile, globalCfgFile string) error {
	var p config.ParserValidator
	global, err := p.ParseGlobalCfg(globalCfgFile, valid.NewGlobalCfgFromArgs(valid.GlobalCfgArgs{PolicyCheckEnabled: true}))
	if err != nil {
		return fmt.Errorf("server-side config %s: %w", globalCfgFile, err)
	}
	data, err := os.ReadFile(globalCfgFile)
	if err != nil {
		return err
	}
	var doc struct {
		Policies raw.PolicySets `yaml:"policies"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	if err := doc.Policies.Validate(); err != nil {
		return fmt.Errorf("policies: %w", err)
	}

	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	sets := global.PolicySets
	want, err := toolPin(root, "conftest")
	if err != nil {
		return err
	}
	if sets.Version == nil || "v"+strings.TrimPrefix(sets.Version.Original(), "v") != want {
		fail("policies.conftest_version is %v, want %s (scripts/tools.sh's pin, which make test runs the policies with)", sets.Version, strings.TrimPrefix(want, "v"))
	}
	for _, set := range sets.PolicySets {
		if set.Source != valid.LocalPolicySet || set.Path != policySetDir+"/"+set.Name {
			fail("policy set %s: %s at %s, want local at %s/%s, where atlantis/Dockerfile installs policies/%s", set.Name, set.Source, set.Path, policySetDir, set.Name, set.Name)
		}
		if rego, _ := filepath.Glob(filepath.Join(root, "policies", set.Name, "*.rego")); len(rego) == 0 {
			fail("policy set %s: policies/%s has no .rego files", set.Name, set.Name)
		}
		if len(set.Owners.Users)+len(set.Owners.Teams) == 0 {
			fail("policy set %s has no owners: nobody could approve an override", set.Name)
		}
		if !set.PreventSelfApprove {
			fail("policy set %s: prevent_self_approve is off, so a pull request's author could approve their own override", set.Name)
		}
	}
	if !sets.HasPolicies() {
		fail("no policy sets")
	}
	if len(sets.Owners.Users)+len(sets.Owners.Teams) > 0 {
		fail("policies.owners may approve every set, the prod-destroy guard included; name owners per set instead")
	}

	rc, err := os.ReadFile(repoCfgFile)
	if err != nil {
		return err
	}
	repoID := ""
	for _, r := range global.Repos {
		if r.ID != "" {
			repoID = r.ID
		}
	}
	repoCfg, err := p.ParseRepoCfgData(rc, global, repoID, "main")
	if err != nil {
		return fmt.Errorf("repo config %s: %w", repoCfgFile, err)
	}
	for _, proj := range repoCfg.Projects {
		merged := global.MergeProjectCfg(logging.NewNoopLogger(t), repoID, proj, repoCfg)
		name := proj.GetName()
		if !merged.PolicyCheck {
			fail("project %s: policy_check is off; set policy_check: true on the repo in atlantis/repos.yaml", name)
		}
		if !slices.Contains(merged.ApplyRequirements, valid.PoliciesPassedCommandReq) {
			fail("project %s: apply requirements %v lack policies_passed", name, merged.ApplyRequirements)
		}
		steps := merged.Workflow.PolicyCheck.Steps
		if got := stepNames(merged.Workflow.PolicyCheck); !slices.Equal(got, []string{"show", "policy_check"}) {
			fail("project %s, workflow %s: policy_check steps are %v, want [show policy_check]", name, merged.Workflow.Name, got)
		} else if !slices.Contains(steps[1].ExtraArgs, "--all-namespaces") {
			fail("project %s, workflow %s: policy_check runs conftest with %v: without --all-namespaces it reads only package main and every terraform.<rule> package is skipped", name, merged.Workflow.Name, steps[1].ExtraArgs)
		}
	}
	return errors.Join(errs...)
}

// toolPin returns the version scripts/tools.sh pins for a tool.
func toolPin(root, tool string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "scripts", "tools.sh"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^\s*"` + regexp.QuoteMeta(tool) + `\|[^|]+\|([^"]+)"`).FindSubmatch(data)
	if m == nil {
		return "", fmt.Errorf("scripts/tools.sh pins no %s", tool)
	}
	return string(m[1]), nil
}

func TestPolicyChecksOfThisRepository(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	require.NoError(t, checkPolicies(t, root, filepath.Join(root, "atlantis.yaml"), filepath.Join(root, "atlantis", "repos.yaml")))
}

// TestPolicyCheckRulesCanFail runs checkPolicies on the shipped configs
// broken in one way each.
func TestPolicyCheckRulesCanFail(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	global, err := os.ReadFile(filepath.Join(root, "atlantis", "repos.yaml"))
	require.NoError(t, err)
	repoCfg, err := os.ReadFile(filepath.Join(root, "atlantis.yaml"))
	require.NoError(t, err)

	tests := []struct {
		name        string
		old, new    string
		inRepoCfg   bool
		want        string
		wantCounted int // how many times old must occur
	}{
		{"policy check off", "    policy_check: true\n", "    policy_check: false\n", false, "policy_check is off", 1},
		{"conftest version", "conftest_version: 0.71.1", "conftest_version: 0.59.0", false, "policies.conftest_version is 0.59.0, want 0.71.1", 1},
		{"no --all-namespaces", "extra_args: [--all-namespaces]", "extra_args: []", false, "without --all-namespaces it reads only package main", 1},
		{"no show step", "        - show\n", "", false, "policy_check steps are [policy_check], want [show policy_check]", 1},
		{"owners removed", "      owners:\n        teams: [prod-owners]\n", "", false, "policy set prod-destroy has no owners", 1},
		{"self approval", "      prevent_self_approve: true\n", "      prevent_self_approve: false\n", false, "prevent_self_approve is off", 2},
		{"set elsewhere", "path: /etc/atlantis/policies/baseline", "path: /tmp/baseline", false, "policy set baseline: local at /tmp/baseline", 1},
		{"global owners", "policies:\n  conftest_version", "policies:\n  owners:\n    users: [someone]\n  conftest_version", false, "policies.owners may approve every set", 1},
		{"set without a name", "    - name: baseline\n", "    -\n", false, "name: is required", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := global
			if tt.inRepoCfg {
				src = repoCfg
			}
			require.Equal(t, tt.wantCounted, bytes.Count(src, []byte(tt.old)), "%q in the shipped config", tt.old)
			broken := bytes.ReplaceAll(src, []byte(tt.old), []byte(tt.new))
			dir := t.TempDir()
			g, r := filepath.Join(dir, "repos.yaml"), filepath.Join(dir, "atlantis.yaml")
			if tt.inRepoCfg {
				require.NoError(t, os.WriteFile(g, global, 0o644))
				require.NoError(t, os.WriteFile(r, broken, 0o644))
			} else {
				require.NoError(t, os.WriteFile(g, broken, 0o644))
				require.NoError(t, os.WriteFile(r, repoCfg, 0o644))
			}
			err := checkPolicies(t, root, r, g)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestPullRequestCannotTurnPolicyChecksOff: atlantis.yaml comes from the
// pull request. Atlantis v0.35.1 accepts policy_check in it without
// checking allowed_overrides, and applies it only where the server allows
// the key; this repository's server does not.
func TestPullRequestCannotTurnPolicyChecksOff(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	global, err := os.ReadFile(filepath.Join(root, "atlantis", "repos.yaml"))
	require.NoError(t, err)
	repoCfg, err := os.ReadFile(filepath.Join(root, "atlantis.yaml"))
	require.NoError(t, err)
	off := bytes.ReplaceAll(repoCfg, []byte("    workflow: service\n"), []byte("    workflow: service\n    policy_check: false\n"))
	require.NotEqual(t, repoCfg, off)
	allowing := bytes.Replace(global, []byte("allowed_overrides: [workflow]"), []byte("allowed_overrides: [workflow, policy_check]"), 1)
	require.NotEqual(t, global, allowing)

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	r := write("atlantis.yaml", off)
	assert.NoError(t, checkPolicies(t, root, r, write("repos.yaml", global)), "the shipped server ignores the pull request's policy_check")
	err = checkPolicies(t, root, r, write("repos-allowing.yaml", allowing))
	require.Error(t, err, "a server that allows the key lets the pull request turn the checks off")
	assert.Contains(t, err.Error(), "project dev: policy_check is off")
}
