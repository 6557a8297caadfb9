package terraform

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/pointer"
)

var devPointer = pointer.New("acme-request-dump-artifacts", "dev", pointer.Sum([]byte("zip")))

func artifactVal(p pointer.Pointer) cty.Value {
	return obj(map[string]cty.Value{
		"bucket": cty.StringVal(p.Bucket),
		"key":    cty.StringVal(p.Key),
		"sha256": cty.StringVal(p.SHA256),
	})
}

func TestFunctionCodeComesFromTheArtifactPointer(t *testing.T) {
	m := load(t, "terraform/service")
	fn := m.block(t, "resource", "aws_lambda_function", "this")

	assert.Equal(t, []string{"data.aws_s3_object.artifact.bucket"}, refs(attr(t, fn, "s3_bucket")))
	assert.Equal(t, []string{"data.aws_s3_object.artifact.key"}, refs(attr(t, fn, "s3_key")))
	assert.Equal(t, "var.artifact.sha256", m.source(attr(t, fn, "source_code_hash")), "source_code_hash is the pointer's base64 SHA-256")
	assert.Equal(t, "var.artifact.sha256", m.source(attr(t, fn, "code_sha256")), "code_sha256, compared with what Lambda runs, is the pointer's base64 SHA-256")
	assert.Equal(t, []string{"data.aws_s3_object.artifact.version_id"}, refs(attr(t, fn, "s3_object_version")),
		"Lambda takes the object version the plan checked, not whatever is at the key at apply time")
	assert.Equal(t, "provided.al2023", eval(t, attr(t, fn, "runtime"), nil).AsString())
	assert.Equal(t, "bootstrap", eval(t, attr(t, fn, "handler"), nil).AsString())
	arch := eval(t, attr(t, fn, "architectures"), map[string]cty.Value{"var": obj(map[string]cty.Value{
		"function": obj(map[string]cty.Value{"architecture": cty.StringVal("arm64")}),
	})})
	assert.Equal(t, []string{"arm64"}, strs(t, arch))

	logging := one(t, fn, "logging_config")
	assert.Equal(t, "JSON", eval(t, attr(t, logging, "log_format"), nil).AsString())
	assert.Equal(t, []string{"aws_cloudwatch_log_group.this.name"}, refs(attr(t, logging, "log_group")))
	assert.Equal(t, []string{"var.function.log_level"}, refs(attr(t, logging, "application_log_level")))

	// The log group exists, with its retention, before the function can log.
	assert.Contains(t, refs(attr(t, fn, "depends_on")), "aws_cloudwatch_log_group.this")
	assert.Equal(t, []string{"aws_iam_role.function.arn"}, refs(attr(t, fn, "role")))
}

