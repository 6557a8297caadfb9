// Package policies holds only tests: they run the Rego policy sets of this
// directory with conftest (pinned in scripts/tools.sh, the version
// atlantis/repos.yaml pins for the server) the way the Atlantis server
// does, through Atlantis's own conftest runner, on Terraform plan fixtures
// (testdata/, see its README), and run the Rego unit tests with
// `conftest verify`.
package policies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/runatlantis/atlantis/server/core/config"
	"github.com/runatlantis/atlantis/server/core/config/valid"
	"github.com/runatlantis/atlantis/server/core/runtime/policy"
	"github.com/runatlantis/atlantis/server/events/command"
	"github.com/runatlantis/atlantis/server/events/models"
	"github.com/runatlantis/atlantis/server/logging"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/repo"
)

// serverPolicies is where atlantis/Dockerfile puts each policy set, with
// lib/ copied into it: /etc/atlantis/policies/<set>.
const serverPolicies = "/etc/atlantis/policies"

// expectation is what the policy sets must report on a fixture: for each
// set, the failures, each given by the resource address and what it tells
// to change. A set with none must pass.
type expectation map[string][]failure

type failure struct{ address, fix string }

// fixtures lists every plan in testdata/. Each rule fails on the fixture of
// its directory with the messages listed, and passes on the whole plans of
// testdata/plans and on the pass*.json of its directory.
var fixtures = map[string]expectation{
	"plans/prod-create.json":   {},
	"plans/prod-update.json":   {},
	"plans/global-create.json": {},
	"plans/global-noop.json":   {},
	"s3/fail.json": {"baseline": {
		{"module.artifacts.aws_s3_bucket.this: module.artifacts.aws_s3_bucket_public_access_block.this leaves block_public_policy, restrict_public_buckets off", "set block_public_policy = true, restrict_public_buckets = true"},
		{"module.artifacts.aws_s3_bucket.this: no aws_s3_bucket_server_side_encryption_configuration", "add one"},
		{"module.artifacts.aws_s3_bucket.this: no aws_s3_bucket_versioning", `versioning_configuration.status = "Enabled"`},
	}},
	"s3/pass.json": {},
	"iam/fail.json": {"baseline": {
		{`module.github_oidc.aws_iam_role_policy.this["dev"]: statement "Everything" allows "s3:*"`, "list the actions the role needs instead"},
		{`module.github_oidc.aws_iam_role_policy.this["dev"]: statement "Everything" allows ["s3:*"] on every resource ("arn:aws:s3:::*")`, "name the ARNs it needs"},
		{`module.github_oidc.aws_iam_role_policy.drift[0]: statement "ReadResourceConfiguration" allows [`, `"lambda:UpdateFunctionCode"`},
		{"aws_iam_role.break_glass: the trust policy (statement (no Sid)) lets any principal assume the role", "name the service, account or federated provider that may"},
		{"aws_iam_role_policy_attachment.break_glass: attaches arn:aws:iam::aws:policy/AdministratorAccess", "policies/baseline/exceptions.rego"},
	}},
	"logs/fail.json": {"baseline": {
		{"module.service.aws_cloudwatch_log_group.access: retention_in_days is 0", "set it to one of CloudWatch Logs' values"},
		{"module.service.aws_lambda_function.this: the function logs to /aws/lambda/elsewhere", "add the log group with retention_in_days and name it in logging_config.log_group"},
	}},
	"lambda/fail.json": {"baseline": {
		{"module.service.aws_lambda_function.this: runtime is nodejs22.x", `set runtime = "provided.al2023"`},
		{"module.service.aws_lambda_function.this: architectures is known only after the apply (not set)", `set architectures = ["arm64"]`},
	}},
	"invoke/fail.json": {"baseline": {
		{`module.service.aws_iam_role_policy.api_gateway_invoke: the API Gateway role module.service.aws_iam_role.api_gateway is granted "lambda:UpdateFunctionCode"`, `allow "lambda:InvokeFunction" alone`},
		{`module.service.aws_iam_role_policy.api_gateway_invoke: the API Gateway role module.service.aws_iam_role.api_gateway may invoke "arn:aws:lambda:ap-northeast-1:123456789012:function:request-dump-prod:*"`, "allow only the ARN of this module's function"},
		{`module.service.aws_iam_role_policy.api_gateway_invoke: the API Gateway role module.service.aws_iam_role.api_gateway may invoke "arn:aws:lambda:ap-northeast-1:123456789012:function:request-dump-stg"`, "allow only the ARN of this module's function"},
	}},
	"invoke/fail-create.json": {"baseline": {
		{"module.service.aws_iam_role_policy.api_gateway_invoke: the API Gateway role module.service.aws_iam_role.api_gateway may invoke a resource given by var.other_function.arn", "refer only to this module's aws_lambda_function or aws_lambda_alias .arn"},
	}},
	"invoke/pass-create.json": {},
	"access/fail.json": {"baseline": {
		{"module.service.aws_api_gateway_rest_api.this: POST /events has no security requirement in the REST API body", `set access = { mode = "api_key" } (or "iam") in envs/prod/main.tf`},
		{`module.service.aws_ssm_parameter.api_key["smoke"]: the API key parameter /request-dump-prod/api-keys/smoke is a String`, `set type = "SecureString"`},
		{`module.service.aws_api_gateway_stage.this: the stage "prod" in prod has no AWS WAF web ACL`, "set waf = { enabled = true } in envs/prod/main.tf"},
	}},
	"access/fail-create.json": {"baseline": {
		{"module.service.aws_api_gateway_rest_api.this: the REST API body is known only after the apply and the module call does not set access.mode to api_key or iam", `set access = { mode = "api_key" } (or "iam") in envs/prod/main.tf`},
		{`module.service.aws_api_gateway_stage.this: the stage "prod" in prod has no AWS WAF web ACL`, "set waf = { enabled = true } in envs/prod/main.tf"},
	}},
	"access/pass.json": {},
	"tags/fail.json": {"baseline": {
		{"module.artifacts.aws_s3_bucket.this: missing the tags [\"managed_by\", \"repository\"]", "set them in the root's provider default_tags"},
	}},
	"prod-destroy/fail.json": {"prod-destroy": {
		{"module.service.aws_api_gateway_rest_api.this: this prod plan would replace (destroy and re-create) the REST API", "`atlantis approve_policies -p prod --policy-set prod-destroy`"},
		{"module.service.aws_cloudwatch_log_group.this: this prod plan would destroy the log group", "`atlantis approve_policies -p prod --policy-set prod-destroy`"},
	}},
	"prod-destroy/fail-global.json": {"prod-destroy": {
		{"module.artifacts.aws_s3_bucket.this: this account-level plan would destroy the artifact bucket", "`atlantis approve_policies -p global --policy-set prod-destroy`"},
	}},
	"prod-destroy/pass.json":     {},
	"prod-destroy/pass-dev.json": {},
}

