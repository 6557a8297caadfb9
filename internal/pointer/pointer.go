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
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
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

// file is the pointer file's layout, for Marshal; Parse reads it by hand.
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
//
// It reads the JSON by hand, strictly: encoding/json matches keys ignoring
// case and keeps the last of two, while Terraform matches them exactly and
// drops attributes its type does not name, so a file with "KEY" beside
// "key" would name one zip to the Go tools and another to Terraform. Every
// key must be one of the pointer's, spelt exactly, once.
func Parse(data []byte) (Pointer, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var p Pointer
	err := readObject(dec, "the file", []string{"artifact"}, func(string) error {
		return readObject(dec, `"artifact"`, []string{"bucket", "key", "sha256"}, func(key string) error {
			v, err := readString(dec, key)
			switch key {
			case "bucket":
				p.Bucket = v
			case "key":
				p.Key = v
			case "sha256":
				p.SHA256 = v
			}
			return err
		})
	})
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("there is more after the pointer's object")
		}
	}
	if err != nil {
		return Pointer{}, fmt.Errorf("not a pointer file (want exactly %s): %w; %s", shape, err, fix)
	}
	return p, nil
}

// shape is the pointer file's layout, for errors.
const shape = `{"artifact": {"bucket": "…", "key": "…", "sha256": "…"}}`

// fix says how to get a good pointer file, for errors.
const fix = "write it with scripts/set-pointer.sh, scripts/upload.sh --write-pointer or scripts/promote.sh instead of editing it"

// readObject reads one JSON object whose keys are exactly the names in
// keys, each once, calling value for each key to read its value.
func readObject(dec *json.Decoder, what string, keys []string, value func(key string) error) error {
	if tok, err := dec.Token(); err != nil {
		return err
	} else if tok != json.Delim('{') {
		return fmt.Errorf("%s is not an object", what)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string) // a decoder yields only strings as object keys
		if !slices.Contains(keys, key) {
			for _, k := range keys {
				if strings.EqualFold(k, key) {
					return fmt.Errorf("key %q in %s is not %q: keys are case-sensitive, and Terraform reads only %q", key, what, k, k)
				}
			}
			return fmt.Errorf("unknown key %q in %s (it takes %s)", key, what, strings.Join(keys, ", "))
		}
		if seen[key] {
			return fmt.Errorf("%q appears twice in %s", key, what)
		}
		seen[key] = true
		if err := value(key); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return err
	}
	for _, k := range keys {
		if !seen[k] {
			return fmt.Errorf("no %q in %s", k, what)
		}
	}
	return nil
}

func readString(dec *json.Decoder, key string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%q must be a string, not %v", key, tok)
	}
	return s, nil
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