// rolePolicies returns the inline policies and attachments of the module's
// role label, as "<resource type>.<name>".
func rolePolicies(m *config, label string) []string {
	var out []string
	for _, typ := range []string{"aws_iam_role_policy", "aws_iam_role_policy_attachment"} {
		for _, b := range m.blocks("resource", typ) {
			if a, ok := b.Body.Attributes["role"]; ok {
				for _, ref := range refs(a.Expr) {
					if ref == "aws_iam_role."+label || strings.HasPrefix(ref, "aws_iam_role."+label+".") {
						out = append(out, typ+"."+b.Labels[1])
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Lambda checks the execution role when the function is created or
// reconfigured: with tracing Active it rejects a role that cannot write to
// X-Ray yet, and logs written before the log policy exists are lost. So
// every policy of the role is in place before the function.
func TestFunctionWaitsForEveryPolicyOfItsRole(t *testing.T) {
	m := load(t, "terraform/service")
	policies := rolePolicies(m, "function")
	assert.Equal(t, []string{"aws_iam_role_policy.function_logs", "aws_iam_role_policy_attachment.function_xray"}, policies,
		"the execution role has the log policy and, with tracing, X-Ray's; nothing else")
	fn := m.block(t, "resource", "aws_lambda_function", "this")
	dependsOn := refs(attr(t, fn, "depends_on"))
	for _, p := range policies {
		assert.Contains(t, dependsOn, p, "the function depends on %s", p)
	}

	xray := m.block(t, "resource", "aws_iam_role_policy_attachment", "function_xray")
	for on, want := range map[bool]struct {
		count int64
		mode  string
	}{true: {1, "Active"}, false: {0, "PassThrough"}} {
		scope := map[string]cty.Value{"var": obj(map[string]cty.Value{"api": obj(map[string]cty.Value{"xray_tracing": cty.BoolVal(on)})})}
		count, _ := eval(t, attr(t, xray, "count"), scope).AsBigFloat().Int64()
		assert.Equal(t, want.count, count, "X-Ray policy with xray_tracing = %v", on)
		assert.Equal(t, want.mode, eval(t, attr(t, one(t, fn, "tracing_config"), "mode"), scope).AsString())
	}
	policyARN := eval(t, attr(t, xray, "policy_arn"), map[string]cty.Value{"data": obj(map[string]cty.Value{
		"aws_partition": obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"partition": cty.StringVal("aws")})}),
	})})
	assert.Equal(t, "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess", policyARN.AsString(), "write-only X-Ray access")
}

// postcondition returns the postcondition of body's lifecycle whose
// condition reads self.<attribute>.
func postcondition(t *testing.T, body *hclsyntax.Body, attribute string) *hclsyntax.Body {
	t.Helper()
	var found []*hclsyntax.Body
	for _, p := range nested(one(t, body, "lifecycle"), "postcondition") {
		if slices.Contains(refs(attr(t, p, "condition")), "self."+attribute) {
			found = append(found, p)
		}
	}
	require.Len(t, found, 1, "one postcondition on self.%s", attribute)
	return found[0]
}

func TestPlanFailsOnAMissingOrChangedArtifact(t *testing.T) {
	m := load(t, "terraform/service")
	object := m.block(t, "data", "aws_s3_object", "artifact")
	assert.Equal(t, "ENABLED", eval(t, attr(t, object, "checksum_mode"), nil).AsString(), "S3 returns ChecksumSHA256 only with checksum mode on")
	assert.Contains(t, refs(attr(t, object, "depends_on")), "data.aws_s3_objects.artifact")
	checksum := postcondition(t, object, "checksum_sha256")
	version := postcondition(t, object, "version_id")

	listing := m.block(t, "data", "aws_s3_objects", "artifact")
	assert.Equal(t, []string{"var.artifact.key"}, refs(attr(t, listing, "prefix")))
	exists := one(t, one(t, listing, "lifecycle"), "postcondition")
	prefix := one(t, one(t, listing, "lifecycle"), "precondition")

	scope := func(env string, self cty.Value) map[string]cty.Value {
		return map[string]cty.Value{
			"var":  obj(map[string]cty.Value{"artifact": artifactVal(devPointer), "environment": cty.StringVal(env)}),
			"self": self,
		}
	}
	other := pointer.New("acme-request-dump-artifacts", "dev", pointer.Sum([]byte("other zip")))
	tests := []struct {
		name  string
		check string
		env   string
		self  cty.Value
		ok    bool
		msg   []string
	}{
		{"object with the pointer's checksum", "checksum", "dev", obj(map[string]cty.Value{"checksum_sha256": cty.StringVal(devPointer.SHA256)}), true, nil},
		{"object replaced", "checksum", "dev", obj(map[string]cty.Value{"checksum_sha256": cty.StringVal(other.SHA256)}), false,
			[]string{other.SHA256, devPointer.SHA256, "replaced or the pointer names another build", "scripts/upload.sh dev", "envs/dev/artifact.auto.tfvars.json"}},
		{"object uploaded without a checksum", "checksum", "dev", obj(map[string]cty.Value{"checksum_sha256": cty.StringVal("")}), false,
			[]string{`has SHA-256 "none"`, "without --checksum-algorithm SHA256"}},
		{"object with a null checksum", "checksum", "dev", obj(map[string]cty.Value{"checksum_sha256": cty.NullVal(cty.String)}), false,
			[]string{`has SHA-256 "none"`, "without --checksum-algorithm SHA256"}},
		{"object uploaded in parts", "checksum", "dev", obj(map[string]cty.Value{"checksum_sha256": cty.StringVal(devPointer.SHA256[:43] + "=-2")}), false,
			[]string{"uploaded in parts (multipart)"}},
		{"object listed", "exists", "dev", obj(map[string]cty.Value{"keys": cty.ListVal([]cty.Value{cty.StringVal(devPointer.Key)})}), true, nil},
		{"object missing", "exists", "dev", obj(map[string]cty.Value{"keys": cty.ListValEmpty(cty.String)}), false,
			[]string{"s3://acme-request-dump-artifacts/" + devPointer.Key + " does not exist", "envs/dev/artifact.auto.tfvars.json"}},
		{"only a longer key with the same prefix", "exists", "dev", obj(map[string]cty.Value{"keys": cty.ListVal([]cty.Value{cty.StringVal(devPointer.Key + ".bak")})}), false, nil},
		{"object version", "version", "dev", obj(map[string]cty.Value{"version_id": cty.StringVal("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")}), true, nil},
		{"no version: bucket never versioned", "version", "dev", obj(map[string]cty.Value{"version_id": cty.StringVal("")}), false,
			[]string{"s3://acme-request-dump-artifacts/" + devPointer.Key + " has no object version", "must have versioning enabled"}},
		{"no version: null", "version", "dev", obj(map[string]cty.Value{"version_id": cty.NullVal(cty.String)}), false, []string{"has no object version"}},
		{"no version: versioning suspended", "version", "dev", obj(map[string]cty.Value{"version_id": cty.StringVal("null")}), false, []string{"has no object version"}},
		{"key under the env's prefix", "prefix", "dev", cty.NilVal, true, nil},
		{"key under another env's prefix", "prefix", "stg", cty.NilVal, false, []string{"outside the stg/ prefix", "Promote the artifact into stg/"}},
	}
	rules := map[string]*hclsyntax.Body{"checksum": checksum, "version": version, "exists": exists, "prefix": prefix}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule := rules[tt.check]
			s := scope(tt.env, tt.self)
			if tt.self == cty.NilVal {
				delete(s, "self")
			}
			got := eval(t, attr(t, rule, "condition"), s)
			assert.Equal(t, tt.ok, got.True())
			if !tt.ok {
				msg := eval(t, attr(t, rule, "error_message"), s).AsString()
				for _, want := range tt.msg {
					assert.Contains(t, msg, want)
				}
			}
		})
	}
}

