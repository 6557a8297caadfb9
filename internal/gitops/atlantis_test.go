package gitops

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/moby/patternmatcher"
	"github.com/runatlantis/atlantis/server/core/config"
	"github.com/runatlantis/atlantis/server/core/config/valid"
	"github.com/runatlantis/atlantis/server/logging"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/artifact"
	"github.com/acme/request-dump/internal/repo"
)

// requiredApply are the apply requirements every env project must have.
var requiredApply = []string{valid.ApprovedCommandReq, valid.MergeableCommandReq, valid.UnDivergedCommandReq}

// atlantisCfg is the repo config of a tree as the Atlantis server sees it.
type atlantisCfg struct {
	root   string
	repoID string
	global valid.GlobalCfg
	repo   valid.RepoCfg
}

// parseAtlantis parses the server-side config and the repo config with
// Atlantis's own parser, which also validates the repo config against what
// the server allows, exactly as the server does when a pull request opens.
func parseAtlantis(root, repoCfgFile, globalCfgFile string) (atlantisCfg, error) {
	var p config.ParserValidator
	global, err := p.ParseGlobalCfg(globalCfgFile, valid.NewGlobalCfgFromArgs(valid.GlobalCfgArgs{}))
	if err != nil {
		return atlantisCfg{}, fmt.Errorf("server-side config %s: %w", globalCfgFile, err)
	}
	// The first entry is the server's built-in default for every repo; the
	// shipped config names this repository by its exact id.
	var repoID string
	for _, r := range global.Repos {
		if r.ID != "" {
			repoID = r.ID
			break
		}
	}
	if repoID == "" {
		return atlantisCfg{}, fmt.Errorf("server-side config %s: no repo with an exact id", globalCfgFile)
	}
	data, err := os.ReadFile(repoCfgFile)
	if err != nil {
		return atlantisCfg{}, err
	}
	rc, err := p.ParseRepoCfgData(data, global, repoID, "main")
	if err != nil {
		return atlantisCfg{}, fmt.Errorf("repo config %s: %w", repoCfgFile, err)
	}
	return atlantisCfg{root: root, repoID: repoID, global: global, repo: rc}, nil
}

