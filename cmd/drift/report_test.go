package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadPlan(t *testing.T, name string) *tfjson.Plan {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var p tfjson.Plan
	require.NoError(t, json.Unmarshal(data, &p))
	return &p
}

func TestDriftedSplitsOutsideChangesFromTheApply(t *testing.T) {
	outside, apply := Report{Plan: loadPlan(t, "prod-drift.json")}.Drifted()
	assert.Equal(t, []change{
		{"module.service.aws_lambda_function.this", "update", []string{"last_modified", "memory_size", "timeout"}},
		{"module.service.aws_cloudwatch_log_group.access", "delete", nil},
	}, outside)
	assert.Equal(t, []change{
		{"module.service.aws_cloudwatch_log_group.access", "create", nil},
		{"module.service.aws_lambda_function.this", "update", []string{"memory_size", "timeout"}},
	}, apply, "no-ops and data sources are left out; attributes known only after the apply are not listed")
}

func TestActions(t *testing.T) {
	for want, actions := range map[string]tfjson.Actions{
		"replace": {tfjson.ActionDelete, tfjson.ActionCreate},
		"create":  {tfjson.ActionCreate},
		"delete":  {tfjson.ActionDelete},
		"update":  {tfjson.ActionUpdate},
	} {
		assert.Equal(t, want, action(actions))
	}
	assert.Equal(t, "replace", action(tfjson.Actions{tfjson.ActionCreate, tfjson.ActionDelete}), "create_before_destroy")
}

func TestMarkdownNeedsSomethingToReport(t *testing.T) {
	noop := &tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{{
		Address: "aws_s3_bucket.b", Mode: tfjson.ManagedResourceMode,
		Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionNoop}},
	}}}
	_, err := Report{Root: "prod", Plan: noop}.Markdown()
	assert.EqualError(t, err, "the plan changes nothing: no drift to report")

	noop.OutputChanges = map[string]*tfjson.Change{"api_url": {Actions: tfjson.Actions{tfjson.ActionUpdate}}}
	body, err := Report{Root: "prod", Dir: "envs/prod", Plan: noop}.Markdown()
	require.NoError(t, err)
	assert.Contains(t, body, "Outputs that would change: `api_url`.")
	assert.NotContains(t, body, "- run:", "no run, no line")
}

func TestRunExitsOnBadArguments(t *testing.T) {
	var out bytes.Buffer
	assert.ErrorIs(t, run(nil, &out), errUsage)
	assert.ErrorIs(t, run([]string{"testdata/prod-drift.json"}, &out), errUsage, "no -root")
	assert.ErrorIs(t, run([]string{"-root", "prod", "-frobnicate", "x"}, &out), errUsage)
	err := run([]string{"-root", "prod", "testdata/missing.json"}, &out)
	assert.Error(t, err)
	assert.NotErrorIs(t, err, errUsage)

	require.NoError(t, run([]string{"-root", "prod", "-dir", "envs/prod", "testdata/prod-drift.json"}, &out))
	assert.Contains(t, out.String(), "`terraform plan` of **prod** (`envs/prod`)")
}
