package terraform.iam_test

import data.lib.plantest
import data.terraform.iam

role_policy(statements) := plantest.created("module.service.aws_iam_role_policy.p", {"name": "p", "policy": plantest.policy(statements)})

plan(changes) := {"resource_changes": changes}

allow(action, resource) := {"Sid": "S", "Effect": "Allow", "Action": action, "Resource": resource}

test_scoped_statements_pass if {
	count(iam.deny) == 0 with input as plan([role_policy([
		allow(["s3:GetObject", "s3:Get*"], "arn:aws:s3:::b/*"),
		allow("logs:PutLogEvents", "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/f:*"),
	])])
}

test_every_action if {
	iam.deny == {`module.service.aws_iam_role_policy.p: statement "S" allows "*", every action of AWS; list the actions the role needs instead`} with input as plan([role_policy([allow("*", "arn:aws:s3:::b")])])
}

test_every_action_of_a_service if {
	iam.deny == {`module.service.aws_iam_role_policy.p: statement "S" allows "s3:*", every action of s3; list the actions the role needs instead`} with input as plan([role_policy([allow(["s3:GetObject", "s3:*"], "arn:aws:s3:::b")])])
}

test_not_action if {
	[msg] := [m | some m in iam.deny] with input as plan([role_policy([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}])])
	contains(msg, "(no Sid) allows every action except [\"iam:*\"] (NotAction)")
}

test_every_resource if {
	[msg] := [m | some m in iam.deny] with input as plan([role_policy([allow("s3:GetObject", "*")])])
	startswith(msg, `module.service.aws_iam_role_policy.p: statement "S" allows ["s3:GetObject"] on every resource ("*"); name the ARNs it needs`)
	contains(msg, "policies/baseline/exceptions.rego")
}

test_an_arn_that_is_only_a_wildcard if {
	count(iam.deny) == 1 with input as plan([role_policy([allow("s3:GetObject", "arn:aws:s3:::*")])])
	count(iam.deny) == 1 with input as plan([role_policy([allow("lambda:GetFunction", "arn:aws:lambda:*:*:*")])])
	count(iam.deny) == 1 with input as plan([role_policy([allow("s3:GetObject", "arn:aws:s3:::*/*")])])
	count(iam.deny) == 1 with input as plan([role_policy([allow("iam:GetRole", "arn:aws:iam::*:*/*")])])
	count(iam.deny) == 0 with input as plan([role_policy([allow("s3:GetObject", "arn:aws:s3:::b/*")])])
	count(iam.deny) == 0 with input as plan([role_policy([allow("logs:PutLogEvents", "arn:aws:logs:*:123456789012:log-group:g:*")])])
}

test_not_resource if {
	[msg] := [m | some m in iam.deny] with input as plan([role_policy([{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}])])
	contains(msg, "on every resource except [\"arn:aws:s3:::secret/*\"] (NotResource)")
}

