// Package pointer reads, checks and writes an environment's artifact
// pointer: the envs/<env>/artifact.auto.tfvars.json file that names the
// function zip Terraform deploys (bucket, content-addressed key under the
// env's prefix, and the base64 SHA-256 that source_code_hash takes).
package pointer

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// FileName is the pointer's file name inside envs/<env>.
const FileName = "artifact.auto.tfvars.json"

// Pointer names one artifact object.
type Pointer struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	SHA256 string `json:"sha256"`
}

type file struct {
	Artifact *Pointer `json:"artifact"`
}

var (
	envName    = regexp.MustCompile(`^[a-z][a-z0-9]{1,15}$`)
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	hexDigest  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// New returns the pointer for a zip whose raw SHA-256 is digest, stored in
// bucket under env's prefix at its content address.
func New(bucket, env string, digest [sha256.Size]byte) Pointer {
	return Pointer{
		Bucket: bucket,
		Key:    Key(env, digest),
		SHA256: base64.StdEncoding.EncodeToString(digest[:]),
	}
}

// Key returns the content-addressed key of a zip in env's prefix:
// <env>/<sha256 hex>.zip.
func Key(env string, digest [sha256.Size]byte) string {
	return env + "/" + hex.EncodeToString(digest[:]) + ".zip"
}

// Sum returns the raw SHA-256 of data, the digest New takes.
func Sum(data []byte) [sha256.Size]byte { return sha256.Sum256(data) }

// Load reads and checks the pointer file at path for env.
func Load(path, env string) (Pointer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Pointer{}, fmt.Errorf("artifact pointer: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return Pointer{}, fmt.Errorf("artifact pointer %s: %w", path, err)
	}
	if err := p.Validate(env); err != nil {
		return Pointer{}, fmt.Errorf("artifact pointer %s: %w", path, err)
	}
	return p, nil
}

// Parse decodes a pointer file's content; it does not check the values.
func Parse(data []byte) (Pointer, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return Pointer{}, fmt.Errorf(`not a pointer file (want {"artifact": {"bucket", "key", "sha256"}}): %w`, err)
	}
	if f.Artifact == nil {
		return Pointer{}, fmt.Errorf(`no "artifact" object (want {"artifact": {"bucket", "key", "sha256"}})`)
	}
	return *f.Artifact, nil
}

// Validate checks that the pointer is well formed for env: a valid bucket
// name, a key at the content address under env's own prefix, and a base64
// SHA-256 that agrees with the key. Each error says how to fix it.
func (p Pointer) Validate(env string) error {
	if err := ValidateEnv(env); err != nil {
		return err
	}
	if !bucketName.MatchString(p.Bucket) {
		return fmt.Errorf("bucket %q is not an S3 bucket name (3-63 of a-z, 0-9, '.', '-')", p.Bucket)
	}
	digest, err := p.Digest()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(p.Key, env+"/") {
		return fmt.Errorf("key %q is outside the %s/ prefix: an env deploys only objects under its own prefix; promote the artifact with scripts/promote.sh", p.Key, env)
	}
	if want := Key(env, digest); p.Key != want {
		return fmt.Errorf("key %q does not match sha256 %s: the content address is %q", p.Key, p.SHA256, want)
	}
	return nil
}

// Digest decodes the pointer's base64 SHA-256.
func (p Pointer) Digest() ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	if hexDigest.MatchString(p.SHA256) {
		return d, fmt.Errorf("sha256 %q is hex; the pointer takes base64 of the raw digest (what source_code_hash takes), e.g. from dist/function.zip.sha256", p.SHA256)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(p.SHA256)
	if err != nil || len(raw) != sha256.Size {
		return d, fmt.Errorf("sha256 %q is not base64 of a 32-byte SHA-256 (44 characters ending in '='), e.g. from dist/function.zip.sha256", p.SHA256)
	}
	copy(d[:], raw)
	return d, nil
}

// ValidateEnv checks the shape of an env name (dev, stg, prod, …).
func ValidateEnv(env string) error {
	if !envName.MatchString(env) {
		return fmt.Errorf("env %q is not an env name (2-16 of a-z and 0-9, starting with a letter, e.g. dev, stg, prod)", env)
	}
	return nil
}

// Marshal returns the canonical file content for the pointer, as committed.
func (p Pointer) Marshal() []byte {
	out, err := json.MarshalIndent(file{Artifact: &p}, "", "  ")
	if err != nil {
		panic(err) // three strings always marshal
	}
	return append(out, '\n')
}
