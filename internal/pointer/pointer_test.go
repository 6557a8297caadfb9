package pointer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRoundTrip(t *testing.T) {
	p := New("acme-artifacts", "dev", Sum([]byte("zip bytes")))
	require.NoError(t, p.Validate("dev"))
	assert.Regexp(t, `^dev/[0-9a-f]{64}\.zip$`, p.Key)
	assert.Len(t, p.SHA256, 44)

	path := filepath.Join(t.TempDir(), FileName)
	require.NoError(t, os.WriteFile(path, p.Marshal(), 0o644))
	got, err := Load(path, "dev")
	require.NoError(t, err)
	assert.Equal(t, p, got)
}

func TestValidateRejects(t *testing.T) {
	good := New("acme-artifacts", "stg", Sum([]byte("x")))
	digest, err := good.Digest()
	require.NoError(t, err)
	tests := []struct {
		name string
		env  string
		edit func(*Pointer)
		want string
	}{
		{"bad env", "Prod!", func(*Pointer) {}, "is not an env name"},
		{"bad bucket", "stg", func(p *Pointer) { p.Bucket = "Bad_Bucket" }, "is not an S3 bucket name"},
		{"hex digest", "stg", func(p *Pointer) { p.SHA256 = Key("x", digest)[2:66] }, "is hex"},
		{"short digest", "stg", func(p *Pointer) { p.SHA256 = "AAAA" }, "not base64 of a 32-byte SHA-256"},
		{"other env prefix", "stg", func(p *Pointer) { p.Key = Key("dev", digest) }, "outside the stg/ prefix"},
		{"key not content address", "stg", func(p *Pointer) { p.Key = "stg/latest.zip" }, "does not match sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.edit(&p)
			err := p.Validate(tt.env)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseRejects(t *testing.T) {
	for name, data := range map[string]string{
		"not json":      `bucket=x`,
		"no artifact":   `{"other": {}}`,
		"unknown field": `{"artifact": {"bucket": "b", "key": "k", "sha256": "s", "extra": 1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(data))
			assert.Error(t, err)
		})
	}
}

// TestParseIsStrict: encoding/json matches keys ignoring case and keeps the
// last of two, Terraform matches them exactly and drops what its type does
// not name, so a pointer with "KEY" beside "key" named one zip to the Go
// tools and another to Terraform. Every such file is refused, naming the
// key and the fix.
func TestParseIsStrict(t *testing.T) {
	p := New("acme-artifacts", "dev", Sum([]byte("zip")))
	other := New("acme-artifacts", "dev", Sum([]byte("other zip")))
	art := func(extra string) string {
		return `{"artifact": {"bucket": "` + p.Bucket + `", "key": "` + p.Key + `", "sha256": "` + p.SHA256 + `"` + extra + `}}`
	}
	tests := []struct {
		name, data string
		want       []string
	}{
		{"upper-case twin of key", art(`, "KEY": "` + other.Key + `"`), []string{`"KEY"`, `"key"`, "scripts/set-pointer.sh"}},
		{"upper-case twin of sha256", art(`, "SHA256": "` + other.SHA256 + `"`), []string{`"SHA256"`, `"sha256"`}},
		{"duplicate key", art(`, "key": "` + other.Key + `"`), []string{`"key" appears twice`}},
		{"unknown key", art(`, "region": "us-east-1"`), []string{`unknown key "region"`, "bucket, key, sha256"}},
		{"twin of artifact", `{"artifact": {"bucket": "b", "key": "k", "sha256": "s"}, "Artifact": {"bucket": "b", "key": "k", "sha256": "s"}}`, []string{`"Artifact"`, `"artifact"`}},
		{"case variant alone", `{"Artifact": {"bucket": "b", "key": "k", "sha256": "s"}}`, []string{`"Artifact"`, `"artifact"`}},
		{"case variant of a field alone", `{"artifact": {"Bucket": "b", "key": "k", "sha256": "s"}}`, []string{`"Bucket"`, `"bucket"`}},
		{"duplicate artifact", `{"artifact": {"bucket": "b", "key": "k", "sha256": "s"}, "artifact": {"bucket": "b", "key": "k", "sha256": "s"}}`, []string{`"artifact" appears twice`}},
		{"missing sha256", `{"artifact": {"bucket": "b", "key": "k"}}`, []string{`no "sha256"`}},
		{"not a string", `{"artifact": {"bucket": "b", "key": "k", "sha256": 7}}`, []string{`"sha256"`, "string"}},
		{"two documents", art(``) + art(``), []string{"after the pointer's object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	got, err := Parse([]byte(art("")))
	require.NoError(t, err)
	assert.Equal(t, p, got)
	got, err = Parse(p.Marshal())
	require.NoError(t, err)
	assert.Equal(t, p, got)
}
