package terraform

import (
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/envconfig"
)

// readAction is an action of IAM's Read or List access level by its name:
// Get*, List*, Describe*, Head*, and API Gateway's GET (its management API
// authorizes reads by HTTP method).
var readAction = regexp.MustCompile(`^([a-z0-9-]+:(Get|List|Describe|Head)[A-Za-z0-9*]*|apigateway:GET)$`)

// globalDrift returns the drift setting global/ gives the github-oidc
// module, after the module's type and validation.
func globalDrift(t *testing.T) cty.Value {
	t.Helper()
	given := eval(t, attr(t, load(t, "global").block(t, "module", "github_oidc"), "drift"), nil)
	vars, err := envconfig.LoadVariables(load(t, "terraform/github-oidc").dir)
	require.NoError(t, err)
	val, err := vars.Value("drift", given)
	require.NoError(t, err)
	require.False(t, val.IsNull(), "global/ creates the drift role")
	return val
}

// The drift role can change nothing: every action it is granted is a read,
// it has this one policy and no attachment, and only jobs in its GitHub
// environment may assume it.
func TestDriftRoleIsReadOnly(t *testing.T) {
	m := load(t, "terraform/github-oidc")
	drift := globalDrift(t)
	policy := m.block(t, "data", "aws_iam_policy_document", "drift")
	var granted []string
	for _, s := range nested(policy, "statement") {
		granted = append(granted, strs(t, eval(t, attr(t, s, "actions"), nil))...)
		if _, ok := s.Attributes["effect"]; ok {
			t.Errorf("a drift statement sets effect; every one is a plain Allow of reads")
		}
	}
	for _, d := range nested(policy, "dynamic") {
		granted = append(granted, strs(t, eval(t, attr(t, one(t, d, "content"), "actions"), nil))...)
	}
	require.NotEmpty(t, granted)
	for _, a := range granted {
		assert.Regexp(t, readAction, a, "the drift role may only read")
	}
	assert.Contains(t, granted, "s3:GetObject", "it reads the state")

	assert.Equal(t, []string{"aws_iam_role_policy.drift"}, rolePolicies(m, "drift"), "one policy, no managed policy attached")
	assert.Equal(t, "data.aws_iam_policy_document.drift[0].json", m.source(attr(t, m.block(t, "resource", "aws_iam_role_policy", "drift"), "policy")))

	statement := one(t, m.block(t, "data", "aws_iam_policy_document", "drift_assume"), "statement")
	assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, strs(t, eval(t, attr(t, statement, "actions"), nil)))
	scope := map[string]cty.Value{
		"local": obj(map[string]cty.Value{"github_host": eval(t, m.local(t, "github_host"), nil)}),
		"var":   obj(map[string]cty.Value{"repository": cty.StringVal("acme/request-dump"), "drift": drift}),
	}
	got := map[string][]string{}
	for _, c := range nested(statement, "condition") {
		assert.Equal(t, "StringEquals", eval(t, attr(t, c, "test"), nil).AsString(), "exact match, no wildcards")
		got[eval(t, attr(t, c, "variable"), scope).AsString()] = strs(t, eval(t, attr(t, c, "values"), scope))
	}
	assert.Equal(t, map[string][]string{
		"token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"},
		"token.actions.githubusercontent.com:sub": {"repo:acme/request-dump:environment:drift"},
	}, got)
}

// The drift role reads exactly the state object of every root the drift
// workflow plans (the key each root's backend names) and lists only those
// keys and the workspace prefix.
func TestDriftRoleReadsEveryRootsState(t *testing.T) {
	m := load(t, "terraform/github-oidc")
	drift := globalDrift(t)
	var want []string
	var keys []string
	for _, root := range append(envNames(t), "global") {
		dir := root
		if root != "global" {
			dir = "envs/" + root
		}
		b := backend(t, load(t, dir))
		want = append(want, "arn:aws:s3:::"+b["bucket"]+"/"+b["key"])
		keys = append(keys, b["key"])
	}

	scope := map[string]cty.Value{
		"data":  obj(map[string]cty.Value{"aws_partition": obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"partition": cty.StringVal("aws")})})}),
		"local": obj(map[string]cty.Value{"drift_states": drift.GetAttr("states"), "bucket_arn": cty.StringVal(bucketARN)}),
	}
	policy := m.block(t, "data", "aws_iam_policy_document", "drift")
	var states []string
	for _, s := range nested(policy, "statement") {
		if eval(t, attr(t, s, "sid"), nil).AsString() == "ReadStates" {
			states = strs(t, eval(t, attr(t, s, "resources"), scope))
		}
	}
	assert.ElementsMatch(t, want, states)

	dynamics := nested(policy, "dynamic")
	require.Len(t, dynamics, 1)
	content := one(t, dynamics[0], "content")
	bucket := cty.StringVal("acme-request-dump-tfstate")
	scope["statement"] = obj(map[string]cty.Value{"key": bucket, "value": bucket})
	assert.Equal(t, []string{"s3:ListBucket"}, strs(t, eval(t, attr(t, content, "actions"), nil)))
	assert.Equal(t, []string{"arn:aws:s3:::acme-request-dump-tfstate"}, strs(t, eval(t, attr(t, content, "resources"), scope)))
	c := one(t, content, "condition")
	assert.Equal(t, "StringEquals", eval(t, attr(t, c, "test"), nil).AsString())
	listed := strs(t, eval(t, attr(t, c, "values"), scope))
	assert.ElementsMatch(t, append(slices.Clone(keys), "env:/"), listed)
}