// server is the Atlantis server's policy configuration, from
// atlantis/repos.yaml as the server parses it (started with
// --enable-policy-checks), with each set's path mapped to a copy of the
// directory atlantis/Dockerfile builds.
type server struct {
	sets      valid.PolicySets
	extraArgs []string
	conftest  string
}

func newServer(t *testing.T) server {
	t.Helper()
	root, err := repo.Root()
	require.NoError(t, err)
	var p config.ParserValidator
	global, err := p.ParseGlobalCfg(filepath.Join(root, "atlantis", "repos.yaml"), valid.NewGlobalCfgFromArgs(valid.GlobalCfgArgs{PolicyCheckEnabled: true}))
	require.NoError(t, err)
	require.True(t, global.PolicySets.HasPolicies(), "atlantis/repos.yaml has no policy sets")

	// Each env root and the account-level root run the same policy_check
	// stage; its extra_args are passed to every conftest run.
	var extra []string
	for _, name := range []string{"service", "account"} {
		w, ok := global.Workflows[name]
		require.True(t, ok, "repos.yaml has no %s workflow", name)
		var args []string
		for _, st := range w.PolicyCheck.Steps {
			if st.StepName == "policy_check" {
				args = st.ExtraArgs
			}
		}
		if extra == nil {
			extra = args
		}
		require.Equal(t, extra, args, "the service and account workflows run conftest with different arguments")
	}

	layout := t.TempDir()
	sets := global.PolicySets
	sets.PolicySets = slices.Clone(sets.PolicySets)
	for i, set := range sets.PolicySets {
		require.Equal(t, filepath.Join(serverPolicies, set.Name), set.Path, "policy set %s: atlantis/Dockerfile puts it at %s/%s", set.Name, serverPolicies, set.Name)
		dir := filepath.Join(layout, set.Name)
		copyDir(t, filepath.Join(root, "policies", set.Name), dir)
		copyDir(t, filepath.Join(root, "policies", "lib"), filepath.Join(dir, "lib"))
		sets.PolicySets[i].Path = dir
	}
	conftest, err := repo.Tool("conftest")
	require.NoError(t, err)
	return server{sets: sets, extraArgs: extra, conftest: conftest}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(to, 0o755))
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".rego") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(to, e.Name()), data, 0o644))
	}
}

