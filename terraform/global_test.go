package terraform

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/envconfig"
)

const bucketARN = "arn:aws:s3:::acme-request-dump-artifacts"

func TestArtifactBucketProtections(t *testing.T) {
	m := load(t, "terraform/artifacts")
	for _, typ := range []string{
		"aws_s3_bucket_ownership_controls", "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning",
		"aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_policy", "aws_s3_bucket_lifecycle_configuration",
	} {
		t.Run(typ, func(t *testing.T) {
			assert.Equal(t, []string{"aws_s3_bucket.this.id"}, refs(attr(t, m.block(t, "resource", typ, "this"), "bucket")))
		})
	}

	ownership := one(t, m.block(t, "resource", "aws_s3_bucket_ownership_controls", "this"), "rule")
	assert.Equal(t, "BucketOwnerEnforced", eval(t, attr(t, ownership, "object_ownership"), nil).AsString())

	public := m.block(t, "resource", "aws_s3_bucket_public_access_block", "this")
	for _, name := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
		assert.True(t, eval(t, attr(t, public, name), nil).True(), name)
	}

	versioning := one(t, m.block(t, "resource", "aws_s3_bucket_versioning", "this"), "versioning_configuration")
	assert.Equal(t, "Enabled", eval(t, attr(t, versioning, "status"), nil).AsString())

	sse := one(t, one(t, m.block(t, "resource", "aws_s3_bucket_server_side_encryption_configuration", "this"), "rule"), "apply_server_side_encryption_by_default")
	for key, want := range map[string]string{"": "AES256", "arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab": "aws:kms"} {
		kms := cty.NullVal(cty.String)
		if key != "" {
			kms = cty.StringVal(key)
		}
		got := eval(t, attr(t, sse, "sse_algorithm"), map[string]cty.Value{"var": obj(map[string]cty.Value{"kms_key_arn": kms})})
		assert.Equal(t, want, got.AsString())
	}

	policy := m.block(t, "data", "aws_iam_policy_document", "this")
	scope := map[string]cty.Value{
		"aws_s3_bucket": obj(map[string]cty.Value{"this": obj(map[string]cty.Value{"arn": cty.StringVal(bucketARN)})}),
		"var":           obj(map[string]cty.Value{"environments": literal(t, `["dev", "stg", "prod"]`)}),
	}
	statements := map[string]*hclsyntax.Body{}
	for _, s := range nested(policy, "statement") {
		statements[eval(t, attr(t, s, "sid"), nil).AsString()] = s
	}
	tls := statements["DenyInsecureTransport"]
	require.NotNil(t, tls, "the bucket policy denies plain HTTP")
	assert.Equal(t, "Deny", eval(t, attr(t, tls, "effect"), nil).AsString())
	assert.Equal(t, []string{bucketARN, bucketARN + "/*"}, strs(t, eval(t, attr(t, tls, "resources"), scope)))
	cond := one(t, tls, "condition")
	assert.Equal(t, "aws:SecureTransport", eval(t, attr(t, cond, "variable"), nil).AsString())
	assert.Equal(t, []string{"false"}, strs(t, eval(t, attr(t, cond, "values"), nil)))

	prefixes := statements["DenyWritesOutsideEnvPrefixes"]
	require.NotNil(t, prefixes)
	assert.Equal(t, []string{bucketARN + "/dev/*", bucketARN + "/stg/*", bucketARN + "/prod/*"}, strs(t, eval(t, attr(t, prefixes, "not_resources"), scope)))

	lifecycle := m.block(t, "resource", "aws_s3_bucket_lifecycle_configuration", "this")
	rule := one(t, lifecycle, "rule")
	assert.Equal(t, []string{"var.retention.noncurrent_days"}, refs(attr(t, one(t, rule, "noncurrent_version_expiration"), "noncurrent_days")))
	assert.Equal(t, []string{"var.retention.incomplete_upload_days"}, refs(attr(t, one(t, rule, "abort_incomplete_multipart_upload"), "days_after_initiation")))
	dynamic := one(t, lifecycle, "dynamic")
	assert.Equal(t, []string{"var.retention.current_days"}, refs(attr(t, dynamic, "for_each")))
}

// globalEnvironments is the environments map the global root passes to the
// GitHub OIDC module, as the module's variable receives it.
func globalEnvironments(t *testing.T) map[string]cty.Value {
	t.Helper()
	g := load(t, "global")
	given := eval(t, attr(t, g.block(t, "module", "github_oidc"), "environments"), nil)
	vars, err := envconfig.LoadVariables(load(t, "terraform/github-oidc").dir)
	require.NoError(t, err)
	val, err := vars.Value("environments", given)
	require.NoError(t, err)
	return val.AsValueMap()
}

