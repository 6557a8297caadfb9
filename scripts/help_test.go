// Package scripts tests what every entry point in scripts/ does alike; each
// script's own arguments and behaviour are tested beside the code it drives.
package scripts

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/proctest"
)

// TestEveryScriptAnswersHelp: -h and --help print the script's usage on
// stdout and exit 0 before anything is built, installed or started. Each
// script runs in a sandbox holding only scripts/ and the env roots' main.tf
// (which the usage lines list), and the sandbox must be left as it was.
func TestEveryScriptAnswersHelp(t *testing.T) {
	scripts, err := filepath.Glob("*.sh")
	require.NoError(t, err)
	require.NotEmpty(t, scripts)
	// Paths from the repository's root, as proctest.CopyFiles takes them.
	var files []string
	for _, pattern := range []string{"*.sh", "lib/*.sh", "../envs/*/main.tf"} {
		found, err := filepath.Glob(pattern)
		require.NoError(t, err)
		for _, f := range found {
			if rel, ok := strings.CutPrefix(f, "../"); ok {
				files = append(files, rel)
			} else {
				files = append(files, "scripts/"+f)
			}
		}
	}

	for _, script := range scripts {
		for _, flag := range []string{"-h", "--help"} {
			t.Run(script+" "+flag, func(t *testing.T) {
				dir := t.TempDir()
				proctest.CopyFiles(t, dir, files...)
				before := tree(t, dir)

				cmd := exec.Command("bash", "scripts/"+script, flag)
				cmd.Dir = dir
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				require.NoError(t, cmd.Run(), "exit status; stderr: %s", stderr.String())

				assert.True(t, strings.HasPrefix(stdout.String(), "usage: "), "stdout starts with the usage line: %q", stdout.String())
				assert.Contains(t, stdout.String(), "scripts/"+script)
				assert.Empty(t, stderr.String())
				assert.Equal(t, before, tree(t, dir), "the sandbox is left as it was")
			})
		}
	}
}

// tree lists every path under dir.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		paths = append(paths, path)
		return err
	}))
	return paths
}
