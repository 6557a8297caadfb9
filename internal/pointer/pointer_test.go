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
