//go:build awscli

package s3_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/stacktest"
)

// TestAWSCLI drives the local S3 with the AWS CLI, as a developer would with
// --endpoint-url. The CLI is not a dependency of the repository, so this
// test is built only with the awscli tag: make test-awscli.
func TestAWSCLI(t *testing.T) {
	st := start(t, t.TempDir())
	run := stacktest.AWSCLI(t, st.http.URL)
	dir := t.TempDir()
	file := filepath.Join(dir, "function.zip")
	body := []byte("zip bytes for the CLI")
	require.NoError(t, os.WriteFile(file, body, 0o600))

	run("s3api", "put-object", "--bucket", bucket, "--key", "dev/cli.zip", "--body", file, "--checksum-algorithm", "SHA256")
	assert.Contains(t, string(run("s3api", "head-object", "--bucket", bucket, "--key", "dev/cli.zip", "--checksum-mode", "ENABLED")), sum256(body))
	run("s3", "cp", "s3://"+bucket+"/dev/cli.zip", "s3://"+bucket+"/stg/cli.zip")
	assert.Contains(t, string(run("s3", "ls", "s3://"+bucket+"/stg/")), "cli.zip")
	run("s3", "cp", "s3://"+bucket+"/stg/cli.zip", filepath.Join(dir, "back.zip"))
	got, err := os.ReadFile(filepath.Join(dir, "back.zip"))
	require.NoError(t, err)
	assert.Equal(t, body, got)
}
