package terraform.invoke_test

import data.lib.plantest
import data.terraform.invoke

fn_arn := "arn:aws:lambda:ap-northeast-1:123456789012:function:request-dump-prod"

trust := plantest.policy([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "apigateway.amazonaws.com"}}])

role := plantest.change("module.service.aws_iam_role.api_gateway", ["no-op"], {"name": "request-dump-prod-api-gateway", "id": "request-dump-prod-api-gateway", "assume_role_policy": trust})

function := plantest.change("module.service.aws_lambda_function.this", ["update"], {"function_name": "request-dump-prod", "arn": fn_arn})

live := plantest.change("module.service.aws_lambda_alias.live", ["update"], {"name": "live", "function_name": "request-dump-prod", "arn": concat(":", [fn_arn, "live"])})

grant(action, resources) := plantest.change("module.service.aws_iam_role_policy.api_gateway_invoke", ["update"], {
	"role": "request-dump-prod-api-gateway",
	"policy": plantest.policy([{"Effect": "Allow", "Action": action, "Resource": resources}]),
})

plan(changes) := {"resource_changes": changes}

test_the_function_or_its_alias if {
	count(invoke.deny) == 0 with input as plan([role, function, live, grant("lambda:InvokeFunction", fn_arn)])
	count(invoke.deny) == 0 with input as plan([role, function, live, grant("lambda:InvokeFunction", [fn_arn, concat(":", [fn_arn, "live"])])])
}

test_another_action if {
	invoke.deny == {`module.service.aws_iam_role_policy.api_gateway_invoke: the API Gateway role module.service.aws_iam_role.api_gateway is granted "lambda:UpdateFunctionCode"; it may only invoke its service's function: allow "lambda:InvokeFunction" alone`} with input as plan([role, function, grant(["lambda:InvokeFunction", "lambda:UpdateFunctionCode"], fn_arn)])
	count(invoke.deny) == 1 with input as plan([role, function, grant("lambda:*", fn_arn)])
}

test_wildcards_versions_and_other_functions if {
	msgs := invoke.deny with input as plan([role, function, live, grant("lambda:InvokeFunction", [
		concat(":", [fn_arn, "*"]),
		concat(":", [fn_arn, "7"]),
		"arn:aws:lambda:ap-northeast-1:123456789012:function:request-dump-stg",
		"*",
	])])
	count(msgs) == 4
	some m in msgs
	contains(m, `may invoke "arn:aws:lambda:ap-northeast-1:123456789012:function:request-dump-prod:*"; allow only the ARN of this module's function`)
}

test_an_unknown_alias_name if {
	count(invoke.deny) == 1 with input as plan([role, function, live, grant("lambda:InvokeFunction", concat(":", [fn_arn, "candidate"]))])
}

# A managed policy of the plan, attached to the role, grants as much as an
# inline one: its statements are held to the same rule.
managed(action) := plantest.change("module.service.aws_iam_policy.extra", ["update"], {
	"arn": "arn:aws:iam::123456789012:policy/extra",
	"policy": plantest.policy([{"Effect": "Allow", "Action": action, "Resource": fn_arn}]),
})

attachment(role_name) := plantest.change("module.service.aws_iam_role_policy_attachment.extra", ["update"], {
	"role": role_name,
	"policy_arn": "arn:aws:iam::123456789012:policy/extra",
})

test_a_managed_policy_attached_to_the_role if {
	invoke.deny == {`module.service.aws_iam_policy.extra: the API Gateway role module.service.aws_iam_role.api_gateway is granted "lambda:UpdateFunctionCode"; it may only invoke its service's function: allow "lambda:InvokeFunction" alone`} with input as plan([role, function, managed("lambda:UpdateFunctionCode"), attachment("request-dump-prod-api-gateway")])
	count(invoke.deny) == 0 with input as plan([role, function, managed("lambda:InvokeFunction"), attachment("request-dump-prod-api-gateway")])
	count(invoke.deny) == 0 with input as plan([role, function, managed("lambda:UpdateFunctionCode"), attachment("another-role")])
	count(invoke.deny) == 0 with input as plan([role, function, managed("lambda:UpdateFunctionCode")])
}

test_roles_api_gateway_does_not_assume_are_not_this_rule if {
	other := json.patch(role, [{"op": "replace", "path": "/change/after/assume_role_policy", "value": plantest.policy([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}])}])
	count(invoke.deny) == 0 with input as plan([other, function, grant("lambda:InvokeFunction", "*")])
}

# A first plan: the role, function and alias are created, so the policy is
# known only after the apply; the statement's configuration says what it
# names.
first_plan(refs) := plantest.plan(
	[
		plantest.with_unknown(plantest.created("module.service.aws_iam_role.api_gateway", {"name": "request-dump-prod-api-gateway", "assume_role_policy": trust}), {"arn": true, "id": true}),
		plantest.with_unknown(plantest.created("module.service.aws_lambda_function.this", {"function_name": "request-dump-prod"}), {"arn": true}),
		plantest.with_unknown(plantest.created("module.service.aws_lambda_alias.live", {"name": "live", "function_name": "request-dump-prod"}), {"arn": true}),
		plantest.with_unknown(plantest.created("module.service.aws_iam_role_policy.api_gateway_invoke", {"name": "invoke-function"}), {"policy": true, "role": true}),
		plantest.data_read(
			"module.service.data.aws_iam_policy_document.api_gateway_invoke",
			{"statement": [{"actions": ["lambda:InvokeFunction"], "resources": [null | some _ in refs], "effect": null, "sid": null}]},
			{"json": true, "statement": [{"resources": [true | some _ in refs]}]},
		),
	],
	[
		plantest.config("aws_iam_role_policy.api_gateway_invoke", {
			"policy": ["data.aws_iam_policy_document.api_gateway_invoke.json", "data.aws_iam_policy_document.api_gateway_invoke"],
			"role": ["aws_iam_role.api_gateway.id", "aws_iam_role.api_gateway"],
		}),
		plantest.config("aws_lambda_alias.live", {"function_name": ["aws_lambda_function.this.function_name", "aws_lambda_function.this"]}),
		{"address": "data.aws_iam_policy_document.api_gateway_invoke", "mode": "data", "type": "aws_iam_policy_document", "name": "api_gateway_invoke", "expressions": {"statement": [{"resources": {"references": refs}}]}},
	],
)

test_first_plan_refers_to_the_function_and_alias if {
	count(invoke.deny) == 0 with input as first_plan(["aws_lambda_function.this.arn", "aws_lambda_function.this"])
	count(invoke.deny) == 0 with input as first_plan(["aws_lambda_alias.live.arn", "aws_lambda_alias.live"])
}

test_first_plan_refers_to_something_else if {
	invoke.deny == {`module.service.aws_iam_role_policy.api_gateway_invoke: the API Gateway role module.service.aws_iam_role.api_gateway may invoke a resource given by var.function_arn; refer only to this module's aws_lambda_function or aws_lambda_alias .arn`} with input as first_plan(["aws_lambda_alias.live.arn", "aws_lambda_alias.live", "var.function_arn"])
}
