//go:build awscli

package s3_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAWSCLI drives the local S3 with the AWS CLI, as a developer would with
// --endpoint-url. The CLI is not a dependency of the repository, so this
// test is built only with the awscli tag: make test-awscli.
func TestAWSCLI(t *testing.T) {
	awsCLI, err := exec.LookPath("aws")
	require.NoError(t, err, "make test-awscli needs the AWS CLI on PATH (Debian: apt-get install awscli)")
	st := start(t, t.TempDir())
	dir := t.TempDir()
	file := filepath.Join(dir, "function.zip")
	body := []byte("zip bytes for the CLI")
	require.NoError(t, os.WriteFile(file, body, 0o600))

	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsCLI, append([]string{"--endpoint-url", st.http.URL, "--region", "ap-northeast-1", "--output", "json"}, args...)...)
		cmd.Env = []string{
			"HOME=" + dir, "PATH=" + os.Getenv("PATH"),
			"AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=local-secret",
			"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "aws %s: %s", strings.Join(args, " "), out)
		return string(out)
	}
	run("s3api", "put-object", "--bucket", bucket, "--key", "dev/cli.zip", "--body", file, "--checksum-algorithm", "SHA256")
	assert.Contains(t, run("s3api", "head-object", "--bucket", bucket, "--key", "dev/cli.zip", "--checksum-mode", "ENABLED"), sum256(body))
	run("s3", "cp", "s3://"+bucket+"/dev/cli.zip", "s3://"+bucket+"/stg/cli.zip")
	assert.Contains(t, run("s3", "ls", "s3://"+bucket+"/stg/"), "cli.zip")
	run("s3", "cp", "s3://"+bucket+"/stg/cli.zip", filepath.Join(dir, "back.zip"))
	got, err := os.ReadFile(filepath.Join(dir, "back.zip"))
	require.NoError(t, err)
	assert.Equal(t, body, got)
}
