// Package atomicfile replaces a file in one rename, so that a reader, or
// the next start after the writing process crashed, sees either the old
// content or the new, never part of it. Nothing is synced to disk: after a
// power loss or a kernel crash the file may be empty. Its users (pointer
// files kept in git, the local stack's objects and state) do not pay an
// fsync per write for that.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces the file at path with data and mode perm. The data is
// staged in a temporary file in tmpDir, which must be on the same file
// system as path ("" means path's own directory), and renamed over path.
func Write(path string, data []byte, perm os.FileMode, tmpDir string) error {
	if tmpDir == "" {
		tmpDir = filepath.Dir(path)
	}
	tmp, err := os.CreateTemp(tmpDir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
