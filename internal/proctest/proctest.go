// Package proctest runs the repository's scripts from Go tests as a
// developer or CI runs them, builds sandboxes of repository files for them,
// and collects a running process's output for a test to read while it runs.
package proctest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/repo"
)

// Run runs `bash script args...` in dir with env (nil: this process's
// environment) and returns its exit status and combined output. A script
// that cannot be started at all fails the test: only its own exit status
// is a result.
func Run(t testing.TB, dir string, env []string, script string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	require.NoError(t, err, "%s", out)
	return 0, string(out)
}

// CopyFiles copies the repository files rels (paths from the repository's
// root) to the same paths under dir, with their permissions.
func CopyFiles(t testing.TB, dir string, rels ...string) {
	t.Helper()
	root, err := repo.Root()
	require.NoError(t, err)
	for _, rel := range rels {
		src := filepath.Join(root, rel)
		data, err := os.ReadFile(src)
		require.NoError(t, err)
		st, err := os.Stat(src)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, rel), data, st.Mode().Perm()))
	}
}

// Output is a buffer a running process (or goroutine) writes and a test
// reads at the same time: a bytes.Buffer behind a mutex.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// UsageError is a run of one of the repository's scripts that must be
// refused as a usage error: exit status 2, with Want in its output.
type UsageError struct {
	Script string   // under scripts/
	Env    []string // added to this process's environment
	Args   []string
	Want   string
}

// RequireUsageErrors runs each case at the repository's root, one subtest
// each, and checks that the script refused it as a usage error.
func RequireUsageErrors(t *testing.T, cases []UsageError) {
	t.Helper()
	root, err := repo.Root()
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.Script+" "+strings.Join(append(tc.Env, tc.Args...), " "), func(t *testing.T) {
			code, out := Run(t, root, append(os.Environ(), tc.Env...), filepath.Join(root, "scripts", tc.Script), tc.Args...)
			require.Equal(t, 2, code, out)
			require.Contains(t, out, tc.Want)
		})
	}
}