// check cross-checks the parsed config against the tree; each problem says
// what to change.
func (c atlantisCfg) check(t *testing.T) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	roots, dirs, err := terraformDirs(c.root)
	if err != nil {
		return err
	}
	if len(roots) == 0 {
		return errors.New("no Terraform roots (dirs with a backend block) to check")
	}
	// Atlantis reads atlantis.yaml from the pull request: if the server let it
	// override apply_requirements, a pull request could drop approval and
	// apply what it likes.
	for _, key := range []string{valid.ApplyRequirementsKey, valid.ImportRequirementsKey} {
		if slices.Contains(c.allowedOverrides(), key) {
			fail("the server-side config lets atlantis.yaml override %s, so a pull request could drop them; remove %s from allowed_overrides", key, key)
		}
	}
	if !c.repo.AbortOnExecutionOrderFail {
		fail("abort_on_execution_order_fail is off: a failed apply or smoke test would not stop the applies of the next group")
	}
	byDir := map[string][]valid.Project{}
	for _, p := range c.repo.Projects {
		byDir[p.Dir] = append(byDir[p.Dir], p)
		if !slices.Contains(roots, p.Dir) {
			fail("project %q: dir %s is not a Terraform root here (no backend block)", p.GetName(), p.Dir)
		}
	}
	groups := map[string]int{}
	dependsOn := map[string][]string{}
	var accountRoots []string
	lastAccountGroup := -1
	for _, dir := range roots {
		ps := byDir[dir]
		if len(ps) != 1 {
			fail("%s has %d projects in atlantis.yaml, want exactly 1", dir, len(ps))
			continue
		}
		p := ps[0]
		name := path.Base(dir)
		env, isEnv := strings.CutPrefix(dir, "envs/")
		if p.GetName() != name {
			fail("project for %s is named %q, want %q (`atlantis apply -p %s` targets it)", dir, p.GetName(), name, name)
		}
		if p.Workspace != "default" {
			fail("project %s uses workspace %q; the roots keep their state in the default workspace", name, p.Workspace)
		}
		merged := c.global.MergeProjectCfg(logging.NewNoopLogger(t), c.repoID, p, c.repo)
		for _, req := range requiredApply {
			if !slices.Contains(merged.ApplyRequirements, req) {
				fail("project %s: apply requirements %v lack %q", name, merged.ApplyRequirements, req)
			}
			// atlantis import changes state as apply does.
			if !slices.Contains(merged.ImportRequirements, req) {
				fail("project %s: import requirements %v lack %q", name, merged.ImportRequirements, req)
			}
		}
		if err := checkProfiles(t, merged.Workflow, dir); err != nil {
			fail("project %s, workflow %q: %w", name, merged.Workflow.Name, err)
		}
		if isEnv {
			groups[env] = p.ExecutionOrderGroup
			dependsOn[env] = p.DependsOn
			if err := checkEnvWorkflow(t, merged.Workflow, env); err != nil {
				fail("project %s, workflow %q: %w", name, merged.Workflow.Name, err)
			}
		} else {
			accountRoots = append(accountRoots, name)
			lastAccountGroup = max(lastAccountGroup, p.ExecutionOrderGroup)
			if err := checkAccountWorkflow(merged.Workflow); err != nil {
				fail("project %s, workflow %q: %w", name, merged.Workflow.Name, err)
			}
		}
		if !p.Autoplan.Enabled {
			fail("project %s: autoplan is off", name)
		}
		if err := c.checkWhenModified(p, roots, dirs); err != nil {
			fail("project %s: %w", name, err)
		}
	}
	prev := ""
	for _, env := range artifact.Order {
		g, ok := groups[env]
		if !ok {
			continue
		}
		if prev == "" && g <= lastAccountGroup {
			fail("execution_order_group of %s (%d) is not after the account-level roots (%d): the envs use the bucket and roles they create", env, g, lastAccountGroup)
		}
		if prev != "" && g <= groups[prev] {
			fail("execution_order_group of %s (%d) is not after %s (%d): applies must go %s", env, g, prev, groups[prev], strings.Join(artifact.Order, " → "))
		}
		// Execution order groups order `atlantis apply` only; for
		// `atlantis apply -p <env>`, depends_on is what makes Atlantis
		// refuse an env whose predecessor's plan is not applied.
		want := []string{prev}
		if prev == "" {
			want = accountRoots
		}
		if got := slices.Sorted(slices.Values(dependsOn[env])); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			fail("project %s has depends_on %v, want %v: `atlantis apply -p %s` must be refused while %s has an unapplied plan in the same pull request", env, dependsOn[env], want, env, strings.Join(want, ", "))
		}
		prev = env
	}
	return errors.Join(errs...)
}

// allowedOverrides returns the keys the server lets this repo's atlantis.yaml
// set: those of the last matching repo entry that names any, as the server
// decides in GlobalCfg.ValidateRepoCfg.
func (c atlantisCfg) allowedOverrides() []string {
	var keys []string
	for _, r := range c.global.Repos {
		if r.IDMatches(c.repoID) && r.AllowedOverrides != nil {
			keys = r.AllowedOverrides
		}
	}
	return keys
}

// stepNames returns the names of the stage's steps, without the env step
// that picks the AWS profile (checkProfiles checks it).
func stepNames(s valid.Stage) []string {
	var n []string
	for _, st := range withoutProfile(s.Steps) {
		n = append(n, st.StepName)
	}
	return n
}

// withoutProfile returns steps without the env step that sets AWS_PROFILE.
func withoutProfile(steps []valid.Step) []valid.Step {
	var out []valid.Step
	for _, st := range steps {
		if st.StepName != "env" || st.EnvVarName != "AWS_PROFILE" {
			out = append(out, st)
		}
	}
	return out
}

