package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/proctest"
)

// sandbox is a copy of what scripts/drift.sh uses (the script, the
// terraform lookup it sources, this command, go.mod) with env roots of its own and git history, and on its
// PATH a stand-in terraform and a stand-in gh:
//
//   - terraform answers `version` with .tf/version, else v1.5.7, and
//     records the arguments of every other command in .tf.log; `plan` exits with the
//     status in .tf/plan-exit (0, 1 or 2, as -detailed-exitcode does) and
//     writes the -out file; `show -json` prints .tf/show.json, the
//     real-format plan of testdata/prod-drift.json; .tf/fail-init fails
//     init, .tf/fail-show fails show;
//   - gh keeps issues in .gh/issues/<n>/ (title, state, labels, body,
//     comments) and answers `issue list` as GitHub does, filtered by
//     --label and --state, for the one --jq expression the script uses;
//     .gh/fail fails every call.
type sandbox struct {
	dir string
	env []string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	dir := t.TempDir()
	proctest.CopyFiles(t, dir, "go.mod", "go.sum", "scripts/drift.sh", "scripts/lib/terraform-path.sh", "cmd/drift/main.go", "cmd/drift/report.go")
	for _, env := range []string{"dev", "stg", "prod"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "envs", env), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "envs", env, "main.tf"), []byte("# "+env+"\n"), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "global"), 0o755))

	bin := filepath.Join(dir, ".bin")
	tf := filepath.Join(dir, ".tf")
	gh := filepath.Join(dir, ".gh")
	for _, d := range []string{bin, tf, filepath.Join(gh, "issues")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	show, err := os.ReadFile(filepath.Join("testdata", "prod-drift.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tf, "show.json"), show, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(tf, "plan-exit"), []byte("0\n"), 0o644))

	require.NoError(t, os.WriteFile(filepath.Join(bin, "terraform"), []byte(`#!/bin/sh
tf="`+tf+`"
if [ "$1" = version ]; then cat "$tf/version" 2>/dev/null || echo "Terraform v1.5.7"; exit 0; fi
echo "$*" >> "$tf.log"
chdir=${1#-chdir=}
[ -d "$chdir" ] || { echo "Error: chdir $chdir: no such directory" >&2; exit 1; }
case $2 in
init)
  [ ! -f "$tf/fail-init" ] || { echo "Error: Failed to get existing workspaces: AccessDenied: Access Denied" >&2; exit 1; }
  echo "Terraform has been successfully initialized!" ;;
plan)
  code=$(cat "$tf/plan-exit")
  for a in "$@"; do case $a in -out=*) echo "plan of $chdir" > "${a#-out=}" ;; esac; done
  case $code in
  0) echo "No changes. Your infrastructure matches the configuration." ;;
  1) echo "Error: reading Lambda Function (request-dump-prod): AccessDeniedException: not authorized to perform: lambda:GetFunction" >&2 ;;
  2) echo "Plan: 1 to add, 1 to change, 0 to destroy." ;;
  esac
  exit "$code" ;;
show)
  [ ! -f "$tf/fail-show" ] || { echo "Error: Failed to read the given file as a state or plan file" >&2; exit 1; }
  [ "$3" = -json ] && [ -f "$4" ] || { echo "stand-in terraform: show wants -json and a plan file, got $*" >&2; exit 1; }
  cat "$tf/show.json" ;;
*) echo "stand-in terraform: unexpected command $*" >&2; exit 1 ;;
esac
`), 0o755))

	require.NoError(t, os.WriteFile(filepath.Join(bin, "gh"), []byte(`#!/bin/sh
gh="`+gh+`"
echo "$*" >> "$gh.log"
[ ! -f "$gh/fail" ] || { echo "HTTP 401: Bad credentials (https://api.github.com/graphql)" >&2; exit 1; }
cmd="$1 $2"
shift 2
case $cmd in
"issue list")
  label= state=open jq=
  while [ $# -gt 0 ]; do
    case $1 in
    --label) label=$2; shift ;;
    --state) state=$2; shift ;;
    --jq) jq=$2; shift ;;
    --json) [ "$2" = number,title ] || { echo "stand-in gh: --json $2 is not emulated" >&2; exit 1; }; shift ;;
    --limit) shift ;;
    *) echo "stand-in gh: unknown flag $1" >&2; exit 1 ;;
    esac
    shift
  done
  [ "$jq" = '.[] | "\(.number)\t\(.title)"' ] || { echo "stand-in gh: --jq $jq is not emulated" >&2; exit 1; }
  for d in $(ls "$gh/issues" | sort -n); do
    i="$gh/issues/$d"
    [ "$state" = all ] || [ "$(cat "$i/state")" = "$state" ] || continue
    [ -z "$label" ] || grep -qx "$label" "$i/labels" || continue
    printf '%s\t%s\n' "$d" "$(cat "$i/title")"
  done ;;
"issue create")
  n=$(( $(ls "$gh/issues" | wc -l) + 1 ))
  i="$gh/issues/$n"
  mkdir -p "$i"
  echo open > "$i/state"
  : > "$i/labels"
  while [ $# -gt 0 ]; do
    case $1 in
    --title) printf '%s' "$2" > "$i/title" ;;
    --label) echo "$2" >> "$i/labels" ;;
    --body-file) cp "$2" "$i/body" ;;
    *) echo "stand-in gh: unknown flag $1" >&2; exit 1 ;;
    esac
    shift 2
  done
  echo "https://github.com/acme/request-dump/issues/$n" ;;
"issue edit")
  i="$gh/issues/$1"
  [ -d "$i" ] || { echo "GraphQL: Could not resolve to an issue with the number of $1." >&2; exit 1; }
  [ "$2" = --body-file ] || { echo "stand-in gh: unknown flag $2" >&2; exit 1; }
  cp "$3" "$i/body" ;;
"issue close")
  i="$gh/issues/$1"
  [ -d "$i" ] || { echo "GraphQL: Could not resolve to an issue with the number of $1." >&2; exit 1; }
  echo closed > "$i/state"
  [ "$2" != --comment ] || printf '%s\n' "$3" >> "$i/comments" ;;
"label create") ;;
*) echo "stand-in gh: unexpected command $cmd" >&2; exit 1 ;;
esac
`), 0o755))

	env := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"GITHUB_SERVER_URL=https://github.com",
		"GITHUB_REPOSITORY=acme/request-dump",
		"GITHUB_RUN_ID=4242",
		"GITHUB_SHA=0123456789abcdef0123456789abcdef01234567",
		"GOWORK=off",
		"GOFLAGS=-mod=readonly",
		"GIT_CONFIG_GLOBAL=" + filepath.Join(dir, ".gitconfig-none"),
		"GIT_CONFIG_NOSYSTEM=1",
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "PATH", name == "TERRAFORM_PATH", strings.HasPrefix(name, "GITHUB_"), strings.HasPrefix(name, "GH_"),
			strings.HasPrefix(name, "GIT_"), name == "GOWORK", name == "GOFLAGS":
			continue
		}
		env = append(env, kv)
	}
	return &sandbox{dir: dir, env: env}
}

