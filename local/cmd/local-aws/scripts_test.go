package main

import (
	"testing"

	"github.com/acme/request-dump/internal/proctest"
)

// TestScriptsRefuseBadArguments: the local stack's entry points refuse bad
// arguments and settings with exit status 2 and a message that says what
// they take, before they build or start anything.
func TestScriptsRefuseBadArguments(t *testing.T) {
	cases := []proctest.UsageError{
		{Script: "demo.sh", Args: []string{"dev", "stg"}, Want: "demo.sh: one env at a time, got 2: dev stg\nusage: scripts/demo.sh [env]"},
		{Script: "demo.sh", Args: []string{"--env"}, Want: "demo.sh: unknown flag '--env' (the env is the only argument)\nusage: scripts/demo.sh [env]"},
		{Script: "demo.sh", Args: []string{"qa"}, Want: "demo.sh: unknown env 'qa' (envs: dev prod stg)\nusage: scripts/demo.sh [env]"},
		{Script: "demo-rollout.sh", Args: []string{"qa"}, Want: "demo-rollout.sh: unknown env 'qa'"},
		{Script: "demo-rollout.sh", Args: []string{"stg", "--bogus"}, Want: "demo-rollout.sh: unknown argument '--bogus'"},
		{Script: "demo-rollout.sh", Args: []string{"--interval"}, Want: "demo-rollout.sh: --interval '' is not a positive duration (want e.g. 3s or 1m: how long each share of the traffic runs)\nusage: scripts/demo-rollout.sh [env]"},
		{Script: "demo-rollout.sh", Args: []string{"stg", "--interval", "abc"}, Want: "demo-rollout.sh: --interval 'abc' is not a positive duration"},
		{Script: "demo-rollout.sh", Args: []string{"prod", "--interval", "0s"}, Want: "demo-rollout.sh: --interval '0s' is not a positive duration"},
		{Script: "local-up.sh", Args: []string{"dev", "stg"}, Want: "local-up.sh: one env at a time, got 2: dev stg\nusage: scripts/local-up.sh [env]   (env: one of dev prod stg)"},
		{Script: "local-up.sh", Args: []string{"-d"}, Want: "local-up.sh: unknown flag '-d' (the env is the only argument)\nusage: scripts/local-up.sh [env]"},
		{Script: "local-up.sh", Args: []string{"qa"}, Want: "local-up.sh: unknown env 'qa'"},
		{Script: "local-up.sh", Env: []string{"LOCAL_AWS_ENDPOINT=127.0.0.1:4566"}, Args: []string{"dev"}, Want: "LOCAL_AWS_ENDPOINT=127.0.0.1:4566: want http://host:port"},
		{Script: "local-up.sh", Env: []string{"LOCAL_ARCH=riscv64"}, Args: []string{"dev"}, Want: "LOCAL_ARCH=riscv64: want arm64 (the artifact Lambda runs) or empty"},
		{Script: "logs.sh", Want: "usage: scripts/logs.sh <env>"},
		{Script: "logs.sh", Args: []string{"--follow"}, Want: "usage: scripts/logs.sh <env>"},
		{Script: "logs.sh", Args: []string{"qa"}, Want: "logs.sh: unknown env 'qa' (envs: dev prod stg)\nusage: scripts/logs.sh <env>"},
		{Script: "logs.sh", Args: []string{"dev", "--folow"}, Want: "logs.sh: unknown argument '--folow'\nusage: scripts/logs.sh <env>"},
		{Script: "logs.sh", Args: []string{"dev", "--follow", "--since"}, Want: "logs.sh: --since '' is not a positive duration (want e.g. 30s, 10m or 2h)\nusage: scripts/logs.sh <env>"},
		{Script: "logs.sh", Args: []string{"dev", "--since", "5"}, Want: "logs.sh: --since '5' is not a positive duration"},
		{Script: "logs.sh", Args: []string{"dev", "--since", "0s"}, Want: "logs.sh: --since '0s' is not a positive duration"},
		{Script: "logs.sh", Args: []string{"dev", "--filter"}, Want: "logs.sh: --filter needs a CloudWatch Logs filter pattern"},
	}
	for i := range cases {
		// A case's own settings come last and win.
		cases[i].Env = append([]string{"LOCAL_AWS_ENDPOINT=http://127.0.0.1:1", "LOCAL_ARCH="}, cases[i].Env...)
	}
	proctest.RequireUsageErrors(t, cases)
}
