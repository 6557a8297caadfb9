package terraform.access_test

import data.lib.plantest
import data.terraform.access

open_body := json.marshal({"openapi": "3.0.1", "paths": {"/events": {"post": {"operationId": "postEvent"}}}})

key_body := json.marshal({
	"openapi": "3.0.1",
	"x-amazon-apigateway-api-key-source": "HEADER",
	"paths": {"/events": {"post": {"operationId": "postEvent", "security": [{"api_key": []}]}}},
	"components": {"securitySchemes": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}},
})

api(body) := plantest.change("module.service.aws_api_gateway_rest_api.this", ["update"], {"name": "request-dump-prod", "body": body})

stage_arn := "arn:aws:apigateway:ap-northeast-1::/restapis/a1b2c3d4e5/stages/prod"

stage := plantest.change("module.service.aws_api_gateway_stage.this", ["no-op"], {"stage_name": "prod", "arn": stage_arn})

candidate := plantest.change("module.service.aws_api_gateway_stage.candidate", ["no-op"], {"stage_name": "candidate", "arn": "arn:aws:apigateway:ap-northeast-1::/restapis/a1b2c3d4e5/stages/candidate"})

association(arn) := plantest.change("module.service.aws_wafv2_web_acl_association.this[0]", ["no-op"], {"resource_arn": arn, "web_acl_arn": "arn:aws:wafv2:ap-northeast-1:123456789012:regional/webacl/request-dump-prod/x"})

parameter(kind) := plantest.change(`module.service.aws_ssm_parameter.api_key["smoke"]`, ["create"], {"name": "/request-dump-prod/api-keys/smoke", "type": kind})

in_env(env, changes) := json.patch(plantest.plan(changes, []), [{"op": "replace", "path": "/configuration/root_module/module_calls/service/expressions/environment/constant_value", "value": env}])

test_a_secured_prod_plan_passes if {
	count(access.deny) == 0 with input as in_env("prod", [api(key_body), stage, candidate, association(stage_arn), parameter("SecureString")])
	iam := json.marshal({"paths": {"/events": {"post": {"security": [{"sigv4": []}]}}}})
	count(access.deny) == 0 with input as in_env("stg", [api(iam)])
}

test_an_open_method_in_stg_and_prod if {
	every env in ["stg", "prod"] {
		msgs := access.deny with input as in_env(env, [api(open_body)])
		msgs == {sprintf("module.service.aws_api_gateway_rest_api.this: POST /events has no security requirement in the REST API body, so anyone on the internet may call it in %s; set access = { mode = \"api_key\" } (or \"iam\") in envs/%s/main.tf, which the OpenAPI template turns into the method's security", [env, env])}
	}
}

test_dev_may_stay_open if {
	count(access.deny) == 0 with input as in_env("dev", [api(open_body), stage])
}

test_an_empty_requirement_is_open if {
	anyone := json.marshal({"paths": {"/events": {"post": {"security": [{}]}}}})
	count(access.deny) == 1 with input as in_env("stg", [api(anyone)])
	optional := json.marshal({"paths": {"/events": {"post": {"security": [{"api_key": []}, {}]}}}})
	count(access.deny) == 1 with input as in_env("stg", [api(optional)])
	empty := json.marshal({"paths": {"/events": {"post": {"security": []}}}})
	count(access.deny) == 1 with input as in_env("stg", [api(empty)])
}

test_a_document_wide_requirement_counts if {
	doc := json.marshal({"security": [{"api_key": []}], "paths": {"/events": {"post": {}}}})
	count(access.deny) == 0 with input as in_env("stg", [api(doc)])
	overridden := json.marshal({"security": [{"api_key": []}], "paths": {"/events": {"post": {"security": []}}}})
	count(access.deny) == 1 with input as in_env("stg", [api(overridden)])
}

# A first plan: the body depends on ARNs known only after the apply.
first := plantest.with_unknown(plantest.created("module.service.aws_api_gateway_rest_api.this", {"name": "request-dump-prod"}), {"body": true})

with_access(p, mode) := json.patch(p, [{"op": "add", "path": "/configuration/root_module/module_calls/service/expressions/access", "value": {"constant_value": {"mode": mode}}}])

