package smoke

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gruntwork-io/terratest/modules/files"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/repo"
)

// ephemeralBackend keeps an ephemeral env's state in its own directory: as
// an override file it replaces the env root's S3 backend, so the copy can
// never touch the real env's state.
const ephemeralBackend = `# Written by the smoke package's ephemeral env test.
terraform {
  backend "local" {}
}
`

// ephemeralRoot copies the repository (terratest copies the whole root so
// that the env's ../../terraform/service source still resolves) and turns
// envs/<env> of the copy into an independent env: the module's name (the
// function, API, roles and log groups) becomes name and the state stays
// local. It returns the copy's env directory.
func ephemeralRoot(t *testing.T, env, name string) string {
	t.Helper()
	root, err := repo.Root()
	require.NoError(t, err)
	copyRoot, err := files.CopyTerraformFolderToDest(root, t.TempDir(), "smoke-"+env)
	require.NoError(t, err)
	dir := filepath.Join(copyRoot, "envs", env)

	mainTF := filepath.Join(dir, "main.tf")
	src, err := os.ReadFile(mainTF)
	require.NoError(t, err)
	f, diags := hclwrite.ParseConfig(src, mainTF, hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
	module := f.Body().FirstMatchingBlock("module", []string{"service"})
	require.NotNil(t, module, `%s has no module "service"`, mainTF)
	module.Body().SetAttributeValue("name", cty.StringVal(name))
	require.NoError(t, os.WriteFile(mainTF, f.Bytes(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "backend_override.tf"), []byte(ephemeralBackend), 0o644))
	return dir
}

// TestEphemeralRoot checks offline what the aws-tagged test applies: the
// copy is the env under the new name (read back the way the local stack
// and the smoke suite read an env, with the module's validation rules) and
// its state is local.
func TestEphemeralRoot(t *testing.T) {
	dir := ephemeralRoot(t, "dev", "request-dump-smoke-abc123")
	cfg, err := envconfig.LoadDir(dir, "dev")
	require.NoError(t, err)
	require.Equal(t, "request-dump-smoke-abc123", cfg.Name)
	require.Equal(t, "/aws/lambda/request-dump-smoke-abc123", cfg.LogGroupName())

	orig, err := envconfig.Load("dev")
	require.NoError(t, err)
	require.Equal(t, orig.Dump, cfg.Dump, "the copy dumps what dev dumps")
	require.Equal(t, orig.Artifact, cfg.Artifact, "the copy deploys dev's artifact")

	override, err := os.ReadFile(filepath.Join(dir, "backend_override.tf"))
	require.NoError(t, err)
	require.Contains(t, string(override), `backend "local"`)

	_, err = os.Stat(filepath.Join(dir, "..", "..", "terraform", "service", "main.tf"))
	require.NoError(t, err, "the module source ../../terraform/service resolves in the copy")
}

// TestEphemeralRootRejectsBadName: a name the service module's validation
// refuses fails when the copy is read, before anything is applied.
func TestEphemeralRootRejectsBadName(t *testing.T) {
	dir := ephemeralRoot(t, "dev", "Request_Dump")
	_, err := envconfig.LoadDir(dir, "dev")
	require.ErrorContains(t, err, "The name must be 3-40 characters")
}