// run runs scripts/drift.sh in the sandbox and returns its exit status and
// combined output.
func (sb *sandbox) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return proctest.Run(t, sb.dir, sb.env, filepath.Join(sb.dir, "scripts", "drift.sh"), args...)
}

func (sb *sandbox) set(t *testing.T, rel, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(sb.dir, rel), []byte(content), 0o644))
}

func (sb *sandbox) read(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sb.dir, rel))
	if os.IsNotExist(err) {
		return ""
	}
	require.NoError(t, err)
	return string(data)
}

// issue writes an issue into the stand-in gh's store.
func (sb *sandbox) issue(t *testing.T, n, title, state, labels string) {
	t.Helper()
	dir := filepath.Join(".gh", "issues", n)
	require.NoError(t, os.MkdirAll(filepath.Join(sb.dir, dir), 0o755))
	sb.set(t, filepath.Join(dir, "title"), title)
	sb.set(t, filepath.Join(dir, "state"), state+"\n")
	sb.set(t, filepath.Join(dir, "labels"), labels+"\n")
	sb.set(t, filepath.Join(dir, "body"), "old body\n")
}

// ghWrites returns the gh calls that change something on GitHub.
func (sb *sandbox) ghWrites(t *testing.T) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(sb.read(t, ".gh.log")), "\n") {
		if l != "" && !strings.HasPrefix(l, "issue list ") {
			out = append(out, l)
		}
	}
	return out
}

const prodTitle = "Drift: prod no longer matches the code"