// checkProfiles checks that the plan stage runs Terraform with the root's
// read-only profile and the apply stage (and the smoke test after it) with
// its apply profile: one env step sets AWS_PROFILE before the stage's first
// Terraform step, and, run as Atlantis runs it (its shell, in the project
// dir, with Atlantis's variables), prints request-dump-<root>-plan or
// request-dump-<root>-apply, where <root> is the dir's last element.
func checkProfiles(t *testing.T, w valid.Workflow, dir string) error {
	var errs []error
	for stage, s := range map[string]valid.Stage{"plan": w.Plan, "apply": w.Apply} {
		want := "request-dump-" + path.Base(dir) + "-" + stage
		var profile *valid.Step
		for i, st := range s.Steps {
			if st.StepName == "env" && st.EnvVarName == "AWS_PROFILE" {
				if profile != nil {
					errs = append(errs, fmt.Errorf("%s stage sets AWS_PROFILE twice", stage))
				}
				profile = &s.Steps[i]
				continue
			}
			if profile == nil && slices.Contains([]string{"init", "plan", "apply", "import", "state_rm"}, st.StepName) {
				errs = append(errs, fmt.Errorf("%s stage runs %s before it sets AWS_PROFILE: it would use the server's own identity", stage, st.StepName))
				break
			}
		}
		if profile == nil {
			errs = append(errs, fmt.Errorf("%s stage sets no AWS_PROFILE; want %s", stage, want))
			continue
		}
		got := profile.EnvVarValue
		if profile.RunCommand != "" {
			sandbox := t.TempDir()
			abs := filepath.Join(sandbox, dir)
			require.NoError(t, os.MkdirAll(abs, 0o755))
			shell, args := "sh", []string{"-c"}
			if profile.RunShell != nil {
				shell, args = profile.RunShell.Shell, profile.RunShell.ShellArgs
			}
			cmd := exec.Command(shell, append(args, profile.RunCommand)...)
			cmd.Dir = abs
			cmd.Env = append(os.Environ(), "DIR="+abs, "REPO_REL_DIR="+dir, "PROJECT_NAME="+path.Base(dir), "WORKSPACE=default")
			out, err := cmd.Output()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s stage: AWS_PROFILE command %q failed: %v", stage, profile.RunCommand, err))
				continue
			}
			got = strings.TrimSpace(string(out))
		}
		if got != want {
			errs = append(errs, fmt.Errorf("%s stage sets AWS_PROFILE=%q for %s, want %q", stage, got, dir, want))
		}
	}
	return errors.Join(errs...)
}

// checkAccountWorkflow checks an account-level root's workflow: a guard
// that refuses env roots (TestAccountWorkflowRefusesEnvRoots runs it), init
// and plan, then the guard and apply; there is no env to smoke-test.
func checkAccountWorkflow(w valid.Workflow) error {
	if got := stepNames(w.Plan); !slices.Equal(got, []string{"run", "init", "plan"}) {
		return fmt.Errorf("plan steps are %v, want [run init plan] (the run step refuses env roots)", got)
	}
	if got := stepNames(w.Apply); !slices.Equal(got, []string{"run", "apply"}) {
		return fmt.Errorf("apply steps are %v, want [run apply] (the run step refuses env roots)", got)
	}
	return nil
}

