package terraform

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// wafAlarm is the label of the WAF's alarm, which exists only with
// waf.enabled and is named outside the rollout's "<name>/" prefix.
const wafAlarm = "waf_blocked"

const (
	testRestAPIExecutionARN = "arn:aws:execute-api:ap-northeast-1:123456789012:a1b2c3d4e5"
	testStage               = "prod"
)

// accessVal is var.access as the module sees it after its defaults: mode
// and the lists given, the usage plan's defaults.
func accessVal(mode string, apiKeys, principals []string) cty.Value {
	list := func(ss []string) cty.Value {
		if len(ss) == 0 {
			return cty.ListValEmpty(cty.String)
		}
		var vals []cty.Value
		for _, s := range ss {
			vals = append(vals, cty.StringVal(s))
		}
		return cty.ListVal(vals)
	}
	return obj(map[string]cty.Value{
		"mode":       cty.StringVal(mode),
		"allow_none": cty.BoolVal(mode == "none"),
		"api_keys":   list(apiKeys),
		"usage_plan": obj(map[string]cty.Value{
			"rate_limit":    cty.NumberIntVal(50),
			"burst_limit":   cty.NumberIntVal(100),
			"quota_per_day": cty.NumberIntVal(100000),
		}),
		"caller_principals": list(principals),
	})
}

// accessScope evaluates the module's access locals for one mode, as
// Terraform would in prod, and returns the scope with them.
func accessScope(t *testing.T, m *config, mode string, apiKeys, principals []string) map[string]cty.Value {
	t.Helper()
	scope := map[string]cty.Value{
		"var": obj(map[string]cty.Value{
			"name":        cty.StringVal("request-dump-prod"),
			"environment": cty.StringVal("prod"),
			"access":      accessVal(mode, apiKeys, principals),
		}),
		"aws_api_gateway_rest_api": obj(map[string]cty.Value{"this": obj(map[string]cty.Value{
			"id": cty.StringVal("a1b2c3d4e5"), "execution_arn": cty.StringVal(testRestAPIExecutionARN),
		})}),
		"aws_api_gateway_stage": obj(map[string]cty.Value{
			"this":      obj(map[string]cty.Value{"stage_name": cty.StringVal(testStage)}),
			"candidate": obj(map[string]cty.Value{"stage_name": cty.StringVal("candidate")}),
		}),
	}
	locals := map[string]cty.Value{}
	for _, name := range []string{"api_key_mode", "iam_mode", "api_key_parameter_prefix"} {
		locals[name] = eval(t, m.local(t, name), scope)
	}
	scope["local"] = obj(locals)
	for _, name := range []string{"api_keys", "invoke_method_arns"} {
		locals[name] = eval(t, m.local(t, name), scope)
	}
	scope["local"] = obj(locals)
	return scope
}

func count(t *testing.T, body *hclsyntax.Body, scope map[string]cty.Value) int64 {
	t.Helper()
	n, _ := eval(t, attr(t, body, "count"), scope).AsBigFloat().Int64()
	return n
}

// renderedBody is the REST API body Terraform sends for an access mode:
// the template rendered with templatefile() and turned into JSON by the
// REST API's body expression.
func renderedBody(t *testing.T, m *config, mode string) map[string]any {
	t.Helper()
	scope := map[string]cty.Value{
		"path": obj(map[string]cty.Value{"module": cty.StringVal(m.dir)}),
		"var": obj(map[string]cty.Value{
			"name":   cty.StringVal("request-dump-prod"),
			"api":    obj(map[string]cty.Value{"integration_timeout_ms": cty.NumberIntVal(29000)}),
			"access": obj(map[string]cty.Value{"mode": cty.StringVal(mode)}),
		}),
		"local":        obj(map[string]cty.Value{"invoke_arn": cty.StringVal("arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:request-dump-prod:${stageVariables.lambda_alias}/invocations")}),
		"aws_iam_role": obj(map[string]cty.Value{"api_gateway": obj(map[string]cty.Value{"arn": cty.StringVal("arn:aws:iam::123456789012:role/request-dump-prod-api-gateway")})}),
	}
	rendered := eval(t, m.local(t, "openapi"), scope)
	api := m.block(t, "resource", "aws_api_gateway_rest_api", "this")
	body := eval(t, attr(t, api, "body"), map[string]cty.Value{"local": obj(map[string]cty.Value{"openapi": rendered})}).AsString()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	return doc
}