func TestDriftRejectsBadArguments(t *testing.T) {
	sb := newSandbox(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "drift.sh: missing root"},
		{[]string{"qa"}, "drift.sh: unknown root 'qa'"},
		{[]string{"../prod"}, "drift.sh: unknown root '../prod'"},
		{[]string{"--report-only"}, "the root comes first"},
		{[]string{"prod", "--apply"}, "drift.sh: unknown argument '--apply'"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out := sb.run(t, tt.args...)
			assert.Equal(t, 2, code, out)
			assert.Contains(t, out, tt.want)
			assert.Contains(t, out, "usage: scripts/drift.sh <root> [--report-only]   (root: one of dev, prod, stg, global)")
		})
	}
	assert.Empty(t, sb.read(t, ".tf.log"), "nothing was planned")
	assert.Empty(t, sb.read(t, ".gh.log"), "GitHub was not called")
}

// TestDriftRefusesATerraformTheRootsDoNotAccept: with no pinned terraform
// in .tools/bin, a terraform on PATH of another version than the roots'
// ~> 1.5.7 is refused with the fix before it initialises anything.
func TestDriftRefusesATerraformTheRootsDoNotAccept(t *testing.T) {
	tests := []struct {
		name    string
		version string
		code    int
		want    string
	}{
		{"newer minor", "Terraform v1.11.4\non linux_amd64\n", 2, "is Terraform 1.11.4, but the roots require ~> 1.5.7: run scripts/tools.sh terraform"},
		{"older patch", "Terraform v1.5.6\n", 2, "is Terraform 1.5.6, but the roots require ~> 1.5.7"},
		{"no version", "not terraform\n", 2, "is Terraform of an unknown version, but the roots require ~> 1.5.7"},
		{"the pinned version", "Terraform v1.5.7\non linux_amd64\n", 0, "drift.sh: no drift in prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.set(t, ".tf/version", tt.version)
			code, out := sb.run(t, "prod")
			assert.Equal(t, tt.code, code, out)
			assert.Contains(t, out, tt.want)
			if tt.code != 0 {
				assert.Empty(t, sb.read(t, ".tf.log"), "nothing was initialised or planned")
			}
		})
	}
}

// TestDriftIssueLifecycle: no drift and no issue; drift opens the issue with
// the drifted addresses and the run; drift again updates that issue; no
// drift closes it. Other roots' issues and closed issues are left alone.
func TestDriftIssueLifecycle(t *testing.T) {
	sb := newSandbox(t)
	sb.issue(t, "1", "Drift: dev no longer matches the code", "open", "drift")
	sb.issue(t, "2", prodTitle, "closed", "drift")
	sb.issue(t, "3", prodTitle, "open", "question")

	code, out := sb.run(t, "prod")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "drift.sh: no drift in prod")
	assert.Empty(t, sb.ghWrites(t))
	calls := strings.Split(strings.TrimSpace(sb.read(t, ".tf.log")), "\n")
	require.Len(t, calls, 2, "init and plan, nothing else")
	assert.Equal(t, "-chdir=envs/prod init -input=false -no-color", calls[0])
	assert.True(t, strings.HasPrefix(calls[1], "-chdir=envs/prod plan -detailed-exitcode -lock=false -input=false -no-color -out="),
		"a plan that refreshes and takes no lock: %s", calls[1])

	sb.set(t, ".tf/plan-exit", "2\n")
	code, out = sb.run(t, "prod")
	assert.Equal(t, 3, code, out)
	assert.Equal(t, []string{
		"label create drift --color D93F0B --description AWS no longer matches the code (scripts/drift.sh) --force",
		"issue create --title " + prodTitle + " --label drift --body-file " + bodyFile(t, sb),
	}, sb.ghWrites(t))
	body := sb.read(t, ".gh/issues/4/body")
	assert.Equal(t, prodTitle, sb.read(t, ".gh/issues/4/title"))
	for _, want := range []string{
		"`terraform plan` of **prod** (`envs/prod`) found that AWS no longer matches the code.",
		"- run: https://github.com/acme/request-dump/actions/runs/4242",
		"- commit: `0123456789abcdef0123456789abcdef01234567`",
		"| `module.service.aws_lambda_function.this` | update | `last_modified`, `memory_size`, `timeout` |",
		"| `module.service.aws_cloudwatch_log_group.access` | delete |  |",
		"| `module.service.aws_cloudwatch_log_group.access` | create |  |",
		"| `module.service.aws_lambda_function.this` | update | `memory_size`, `timeout` |",
	} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "1024", "no values in the issue")
	assert.Contains(t, out, body, "the report is in the run's log too")

	require.NoError(t, os.Remove(filepath.Join(sb.dir, ".gh.log")))
	code, out = sb.run(t, "prod")
	assert.Equal(t, 3, code, out)
	assert.Equal(t, []string{"issue edit 4 --body-file " + bodyFile(t, sb)}, sb.ghWrites(t), "the open issue is updated, no second one opened")

	require.NoError(t, os.Remove(filepath.Join(sb.dir, ".gh.log")))
	sb.set(t, ".tf/plan-exit", "0\n")
	code, out = sb.run(t, "prod")
	assert.Equal(t, 0, code, out)
	assert.Equal(t, "closed\n", sb.read(t, ".gh/issues/4/state"))
	assert.Equal(t, "No drift in prod any more: https://github.com/acme/request-dump/actions/runs/4242 (commit `0123456789abcdef0123456789abcdef01234567`).\n", sb.read(t, ".gh/issues/4/comments"))
	assert.Equal(t, "open\n", sb.read(t, ".gh/issues/1/state"), "dev's issue is dev's")
	assert.Equal(t, "open\n", sb.read(t, ".gh/issues/3/state"), "an issue without the drift label is not the drift issue")
	assert.Equal(t, "old body\n", sb.read(t, ".gh/issues/2/body"), "a closed issue stays closed and untouched")
}