// invokeARN evaluates the module's integration uri for the function fnARN.
func invokeARN(t *testing.T, m *config, fnARN string) string {
	t.Helper()
	parts := strings.Split(fnARN, ":")
	return eval(t, m.local(t, "invoke_arn"), map[string]cty.Value{
		"data": obj(map[string]cty.Value{"aws_arn": obj(map[string]cty.Value{"function": obj(map[string]cty.Value{
			"partition": cty.StringVal(parts[1]),
			"region":    cty.StringVal(parts[3]),
		})})}),
		"aws_lambda_function": obj(map[string]cty.Value{"this": obj(map[string]cty.Value{"arn": cty.StringVal(fnARN)})}),
		"local":               obj(map[string]cty.Value{"alias_variable": eval(t, m.local(t, "alias_variable"), nil)}),
	}).AsString()
}

func TestRESTAPIBodyIsTheTemplateApispecRenders(t *testing.T) {
	m := load(t, "terraform/service")
	cfg, err := envconfig.Load("dev")
	require.NoError(t, err)
	vars := cfg.APIVars("ap-northeast-1", "123456789012")
	vars.TimeoutMillis = 25000
	assert.Equal(t, vars.InvokeARN, invokeARN(t, m, cfg.FunctionARN("ap-northeast-1", "123456789012")), "the local stack's integration uri is Terraform's")
	scope := map[string]cty.Value{
		"path": obj(map[string]cty.Value{"module": cty.StringVal(m.dir)}),
		"var": obj(map[string]cty.Value{
			"name":   cty.StringVal(vars.Title),
			"api":    obj(map[string]cty.Value{"integration_timeout_ms": cty.NumberIntVal(int64(vars.TimeoutMillis))}),
			"access": obj(map[string]cty.Value{"mode": cty.StringVal(vars.AccessMode)}),
		}),
		"local":        obj(map[string]cty.Value{"invoke_arn": cty.StringVal(vars.InvokeARN)}),
		"aws_iam_role": obj(map[string]cty.Value{"api_gateway": obj(map[string]cty.Value{"arn": cty.StringVal(vars.CredentialsARN)})}),
	}
	rendered := eval(t, m.local(t, "openapi"), scope)
	want, err := apispec.Render(vars)
	require.NoError(t, err)
	assert.Equal(t, string(want), rendered.AsString(), "Terraform's templatefile() and apispec.Render must agree")

	api := m.block(t, "resource", "aws_api_gateway_rest_api", "this")
	assert.Equal(t, "jsonencode(yamldecode(local.openapi))", m.source(attr(t, api, "body")))
	var info struct {
		Info struct{ Description string } `yaml:"info"`
	}
	require.NoError(t, yaml.Unmarshal(want, &info))
	require.NotEmpty(t, info.Info.Description)
	assert.Equal(t, info.Info.Description, eval(t, attr(t, api, "description"), nil).AsString(),
		"the REST API's description is the OpenAPI document's, which it would otherwise overwrite")
	assert.True(t, eval(t, attr(t, api, "fail_on_warnings"), nil).True())
	body := eval(t, attr(t, api, "body"), map[string]cty.Value{"local": obj(map[string]cty.Value{"openapi": rendered})}).AsString()
	fromBody, err := apispec.Parse([]byte(body))
	require.NoError(t, err, "the body Terraform sends must be a valid OpenAPI document")
	fromTemplate, err := apispec.Parse(want)
	require.NoError(t, err)
	a, _ := json.Marshal(fromBody)
	b, _ := json.Marshal(fromTemplate)
	assert.JSONEq(t, string(b), string(a))
}