func TestDeployRolesTrustOnlyTheirGitHubEnvironment(t *testing.T) {
	m := load(t, "terraform/github-oidc")
	statement := one(t, m.block(t, "data", "aws_iam_policy_document", "assume"), "statement")
	assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, strs(t, eval(t, attr(t, statement, "actions"), nil)))
	assert.Equal(t, []string{"local.oidc_provider_arn"}, refs(attr(t, one(t, statement, "principals"), "identifiers")))

	for env := range globalEnvironments(t) {
		t.Run(env, func(t *testing.T) {
			scope := map[string]cty.Value{
				"local": obj(map[string]cty.Value{"github_host": eval(t, m.local(t, "github_host"), nil)}),
				"var":   obj(map[string]cty.Value{"repository": cty.StringVal("acme/request-dump")}),
				"each":  obj(map[string]cty.Value{"key": cty.StringVal(env)}),
			}
			got := map[string][]string{}
			for _, c := range nested(statement, "condition") {
				assert.Equal(t, "StringEquals", eval(t, attr(t, c, "test"), nil).AsString(), "exact match, no wildcards")
				got[eval(t, attr(t, c, "variable"), scope).AsString()] = strs(t, eval(t, attr(t, c, "values"), scope))
			}
			assert.Equal(t, map[string][]string{
				"token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"},
				"token.actions.githubusercontent.com:sub": {"repo:acme/request-dump:environment:" + env},
			}, got)
		})
	}
}

func TestDeployRolesWriteOnlyTheirOwnPrefix(t *testing.T) {
	m := load(t, "terraform/github-oidc")
	policy := m.block(t, "data", "aws_iam_policy_document", "this")
	envs := globalEnvironments(t)
	require.Equal(t, []string{"dev"}, strs(t, envs["stg"].GetAttr("read_prefixes")), "promotion into stg copies from dev/")
	require.Equal(t, []string{"stg"}, strs(t, envs["prod"].GetAttr("read_prefixes")), "promotion into prod copies from stg/")

	// Every action the policy grants, its dynamic statements' included: the
	// calls cmd/artifact (upload, promote, verify) and the smoke suite make.
	var granted []string
	for _, s := range nested(policy, "statement") {
		granted = append(granted, strs(t, eval(t, attr(t, s, "actions"), nil))...)
	}
	for _, d := range nested(policy, "dynamic") {
		granted = append(granted, strs(t, eval(t, attr(t, one(t, d, "content"), "actions"), nil))...)
	}
	slices.Sort(granted)
	assert.Equal(t, []string{"logs:FilterLogEvents", "s3:GetObject", "s3:ListBucket", "s3:PutObject", "ssm:GetParameter"}, granted)

	for env, cfg := range envs {
		t.Run(env, func(t *testing.T) {
			readList := cfg.GetAttr("read_prefixes")
			reads := readList.AsValueSlice()
			scope := map[string]cty.Value{
				"local": obj(map[string]cty.Value{"bucket_arn": cty.StringVal(bucketARN)}),
				"each": obj(map[string]cty.Value{
					"key":   cty.StringVal(env),
					"value": obj(map[string]cty.Value{"read_prefixes": readList}),
				}),
			}
			writes := map[string][]string{}
			reading := map[string][]string{}
			for _, s := range nested(policy, "statement") {
				actions := strs(t, eval(t, attr(t, s, "actions"), nil))
				resources := strs(t, eval(t, attr(t, s, "resources"), scope))
				for _, a := range actions {
					switch a {
					case "s3:PutObject":
						writes[a] = append(writes[a], resources...)
					case "s3:GetObject":
						reading[a] = append(reading[a], resources...)
					default:
						assert.NotContains(t, []string{"s3:*", "s3:DeleteObject", "s3:PutBucketPolicy"}, a)
					}
				}
			}
			assert.Equal(t, map[string][]string{"s3:PutObject": {bucketARN + "/" + env + "/*"}}, writes)
			want := []string{bucketARN + "/" + env + "/*"}
			for _, from := range reads {
				want = append(want, bucketARN+"/"+from.AsString()+"/*")
			}
			assert.Equal(t, want, reading["s3:GetObject"])
		})
	}
}

