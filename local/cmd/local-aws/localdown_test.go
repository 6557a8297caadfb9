package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/repo"
)

// TestLocalDown: scripts/local-down.sh stops the process its pid file names
// only if that process is local-aws; a stale pid file (the stack died, the
// pid was reused) must not kill whatever now has that pid. Either way the
// outputs, which name the stopped stack's endpoint, go.
func TestLocalDown(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	tests := []struct {
		name    string
		program string // what the pid file's process runs
		stopped bool
		printed string
	}{
		{"the local stack", "local-aws", true, "local-down.sh: stopped"},
		{"another program with a stale pid", "sleep", false, "the local stack is not running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := scriptTree(t)
			// A stand-in process under the program's name.
			exe := filepath.Join(t.TempDir(), tt.program)
			data, err := os.ReadFile(sleep)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(exe, data, 0o755))
			proc := exec.Command(exe, "60")
			require.NoError(t, proc.Start())
			exited := make(chan struct{})
			go func() { _ = proc.Wait(); close(exited) }()
			t.Cleanup(func() { _ = proc.Process.Kill(); <-exited })
			pidfile := filepath.Join(root, ".local", "local-aws.pid")
			require.NoError(t, os.WriteFile(pidfile, []byte(strconv.Itoa(proc.Process.Pid)+"\n"), 0o644))
			outputs := filepath.Join(root, ".local", "outputs.json")
			require.NoError(t, os.WriteFile(outputs, []byte(`{"endpoint_url":{"value":"http://127.0.0.1:4566"}}`), 0o644))

			out, err := exec.Command(filepath.Join(root, "scripts", "local-down.sh")).CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), tt.printed)
			assert.NoFileExists(t, pidfile)
			assert.NoFileExists(t, outputs, "the outputs of a stopped stack are removed")
			select {
			case <-exited:
				assert.True(t, tt.stopped, "local-down.sh stopped a process that is not the local stack")
			default:
				assert.False(t, tt.stopped, "local-down.sh left the local stack running")
			}
		})
	}
}

// scriptTree copies scripts/local-down.sh and the file it sources into a
// scratch tree with an empty .local: the script works on the .local of the
// directory above its own.
func scriptTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "scripts", "lib"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, ".local"), 0o755))
	for _, name := range []string{"local-down.sh", "lib/local-aws-pid.sh"} {
		script, err := repo.Path("scripts", name)
		require.NoError(t, err)
		data, err := os.ReadFile(script)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(root, "scripts", name), data, 0o755))
	}
	return root
}