test_deny_statements_may_be_broad if {
	count(iam.deny) == 0 with input as plan([plantest.created("module.artifacts.aws_s3_bucket_policy.this", {"policy": plantest.policy([{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Principal": "*"}])})])
}

drift(actions) := plantest.created("module.github_oidc.aws_iam_role_policy.drift[0]", {"policy": plantest.policy([{"Sid": "ReadResourceConfiguration", "Effect": "Allow", "Action": actions, "Resource": "*"}])})

test_the_documented_exception if {
	count(iam.deny) == 0 with input as plan([drift(["lambda:GetFunction", "lambda:List*", "apigateway:GET", "iam:GetRole"])])
}

test_the_exception_covers_only_its_actions if {
	[msg] := [m | some m in iam.deny] with input as plan([drift(["lambda:GetFunction", "lambda:UpdateFunctionCode"])])
	startswith(msg, `module.github_oidc.aws_iam_role_policy.drift[0]: statement "ReadResourceConfiguration" allows ["lambda:GetFunction", "lambda:UpdateFunctionCode"] on every resource`)
}

# The exception is for configuration reads: the data-plane reads that
# terraform/github-oidc/drift.tf keeps off "*" are not let through by it,
# Get* though they are.
test_the_exception_covers_no_data_plane_read if {
	every action in ["s3:GetObject", "logs:GetLogEvents", "ssm:GetParameter", "ssm:GetParameters", "secretsmanager:GetSecretValue", "wafv2:GetSampledRequests", "*:Get*"] {
		[msg] := [m | some m in iam.deny] with input as plan([drift(["lambda:GetFunction", action])])
		contains(msg, sprintf(`allows ["lambda:GetFunction", %q] on every resource`, [action]))
	}
}

test_the_exception_covers_only_its_statement if {
	other := json.patch(drift(["lambda:GetFunction"]), [{"op": "replace", "path": "/address", "value": "module.github_oidc.aws_iam_role_policy.this"}, {"op": "replace", "path": "/name", "value": "this"}])
	count(iam.deny) == 1 with input as plan([other])
}

role(trust) := plantest.created("aws_iam_role.r", {"name": "r", "assume_role_policy": plantest.policy([trust])})

anyone contains m if {
	some m in iam.deny
	contains(m, "lets any principal assume the role")
}

test_trust_for_anyone if {
	count(anyone) == 1 with input as plan([role({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "*"}})])
	count(anyone) == 1 with input as plan([role({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"})])
	count(iam.deny) == 0 with input as plan([role({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}})])
}

test_a_policy_known_only_after_the_apply if {
	rc := plantest.with_unknown(plantest.created("aws_iam_role_policy.p", {"name": "p"}), {"policy": true})
	iam.deny == {`aws_iam_role_policy.p: the policy is known only after the apply, so its statements cannot be checked; build it with a data "aws_iam_policy_document", whose statements the plan shows`} with input as plantest.root_plan([rc], [plantest.config("aws_iam_role_policy.p", {"policy": ["aws_lambda_function.f.arn", "aws_lambda_function.f"]})])
}

# A role's inline_policy block is checked like an aws_iam_role_policy: one
# whose document (or the whole set of blocks the configuration writes) is
# known only after the apply is reported, not skipped. A role that writes
# none plans the set as unknown too.
test_an_inline_policy_known_only_after_the_apply if {
	trust := plantest.policy([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}])
	known := plantest.created("aws_iam_role.r", {"name": "r", "assume_role_policy": trust, "inline_policy": [{"name": "logs", "policy": plantest.policy([allow("logs:PutLogEvents", "arn:aws:logs:ap-northeast-1:123456789012:log-group:g:*")])}]})
	count(iam.deny) == 0 with input as plan([known])
	one := plantest.with_unknown(plantest.created("aws_iam_role.r", {"name": "r", "assume_role_policy": trust, "inline_policy": [{"name": "logs", "policy": null}]}), {"inline_policy": [{"policy": true}]})
	iam.deny == {`aws_iam_role.r inline_policy "logs": the policy is known only after the apply, so its statements cannot be checked; build it with a data "aws_iam_policy_document", whose statements the plan shows`} with input as plan([one])
	all := plantest.with_unknown(plantest.created("aws_iam_role.r", {"name": "r", "assume_role_policy": trust}), {"inline_policy": true})
	written := {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "name": "r", "expressions": {"inline_policy": [{"name": {"constant_value": "logs"}, "policy": {"references": ["local.logs"]}}]}}
	iam.deny == {`aws_iam_role.r inline_policy: the policy is known only after the apply, so its statements cannot be checked; build it with a data "aws_iam_policy_document", whose statements the plan shows`} with input as plantest.root_plan([all], [written])
	count(iam.deny) == 0 with input as plantest.root_plan([all], [plantest.config("aws_iam_role.r", {})])
}

# A policy document read during the apply is checked with the documents it
# merges: a wildcard there is reported like one in its own statements.
test_a_merged_document_read_during_the_apply if {
	rc := plantest.with_unknown(plantest.created("aws_iam_role_policy.p", {"name": "p"}), {"policy": true})
	merged := plantest.policy([allow("iam:*", "arn:aws:iam::123456789012:role/x")])
	doc := plantest.data_read("data.aws_iam_policy_document.d", {"statement": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*"]}], "override_policy_documents": [merged]}, {"json": true})
	p := plantest.root_plan([rc, doc], [plantest.config("aws_iam_role_policy.p", {"policy": ["data.aws_iam_policy_document.d.json", "data.aws_iam_policy_document.d"]})])
	iam.deny == {`aws_iam_role_policy.p: statement "S" allows "iam:*", every action of iam; list the actions the role needs instead`} with input as p
}

attachment(arn) := plantest.created("aws_iam_role_policy_attachment.a", {"role": "r", "policy_arn": arn})

test_managed_policies if {
	count(iam.deny) == 0 with input as plan([attachment("arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess")])
	count(iam.deny) == 0 with input as plan([attachment("arn:aws-cn:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")])
	iam.deny == {"aws_iam_role_policy_attachment.a: attaches arn:aws:iam::aws:policy/AdministratorAccess, whose statements this plan does not show; use an inline policy built with aws_iam_policy_document, an aws_iam_policy defined here, or an AWS managed policy listed (with the reason) in policies/baseline/exceptions.rego"} with input as plan([attachment("arn:aws:iam::aws:policy/AdministratorAccess")])
	count(iam.deny) == 1 with input as plan([attachment("arn:aws:iam::123456789012:policy/elsewhere")])
}

test_a_policy_of_this_plan_may_be_attached if {
	policy := plantest.with_unknown(plantest.created("aws_iam_policy.mine", {"name": "mine", "policy": plantest.policy([allow("s3:GetObject", "arn:aws:s3:::b/*")])}), {"arn": true})
	a := plantest.with_unknown(plantest.created("aws_iam_role_policy_attachment.a", {"role": "r"}), {"policy_arn": true})
	p := plantest.root_plan([policy, a], [plantest.config("aws_iam_role_policy_attachment.a", {"policy_arn": ["aws_iam_policy.mine.arn", "aws_iam_policy.mine"]})])
	count(iam.deny) == 0 with input as p
	q := plantest.root_plan([policy, a], [plantest.config("aws_iam_role_policy_attachment.a", {"policy_arn": ["var.policy_arn"]})])
	count(iam.deny) == 1 with input as q
}
