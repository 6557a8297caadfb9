package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, Write(path, []byte("new"), 0o600, ""))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new", string(data))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, left, 1, "no temporary file is left")

	staging := filepath.Join(dir, "staging")
	require.NoError(t, os.Mkdir(staging, 0o700))
	require.NoError(t, Write(path, []byte("staged"), 0o644, staging))
	data, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "staged", string(data))

	err = Write(filepath.Join(dir, "missing", "f"), []byte("x"), 0o644, "")
	assert.ErrorContains(t, err, "missing")
}
