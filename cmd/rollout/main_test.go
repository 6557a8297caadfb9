package main

import (
	"bytes"
	"context"
	"errors"
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

func TestLocalRolloutNeedsTheLocalStacksOutputs(t *testing.T) {
	var out, errs bytes.Buffer
	_, err := run(context.Background(), []string{"--env", "stg", "--local", "--outputs", t.TempDir() + "/none.json"}, &out, &errs, func(string) string { return "" })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no such file")
	assert.Contains(t, err.Error(), "start the local stack with make local-up ENV=stg")
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
