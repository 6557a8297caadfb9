package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBadArgumentsAreUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--env is required"},
		{[]string{"prod"}, `unexpected argument "prod": the env is given with --env`},
		{[]string{"--env", "qa"}, `unknown env "qa": envs/ has dev, prod, stg`},
		{[]string{"--env", "prod", "--abort", "--force"}, "--status, --abort and --force are exclusive"},
		{[]string{"--env", "prod", "--interval", "-5s"}, "must be positive durations"},
		{[]string{"--env", "prod", "--interval", "five"}, `invalid value "five" for flag -interval`},
		{[]string{"--env", "prod", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--env", "prod", "--outputs", ".local/outputs.json"}, "--outputs is the local stack's outputs file: add --local"},
		{[]string{"--env", "prod", "--status", "--poll", "1s"}, "--poll paces a rollout; --status and --abort run none: drop it"},
		{[]string{"--env", "prod", "--abort", "--stale", "1m"}, "--stale paces a rollout; --status and --abort run none: drop it"},
		{[]string{"--env", "prod", "--status", "--interval", "1s", "--stale", "1m"}, "--interval paces a rollout"},
		{[]string{"--env", "prod", "--force", "--interval", "1s"}, "--interval is how long each share runs; --force has no shares"},
	} {
		var out, errs bytes.Buffer
		_, err := run(context.Background(), tc.args, &out, &errs, func(string) string { return "" })
		require.Error(t, err, "%v", tc.args)
		assert.True(t, errors.Is(err, errUsage), "%v: %v", tc.args, err)
		assert.Contains(t, err.Error()+errs.String(), tc.want)
	}
}

// TestLocalRolloutNeedsTheLocalStack: --local without the outputs, or with
// outputs whose stack has stopped (killed: make local-down would have
// removed them), says to start the stack before any AWS call.
func TestLocalRolloutNeedsTheLocalStack(t *testing.T) {
	stopped := httptest.NewServer(http.NotFoundHandler())
	stopped.Close()
	stale := filepath.Join(t.TempDir(), "outputs.json")
	require.NoError(t, os.WriteFile(stale, []byte(`{
  "api_url":         {"sensitive": false, "type": "string", "value": "`+stopped.URL+`/restapis/dqjpui00wg/stg/_user_request_"},
  "function_name":   {"sensitive": false, "type": "string", "value": "request-dump-stg"},
  "log_group_name":  {"sensitive": false, "type": "string", "value": "/aws/lambda/request-dump-stg"},
  "region":          {"sensitive": false, "type": "string", "value": "ap-northeast-1"},
  "endpoint_url":    {"sensitive": false, "type": "string", "value": "`+stopped.URL+`"}
}`), 0o644))

	for _, tc := range []struct {
		name    string
		outputs string
		want    []string
	}{
		{name: "no outputs", outputs: filepath.Join(t.TempDir(), "none.json"), want: []string{"no such file", "start the local stack with make local-up ENV=stg"}},
		{name: "stack stopped", outputs: stale, want: []string{"no local stack answers at " + stopped.URL, "start it again with make local-up ENV=stg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{{}, {"--status"}} {
				var out, errs bytes.Buffer
				_, err := run(context.Background(), append([]string{"--env", "stg", "--local", "--outputs", tc.outputs}, args...), &out, &errs, func(string) string { return "" })
				require.Error(t, err, "%v", args)
				for _, want := range tc.want {
					assert.Contains(t, err.Error(), want, "%v", args)
				}
			}
		})
	}
}

func TestCommitStatusOnlyUnderAtlantisWithAToken(t *testing.T) {
	var log bytes.Buffer
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	assert.Nil(t, commitStatus(getenv, "prod", &log), "not run by Atlantis")
	env["HEAD_COMMIT"], env["BASE_REPO_OWNER"], env["BASE_REPO_NAME"] = "abc", "acme", "request-dump"
	assert.Nil(t, commitStatus(getenv, "prod", &log))
	assert.Contains(t, log.String(), "no GITHUB_TOKEN in the environment: commit status rollout/prod is not posted")
	env["GITHUB_TOKEN"] = "t"
	assert.NotNil(t, commitStatus(getenv, "prod", &log))
}