// checkEnvWorkflow checks that the workflow plans with init and plan, and
// that its apply stage applies and then runs scripts/rollout.sh for the
// env it applied (the rollout with its gate: the smoke tests and the
// alarms). The run step is executed the way Atlantis runs it (its shell, in
// the project dir, with the variables Atlantis sets) against a stand-in
// rollout.sh that records its arguments and Go settings, in an environment
// that a pull request's go.work and GOFLAGS could have shaped, and with a
// project name that is not the env: the env must come from the directory
// applied (REPO_REL_DIR), which atlantis.yaml cannot rename, and the
// rollout must be compiled from go.mod and go.sum alone.
func checkEnvWorkflow(t *testing.T, w valid.Workflow, env string) error {
	if got := stepNames(w.Plan); !slices.Equal(got, []string{"init", "plan"}) {
		return fmt.Errorf("plan steps are %v, want [init plan]", got)
	}
	steps := withoutProfile(w.Apply.Steps)
	if got := stepNames(w.Apply); len(got) != 2 || got[0] != "apply" || got[1] != "run" {
		return fmt.Errorf("apply steps are %v, want [apply run] with the run step calling scripts/rollout.sh", got)
	}
	run := steps[1]

	sandbox := t.TempDir()
	dir := filepath.Join(sandbox, "envs", env)
	record := filepath.Join(sandbox, "rollout-args")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(sandbox, "scripts"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sandbox, "scripts", "rollout.sh"),
		[]byte("#!/bin/sh\nprintf 'GOWORK=%s GOFLAGS=%s\\n' \"${GOWORK-}\" \"${GOFLAGS-}\" > \""+record+"\"\nprintf '%s\\n' \"$@\" >> \""+record+"\"\n"), 0o755))

	shell, args := "sh", []string{"-c"}
	if run.RunShell != nil {
		shell, args = run.RunShell.Shell, run.RunShell.ShellArgs
	}
	cmd := exec.Command(shell, append(args, run.RunCommand)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"DIR="+dir, "REPO_REL_DIR=envs/"+env, "PROJECT_NAME=project-"+env, "WORKSPACE=default",
		"PLANFILE="+filepath.Join(dir, env+"-default.tfplan"),
		"GOWORK="+filepath.Join(sandbox, "go.work"), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("run step %q failed in a stand-in checkout: %v\n%s", run.RunCommand, err, out)
	}
	got, err := os.ReadFile(record)
	if err != nil {
		return fmt.Errorf("run step %q did not call scripts/rollout.sh", run.RunCommand)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	if lines[0] != "GOWORK=off GOFLAGS=-mod=readonly" {
		return fmt.Errorf("run step %q runs scripts/rollout.sh with %s, want GOWORK=off GOFLAGS=-mod=readonly (a go.work or GOFLAGS from the pull request must not change what runs with the env's credentials)", run.RunCommand, lines[0])
	}
	if args := lines[1:]; !slices.Equal(args, []string{env}) {
		return fmt.Errorf("run step %q calls scripts/rollout.sh with %q, want [%s] (the env of the directory applied, envs/%s)", run.RunCommand, args, env, env)
	}
	return nil
}

// checkWhenModified checks the project's autoplan patterns the way Atlantis
// applies them: joined to the project dir and matched against repo-relative
// paths with the same matcher (github.com/moby/patternmatcher, as in
// Atlantis's DefaultProjectFinder.DetermineProjectsViaConfig; that package
// pulls in the whole server, hence this short copy of its two steps). Every
// file of the root and of the local modules it calls must trigger a plan;
// no file of another root, or of a module the root does not call, may (a
// plan that can only say "no changes" still takes the root's lock).
func (c atlantisCfg) checkWhenModified(p valid.Project, roots, dirs []string) error {
	var patterns []string
	for _, wm := range p.Autoplan.WhenModified {
		wm = strings.TrimSpace(wm)
		if strings.HasPrefix(wm, "!") {
			patterns = append(patterns, "!"+filepath.Join(p.Dir, wm[1:]))
			continue
		}
		patterns = append(patterns, filepath.Join(p.Dir, wm))
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return fmt.Errorf("when_modified %v: %w", p.Autoplan.WhenModified, err)
	}
	matches := func(file string) bool {
		ok, err := pm.MatchesOrParentMatches(file)
		return err == nil && ok
	}

	modules, err := localModules(c.root, p.Dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, dir := range modules {
		files, err := configFiles(c.root, dir)
		if err != nil {
			return err
		}
		for _, f := range files {
			if !matches(f) {
				errs = append(errs, fmt.Errorf("when_modified %v does not plan when %s changes", p.Autoplan.WhenModified, f))
			}
		}
	}
	for _, other := range dirs {
		if slices.Contains(modules, other) {
			continue
		}
		files, err := configFiles(c.root, other)
		if err != nil {
			return err
		}
		for _, f := range files {
			switch {
			case !matches(f):
			case slices.Contains(roots, other):
				errs = append(errs, fmt.Errorf("when_modified %v plans when another root's %s changes", p.Autoplan.WhenModified, f))
			default:
				errs = append(errs, fmt.Errorf("when_modified %v plans when %s changes, a module %s does not call", p.Autoplan.WhenModified, f, p.Dir))
			}
		}
	}
	return errors.Join(errs...)
}

// terraformDirs returns the repo-relative dirs whose Terraform declares a
// backend (the roots Atlantis plans: envs/<env>, the account-level root)
// and every dir that holds Terraform, roots and modules alike.
func terraformDirs(root string) (roots, dirs []string, err error) {
	skip := map[string]bool{".git": true, ".tools": true, ".local": true, ".terraform": true, "dist": true, "testdata": true, "node_modules": true}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skip[d.Name()] && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".tf") {
			return nil
		}
		dir, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		dir = filepath.ToSlash(dir)
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
		if slices.Contains(roots, dir) {
			return nil
		}
		ok, err := hasBackend(p)
		if ok {
			roots = append(roots, dir)
		}
		return err
	})
	slices.Sort(roots)
	slices.Sort(dirs)
	return roots, dirs, err
}

