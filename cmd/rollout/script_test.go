package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/proctest"
	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/local/stack"
	"github.com/acme/request-dump/local/stacktest"
)

// rolloutScript runs scripts/rollout.sh as a developer or Atlantis does.
func rolloutScript(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	root, err := repo.Root()
	require.NoError(t, err)
	return proctest.Run(t, root, append(os.Environ(), env...), filepath.Join(root, "scripts", "rollout.sh"), args...)
}

func TestScriptRefusesBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "rollout.sh: missing env"},
		{[]string{"--local"}, "the env comes first, then options (got '--local')"},
		{[]string{"qa"}, "rollout.sh: unknown env 'qa'"},
		{[]string{"../envs/dev"}, "rollout.sh: unknown env '../envs/dev'"},
		{[]string{"dev", "--interval"}, "--interval needs a duration"},
		{[]string{"dev", "--interval", "0s"}, "--interval '0s' is not a positive duration"},
		{[]string{"dev", "--now"}, "rollout.sh: unknown argument '--now'"},
		{[]string{"dev", "--local"}, "not found: start the local stack first with make local-up ENV=dev"},
	} {
		code, out := rolloutScript(t, []string{"ROLLOUT_OUTPUTS=" + filepath.Join(t.TempDir(), "none.json")}, tc.args...)
		assert.Equal(t, 2, code, "%v: %s", tc.args, out)
		assert.Contains(t, out, tc.want)
	}
}

// The script end to end on the local stack: dev rolls out all at once after
// the candidate's smoke test, and a second run finds nothing to do.
func TestScriptRollsOutOnTheLocalStack(t *testing.T) {
	e := stacktest.Start(t)
	e.Apply(t, nil, func(s *stack.Spec) { s.Environment["DUMP_MAX_VALUE_BYTES"] = "4096" })
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	data, err := json.Marshal(e.Outputs)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(outputs, data, 0o644))
	env := []string{"ROLLOUT_OUTPUTS=" + outputs, "GOWORK=" + filepath.Join(t.TempDir(), "go.work")}

	code, out := rolloutScript(t, env, "dev", "--local")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "rollout dev: all at once after the smoke test: version 2 over version 1")
	assert.Contains(t, out, "VERDICT (dev): PROMOTED")

	code, out = rolloutScript(t, env, "dev", "--local")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "VERDICT (dev): NOTHING TO ROLL OUT")

	code, out = rolloutScript(t, env, "dev", "--local", "--status")
	require.Equal(t, 0, code, out)
	assert.Regexp(t, `live +version 2: live: version 2 since`, out)
	assert.Contains(t, out, "request-dump-dev/missing-dumps")
}