func TestAPIGatewayAccountCanWriteAccessLogs(t *testing.T) {
	g := load(t, "global")
	account := g.block(t, "resource", "aws_api_gateway_account", "this")
	assert.Equal(t, []string{"aws_iam_role.api_gateway_cloudwatch.arn"}, refs(attr(t, account, "cloudwatch_role_arn")))
	// Provider 6 resets the account settings on destroy, which would turn
	// off every env's access logs.
	assert.True(t, eval(t, attr(t, one(t, account, "lifecycle"), "prevent_destroy"), nil).True(), "the account settings cannot be destroyed by a plan")
	attach := g.block(t, "resource", "aws_iam_role_policy_attachment", "api_gateway_cloudwatch")
	assert.Equal(t, "arn:aws-cn:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs", eval(t, attr(t, attach, "policy_arn"), partitionScope("aws-cn")).AsString(),
		"the managed policy's ARN follows the partition")
	assert.Equal(t, []string{"module.artifacts.bucket"}, refs(attr(t, g.block(t, "module", "github_oidc"), "artifact_bucket")))
}

// Each env's policies go on that env's role and no other; the roles have
// no policies besides these.
func TestDeployRolePoliciesAttachToTheirOwnRole(t *testing.T) {
	m := load(t, "terraform/github-oidc")
	assert.Equal(t, []string{"aws_iam_role_policy.state", "aws_iam_role_policy.this"}, rolePolicies(m, "this"))
	this := m.block(t, "resource", "aws_iam_role_policy", "this")
	assert.Equal(t, "var.environments", m.source(attr(t, this, "for_each")))
	assert.Equal(t, "aws_iam_role.this[each.key].id", m.source(attr(t, this, "role")))
	assert.Equal(t, "data.aws_iam_policy_document.this[each.key].json", m.source(attr(t, this, "policy")))
	state := m.block(t, "resource", "aws_iam_role_policy", "state")
	assert.Equal(t, "data.aws_iam_policy_document.state", m.source(attr(t, state, "for_each")))
	assert.Equal(t, "aws_iam_role.this[each.key].id", m.source(attr(t, state, "role")))
	assert.Equal(t, "each.value.json", m.source(attr(t, state, "policy")))
	role := m.block(t, "resource", "aws_iam_role", "this")
	assert.Equal(t, "data.aws_iam_policy_document.assume[each.key].json", m.source(attr(t, role, "assume_role_policy")))
}

// The smoke tests of an env search only that env's function log group.
func TestDeployRolesReadOnlyTheirOwnLogGroup(t *testing.T) {
	m := load(t, "terraform/github-oidc")
	content := deployRoleDynamic(t, m, "ReadSmokeTestLogs")
	for env, cfg := range globalEnvironments(t) {
		t.Run(env, func(t *testing.T) {
			groups := cfg.GetAttr("log_group_names")
			require.Equal(t, []string{"/aws/lambda/request-dump-" + env}, strs(t, groups), "global/ names the env's own function log group")
			scope := map[string]cty.Value{
				"data": obj(map[string]cty.Value{
					"aws_partition":       obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"partition": cty.StringVal("aws")})}),
					"aws_caller_identity": obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"account_id": cty.StringVal("123456789012")})}),
					"aws_region":          obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"region": cty.StringVal("ap-northeast-1")})}),
				}),
				"each": obj(map[string]cty.Value{"key": cty.StringVal(env), "value": obj(map[string]cty.Value{"log_group_names": groups})}),
			}
			group := "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/request-dump-" + env
			assert.Equal(t, []string{group, group + ":*"}, strs(t, eval(t, attr(t, content, "resources"), scope)),
				"the group in the provider's region, and with the :* IAM suffix its streams; no other group, no other region")
		})
	}
}

// deployRoleDynamic returns the content of the deploy role policy's
// dynamic statement sid.
func deployRoleDynamic(t *testing.T, m *config, sid string) *hclsyntax.Body {
	t.Helper()
	var found []*hclsyntax.Body
	for _, d := range nested(m.block(t, "data", "aws_iam_policy_document", "this"), "dynamic") {
		content := one(t, d, "content")
		if eval(t, attr(t, content, "sid"), nil).AsString() == sid {
			found = append(found, content)
		}
	}
	require.Len(t, found, 1, "one dynamic statement %s", sid)
	return found[0]
}