func hasBackend(file string) (bool, error) {
	f, diags := hclparse.NewParser().ParseHCLFile(file)
	if diags.HasErrors() {
		return false, diags
	}
	content, _, diags := f.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "terraform"}}})
	if diags.HasErrors() {
		return false, diags
	}
	for _, b := range content.Blocks {
		inner, _, diags := b.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type"}}}})
		if diags.HasErrors() {
			return false, diags
		}
		if len(inner.Blocks) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// localModules returns dir and, transitively, the dirs of the modules its
// Terraform calls with a local source ("./…" or "../…"), repo-relative.
func localModules(root, dir string) ([]string, error) {
	seen := map[string]bool{}
	var walk func(dir string) error
	walk = func(dir string) error {
		if seen[dir] {
			return nil
		}
		seen[dir] = true
		tfs, err := filepath.Glob(filepath.Join(root, dir, "*.tf"))
		if err != nil || len(tfs) == 0 {
			return fmt.Errorf("%s: no Terraform files", dir)
		}
		parser := hclparse.NewParser()
		for _, tf := range tfs {
			f, diags := parser.ParseHCLFile(tf)
			if diags.HasErrors() {
				return diags
			}
			content, _, diags := f.Body.PartialContent(&hcl.BodySchema{
				Blocks: []hcl.BlockHeaderSchema{{Type: "module", LabelNames: []string{"name"}}},
			})
			if diags.HasErrors() {
				return diags
			}
			for _, b := range content.Blocks {
				attrs, _ := b.Body.JustAttributes()
				src, ok := attrs["source"]
				if !ok {
					continue
				}
				v, diags := src.Expr.Value(nil)
				if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
					continue
				}
				s := v.AsString()
				if strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") {
					if err := walk(path.Clean(path.Join(dir, s))); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := walk(dir); err != nil {
		return nil, err
	}
	dirs := make([]string, 0, len(seen))
	for d := range seen {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	return dirs, nil
}

// configFiles lists the files in dir (repo-relative, not recursive) that
// change what Terraform does: everything but docs and Terraform's own
// working files.
func configFiles(root, dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, dir))
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.Type()&fs.ModeType != 0 || strings.HasSuffix(name, ".md") || strings.HasPrefix(name, ".") && name != ".terraform.lock.hcl" {
			continue
		}
		files = append(files, path.Join(dir, name))
	}
	return files, nil
}

func TestAtlantisConfigOfThisRepository(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	cfg, err := parseAtlantis(root, filepath.Join(root, "atlantis.yaml"), filepath.Join(root, "atlantis", "repos.yaml"))
	require.NoError(t, err)
	require.NoError(t, cfg.check(t))

	roots, _, err := terraformDirs(root)
	require.NoError(t, err)
	assert.Contains(t, roots, "envs/dev")
	assert.Len(t, cfg.repo.Projects, len(roots), "one project per Terraform root and nothing else")
	assert.True(t, *cfg.repo.ParallelPlan, "plans run in parallel: distinct dirs lock and clone separately")
}

// TestAccountWorkflowRefusesEnvRoots: atlantis.yaml comes from the pull
// request and may pick either allowed workflow for a project, so the
// account workflow, which has no smoke test, must refuse an env root:
// otherwise a pull request could apply an env without its smoke test by
// switching the env's workflow.
func TestAccountWorkflowRefusesEnvRoots(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	cfg, err := parseAtlantis(root, filepath.Join(root, "atlantis.yaml"), filepath.Join(root, "atlantis", "repos.yaml"))
	require.NoError(t, err)
	w, ok := cfg.global.Workflows["account"]
	require.True(t, ok, "repos.yaml defines no account workflow")
	for _, tc := range []struct {
		dir     string
		refused bool
	}{
		{"global", false},
		{"envs/dev", true},
		{"envs/prod", true},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			for stage, steps := range map[string][]valid.Step{"plan": w.Plan.Steps, "apply": w.Apply.Steps} {
				out, err := runGuards(t, steps, tc.dir)
				if !tc.refused {
					assert.NoError(t, err, "%s stage: %s", stage, out)
					continue
				}
				assert.Error(t, err, "the %s stage of the account workflow goes on for %s", stage, tc.dir)
				assert.Contains(t, out, "must use the service workflow", "%s stage", stage)
			}
		})
	}
}