// A function that outlives API Gateway's wait would keep running after the
// caller got 504, so the plan refuses a timeout longer than the integration's.
func TestFunctionTimeoutFitsTheIntegrationTimeout(t *testing.T) {
	m := load(t, "terraform/service")
	rule := one(t, one(t, m.block(t, "resource", "aws_api_gateway_rest_api", "this"), "lifecycle"), "precondition")
	for _, tt := range []struct {
		timeout, integrationMillis int64
		ok                         bool
	}{
		{10, 29000, true},
		{29, 29000, true},
		{5, 5000, true},
		{6, 5000, false},
		{29, 28999, false},
	} {
		scope := map[string]cty.Value{"var": obj(map[string]cty.Value{
			"function": obj(map[string]cty.Value{"timeout": cty.NumberIntVal(tt.timeout)}),
			"api":      obj(map[string]cty.Value{"integration_timeout_ms": cty.NumberIntVal(tt.integrationMillis)}),
		})}
		assert.Equal(t, tt.ok, eval(t, attr(t, rule, "condition"), scope).True(), "timeout %d s, integration %d ms", tt.timeout, tt.integrationMillis)
		if !tt.ok {
			msg := eval(t, attr(t, rule, "error_message"), scope).AsString()
			assert.Contains(t, msg, fmt.Sprintf("function.timeout (%d s) is longer than api.integration_timeout_ms (%d ms)", tt.timeout, tt.integrationMillis))
			assert.Contains(t, msg, "Lower the function timeout or raise the integration timeout")
		}
	}
}

