package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/proctest"
	"github.com/acme/request-dump/internal/repo"
)

// TestScriptsRefuseBadArguments: the local stack's entry points refuse bad
// arguments and settings with exit status 2 and a message that says what
// they take, before they build or start anything.
func TestScriptsRefuseBadArguments(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	for _, tc := range []struct {
		script string
		env    []string
		args   []string
		want   string
	}{
		{"demo.sh", nil, []string{"dev", "stg"}, "usage: scripts/demo.sh [env]"},
		{"demo.sh", nil, []string{"--env"}, "usage: scripts/demo.sh [env]"},
		{"demo.sh", nil, []string{"qa"}, "demo.sh: unknown env 'qa' (envs: dev prod stg)"},
		{"local-up.sh", nil, []string{"dev", "stg"}, "usage: scripts/local-up.sh [env]   (env: one of dev prod stg)"},
		{"local-up.sh", nil, []string{"-d"}, "usage: scripts/local-up.sh [env]"},
		{"local-up.sh", nil, []string{"qa"}, "local-up.sh: unknown env 'qa'"},
		{"local-up.sh", []string{"LOCAL_AWS_ENDPOINT=127.0.0.1:4566"}, []string{"dev"}, "LOCAL_AWS_ENDPOINT=127.0.0.1:4566: want http://host:port"},
		{"local-up.sh", []string{"LOCAL_ARCH=riscv64"}, []string{"dev"}, "LOCAL_ARCH=riscv64: want arm64 (the artifact Lambda runs) or empty"},
		{"logs.sh", nil, nil, "usage: scripts/logs.sh <env>"},
		{"logs.sh", nil, []string{"--follow"}, "usage: scripts/logs.sh <env>"},
		{"logs.sh", nil, []string{"qa"}, "logs.sh: unknown env 'qa' (envs: dev prod stg)"},
	} {
		t.Run(tc.script+" "+filepath.Join(tc.args...), func(t *testing.T) {
			env := append(os.Environ(), "LOCAL_AWS_ENDPOINT=http://127.0.0.1:1", "LOCAL_ARCH=")
			code, out := proctest.Run(t, root, append(env, tc.env...), filepath.Join(root, "scripts", tc.script), tc.args...)
			assert.Equal(t, 2, code, out)
			assert.Contains(t, out, tc.want)
		})
	}
}
