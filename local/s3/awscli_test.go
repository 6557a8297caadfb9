//go:build awscli

package s3_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
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

// TestAWSCLIListsPrefixes runs the ListObjects cases of list_test.go through
// the AWS CLI on both stores, and `aws s3 ls` on an env with no artifact,
// which answered NoSuchBucket on disk.
func TestAWSCLIListsPrefixes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := start(t, b.dir(t))
			for _, key := range listKeys {
				require.NoError(t, put(t, st.client, key, []byte(key), nil))
			}
			run := stacktest.AWSCLI(t, st.http.URL)
			for _, tt := range listCases {
				for _, op := range []string{"list-objects-v2", "list-objects"} {
					t.Run(tt.name+" "+op, func(t *testing.T) {
						args := []string{"s3api", op, "--bucket", bucket, "--prefix", tt.prefix}
						if tt.delimiter != "" {
							args = append(args, "--delimiter", tt.delimiter)
						}
						var out struct {
							Contents       []struct{ Key string }
							CommonPrefixes []struct{ Prefix string }
						}
						data := run(args...)
						if len(bytes.TrimSpace(data)) > 0 {
							require.NoError(t, json.Unmarshal(data, &out), string(data))
						}
						var got listing
						for _, o := range out.Contents {
							got.Keys = append(got.Keys, o.Key)
						}
						for _, p := range out.CommonPrefixes {
							got.Prefixes = append(got.Prefixes, p.Prefix)
						}
						assert.Equal(t, tt.want, got)
					})
				}
			}
			assert.Contains(t, string(run("s3", "ls", "s3://"+bucket+"/dev/")), "a.zip")
			cmd := exec.Command("aws", "--endpoint-url", st.http.URL, "--region", "ap-northeast-1", "s3", "ls", "s3://"+bucket+"/prod/")
			cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true")
			out, err := cmd.CombinedOutput()
			assert.NotContains(t, string(out), "NoSuchBucket")
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				assert.Equal(t, 1, exit.ExitCode(), "the CLI's exit status for an empty listing: %s", out)
			} else {
				assert.NoError(t, err, string(out))
			}
		})
	}
}