// bodyFile is the --body-file the script passed last (a file in its
// temporary directory, gone once it exits).
func bodyFile(t *testing.T, sb *sandbox) string {
	t.Helper()
	log := sb.read(t, ".gh.log")
	i := strings.LastIndex(log, "--body-file ")
	require.GreaterOrEqual(t, i, 0, "gh was given no body file:\n%s", log)
	return strings.Fields(log[i:])[1]
}

// TestDriftPlanErrorIsNotDrift: a failing init, plan or show fails the run
// and touches no issue, open or not.
func TestDriftPlanErrorIsNotDrift(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(sb *sandbox)
		want  string
	}{
		{"plan fails", func(sb *sandbox) { sb.set(t, ".tf/plan-exit", "1\n") }, "drift.sh: terraform plan of envs/prod failed (exit 1): that is an error, not drift"},
		{"init fails", func(sb *sandbox) { sb.set(t, ".tf/fail-init", "") }, "drift.sh: terraform init of envs/prod failed: that is an error, not drift"},
		{"show fails", func(sb *sandbox) { sb.set(t, ".tf/plan-exit", "2\n"); sb.set(t, ".tf/fail-show", "") }, "drift.sh: terraform show -json of the plan failed"},
		{"show is no plan", func(sb *sandbox) { sb.set(t, ".tf/plan-exit", "2\n"); sb.set(t, ".tf/show.json", "{}") }, "is not a Terraform plan in JSON"},
		{"plan changes nothing", func(sb *sandbox) {
			sb.set(t, ".tf/plan-exit", "2\n")
			sb.set(t, ".tf/show.json", `{"format_version": "1.2", "terraform_version": "1.5.7"}`)
		}, "the plan changes nothing: no drift to report"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.issue(t, "1", prodTitle, "open", "drift")
			tt.setup(sb)
			code, out := sb.run(t, "prod")
			assert.Equal(t, 1, code, out)
			assert.Contains(t, out, tt.want)
			assert.Empty(t, sb.read(t, ".gh.log"), "GitHub was not called")
			assert.Equal(t, "open\n", sb.read(t, ".gh/issues/1/state"))
			assert.Equal(t, "old body\n", sb.read(t, ".gh/issues/1/body"))
		})
	}
}

func TestDriftGitHubFailureFails(t *testing.T) {
	sb := newSandbox(t)
	sb.set(t, ".tf/plan-exit", "2\n")
	sb.set(t, ".gh/fail", "")
	code, out := sb.run(t, "prod")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "drift.sh: gh issue list failed; the drift issue of prod may be out of date")
}

func TestDriftReportOnly(t *testing.T) {
	sb := newSandbox(t)
	sb.set(t, ".tf/plan-exit", "2\n")
	code, out := sb.run(t, "global", "--report-only")
	assert.Equal(t, 3, code, out)
	assert.Contains(t, out, "`terraform plan` of **global** (`global`) found that AWS no longer matches the code.")
	assert.Empty(t, sb.read(t, ".gh.log"), "GitHub was not called")
	assert.Contains(t, sb.read(t, ".tf.log"), "-chdir=global plan -detailed-exitcode -lock=false")

	sb.set(t, ".tf/plan-exit", "0\n")
	code, out = sb.run(t, "global", "--report-only")
	assert.Equal(t, 0, code, out)
}