// API Gateway reads a method's security from the OpenAPI body: api_key
// requires a key (apiKeyRequired, from the x-api-key header) and iam
// AWS_IAM authorization (x-amazon-apigateway-authtype awsSigv4). See
// "x-amazon-apigateway-api-key-source" and
// "x-amazon-apigateway-authtype" in the API Gateway developer guide.
func TestEachAccessModeSecuresTheMethodInTheBody(t *testing.T) {
	m := load(t, "terraform/service")
	for _, tt := range []struct {
		mode      string
		security  any
		schemes   any
		keySource any
	}{
		{"none", nil, nil, nil},
		{"api_key", []any{map[string]any{"api_key": []any{}}},
			map[string]any{"api_key": map[string]any{"type": "apiKey", "name": "x-api-key", "in": "header"}}, "HEADER"},
		{"iam", []any{map[string]any{"sigv4": []any{}}},
			map[string]any{"sigv4": map[string]any{"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}}, nil},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			doc := renderedBody(t, m, tt.mode)
			paths := doc["paths"].(map[string]any)
			require.Equal(t, []string{"/events"}, keysOf(paths), "one route, so its security is the API's")
			methods := paths["/events"].(map[string]any)
			require.Equal(t, []string{"post"}, keysOf(methods))
			assert.Equal(t, tt.security, methods["post"].(map[string]any)["security"], "POST /events security")
			assert.NotContains(t, doc, "security", "no document-wide requirement: the method states its own")
			assert.Equal(t, tt.schemes, doc["components"].(map[string]any)["securitySchemes"])
			assert.Equal(t, tt.keySource, doc["x-amazon-apigateway-api-key-source"])
		})
	}
}

// The API keys, the usage plan and the SSM parameters exist in api_key mode
// only; the plan binds every key to both stages with a daily quota, and a
// key's value goes nowhere but its SecureString parameter.
func TestAPIKeysAreBoundToBothStagesAndKeptInSSM(t *testing.T) {
	m := load(t, "terraform/service")
	plan := m.block(t, "resource", "aws_api_gateway_usage_plan", "this")
	for mode, want := range map[string]int64{"none": 0, "api_key": 1, "iam": 0} {
		scope := accessScope(t, m, mode, []string{"smoke", "partner-a"}, []string{"arn:aws:iam::123456789012:root"})
		assert.Equal(t, want, count(t, plan, scope), "usage plan in mode %s", mode)
		keys := strs(t, scope["local"].GetAttr("api_keys"))
		if mode == "api_key" {
			assert.ElementsMatch(t, []string{"smoke", "partner-a"}, keys, "one API key per name")
		} else {
			assert.Empty(t, keys, "no API key in mode %s", mode)
		}
	}

	scope := accessScope(t, m, "api_key", []string{"smoke"}, nil)
	var stages []string
	for _, s := range nested(plan, "api_stages") {
		assert.Equal(t, []string{"aws_api_gateway_rest_api.this.id"}, refs(attr(t, s, "api_id")))
		stages = append(stages, eval(t, attr(t, s, "stage"), scope).AsString())
	}
	assert.ElementsMatch(t, []string{testStage, "candidate"}, stages, "the public stage and the candidate stage, where the rollout gate's smoke test calls with its key")
	throttle := one(t, plan, "throttle_settings")
	assert.Equal(t, []string{"var.access.usage_plan.rate_limit"}, refs(attr(t, throttle, "rate_limit")))
	assert.Equal(t, []string{"var.access.usage_plan.burst_limit"}, refs(attr(t, throttle, "burst_limit")))
	quota := one(t, plan, "quota_settings")
	assert.Equal(t, []string{"var.access.usage_plan.quota_per_day"}, refs(attr(t, quota, "limit")))
	assert.Equal(t, "DAY", eval(t, attr(t, quota, "period"), nil).AsString())

	key := m.block(t, "resource", "aws_api_gateway_api_key", "this")
	assert.Equal(t, "local.api_keys", m.source(attr(t, key, "for_each")))
	assert.NotContains(t, key.Attributes, "value", "API Gateway generates the value: no random provider, no value in the configuration")
	scope["each"] = obj(map[string]cty.Value{"key": cty.StringVal("smoke")})
	assert.Equal(t, "request-dump-prod-smoke", eval(t, attr(t, key, "name"), scope).AsString())

	planKey := m.block(t, "resource", "aws_api_gateway_usage_plan_key", "this")
	assert.Equal(t, "aws_api_gateway_api_key.this", m.source(attr(t, planKey, "for_each")), "every key is in the plan")
	assert.Equal(t, "API_KEY", eval(t, attr(t, planKey, "key_type"), nil).AsString())
	assert.Equal(t, []string{"each.value.id"}, refs(attr(t, planKey, "key_id")))
	assert.Equal(t, []string{"aws_api_gateway_usage_plan.this"}, refs(attr(t, planKey, "usage_plan_id")))

	param := m.block(t, "resource", "aws_ssm_parameter", "api_key")
	assert.Equal(t, "aws_api_gateway_api_key.this", m.source(attr(t, param, "for_each")))
	assert.Equal(t, "SecureString", eval(t, attr(t, param, "type"), nil).AsString())
	assert.Equal(t, "/request-dump-prod/api-keys/smoke", eval(t, attr(t, param, "name"), scope).AsString(), "the name the smoke test and the runbook read")
	assert.Equal(t, "sensitive(each.value.value)", m.source(attr(t, param, "value")), "the key's value, marked sensitive")
	assert.NotContains(t, param.Attributes, "insecure_value")

	// No output carries a key's value: the only attribute of a key or a
	// parameter an output reads is the parameter's name.
	for _, o := range m.blocks("output") {
		for _, r := range refs(attr(t, o.Body, "value")) {
			assert.False(t, strings.HasPrefix(r, "aws_api_gateway_api_key."), "output %s refers to %s", o.Labels[0], r)
			if strings.HasPrefix(r, "aws_ssm_parameter.") {
				assert.Equal(t, "api_key_parameters", o.Labels[0], "output %s refers to %s", o.Labels[0], r)
			}
		}
	}
	out := attr(t, m.block(t, "output", "api_key_parameters"), "value")
	params := eval(t, out, map[string]cty.Value{"aws_ssm_parameter": obj(map[string]cty.Value{"api_key": obj(map[string]cty.Value{
		"smoke": obj(map[string]cty.Value{"name": cty.StringVal("/request-dump-prod/api-keys/smoke"), "value": cty.StringVal("the-secret-value-0123456789")}),
	})})})
	data, err := json.Marshal(params.AsValueMap()["smoke"].AsString())
	require.NoError(t, err)
	assert.Equal(t, `"/request-dump-prod/api-keys/smoke"`, string(data))
	assert.NotContains(t, params.GoString(), "the-secret-value", "api_key_parameters holds names, never values")
}

// In iam mode the caller role may execute-api:Invoke exactly POST /events
// of the public and the candidate stage (execute-api ARNs are
// <execution ARN>/<stage>/<method>/<path>), and only the principals the env
// names may assume it.
func TestCallerRoleInvokesOnlyThePostEventsMethod(t *testing.T) {
	m := load(t, "terraform/service")
	principals := []string{"arn:aws:iam::123456789012:role/partner", "arn:aws:iam::123456789012:role/request-dump-atlantis-prod-apply"}
	for _, label := range []string{"caller_assume", "caller_invoke"} {
		for mode, want := range map[string]int64{"none": 0, "api_key": 0, "iam": 1} {
			assert.Equal(t, want, count(t, m.block(t, "data", "aws_iam_policy_document", label), accessScope(t, m, mode, []string{"smoke"}, principals)), "%s in mode %s", label, mode)
		}
	}
	scope := accessScope(t, m, "iam", []string{"smoke"}, principals)
	for _, b := range []*hclsyntax.Body{m.block(t, "resource", "aws_iam_role", "caller"), m.block(t, "resource", "aws_iam_role_policy", "caller_invoke")} {
		assert.EqualValues(t, 1, count(t, b, scope))
		assert.EqualValues(t, 0, count(t, b, accessScope(t, m, "api_key", []string{"smoke"}, nil)))
	}
	role := m.block(t, "resource", "aws_iam_role", "caller")
	assert.Equal(t, "request-dump-prod-caller", eval(t, attr(t, role, "name"), scope).AsString())
	assert.Equal(t, []string{"data.aws_iam_policy_document.caller_assume"}, refs(attr(t, role, "assume_role_policy")))
	assert.Equal(t, []string{"aws_iam_role_policy.caller_invoke"}, rolePolicies(m, "caller"), "the role has this one policy")

	assume := one(t, m.block(t, "data", "aws_iam_policy_document", "caller_assume"), "statement")
	assert.Equal(t, []string{"sts:AssumeRole"}, strs(t, eval(t, attr(t, assume, "actions"), nil)))
	p := one(t, assume, "principals")
	assert.Equal(t, "AWS", eval(t, attr(t, p, "type"), nil).AsString())
	assert.Equal(t, principals, strs(t, eval(t, attr(t, p, "identifiers"), scope)))

	invoke := m.block(t, "data", "aws_iam_policy_document", "caller_invoke")
	statement := one(t, invoke, "statement")
	assert.Empty(t, nested(invoke, "dynamic"))
	for _, a := range []string{"effect", "not_actions", "not_resources", "condition"} {
		assert.NotContains(t, statement.Attributes, a)
	}
	assert.Equal(t, []string{"execute-api:Invoke"}, strs(t, eval(t, attr(t, statement, "actions"), nil)))
	assert.Equal(t, []string{
		testRestAPIExecutionARN + "/" + testStage + "/POST/events",
		testRestAPIExecutionARN + "/candidate/POST/events",
	}, strs(t, eval(t, attr(t, statement, "resources"), scope)), "the two method ARNs exactly: no *, no other method, stage or API")
	attach := m.block(t, "resource", "aws_iam_role_policy", "caller_invoke")
	assert.Equal(t, []string{"data.aws_iam_policy_document.caller_invoke"}, refs(attr(t, attach, "policy")))
}

// The plan refuses an open endpoint in stg and prod, whatever allow_none
// says, and tells what to set instead.
func TestStgAndProdRefuseAccessNone(t *testing.T) {
	m := load(t, "terraform/service")
	var rule *hclsyntax.Body
	for _, p := range nested(one(t, m.block(t, "resource", "aws_api_gateway_stage", "this"), "lifecycle"), "precondition") {
		if slices.Contains(refs(attr(t, p, "condition")), "var.access.mode") {
			rule = p
		}
	}
	require.NotNil(t, rule, "the public stage has a precondition on var.access.mode")
	for _, tt := range []struct {
		env, mode string
		ok        bool
	}{
		{"dev", "none", true},
		{"sandbox1", "none", true},
		{"stg", "none", false},
		{"prod", "none", false},
		{"stg", "api_key", true},
		{"prod", "api_key", true},
		{"prod", "iam", true},
	} {
		scope := map[string]cty.Value{"var": obj(map[string]cty.Value{
			"environment": cty.StringVal(tt.env),
			"name":        cty.StringVal("request-dump-" + tt.env),
			"access":      accessVal(tt.mode, []string{"smoke"}, nil),
		})}
		assert.Equal(t, tt.ok, eval(t, attr(t, rule, "condition"), scope).True(), "%s with %s", tt.env, tt.mode)
		if !tt.ok {
			msg := eval(t, attr(t, rule, "error_message"), scope).AsString()
			assert.Contains(t, msg, "POST /events of "+tt.env+" open to anyone")
			assert.Contains(t, msg, `access = { mode = "api_key" }`)
			assert.Contains(t, msg, "/request-dump-"+tt.env+"/api-keys/<key>")
			assert.Contains(t, msg, "envs/"+tt.env+"/main.tf")
		}
	}
}

// accessValidationCases are the access and waf settings the plan must
// accept or refuse, with the message that says what to fix.
var accessValidationCases = []validationCase{
	{"access", `{mode = "api_key"}`, ""},
	{"access", `{mode = "api_key", api_keys = ["smoke", "partner-a", "p2"]}`, ""},
	{"access", `{mode = "api_key", api_keys = ["partner-a"]}`, `The access.api_keys must include "smoke" when access.mode is api_key`},
	{"access", `{mode = "api_key", api_keys = []}`, `must include "smoke"`},
	{"access", `{mode = "iam", api_keys = [], caller_principals = ["arn:aws:iam::123456789012:root"]}`, ""},
	{"access", `{mode = "api_key", api_keys = ["smoke", "smoke"]}`, "Each access.api_keys entry must be a distinct key name"},
	{"access", `{mode = "api_key", api_keys = ["smoke", "Partner"]}`, "Each access.api_keys entry must be a distinct key name of 2-32 characters"},
	{"access", `{mode = "api_key", api_keys = ["smoke", "a/b"]}`, "Each access.api_keys entry"},
	{"access", `{mode = "api_key", api_keys = ["smoke", "partner-"]}`, "Each access.api_keys entry"},
	{"access", `{mode = "api_key", api_keys = ["smoke", "` + strings.Repeat("a", 33) + `"]}`, "Each access.api_keys entry"},
	{"access", `{mode = "api_key", usage_plan = {rate_limit = 0.5, burst_limit = 1, quota_per_day = 1}}`, ""},
	{"access", `{mode = "api_key", usage_plan = {rate_limit = 10000, burst_limit = 5000, quota_per_day = 2147483647}}`, ""},
	{"access", `{mode = "api_key", usage_plan = {rate_limit = 0}}`, "The access.usage_plan.rate_limit must be more than 0 and at most 10000"},
	{"access", `{mode = "api_key", usage_plan = {rate_limit = 10001}}`, "access.usage_plan.rate_limit must be more than 0"},
	{"access", `{mode = "api_key", usage_plan = {burst_limit = 0}}`, "The access.usage_plan.burst_limit must be a whole number of requests from 1 to 5000"},
	{"access", `{mode = "api_key", usage_plan = {burst_limit = 5001}}`, "access.usage_plan.burst_limit must be a whole number"},
	{"access", `{mode = "api_key", usage_plan = {burst_limit = 2.5}}`, "access.usage_plan.burst_limit must be a whole number"},
	{"access", `{mode = "api_key", usage_plan = {quota_per_day = 0}}`, "The access.usage_plan.quota_per_day must be a whole number"},
	{"access", `{mode = "api_key", usage_plan = {quota_per_day = 10.5}}`, "access.usage_plan.quota_per_day must be a whole number"},
	{"access", `{mode = "api_key", usage_plan = {quota_per_day = 2147483648}}`, "from 1 to 2147483647"},
	{"access", `{mode = "iam", caller_principals = ["arn:aws:iam::123456789012:role/request-dump-atlantis-stg-apply", "arn:aws:iam::210987654321:root", "arn:aws:iam::123456789012:user/ci", "arn:aws:iam::123456789012:role/team/path/caller"]}`, ""},
	{"access", `{mode = "iam"}`, "The access.caller_principals must name at least one principal when access.mode is iam"},
	{"access", `{mode = "iam", caller_principals = []}`, "must name at least one principal"},
	{"access", `{mode = "iam", caller_principals = ["*"]}`, "Each access.caller_principals entry must be a distinct IAM ARN"},
	{"access", `{mode = "iam", caller_principals = ["arn:aws:iam::123456789012:role/*"]}`, "without wildcards"},
	{"access", `{mode = "iam", caller_principals = ["123456789012"]}`, "Each access.caller_principals entry"},
	{"access", `{mode = "iam", caller_principals = ["arn:aws:sts::123456789012:assumed-role/x/y"]}`, "Each access.caller_principals entry"},
	{"access", `{mode = "iam", caller_principals = ["arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:root"]}`, "distinct IAM ARN"},
	{"access", `{mode = "none", allow_none = true}`, ""},
	{"access", `{mode = "none"}`, "set access.allow_none = true"},

	{"waf", `{}`, ""},
	{"waf", `{enabled = true, rate_limit = 10, blocked_alarm_threshold = 0}`, ""},
	{"waf", `{enabled = true, rate_limit = 2000000000}`, ""},
	{"waf", `{rate_limit = 9}`, "The waf.rate_limit must be a whole number of requests per IP address and 5 minutes from 10 to 2000000000"},
	{"waf", `{rate_limit = 2000000001}`, "waf.rate_limit must be a whole number"},
	{"waf", `{rate_limit = 100.5}`, "waf.rate_limit must be a whole number"},
	{"waf", `{blocked_alarm_threshold = -1}`, "The waf.blocked_alarm_threshold must be a whole number of blocked requests in 5 minutes, 0 or more"},
	{"waf", `{blocked_alarm_threshold = 1.5}`, "waf.blocked_alarm_threshold must be a whole number"},
}

func TestAccessAndWAFValidations(t *testing.T) {
	checkValidations(t, "terraform/service", accessValidationCases)
}

// wafScope is the scope the WAF resources are evaluated in, for prod with
// the web ACL on or off.
func wafScope(enabled bool) map[string]cty.Value {
	return map[string]cty.Value{
		"var": obj(map[string]cty.Value{
			"name": cty.StringVal("request-dump-prod"),
			"api":  obj(map[string]cty.Value{"stage_name": cty.StringVal(testStage)}),
			"waf": obj(map[string]cty.Value{
				"enabled":                 cty.BoolVal(enabled),
				"rate_limit":              cty.NumberIntVal(1000),
				"blocked_alarm_threshold": cty.NumberIntVal(100),
			}),
		}),
	}
}

// With waf.enabled, a REGIONAL web ACL whose one rule blocks an IP address
// over the rate limit (everything else allowed, metrics on) guards the
// public stage, and an alarm on that rule's blocks notifies the env's
// topic; without it, none of these exist.
func TestWAFRateRuleGuardsThePublicStage(t *testing.T) {
	m := load(t, "terraform/service")
	acl := m.block(t, "resource", "aws_wafv2_web_acl", "this")
	association := m.block(t, "resource", "aws_wafv2_web_acl_association", "this")
	alarm := m.block(t, "resource", "aws_cloudwatch_metric_alarm", wafAlarm)
	for _, b := range []*hclsyntax.Body{acl, association, alarm} {
		assert.EqualValues(t, 1, count(t, b, wafScope(true)))
		assert.EqualValues(t, 0, count(t, b, wafScope(false)))
	}
	scope := wafScope(true)
	locals := map[string]cty.Value{}
	for _, name := range []string{"waf_rate_rule", "waf_window_seconds"} {
		locals[name] = eval(t, m.local(t, name), scope)
	}
	scope["local"] = obj(locals)

	assert.Equal(t, "REGIONAL", eval(t, attr(t, acl, "scope"), nil).AsString(), "API Gateway stages take REGIONAL web ACLs")
	assert.Len(t, nested(one(t, acl, "default_action"), "allow"), 1, "requests under the rate are allowed")
	rules := nested(acl, "rule")
	require.Len(t, rules, 1)
	rule := rules[0]
	assert.Len(t, nested(one(t, rule, "action"), "block"), 1, "the rate rule blocks")
	rate := one(t, one(t, rule, "statement"), "rate_based_statement")
	assert.Equal(t, []string{"var.waf.rate_limit"}, refs(attr(t, rate, "limit")))
	assert.Equal(t, "IP", eval(t, attr(t, rate, "aggregate_key_type"), nil).AsString(), "per client IP address")
	assert.EqualValues(t, 300, mustInt(t, eval(t, attr(t, rate, "evaluation_window_sec"), scope)), "the 5-minute window waf.rate_limit is given in")
	ruleVisibility := one(t, rule, "visibility_config")
	aclVisibility := one(t, acl, "visibility_config")
	for _, v := range []*hclsyntax.Body{ruleVisibility, aclVisibility} {
		assert.True(t, eval(t, attr(t, v, "cloudwatch_metrics_enabled"), nil).True())
		assert.True(t, eval(t, attr(t, v, "sampled_requests_enabled"), nil).True())
	}

	assert.Equal(t, []string{"aws_api_gateway_stage.this.arn"}, refs(attr(t, association, "resource_arn")), "the public stage")
	assert.Equal(t, []string{"aws_wafv2_web_acl.this"}, refs(attr(t, association, "web_acl_arn")))

	assert.Equal(t, "AWS/WAFV2", eval(t, attr(t, alarm, "namespace"), nil).AsString())
	assert.Equal(t, "BlockedRequests", eval(t, attr(t, alarm, "metric_name"), nil).AsString())
	assert.Equal(t, "Sum", eval(t, attr(t, alarm, "statistic"), nil).AsString())
	assert.Equal(t, []string{"var.waf.blocked_alarm_threshold"}, refs(attr(t, alarm, "threshold")))
	assert.Equal(t, "request-dump-prod-waf-blocked", eval(t, attr(t, alarm, "alarm_name"), scope).AsString(),
		"outside the rollout's request-dump-prod/ prefix: blocked callers say nothing about a new version")
	for _, actions := range []string{"alarm_actions", "ok_actions"} {
		assert.Equal(t, "[aws_sns_topic.alarms.arn]", m.source(attr(t, alarm, actions)), "the env's existing alarm topic")
	}
	aclMetric := eval(t, attr(t, aclVisibility, "metric_name"), scope).AsString()
	dimScope := map[string]cty.Value{
		"local": scope["local"],
		"aws_wafv2_web_acl": obj(map[string]cty.Value{"this": cty.TupleVal([]cty.Value{obj(map[string]cty.Value{
			"visibility_config": cty.TupleVal([]cty.Value{obj(map[string]cty.Value{"metric_name": cty.StringVal(aclMetric)})}),
		})})}),
		"data": obj(map[string]cty.Value{"aws_arn": obj(map[string]cty.Value{"function": obj(map[string]cty.Value{"region": cty.StringVal("ap-northeast-1")})})}),
	}
	dims := map[string]string{}
	for k, v := range eval(t, attr(t, alarm, "dimensions"), dimScope).AsValueMap() {
		dims[k] = v.AsString()
	}
	assert.Equal(t, map[string]string{
		"WebACL": aclMetric,
		"Rule":   eval(t, attr(t, ruleVisibility, "metric_name"), scope).AsString(),
		"Region": "ap-northeast-1",
	}, dims, "the rate rule's metric in the web ACL's metric")
	assert.EqualValues(t, 300, mustInt(t, eval(t, attr(t, alarm, "period"), scope)), "blocks per rate window")

	// Prod turns it on.
	prod := load(t, "envs/prod").block(t, "module", "service")
	assert.True(t, eval(t, attr(t, prod, "waf"), nil).GetAttr("enabled").True(), "envs/prod enables the WAF")
}

func mustInt(t *testing.T, v cty.Value) int64 {
	t.Helper()
	n, acc := v.AsBigFloat().Int64()
	require.Zero(t, acc, "%s is a whole number", v.GoString())
	return n
}

// The outputs the smoke test and the runbook read: each mode's identifiers
// where the mode has them, null (or empty) where it has not.
func TestAccessOutputsAreNullOutsideTheirMode(t *testing.T) {
	m := load(t, "terraform/service")
	empty := cty.EmptyTupleVal
	scope := map[string]cty.Value{
		"var":                        obj(map[string]cty.Value{"access": obj(map[string]cty.Value{"mode": cty.StringVal("none")})}),
		"aws_iam_role":               obj(map[string]cty.Value{"caller": empty}),
		"aws_api_gateway_usage_plan": obj(map[string]cty.Value{"this": empty}),
		"aws_wafv2_web_acl":          obj(map[string]cty.Value{"this": empty}),
		"aws_ssm_parameter":          obj(map[string]cty.Value{"api_key": cty.EmptyObjectVal}),
	}
	for _, name := range []string{"caller_role_arn", "usage_plan_id", "web_acl_arn"} {
		assert.True(t, eval(t, attr(t, m.block(t, "output", name), "value"), scope).IsNull(), "%s is null when its resource does not exist", name)
	}
	assert.Zero(t, eval(t, attr(t, m.block(t, "output", "api_key_parameters"), "value"), scope).LengthInt())
	assert.Equal(t, "none", eval(t, attr(t, m.block(t, "output", "access_mode"), "value"), scope).AsString())

	scope["aws_iam_role"] = obj(map[string]cty.Value{"caller": cty.TupleVal([]cty.Value{obj(map[string]cty.Value{"arn": cty.StringVal("arn:aws:iam::123456789012:role/request-dump-prod-caller")})})})
	assert.Equal(t, "arn:aws:iam::123456789012:role/request-dump-prod-caller", eval(t, attr(t, m.block(t, "output", "caller_role_arn"), "value"), scope).AsString())
}
