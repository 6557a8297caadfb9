package smoke

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/repo"
)

// smokeScript runs scripts/smoke.sh with args and the extra environment,
// and returns its exit status, stdout and stderr.
func smokeScript(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	script, err := repo.Path("scripts", "smoke.sh")
	require.NoError(t, err)
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "SMOKE_TIMEOUT=", "SMOKE_OUTPUTS=")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	require.NoError(t, err)
	return 0, stdout.String(), stderr.String()
}

// TestSmokeScriptUsage: every argument error exits 2 with the usage, before
// anything is built or contacted.
func TestSmokeScriptUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{name: "no env", want: "smoke.sh: missing env"},
		{name: "unknown env", args: []string{"qa"}, want: "smoke.sh: unknown env 'qa'"},
		{name: "path as env", args: []string{"../envs/dev"}, want: "smoke.sh: unknown env '../envs/dev'"},
		{name: "flag first", args: []string{"--local", "dev"}, want: "smoke.sh: the env comes first, then options (got '--local')"},
		{name: "bad flag", args: []string{"dev", "--lcoal"}, want: "smoke.sh: unknown argument '--lcoal'"},
		{name: "extra argument", args: []string{"dev", "stg"}, want: "smoke.sh: unknown argument 'stg'"},
		{name: "timeout not a duration", args: []string{"dev", "--local"}, env: []string{"SMOKE_TIMEOUT=10"}, want: "smoke.sh: SMOKE_TIMEOUT='10' is not a positive Go duration (want e.g. 10s or 3m)"},
		{name: "zero timeout", args: []string{"dev", "--local"}, env: []string{"SMOKE_TIMEOUT=0s"}, want: "smoke.sh: SMOKE_TIMEOUT='0s' is not a positive Go duration"},
		{
			name: "local without outputs",
			args: []string{"dev", "--local"},
			env:  []string{"SMOKE_OUTPUTS=" + filepath.Join(t.TempDir(), "outputs.json")},
			want: "not found: start the local stack first with make local-up ENV=dev (scripts/local-up.sh dev)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := smokeScript(t, tc.env, tc.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tc.want)
			if !strings.Contains(tc.want, "SMOKE_TIMEOUT") && tc.name != "local without outputs" {
				assert.Contains(t, stderr, "usage: scripts/smoke.sh <env> [--local]   (env: one of dev prod stg)")
			}
		})
	}
}

func TestSmokeScriptHelp(t *testing.T) {
	code, stdout, stderr := smokeScript(t, nil, "--help")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Contains(t, stdout, "usage: scripts/smoke.sh <env> [--local]")
}

// TestSmokeScriptLocal runs scripts/smoke.sh --local, as a developer does
// after make local-up, against a stack started by the test: the exit
// status is the verdict and the report is printed.
func TestSmokeScriptLocal(t *testing.T) {
	outputs := func(t *testing.T, edit func(*envconfig.Config)) string {
		_, deployed := deploy(t, "dev", edit)
		data, err := json.Marshal(deployed.Outputs)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "outputs.json")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		return path
	}

	t.Run("passes", func(t *testing.T) {
		code, stdout, stderr := smokeScript(t, []string{"SMOKE_OUTPUTS=" + outputs(t, nil)}, "dev", "--local")
		require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Contains(t, stdout, "smoke.sh: smoke-testing dev on the local stack")
		for _, line := range []string{"PASS  1  ", "PASS  2  ", "PASS  3  ", "PASS  4  ", "PASS  5  ", "PASS  6  ", "smoke: PASS (6/6 checks passed)"} {
			assert.Contains(t, stdout, line)
		}
	})

	t.Run("fails on a broken deployment", func(t *testing.T) {
		broken := outputs(t, func(cfg *envconfig.Config) { delete(cfg.Dump.Fields, "event_id") })
		code, stdout, stderr := smokeScript(t, []string{"SMOKE_OUTPUTS=" + broken, "SMOKE_TIMEOUT=1s"}, "dev", "--local")
		require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Contains(t, stdout, "FAIL  2  its dump exactly once")
		assert.Contains(t, stdout, "does not dump event_id from body.event_id as envs/dev says")
		assert.Contains(t, stdout, "smoke: FAIL (2/6 checks passed)")
		assert.Contains(t, stdout, "visibility deadline 1s")
	})

	t.Run("refuses outputs off loopback", func(t *testing.T) {
		off, err := filepath.Abs(filepath.Join("testdata", "outputs", "off-loopback.json"))
		require.NoError(t, err)
		code, stdout, stderr := smokeScript(t, []string{"SMOKE_OUTPUTS=" + off}, "dev", "--local")
		require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Contains(t, stdout, `endpoint_url "http://10.20.30.40:4566" is not on a loopback address`)
	})
}

// TestSmokeScriptAWSWiring checks, without AWS, how scripts/smoke.sh <env>
// reaches the real env: it picks Atlantis's terraform<version> for the
// project and reads envs/<env> through it (a stand-in here, which records
// its arguments and fails, so nothing goes further); the failure is the
// verdict.
func TestSmokeScriptAWSWiring(t *testing.T) {
	bin := t.TempDir()
	record := filepath.Join(t.TempDir(), "calls")
	stub := "#!/usr/bin/env bash\necho \"$PWD $*\" >>" + record + "\necho 'Error: stand-in terraform' >&2\nexit 1\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "terraform1.5.7"), []byte(stub), 0o755))

	code, stdout, stderr := smokeScript(t, []string{
		"TERRAFORM_PATH=",
		"ATLANTIS_TERRAFORM_VERSION=1.5.7",
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
	}, "stg")
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "smoke.sh: smoke-testing stg on AWS (outputs of envs/stg via "+filepath.Join(bin, "terraform1.5.7")+")")
	assert.Contains(t, stdout, "Error: stand-in terraform")

	calls, err := os.ReadFile(record)
	require.NoError(t, err)
	root, err := repo.Root()
	require.NoError(t, err)
	assert.Regexp(t, `^`+regexp.QuoteMeta(filepath.Join(root, "envs", "stg"))+` (init|output) `, string(calls))
}
