//go:build awscli

package stack_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/local/stacktest"
)

// TestAWSCLI reads the function's logs with the AWS CLI, as a developer
// would with --endpoint-url. The CLI is not a dependency of the repository,
// so this test is built only with the awscli tag: make test-awscli.
func TestAWSCLI(t *testing.T) {
	env := stacktest.Start(t)
	status, body := post(t, env.Outputs["api_url"].String()+"/events", `{"event_id":"cli-1","type":"t"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	aws := stacktest.AWSCLI(t, env.URL)

	var found struct {
		Events []struct{ Message string } `json:"events"`
	}
	require.NoError(t, json.Unmarshal(aws("logs", "filter-log-events", "--log-group-name", "/aws/lambda/request-dump-dev",
		"--filter-pattern", `{ $.fields.event_id = "cli-1" }`), &found))
	require.Len(t, found.Events, 1)
	assert.Contains(t, found.Events[0].Message, `"event_id":"cli-1"`)

	var groups struct {
		LogGroups []struct {
			LogGroupName    string `json:"logGroupName"`
			RetentionInDays int    `json:"retentionInDays"`
		} `json:"logGroups"`
	}
	require.NoError(t, json.Unmarshal(aws("logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/"), &groups))
	require.Len(t, groups.LogGroups, 1)
	assert.Equal(t, 14, groups.LogGroups[0].RetentionInDays, "the env's log_retention_days")

	keys := string(aws("s3api", "list-objects-v2", "--bucket", env.Config.Artifact.Bucket, "--prefix", "dev/"))
	assert.Contains(t, keys, env.Config.Artifact.Key)
}

// TestAWSCLIAccess runs the README's commands for calling stg and an iam
// env: the key read with ssm get-parameter --with-decryption, the caller
// role assumed with sts assume-role.
func TestAWSCLIAccess(t *testing.T) {
	env := stacktest.Start(t, stacktest.WithEnv("stg"))
	aws := stacktest.AWSCLI(t, env.URL)
	var param struct{ Parameter struct{ Value, Type string } }
	require.NoError(t, json.Unmarshal(aws("ssm", "get-parameter", "--with-decryption", "--name", "/request-dump-stg/api-keys/smoke"), &param))
	assert.Equal(t, "SecureString", param.Parameter.Type)
	req, err := http.NewRequest(http.MethodPost, env.Outputs["api_url"].String()+"/events", strings.NewReader(`{"event_id":"cli-key","type":"t"}`))
	require.NoError(t, err)
	req.Header.Set("x-api-key", param.Parameter.Value)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	iam := stacktest.Start(t, stacktest.WithEnv("stg"), stacktest.WithConfig(func(cfg *envconfig.Config) { cfg.Access.Mode = "iam" }))
	var assumed struct {
		Credentials     struct{ AccessKeyId, SessionToken string }
		AssumedRoleUser struct{ Arn string }
	}
	require.NoError(t, json.Unmarshal(stacktest.AWSCLI(t, iam.URL)("sts", "assume-role", "--role-arn", iam.Outputs["caller_role_arn"].String(), "--role-session-name", "me"), &assumed))
	assert.Equal(t, "arn:aws:sts::000000000000:assumed-role/request-dump-stg-caller/me", assumed.AssumedRoleUser.Arn)
	assert.Regexp(t, `^ASIA`, assumed.Credentials.AccessKeyId)
}
