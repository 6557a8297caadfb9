package terraform.protect_test

import data.lib.plantest
import data.terraform.protect

api(actions) := plantest.change("module.service.aws_api_gateway_rest_api.this", actions, {"name": "request-dump-prod"})

group(actions) := plantest.change("module.service.aws_cloudwatch_log_group.this", actions, null)

env_plan(env, changes) := object.union(plantest.plan(changes, []), {"configuration": {"root_module": {"module_calls": {"service": {"expressions": {"environment": {"constant_value": env}}}}}}})

test_prod_replacing_its_api if {
	protect.deny == {"module.service.aws_api_gateway_rest_api.this: this prod plan would replace (destroy and re-create) the REST API, whose new id changes the URL every client calls. If that is intended, the override is an approval in the pull request by an owner of the prod-destroy policy set other than its author: `atlantis approve_policies -p prod --policy-set prod-destroy` (docs/runbook.md, Guardrails); otherwise change the code so that the plan keeps it (a moved block for a renamed resource; no change to an argument that forces replacement)"} with input as env_plan("prod", [api(["create", "delete"])])
}

test_prod_destroying_a_log_group if {
	[msg] := [m | some m in protect.deny] with input as env_plan("prod", [group(["delete"])])
	startswith(msg, "module.service.aws_cloudwatch_log_group.this: this prod plan would destroy the log group and every event in it.")
}

test_changes_in_place_and_other_envs_pass if {
	count(protect.deny) == 0 with input as env_plan("prod", [api(["update"]), group(["no-op"])])
	count(protect.deny) == 0 with input as env_plan("dev", [api(["delete", "create"]), group(["delete"])])
	count(protect.deny) == 0 with input as env_plan("stg", [api(["delete"])])
}

test_the_account_root_keeps_its_bucket if {
	p := {
		"resource_changes": [plantest.change("module.artifacts.aws_s3_bucket.this", ["delete"], null)],
		"configuration": {"root_module": {"module_calls": {"artifacts": {"source": "../terraform/artifacts"}}}},
	}
	[msg] := [m | some m in protect.deny] with input as p
	startswith(msg, "module.artifacts.aws_s3_bucket.this: this account-level plan would destroy the artifact bucket and every env's code in it.")
	contains(msg, "atlantis approve_policies -p global --policy-set prod-destroy")
}

test_other_types_are_not_guarded if {
	count(protect.deny) == 0 with input as env_plan("prod", [plantest.change("module.service.aws_api_gateway_deployment.this", ["create", "delete"], {})])
}

# environment = var.environment is read from the plan's variables; from a
# local, the plan does not show it and the root is guarded as prod.
test_an_env_root_without_a_literal_environment if {
	by_var := {
		"variables": {"environment": {"value": "prod"}},
		"resource_changes": [group(["delete"])],
		"configuration": {"root_module": {"module_calls": {"service": {"source": "../../terraform/service", "expressions": {"environment": {"references": ["var.environment"]}}}}}},
	}
	[msg] := [m | some m in protect.deny] with input as by_var
	startswith(msg, "module.service.aws_cloudwatch_log_group.this: this prod plan would destroy the log group")
	count(protect.deny) == 0 with input as json.patch(by_var, [{"op": "replace", "path": "/variables/environment/value", "value": "dev"}])
	by_local := json.patch(by_var, [{"op": "replace", "path": "/configuration/root_module/module_calls/service/expressions/environment/references", "value": ["local.environment"]}])
	[unknown] := [m | some m in protect.deny] with input as by_local
	startswith(unknown, "module.service.aws_cloudwatch_log_group.this: this env root's plan would destroy the log group and every event in it (the environment of this env root could not be read from the plan, so it is held to prod's rules;")
}