func TestOpenAPIChangesReachTheStage(t *testing.T) {
	m := load(t, "terraform/service")
	deployment := m.block(t, "resource", "aws_api_gateway_deployment", "this")
	triggers := func(body string) cty.Value {
		return eval(t, attr(t, deployment, "triggers"), map[string]cty.Value{"aws_api_gateway_rest_api": obj(map[string]cty.Value{
			"this": obj(map[string]cty.Value{"body": cty.StringVal(body)}),
		})})
	}
	assert.True(t, triggers(`{"openapi":"3.0.1"}`).RawEquals(triggers(`{"openapi":"3.0.1"}`)), "the same body keeps the deployment")
	assert.False(t, triggers(`{"openapi":"3.0.1"}`).RawEquals(triggers(`{"openapi":"3.0.1","paths":{}}`)), "a body change must make a new deployment")
	assert.True(t, eval(t, attr(t, one(t, deployment, "lifecycle"), "create_before_destroy"), nil).True())
	assert.Contains(t, refs(attr(t, deployment, "depends_on")), "aws_iam_role_policy.api_gateway_invoke",
		"no deployment reaches the stage before the role it invokes the function with may do so")
	assert.NotContains(t, deployment.Attributes, "stage_name", "the stage is its own resource")

	stage := m.block(t, "resource", "aws_api_gateway_stage", "this")
	assert.Equal(t, []string{"aws_api_gateway_deployment.this.id"}, refs(attr(t, stage, "deployment_id")))
	assert.Equal(t, []string{"var.api.stage_name"}, refs(attr(t, stage, "stage_name")))
	assert.Equal(t, []string{"var.api.xray_tracing"}, refs(attr(t, stage, "xray_tracing_enabled")))
	logs := one(t, stage, "access_log_settings")
	assert.Equal(t, []string{"aws_cloudwatch_log_group.access.arn"}, refs(attr(t, logs, "destination_arn")))
	format := eval(t, attr(t, logs, "format"), nil).AsString()
	var fields map[string]string
	require.NoError(t, json.Unmarshal([]byte(format), &fields), "access log lines are JSON")
	assert.Equal(t, "$context.requestId", fields["requestId"], "the request id links an access log line to the dump event")

	methods := m.block(t, "resource", "aws_api_gateway_method_settings", "this")
	assert.Equal(t, []string{"aws_api_gateway_stage.this.stage_name"}, refs(attr(t, methods, "stage_name")))
	assert.Equal(t, "*/*", eval(t, attr(t, methods, "method_path"), nil).AsString(), "throttling covers every method")
	settings := one(t, methods, "settings")
	assert.Equal(t, []string{"var.api.throttling_rate_limit"}, refs(attr(t, settings, "throttling_rate_limit")))
	assert.Equal(t, []string{"var.api.throttling_burst_limit"}, refs(attr(t, settings, "throttling_burst_limit")))
}