test_a_first_plan_needs_the_access_mode if {
	[msg] := [m | some m in access.deny] with input as in_env("stg", [first])
	contains(msg, "module.service.aws_api_gateway_rest_api.this: the REST API body is known only after the apply and the module call does not set access.mode to api_key or iam")
	count(access.deny) == 1 with input as with_access(in_env("stg", [first]), "none")
	count(access.deny) == 0 with input as with_access(in_env("stg", [first]), "api_key")
	count(access.deny) == 0 with input as with_access(in_env("prod", [first]), "iam")
}

test_an_api_key_in_plain_text if {
	every kind in ["String", "StringList"] {
		msgs := access.deny with input as in_env("dev", [parameter(kind)])
		msgs == {sprintf(`module.service.aws_ssm_parameter.api_key["smoke"]: the API key parameter /request-dump-prod/api-keys/smoke is a %s, kept and shown unencrypted; set type = "SecureString" (as terraform/service/access.tf does)`, [kind])}
	}
	other := plantest.change("aws_ssm_parameter.setting", ["create"], {"name": "/request-dump-prod/log-level", "type": "String"})
	count(access.deny) == 0 with input as in_env("prod", [other])
}

test_prod_without_waf if {
	msgs := access.deny with input as in_env("prod", [api(key_body), stage, candidate])
	msgs == {`module.service.aws_api_gateway_stage.this: the stage "prod" in prod has no AWS WAF web ACL (no aws_wafv2_web_acl_association for it in this plan), so nothing limits one client's request rate before the function writes dump lines; set waf = { enabled = true } in envs/prod/main.tf`}
	count(access.deny) == 1 with input as in_env("prod", [stage, candidate, association("arn:aws:apigateway:ap-northeast-1::/restapis/other/stages/prod")])
	count(access.deny) == 0 with input as in_env("stg", [stage, candidate])
}

test_a_new_stage_protected_by_reference if {
	new_stage := plantest.with_unknown(plantest.created("module.service.aws_api_gateway_stage.this", {"stage_name": "prod"}), {"arn": true})
	new_association := plantest.with_unknown(plantest.created("module.service.aws_wafv2_web_acl_association.this[0]", {}), {"resource_arn": true, "web_acl_arn": true})
	p := plantest.plan([new_stage, new_association], [plantest.config("aws_wafv2_web_acl_association.this", {"resource_arn": ["aws_api_gateway_stage.this.arn", "aws_api_gateway_stage.this"]})])
	count(access.deny) == 0 with input as p
	wrong := plantest.plan([new_stage, new_association], [plantest.config("aws_wafv2_web_acl_association.this", {"resource_arn": ["aws_api_gateway_stage.candidate.arn", "aws_api_gateway_stage.candidate"]})])
	count(access.deny) == 1 with input as wrong
}

# by_local is in_env's plan with environment = local.env: the plan shows
# no env, and the root is held to prod's rules.
by_local(changes) := json.patch(plantest.plan(changes, []), [{"op": "replace", "path": "/configuration/root_module/module_calls/service/expressions/environment", "value": {"references": ["local.env"]}}])

test_an_env_root_whose_env_the_plan_does_not_show_is_held_to_prod if {
	msgs := access.deny with input as by_local([api(open_body), stage, candidate])
	count(msgs) == 2
	some open in msgs
	startswith(open, "module.service.aws_api_gateway_rest_api.this: POST /events has no security requirement in the REST API body, so anyone on the internet may call it in this env root;")
	endswith(open, "(the environment of this env root could not be read from the plan, so it is held to prod's rules; set environment in the module call of envs/<env>/main.tf to a literal (environment = \"stg\") or a root variable (environment = var.environment), whose value the plan records)")
	some waf in msgs
	startswith(waf, `module.service.aws_api_gateway_stage.this: the stage "prod" in this env root`)
	[first_msg] := [m | some m in access.deny] with input as by_local([first])
	contains(first_msg, "in envs/<env>/main.tf")
	count(access.deny) == 0 with input as by_local([api(key_body), stage, candidate, association(stage_arn)])
}

test_the_account_root_has_no_env_rules if {
	account := {"configuration": {"root_module": {"module_calls": {"artifacts": {"source": "../terraform/artifacts"}}}}}
	count(access.deny) == 0 with input as object.union(account, {"resource_changes": [api(open_body), stage]})
}