// check runs every policy set on a plan as Atlantis's policy_check step
// does (ConfTestExecutorWorkflow.Run: `conftest test -p <set> <showfile>
// --no-color <extra_args>` per set) and returns each set's result.
func (s server) check(t *testing.T, project, planJSON string) ([]models.PolicySetResult, error) {
	t.Helper()
	workdir := t.TempDir()
	ctx := command.ProjectContext{
		Log:         logging.NewNoopLogger(t),
		PolicySets:  s.sets,
		ProjectName: project,
		Workspace:   "default",
	}
	data, err := os.ReadFile(planJSON)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(workdir, ctx.GetShowResultFileName()), data, 0o600))
	// Atlantis's runner itself, with its local policy source resolver and
	// its executor (sh -c, the server's environment).
	wf := policy.NewConfTestExecutorWorkflow(ctx.Log, t.TempDir(), noDownload{t})
	out, runErr := wf.Run(ctx, s.conftest, map[string]string{}, workdir, s.extraArgs)
	var results []models.PolicySetResult
	require.NoError(t, json.Unmarshal([]byte(out), &results), "policy_check output: %s (error %v)", out, runErr)
	return results, runErr
}

func TestPolicySetsOnFixtures(t *testing.T) {
	srv := newServer(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	require.NoError(t, err)
	var listed []string
	for f := range fixtures {
		listed = append(listed, filepath.Join("testdata", f))
	}
	sort.Strings(listed)
	require.Equal(t, listed, files, "every fixture in testdata/ is listed in fixtures, and every listed one exists")

	failing := map[string]bool{}
	for name, want := range fixtures {
		t.Run(name, func(t *testing.T) {
			project := "prod"
			if strings.Contains(name, "global") {
				project = "global"
			}
			results, runErr := srv.check(t, project, filepath.Join("testdata", name))
			require.Len(t, results, len(srv.sets.PolicySets), "one result per policy set")
			var wantErrs []string
			for _, r := range results {
				fails := want[r.PolicySetName]
				lines := failLines(r.PolicyOutput)
				assert.Equal(t, len(fails) == 0, r.Passed, "policy set %s passed: %s", r.PolicySetName, r.PolicyOutput)
				assert.Len(t, lines, len(fails), "policy set %s reports %d failures:\n%s", r.PolicySetName, len(lines), strings.Join(lines, "\n"))
				for _, f := range fails {
					var line string
					for _, l := range lines {
						if strings.Contains(l, f.address) {
							line = l
						}
					}
					if assert.NotEmpty(t, line, "policy set %s does not report %q:\n%s", r.PolicySetName, f.address, r.PolicyOutput) {
						assert.Contains(t, line, f.fix, "the message says what to change")
					}
				}
				if len(fails) > 0 {
					wantErrs = append(wantErrs, fmt.Sprintf("policy_set: %s: conftest: some policies failed", r.PolicySetName))
				}
				for _, l := range lines {
					failing[namespace(l)] = true
				}
			}
			// Atlantis fails the step (and so the apply requirement
			// policies_passed) exactly when a set reports failures; any
			// other conftest error would show here too.
			if len(wantErrs) == 0 {
				assert.NoError(t, runErr)
			} else if assert.Error(t, runErr) {
				assert.ElementsMatch(t, wantErrs, strings.Split(runErr.Error(), "\n"))
			}
		})
	}
	// A rule that cannot fail is a defect: each package with deny rules
	// fails on some fixture.
	for _, ns := range denyPackages(t) {
		assert.True(t, failing[ns], "no fixture makes %s fail", ns)
	}
}

var failLine = regexp.MustCompile(`(?m)^FAIL - <redacted plan file> - ([a-z0-9_.]+) - (.*)$`)

func failLines(output string) []string {
	var lines []string
	for _, m := range failLine.FindAllStringSubmatch(output, -1) {
		lines = append(lines, m[1]+" - "+m[2])
	}
	return lines
}

func namespace(line string) string {
	ns, _, _ := strings.Cut(line, " - ")
	return ns
}

// denyPackages returns the packages of the policy sets that have deny rules.
func denyPackages(t *testing.T) []string {
	var out []string
	files, err := filepath.Glob(filepath.Join("*", "*.rego"))
	require.NoError(t, err)
	pkg := regexp.MustCompile(`(?m)^package ([a-z0-9_.]+)$`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		if m := pkg.FindSubmatch(data); m != nil && bytes.Contains(data, []byte("\ndeny contains ")) {
			out = append(out, string(m[1]))
		}
	}
	require.NotEmpty(t, out)
	return out
}

// TestRegoUnitTests runs `conftest verify` on each policy set with the
// shared library, as make test does: every test passes, and every Rego
// file of a set or the library has a test file with tests in it.
func TestRegoUnitTests(t *testing.T) {
	srv := newServer(t)
	for _, set := range srv.sets.PolicySets {
		t.Run(set.Name, func(t *testing.T) {
			cmd := exec.Command(srv.conftest, "verify", "--no-color", "-o", "json", "-p", "lib", "-p", set.Name)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var results []struct {
				Filename  string `json:"filename"`
				Successes int    `json:"successes"`
				Failures  []struct {
					Msg string `json:"msg"`
				} `json:"failures"`
			}
			require.NoError(t, json.Unmarshal(out, &results), "conftest verify: %v\n%s%s", err, out, stderr.String())
			passed := map[string]int{}
			for _, r := range results {
				for _, f := range r.Failures {
					t.Errorf("%s: %s", r.Filename, f.Msg)
				}
				passed[r.Filename] += r.Successes
			}
			require.NoError(t, err, "conftest verify failed:\n%s", stderr.String())
			for _, dir := range []string{"lib", set.Name} {
				policies, err := filepath.Glob(filepath.Join(dir, "*.rego"))
				require.NoError(t, err)
				for _, p := range policies {
					if strings.HasSuffix(p, "_test.rego") || filepath.Base(p) == "exceptions.rego" {
						continue
					}
					test := strings.TrimSuffix(p, ".rego") + "_test.rego"
					assert.Positive(t, passed[test], "%s has no passing tests in %s", p, test)
				}
			}
		})
	}
}

// TestRegoIsFormatted: every Rego file is as `conftest fmt` writes it
// (opa fmt), so a change's diff holds only what it changes.
func TestRegoIsFormatted(t *testing.T) {
	srv := newServer(t)
	out, err := exec.Command(srv.conftest, "fmt", "--check", ".").CombinedOutput()
	require.NoError(t, err, "run `%s fmt policies` and commit the result:\n%s", srv.conftest, out)
}

// TestConftestVersionAtlantisResolves: the server runs the conftest_version
// repos.yaml pins as conftest<version> from its PATH (the image installs
// it there), and never downloads one.
func TestConftestVersionAtlantisResolves(t *testing.T) {
	srv := newServer(t)
	require.NotNil(t, srv.sets.Version, "repos.yaml pins no conftest_version")
	bin := t.TempDir()
	name := "conftest" + srv.sets.Version.Original()
	require.NoError(t, os.Symlink(srv.conftest, filepath.Join(bin, name)))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	wf := policy.NewConfTestExecutorWorkflow(logging.NewNoopLogger(t), t.TempDir(), noDownload{t})
	path, err := wf.EnsureExecutorVersion(logging.NewNoopLogger(t), srv.sets.Version)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(bin, name), path)

	out, err := exec.Command(path, "--version").Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), "OPA: ", "conftest answers")
}

