package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZip(t *testing.T) {
	bootstrap := bytes.Repeat([]byte("\x7fELF bootstrap "), 1000)
	first, err := Zip(bootstrap)
	require.NoError(t, err)
	second, err := Zip(bootstrap)
	require.NoError(t, err)
	assert.Equal(t, first, second, "same input, same bytes")

	r, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	require.NoError(t, err)
	require.Len(t, r.File, 1)
	f := r.File[0]
	assert.Equal(t, "bootstrap", f.Name)
	assert.Equal(t, fs.FileMode(0o755), f.Mode())
	assert.Equal(t, time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), f.Modified.UTC())
	assert.Empty(t, f.Extra)
	rc, err := f.Open()
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, bootstrap, got)
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bootstrap")
	require.NoError(t, os.WriteFile(in, []byte("binary"), 0o700))
	tests := []struct {
		name      string
		args      []string
		wantErr   string
		wantUsage bool // exit status 2, as for every script's usage errors
	}{
		{"writes the zip and its hash", []string{"-o", filepath.Join(dir, "function.zip"), in}, "", false},
		{"no output", []string{in}, "usage: zipbootstrap -o <function.zip> <bootstrap>", true},
		{"no input", []string{"-o", filepath.Join(dir, "x.zip")}, "usage:", true},
		{"two inputs", []string{"-o", filepath.Join(dir, "x.zip"), in, in}, "usage:", true},
		{"missing input", []string{"-o", filepath.Join(dir, "x.zip"), filepath.Join(dir, "nope")}, "no such file", false},
		{"unknown flag", []string{"-x"}, "flag provided but not defined: -x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tt.args, &out)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Equal(t, tt.wantUsage, errors.Is(err, errUsage))
				return
			}
			require.NoError(t, err)
			z, err := os.ReadFile(filepath.Join(dir, "function.zip"))
			require.NoError(t, err)
			sum := sha256.Sum256(z)
			b64 := base64.StdEncoding.EncodeToString(sum[:])
			hash, err := os.ReadFile(filepath.Join(dir, "function.zip.sha256"))
			require.NoError(t, err)
			assert.Equal(t, b64+"\n", string(hash))
			assert.True(t, strings.HasSuffix(strings.TrimSpace(out.String()), "(base64 "+b64+")"), out.String())
		})
	}
}
