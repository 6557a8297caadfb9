//go:build aws

package smoke

import (
	"os"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/repo"
)

// TestEphemeralEnv applies a copy of envs/dev under a unique name
// (request-dump-smoke-<id>) with local state to the AWS account of the
// environment's credentials, smoke-tests it, and destroys it. It needs an
// account where the global root is applied and dev's artifact is in the
// artifact bucket; see smoke/README.md. Run:
//
//	go test -tags aws -run TestEphemeralEnv -timeout 30m -v ./smoke/
func TestEphemeralEnv(t *testing.T) {
	name := "request-dump-smoke-" + strings.ToLower(random.UniqueId())
	dir := ephemeralRoot(t, "dev", name)
	env, err := envconfig.LoadDir(dir, "dev")
	require.NoError(t, err)
	tf, err := repo.Tool("terraform")
	require.NoError(t, err)

	opts := &terraform.Options{TerraformDir: dir, TerraformBinary: tf, NoColor: true}
	defer terraform.Destroy(t, opts)
	terraform.InitAndApply(t, opts)

	target, err := FromTerraform(t, dir, tf)
	require.NoError(t, err)
	require.Equal(t, name, target.FunctionName)
	timeout, err := target.Timeout(os.Getenv)
	require.NoError(t, err)
	suite, err := New(target, env, WithTimeout(timeout), WithOutput(os.Stdout))
	require.NoError(t, err)
	report := suite.Run(t)
	require.True(t, report.Passed(), "the ephemeral env %s failed its smoke test", name)
}
