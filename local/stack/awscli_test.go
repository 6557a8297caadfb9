//go:build awscli

package stack_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
