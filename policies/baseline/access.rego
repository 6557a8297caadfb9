# Package terraform.access: POST /events is not open to the internet in stg
# and prod, API keys are stored encrypted, and prod's public stage sits
# behind an AWS WAF web ACL.
#
# - In stg and prod, the REST API body gives POST /events a security
#   requirement (an API key or AWS_IAM) that is not empty ([{}] would mean
#   "anyone"). On a first plan the body is known only after the apply; the
#   env root's module call must then set access.mode to api_key or iam,
#   which the OpenAPI template turns into that requirement.
# - In every env, an SSM parameter named like an API key's
#   (/<name>/api-keys/<key>) is a SecureString.
# - In prod, every stage but the rollout's candidate stage has an
#   aws_wafv2_web_acl_association in the same plan.
#
# An env root whose env the plan does not show (environment set from a
# local or an expression) could be prod, so it is held to prod's rules.
package terraform.access

import data.lib.tfplan

guarded_envs := {"stg", "prod"}

# guarded is the env whose rules a plan is held to: its own, or prod's for
# an env root whose env the plan does not show.
guarded := tfplan.environment

guarded := "prod" if tfplan.environment_unread

# env names the env in messages, main_tf the file to change, and unread
# adds, for an env root whose env the plan does not show, why it is held
# to prod's rules and how to make the plan show its env.
env := tfplan.environment

env := "this env root" if tfplan.environment_unread

main_tf := sprintf("envs/%s/main.tf", [tfplan.environment])

main_tf := "envs/<env>/main.tf" if not tfplan.environment

default unread := ""

unread := sprintf(" (%s)", [tfplan.environment_unread_fix]) if tfplan.environment_unread

deny contains msg if {
	guarded in guarded_envs
	some api in tfplan.of_type("aws_api_gateway_rest_api")
	body := object.get(api.change.after, "body", null)
	is_string(body)
	not secured(json.unmarshal(body))
	msg := sprintf("%s: POST /events has no security requirement in the REST API body, so anyone on the internet may call it in %s; set access = { mode = \"api_key\" } (or \"iam\") in %s, which the OpenAPI template turns into the method's security%s", [api.address, env, main_tf, unread])
}

deny contains msg if {
	guarded in guarded_envs
	some api in tfplan.of_type("aws_api_gateway_rest_api")
	tfplan.unknown(api, "body")
	not declares_access
	msg := sprintf("%s: the REST API body is known only after the apply and the module call does not set access.mode to api_key or iam, so nothing shows that POST /events will be secured in %s; set access = { mode = \"api_key\" } (or \"iam\") in %s%s", [api.address, env, main_tf, unread])
}

deny contains msg if {
	some p in tfplan.of_type("aws_ssm_parameter")
	regex.match(`^/[^/]+/api-keys/[^/]+$`, object.get(p.change.after, "name", ""))
	kind := object.get(p.change.after, "type", "String")
	kind != "SecureString"
	msg := sprintf("%s: the API key parameter %s is a %s, kept and shown unencrypted; set type = \"SecureString\" (as terraform/service/access.tf does)", [p.address, p.change.after.name, kind])
}

deny contains msg if {
	guarded == "prod"
	some stage in tfplan.of_type("aws_api_gateway_stage")
	object.get(stage.change.after, "stage_name", "") != "candidate"
	not protected(stage)
	msg := sprintf("%s: the stage %q in %s has no AWS WAF web ACL (no aws_wafv2_web_acl_association for it in this plan), so nothing limits one client's request rate before the function writes dump lines; set waf = { enabled = true } in %s%s", [stage.address, object.get(stage.change.after, "stage_name", ""), env, main_tf, unread])
}

# secured: the operation's security (or, where it has none, the
# document's) lists at least one requirement, and none is empty.
secured(doc) if {
	op := doc.paths["/events"].post
	requirements := object.get(op, "security", object.get(doc, "security", []))
	count(requirements) > 0
	every r in requirements {
		count(r) > 0
	}
}

declares_access if {
	some call in input.configuration.root_module.module_calls
	call.expressions.access.constant_value.mode in {"api_key", "iam"}
}

# protected: an association names the stage's ARN, or, for a stage still to
# be created, refers to the stage in the configuration.
protected(stage) if {
	some a in tfplan.of_type("aws_wafv2_web_acl_association")
	arn := object.get(a.change.after, "resource_arn", null)
	is_string(arn)
	arn == object.get(stage.change.after, "arn", "")
}

protected(stage) if {
	some a in tfplan.of_type("aws_wafv2_web_acl_association")
	tfplan.unknown(a, "resource_arn")
	tfplan.refers_to(a, "resource_arn", stage)
}