// TestFixturesAreTerraformPlans holds the fixtures to Terraform's JSON plan
// format as HashiCorp's terraform-json models it: every key they use is
// one it knows (action_reason, which Terraform writes since 1.3 and
// terraform-json v0.23 does not model, is checked against Terraform
// 1.5.7's values), the format version is one it accepts, each change's
// address is made of its module, mode, type, name and key, and
// planned_values holds exactly what the changes leave in place.
func TestFixturesAreTerraformPlans(t *testing.T) {
	reasons := []string{
		"replace_because_cannot_update", "replace_because_tainted", "replace_by_request", "replace_by_triggers",
		"delete_because_no_resource_config", "delete_because_wrong_repetition", "delete_because_count_index",
		"delete_because_each_key", "delete_because_no_module", "delete_because_no_move_target",
		"read_because_config_unknown", "read_because_dependency_pending", "read_because_check_nested",
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			var plan tfjson.Plan
			require.NoError(t, json.Unmarshal(data, &plan))
			require.NoError(t, plan.Validate())
			assert.Equal(t, "1.5.7", plan.TerraformVersion)

			var raw map[string]any
			require.NoError(t, json.Unmarshal(data, &raw))
			for _, rc := range raw["resource_changes"].([]any) {
				rc := rc.(map[string]any)
				if reason, ok := rc["action_reason"]; ok {
					assert.Contains(t, reasons, reason, "%s: action_reason", rc["address"])
					delete(rc, "action_reason")
				}
			}
			back, err := json.Marshal(plan)
			require.NoError(t, err)
			var roundTrip any
			require.NoError(t, json.Unmarshal(back, &roundTrip))
			assert.NoError(t, subset("", raw, roundTrip), "a key terraform-json does not know")

			planned := map[string]any{}
			var walk func(m *tfjson.StateModule)
			walk = func(m *tfjson.StateModule) {
				for _, r := range m.Resources {
					planned[r.Address] = r.AttributeValues
				}
				for _, c := range m.ChildModules {
					walk(c)
				}
			}
			require.NotNil(t, plan.PlannedValues)
			walk(plan.PlannedValues.RootModule)
			leftInPlace := 0
			for _, rc := range plan.ResourceChanges {
				assert.Equal(t, address(rc), rc.Address)
				if rc.Change.Actions.Delete() {
					assert.NotContains(t, planned, rc.Address, "a deleted resource has no planned values")
					continue
				}
				leftInPlace++
				assert.Equal(t, rc.Change.After, planned[rc.Address], "%s: planned_values holds the change's after", rc.Address)
			}
			assert.Len(t, planned, leftInPlace)
		})
	}
}