// API Gateway reaches the function only through its two aliases: the
// integration uri names the function qualified by a stage variable, the
// public stage sets it to live and the candidate stage to candidate, and
// the role may invoke exactly those two alias ARNs (not $LATEST, a version
// number or the unqualified function).
func TestAPIGatewayInvokesOnlyTheAliases(t *testing.T) {
	m := load(t, "terraform/service")
	role := m.block(t, "resource", "aws_iam_role", "api_gateway")
	assert.Equal(t, []string{"data.aws_iam_policy_document.api_gateway_assume.json"}, refs(attr(t, role, "assume_role_policy")))
	assume := one(t, m.block(t, "data", "aws_iam_policy_document", "api_gateway_assume"), "statement")
	assert.Equal(t, []string{"apigateway.amazonaws.com"}, strs(t, eval(t, attr(t, one(t, assume, "principals"), "identifiers"), nil)))

	policy := m.block(t, "data", "aws_iam_policy_document", "api_gateway_invoke")
	assert.Empty(t, nested(policy, "dynamic"), "no statements beyond the one below")
	statement := one(t, policy, "statement")
	assert.NotContains(t, statement.Attributes, "not_resources")
	assert.NotContains(t, statement.Attributes, "effect", "an Allow")
	assert.Equal(t, []string{"lambda:InvokeFunction"}, strs(t, eval(t, attr(t, statement, "actions"), nil)))
	fnARN := "arn:aws:lambda:ap-northeast-1:123456789012:function:request-dump-dev"
	aliases := map[string]cty.Value{}
	for _, name := range []string{"live", "candidate"} {
		alias := m.block(t, "resource", "aws_lambda_alias", name)
		assert.Equal(t, name, eval(t, attr(t, alias, "name"), nil).AsString())
		aliases[name] = obj(map[string]cty.Value{"arn": cty.StringVal(fnARN + ":" + name), "name": cty.StringVal(name)})
	}
	resources := eval(t, attr(t, statement, "resources"), map[string]cty.Value{"aws_lambda_alias": obj(aliases)})
	assert.ElementsMatch(t, []string{fnARN + ":live", fnARN + ":candidate"}, strs(t, resources), "the two alias ARNs exactly: no *, no unqualified function, no version")
	attach := m.block(t, "resource", "aws_iam_role_policy", "api_gateway_invoke")
	assert.Equal(t, []string{"aws_iam_role.api_gateway.id"}, refs(attr(t, attach, "role")))
	assert.Equal(t, []string{"data.aws_iam_policy_document.api_gateway_invoke.json"}, refs(attr(t, attach, "policy")))
	assert.Equal(t, []string{"aws_iam_role_policy.api_gateway_invoke"}, rolePolicies(m, "api_gateway"), "the role has no other policy")

	// The integration: the function's ARN qualified by the stage's alias.
	call := m.source(m.local(t, "openapi"))
	assert.Contains(t, call, "credentials_arn = aws_iam_role.api_gateway.arn")
	assert.Contains(t, call, "invoke_arn = local.invoke_arn")
	variable := eval(t, m.local(t, "alias_variable"), nil).AsString()
	assert.Equal(t, envconfig.AliasStageVariable, variable)
	assert.Equal(t, "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/"+fnARN+":${stageVariables."+variable+"}/invocations", invokeARN(t, m, fnARN))
	for stage, alias := range map[string]string{"this": "live", "candidate": "candidate"} {
		b := m.block(t, "resource", "aws_api_gateway_stage", stage)
		vars := eval(t, attr(t, b, "variables"), map[string]cty.Value{
			"local":            obj(map[string]cty.Value{"alias_variable": cty.StringVal(variable)}),
			"aws_lambda_alias": obj(aliases),
		}).AsValueMap()
		assert.Len(t, vars, 1, "stage %s sets one variable", stage)
		assert.Equal(t, alias, vars[variable].AsString(), "stage %s invokes the %s alias", stage, alias)
	}
	assert.Empty(t, m.blocks("resource", "aws_lambda_permission"), "API Gateway invokes with its role, not a resource policy")
}

// Terraform publishes a version on every change and points the candidate
// alias at it; the live alias is created once and then moved only by the
// rollout, so Terraform must ignore what the rollout changes on it.
func TestTerraformPublishesAndTheRolloutMovesLive(t *testing.T) {
	m := load(t, "terraform/service")
	fn := m.block(t, "resource", "aws_lambda_function", "this")
	assert.True(t, eval(t, attr(t, fn, "publish"), nil).True(), "every code or configuration change publishes a version")

	candidate := m.block(t, "resource", "aws_lambda_alias", "candidate")
	assert.Equal(t, []string{"aws_lambda_function.this.version"}, refs(attr(t, candidate, "function_version")))
	assert.Empty(t, nested(candidate, "lifecycle"), "Terraform owns the candidate alias: a change the rollout left on it shows in the next plan")
	assert.NotContains(t, candidate.Attributes, "routing_config")

	live := m.block(t, "resource", "aws_lambda_alias", "live")
	assert.Equal(t, []string{"aws_lambda_function.this.version"}, refs(attr(t, live, "function_version")), "created on the version of the first apply")
	ignored := m.source(attr(t, one(t, live, "lifecycle"), "ignore_changes"))
	for _, a := range []string{"function_version", "routing_config", "description"} {
		assert.Contains(t, ignored, a, "the rollout moves live's %s; Terraform must not move it back", a)
	}

	cfg, err := envconfig.Load("dev")
	require.NoError(t, err)
	desc, err := cfg.CandidateDescription()
	require.NoError(t, err)
	assert.Equal(t, eval(t, m.local(t, "candidate_description"), nil).AsString(), desc, "the rollout restores the description Terraform sets")
	assert.Equal(t, []string{"local.candidate_description"}, refs(attr(t, candidate, "description")))

	stage := m.block(t, "resource", "aws_api_gateway_stage", "candidate")
	assert.Equal(t, envconfig.CandidateStage, eval(t, attr(t, stage, "stage_name"), nil).AsString())
	assert.Equal(t, []string{"aws_api_gateway_deployment.this.id"}, refs(attr(t, stage, "deployment_id")), "the same deployment as the public stage: the same routes and validation")
	methods := m.block(t, "resource", "aws_api_gateway_method_settings", "candidate")
	assert.Equal(t, []string{"aws_api_gateway_stage.candidate.stage_name"}, refs(attr(t, methods, "stage_name")))
	limits := eval(t, m.local(t, "candidate_throttling"), nil).AsValueMap()
	assert.Equal(t, []string{"local.candidate_throttling.rate_limit"}, refs(attr(t, one(t, methods, "settings"), "throttling_rate_limit")))
	rate, _ := limits["rate_limit"].AsBigFloat().Float64()
	assert.LessOrEqual(t, rate, 10.0, "the candidate stage carries the smoke test only")
}

