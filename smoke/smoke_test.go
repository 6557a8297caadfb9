//go:build smoke

package smoke

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/repo"
)

// TestSmoke smoke-tests the deployed env that scripts/smoke.sh names:
// SMOKE_ENV (an env under envs/), SMOKE_TARGET (local: the local stack's
// outputs file SMOKE_OUTPUTS; aws: `terraform output -json` of envs/<env>
// with TERRAFORM_PATH), SMOKE_TIMEOUT (optional). Run it with
// scripts/smoke.sh, not directly.
func TestSmoke(t *testing.T) {
	name := os.Getenv("SMOKE_ENV")
	require.NotEmpty(t, name, "SMOKE_ENV is not set: run scripts/smoke.sh <env> [--local]")
	env, err := envconfig.Load(name)
	require.NoError(t, err)

	var target Target
	switch mode := os.Getenv("SMOKE_TARGET"); mode {
	case "local":
		target, err = LoadOutputs(os.Getenv("SMOKE_OUTPUTS"))
		require.NoError(t, err)
		require.NoError(t, target.CheckLoopback())
		require.NoError(t, target.CheckAnswers(name))
	case "aws":
		terraform, err := repo.Tool("terraform")
		require.NoError(t, err)
		target, err = FromTerraform(t, env.Dir, terraform)
		require.NoError(t, err)
		require.False(t, target.Local(), "envs/%s's outputs name a local endpoint_url; smoke-test the local stack with scripts/smoke.sh %s --local", name, name)
	default:
		t.Fatalf("SMOKE_TARGET=%q: want local or aws; run scripts/smoke.sh <env> [--local]", mode)
	}
	timeout, err := target.Timeout(os.Getenv)
	require.NoError(t, err)
	suite, err := New(target, env, WithTimeout(timeout), WithOutput(os.Stdout))
	require.NoError(t, err)
	// The report on stdout carries every failure; the test's own output
	// only gives the verdict, so the pull request comment says it once.
	if report := suite.Run(&verdict{}); !report.Passed() {
		t.Fatalf("env %s failed its smoke test: see the report above", name)
	}
}

// verdict is the TestingT the suite reports to here: the report, not this,
// holds the failures.
type verdict struct{}

func (*verdict) Errorf(string, ...any) {}
func (*verdict) FailNow()              {}