func address(rc *tfjson.ResourceChange) string {
	a := rc.Type + "." + rc.Name
	if rc.Mode == tfjson.DataResourceMode {
		a = "data." + a
	}
	switch k := rc.Index.(type) {
	case nil:
	case string:
		a += fmt.Sprintf("[%q]", k)
	default:
		a += fmt.Sprintf("[%v]", k)
	}
	if rc.ModuleAddress != "" {
		a = rc.ModuleAddress + "." + a
	}
	return a
}

// subset reports the first key of a that b lacks (a null in a may be
// absent from b: terraform-json omits empty values).
func subset(path string, a, b any) error {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: an object, read back as %T", path, b)
		}
		for k, v := range a {
			w, ok := bm[k]
			if !ok {
				if isEmpty(v) {
					continue
				}
				return fmt.Errorf("%s.%s: not in terraform-json's model", path, k)
			}
			if err := subset(path+"."+k, v, w); err != nil {
				return err
			}
		}
	case []any:
		bl, ok := b.([]any)
		if !ok || len(bl) != len(a) {
			return fmt.Errorf("%s: a list of %d, read back as %v", path, len(a), b)
		}
		for i := range a {
			if err := subset(fmt.Sprintf("%s[%d]", path, i), a[i], bl[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case string:
		return v == ""
	case bool:
		return !v
	}
	return false
}

// noDownload is the conftest downloader Atlantis would fetch a release
// with: the server image has the pinned version, so it must not be called.
type noDownload struct{ t *testing.T }

func (d noDownload) GetAny(dst, src string) error {
	d.t.Errorf("Atlantis tried to download conftest from %s", src)
	return errors.New("no download")
}
