package proctest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunReturnsTheScriptsExitStatusAndOutput(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sh")
	require.NoError(t, os.WriteFile(script, []byte("echo \"out $1\"; echo \"err $PWD\" >&2; exit \"$2\"\n"), 0o644))
	for _, tc := range []struct {
		status string
		want   int
	}{{"0", 0}, {"3", 3}} {
		code, out := Run(t, dir, []string{"PATH=" + os.Getenv("PATH")}, script, "a", tc.status)
		assert.Equal(t, tc.want, code)
		assert.Equal(t, "out a\nerr "+dir+"\n", out, "stdout and stderr, run in dir")
	}
}

func TestCopyFilesKeepsContentAndMode(t *testing.T) {
	dir := t.TempDir()
	CopyFiles(t, dir, "go.mod", "scripts/build.sh")
	for _, rel := range []string{"go.mod", "scripts/build.sh"} {
		src, err := os.Stat(filepath.Join("..", "..", rel))
		require.NoError(t, err)
		dst, err := os.Stat(filepath.Join(dir, rel))
		require.NoError(t, err)
		assert.Equal(t, src.Mode().Perm(), dst.Mode().Perm(), rel)
		assert.Equal(t, src.Size(), dst.Size(), rel)
	}
}

func TestOutputTakesConcurrentWrites(t *testing.T) {
	var out Output
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, _ = out.Write([]byte("x"))
				_ = out.String()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, out.String(), 800)
}