// runGuards runs the run steps that come before the stage's first
// Terraform step, as Atlantis runs them for the project in dir, and returns
// the output and error of the first that fails.
func runGuards(t *testing.T, steps []valid.Step, dir string) (string, error) {
	sandbox := t.TempDir()
	abs := filepath.Join(sandbox, dir)
	require.NoError(t, os.MkdirAll(abs, 0o755))
	for _, st := range steps {
		if st.StepName != "run" {
			return "", nil
		}
		shell, args := "sh", []string{"-c"}
		if st.RunShell != nil {
			shell, args = st.RunShell.Shell, st.RunShell.ShellArgs
		}
		cmd := exec.Command(shell, append(args, st.RunCommand)...)
		cmd.Dir = abs
		cmd.Env = append(os.Environ(), "DIR="+abs, "REPO_REL_DIR="+dir, "PROJECT_NAME="+path.Base(dir), "WORKSPACE=default")
		if out, err := cmd.CombinedOutput(); err != nil {
			return string(out), err
		}
	}
	return "", nil
}

// TestAtlantisConfigChecksCanFail runs the same checks on a fixture tree
// (testdata/atlantis/tree: an account-level root and three env roots calling
// local modules) with configs broken in one way each.
func TestAtlantisConfigChecksCanFail(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	tree, err := filepath.Abs(filepath.Join("testdata", "atlantis", "tree"))
	require.NoError(t, err)
	realRepoCfg := filepath.Join(root, "atlantis.yaml")
	realGlobalCfg := filepath.Join(root, "atlantis", "repos.yaml")
	bad := func(name string) string { return filepath.Join("testdata", "atlantis", name) }

	tests := []struct {
		name      string
		repoCfg   string
		globalCfg string
		want      string // "" when the config is good
	}{
		{"shipped configs on the fixture tree", realRepoCfg, realGlobalCfg, ""},
		{"unknown key", bad("unknown-key.yaml"), realGlobalCfg, "field when_modifed not found"},
		{"custom workflow in the repo", bad("custom-workflow.yaml"), realGlobalCfg, "not allowed to define custom workflows"},
		{"default workflow without rollout", bad("default-workflow.yaml"), realGlobalCfg, "workflow 'default' is not allowed"},
		{"server does not allow the workflow key", realRepoCfg, bad("repos-no-workflow-override.yaml"), "not allowed to set 'workflow' key"},
		{"rollout of the wrong env", realRepoCfg, bad("repos-rollout-dev-only.yaml"), `calls scripts/rollout.sh with ["dev"], want [stg]`},
		{"env from the project name", realRepoCfg, bad("repos-rollout-project-name.yaml"), `calls scripts/rollout.sh with ["project-prod"], want [prod] (the env of the directory applied, envs/prod)`},
		{"rollout compiled with the pull request's go.work", realRepoCfg, bad("repos-rollout-go-settings.yaml"), "runs scripts/rollout.sh with GOWORK="},
		{"apply without rollout", realRepoCfg, bad("repos-apply-only.yaml"), "want [apply run]"},
		{"missing prod project", bad("missing-prod.yaml"), realGlobalCfg, "envs/prod has 0 projects"},
		{"missing account-level project", bad("missing-global.yaml"), realGlobalCfg, "global has 0 projects"},
		{"project for a module", bad("extra-project.yaml"), realGlobalCfg, "dir terraform/service is not a Terraform root"},
		{"name is not the env", bad("name-mismatch.yaml"), realGlobalCfg, `is named "development", want "dev"`},
		{"modules out of reach", bad("narrow-when-modified.yaml"), realGlobalCfg, "does not plan when terraform/service/main.tf changes"},
		{"nested module out of reach", bad("narrow-when-modified.yaml"), realGlobalCfg, "does not plan when terraform/service/modules/nested/main.tf changes"},
		{"template out of reach", bad("no-tftpl.yaml"), realGlobalCfg, "does not plan when terraform/service/openapi.yaml.tftpl changes"},
		{"pointer out of reach", bad("no-pointer.yaml"), realGlobalCfg, "does not plan when envs/dev/artifact.auto.tfvars.json changes"},
		{"account module out of reach", bad("global-misses-oidc.yaml"), realGlobalCfg, "does not plan when terraform/github-oidc/main.tf changes"},
		{"pattern reaches other roots", bad("broad-when-modified.yaml"), realGlobalCfg, "plans when another root's envs/stg/main.tf changes"},
		{"env plans on account modules", bad("env-reaches-account-modules.yaml"), realGlobalCfg, "plans when terraform/github-oidc/main.tf changes, a module envs/dev does not call"},
		{"missing undiverged", realRepoCfg, bad("repos-no-undiverged.yaml"), `lack "undiverged"`},
		{"apply with the server's identity", realRepoCfg, bad("repos-apply-without-profile.yaml"), "apply stage runs apply before it sets AWS_PROFILE"},
		{"plan with the apply role", realRepoCfg, bad("repos-plan-with-apply-profile.yaml"), `plan stage sets AWS_PROFILE="request-dump-dev-apply" for envs/dev, want "request-dump-dev-plan"`},
		{"import without requirements", realRepoCfg, bad("repos-no-import-requirements.yaml"), `import requirements [] lack "approved"`},
		{"pull request drops an apply requirement", bad("repo-sets-apply-requirements.yaml"), realGlobalCfg, "not allowed to set 'apply_requirements' key"},
		{"server lets the repo override apply requirements", realRepoCfg, bad("repos-apply-override.yaml"), "a pull request could drop them"},
		{"prod before stg", bad("wrong-order.yaml"), realGlobalCfg, "execution_order_group of prod (2) is not after stg (2)"},
		{"account-level root after dev", bad("global-last.yaml"), realGlobalCfg, "execution_order_group of dev (1) is not after the account-level roots (5)"},
		{"no abort on failure", bad("no-abort.yaml"), realGlobalCfg, "abort_on_execution_order_fail is off"},
		{"prod can be applied before stg", bad("prod-without-depends-on.yaml"), realGlobalCfg, "project prod has depends_on [], want [stg]"},
		{"stg waits for the wrong env", bad("stg-depends-on-prod.yaml"), realGlobalCfg, "project stg has depends_on [prod], want [dev]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseAtlantis(tree, tt.repoCfg, tt.globalCfg)
			if err == nil {
				err = cfg.check(t)
			}
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