// The smoke tests of stg and prod, whose access mode is api_key, read that
// env's smoke key and no other parameter; dev, open, reads none.
func TestDeployRolesReadOnlyTheirOwnSmokeKey(t *testing.T) {
	m := load(t, "terraform/github-oidc")
	content := deployRoleDynamic(t, m, "ReadSmokeTestKey")
	assert.Equal(t, []string{"ssm:GetParameter"}, strs(t, eval(t, attr(t, content, "actions"), nil)))
	for env, cfg := range globalEnvironments(t) {
		t.Run(env, func(t *testing.T) {
			params := cfg.GetAttr("smoke_key_parameters")
			if env == "dev" {
				assert.Empty(t, strs(t, params), "dev is open: no key to read")
				return
			}
			require.Equal(t, []string{"/request-dump-" + env + "/api-keys/smoke"}, strs(t, params))
			scope := map[string]cty.Value{
				"data": obj(map[string]cty.Value{
					"aws_partition":       obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"partition": cty.StringVal("aws")})}),
					"aws_caller_identity": obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"account_id": cty.StringVal("123456789012")})}),
					"aws_region":          obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"region": cty.StringVal("ap-northeast-1")})}),
				}),
				"each": obj(map[string]cty.Value{"key": cty.StringVal(env), "value": obj(map[string]cty.Value{"smoke_key_parameters": params})}),
			}
			assert.Equal(t, []string{"arn:aws:ssm:ap-northeast-1:123456789012:parameter/request-dump-" + env + "/api-keys/smoke"}, strs(t, eval(t, attr(t, content, "resources"), scope)))
		})
	}
}

// The manual smoke workflow runs `terraform output` with the env's deploy
// role, so each role reads exactly its own env's state object: the one the
// env root's backend names.
func TestDeployRolesReadOnlyTheirOwnState(t *testing.T) {
	m := load(t, "terraform/github-oidc")
	policy := m.block(t, "data", "aws_iam_policy_document", "state")
	for env, cfg := range globalEnvironments(t) {
		t.Run(env, func(t *testing.T) {
			state := cfg.GetAttr("state")
			require.False(t, state.IsNull(), "global/ gives the %s role its state", env)
			b := backend(t, load(t, "envs/"+env))
			assert.Equal(t, b["bucket"], state.GetAttr("bucket").AsString())
			assert.Equal(t, b["key"], state.GetAttr("key").AsString())

			scope := map[string]cty.Value{
				"data": obj(map[string]cty.Value{"aws_partition": obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"partition": cty.StringVal("aws")})})}),
				"each": obj(map[string]cty.Value{"key": cty.StringVal(env), "value": state}),
			}
			got := map[string][]string{}
			var listPrefixes []string
			for _, s := range nested(policy, "statement") {
				actions := strs(t, eval(t, attr(t, s, "actions"), nil))
				for _, a := range actions {
					got[a] = append(got[a], strs(t, eval(t, attr(t, s, "resources"), scope))...)
				}
				if slices.Contains(actions, "s3:ListBucket") {
					for _, c := range nested(s, "condition") {
						assert.Equal(t, "StringEquals", eval(t, attr(t, c, "test"), nil).AsString())
						assert.Equal(t, "s3:prefix", eval(t, attr(t, c, "variable"), nil).AsString())
						listPrefixes = append(listPrefixes, strs(t, eval(t, attr(t, c, "values"), scope))...)
					}
				}
			}
			assert.Equal(t, map[string][]string{
				"s3:GetObject":  {"arn:aws:s3:::" + b["bucket"] + "/" + b["key"]},
				"s3:ListBucket": {"arn:aws:s3:::" + b["bucket"]},
			}, got, "read-only, one object")
			assert.Equal(t, []string{b["key"], "env:/"}, listPrefixes,
				"list only the state key and the backend's workspace prefix, which terraform output lists")
		})
	}
}

// partitionScope is the data.aws_partition.current of a partition.
func partitionScope(partition string) map[string]cty.Value {
	return map[string]cty.Value{"data": obj(map[string]cty.Value{
		"aws_partition": obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"partition": cty.StringVal(partition)})}),
	})}
}

// No ARN in the Terraform is written for the aws partition only: each one
// takes the partition from data.aws_partition (or an ARN's own), so that
// the modules and roots work in aws-cn and aws-us-gov too. Validation
// patterns and messages may name arn:aws, as they match any partition.
func TestNoHardCodedPartition(t *testing.T) {
	literalARN := regexp.MustCompile(`(^|[^\\])"arn:aws:`)
	for _, rel := range append(append([]string{}, modules...), roots...) {
		c := load(t, rel)
		for path, src := range c.srcs {
			for i, line := range strings.Split(string(src), "\n") {
				assert.False(t, literalARN.MatchString(line), "%s:%d: an ARN literal for the aws partition only: use data.aws_partition.current.partition\n%s", path, i+1, line)
			}
		}
	}
}