func TestFunctionWritesOnlyItsOwnLogGroup(t *testing.T) {
	m := load(t, "terraform/service")
	statement := one(t, m.block(t, "data", "aws_iam_policy_document", "function_logs"), "statement")
	assert.ElementsMatch(t, []string{"logs:CreateLogStream", "logs:PutLogEvents"}, strs(t, eval(t, attr(t, statement, "actions"), nil)))
	arn := "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/request-dump-dev"
	resources := eval(t, attr(t, statement, "resources"), map[string]cty.Value{"aws_cloudwatch_log_group": obj(map[string]cty.Value{
		"this": obj(map[string]cty.Value{"arn": cty.StringVal(arn)}),
	})})
	assert.Equal(t, []string{arn + ":*"}, strs(t, resources), "the group's own ARN with the :* IAM suffix, which covers its streams and no other group")
	attach := m.block(t, "resource", "aws_iam_role_policy", "function_logs")
	assert.Equal(t, []string{"data.aws_iam_policy_document.function_logs.json"}, refs(attr(t, attach, "policy")))
	for path, src := range m.srcs {
		assert.NotContains(t, string(src), "AWSLambdaBasicExecutionRole\"", "%s: the execution role's policy is scoped, not the managed one", path)
	}

	group := m.block(t, "resource", "aws_cloudwatch_log_group", "this")
	assert.Equal(t, []string{"local.log_group_name"}, refs(attr(t, group, "name")))
	name := eval(t, m.local(t, "log_group_name"), map[string]cty.Value{"var": obj(map[string]cty.Value{"name": cty.StringVal("request-dump-dev")})})
	assert.Equal(t, "/aws/lambda/request-dump-dev", name.AsString())
	for _, label := range []string{"this", "access"} {
		g := m.block(t, "resource", "aws_cloudwatch_log_group", label)
		assert.Equal(t, []string{"var.log_retention_days"}, refs(attr(t, g, "retention_in_days")), "log group %s has a retention", label)
		assert.Equal(t, []string{"var.log_groups.kms_key_id"}, refs(attr(t, g, "kms_key_id")), "log group %s takes the optional KMS key", label)
		assert.Equal(t, []string{"var.log_groups.skip_destroy"}, refs(attr(t, g, "skip_destroy")), "log group %s can be kept on destroy", label)
	}
}

func TestMainResourcesAreNamedThis(t *testing.T) {
	for rel, main := range map[string][]string{
		"terraform/service":   {"aws_lambda_function", "aws_api_gateway_rest_api", "aws_api_gateway_stage", "aws_cloudwatch_log_group"},
		"terraform/artifacts": {"aws_s3_bucket"},
	} {
		m := load(t, rel)
		for _, typ := range main {
			assert.NotNil(t, m.block(t, "resource", typ, "this"), "%s: the main %s is named this", rel, typ)
		}
	}
}
