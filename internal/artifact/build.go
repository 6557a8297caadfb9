package artifact

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/acme/request-dump/internal/pointer"
)

// Build is the function zip written by make build.
type Build struct {
	Path   string
	Zip    []byte
	Digest [sha256.Size]byte
}

// LoadBuild reads the zip at path and checks it against path+".sha256" (the
// base64 SHA-256 make build writes next to it) and that it holds the
// bootstrap executable, so that a stale or foreign file is never uploaded.
func LoadBuild(path string) (Build, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Build{}, fmt.Errorf("%s does not exist: run make build", path)
	}
	if err != nil {
		return Build{}, err
	}
	b := Build{Path: path, Zip: data, Digest: pointer.Sum(data)}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return Build{}, fmt.Errorf("%s is not a zip (%v): run make build", path, err)
	}
	found := false
	for _, f := range zr.File {
		found = found || f.Name == "bootstrap"
	}
	if !found {
		return Build{}, fmt.Errorf("%s has no bootstrap file, so Lambda could not start it: run make build", path)
	}
	sum, err := os.ReadFile(path + ".sha256")
	if err != nil {
		return Build{}, fmt.Errorf("%s.sha256: %w: run make build", path, err)
	}
	if got, want := strings.TrimSpace(string(sum)), base64.StdEncoding.EncodeToString(b.Digest[:]); got != want {
		return Build{}, fmt.Errorf("%s.sha256 says %s but the zip's SHA-256 is %s: the two files come from different builds; run make build", path, got, want)
	}
	return b, nil
}
