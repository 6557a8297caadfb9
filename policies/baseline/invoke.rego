# Package terraform.invoke: a role that API Gateway assumes (the
# integration's credentials) may call Lambda only to invoke its own
# service's function, or an alias of it: lambda:InvokeFunction on the ARN
# of an aws_lambda_function or aws_lambda_alias of the role's module, and
# nothing broader (no other action, no wildcard, no other function, no
# version). Where the ARNs are known only after the apply (a first
# deploy), the statement's configuration must refer to those resources
# and nothing else.
package terraform.invoke

import data.lib.tfplan

action := "lambda:InvokeFunction"

# api_gateway_roles are roles whose trust policy lets API Gateway assume them.
api_gateway_roles contains role if {
	some role in tfplan.of_type("aws_iam_role")
	some s in tfplan.statements(tfplan.policy_source(role, "assume_role_policy"))
	tfplan.allows(s)
	"apigateway.amazonaws.com" in tfplan.as_array(object.get(s.Principal, "Service", []))
}

# grants are the Allow statements of a role's inline policies that grant
# any Lambda action.
grants contains {"role": role, "where": p.where, "s": s} if {
	some role in api_gateway_roles
	some p in tfplan.inline_policies
	attached(p, role)
	some s in tfplan.statements(p.source)
	tfplan.allows(s)
	some a in s.Action
	lambda_action(a)
}

deny contains msg if {
	some g in grants
	some a in g.s.Action
	a != action
	msg := sprintf("%s: the API Gateway role %s is granted %q; it may only invoke its service's function: allow %q alone", [g.where, g.role.address, a, action])
}

deny contains msg if {
	some g in grants
	some r in g.s.Resource
	not own_arn(r, g.role)
	msg := sprintf("%s: the API Gateway role %s may invoke %q; allow only the ARN of this module's function (aws_lambda_function.<name>.arn) or of an alias of it (aws_lambda_alias.<name>.arn): %v", [g.where, g.role.address, r, own_arns(g.role)])
}

deny contains msg if {
	some g in grants
	g.s.resources_unknown
	some ref in g.s.resource_refs
	not own_reference(ref, g.role)
	not narrower_reference(ref, g.s.resource_refs)
	msg := sprintf("%s: the API Gateway role %s may invoke a resource given by %s; refer only to this module's aws_lambda_function or aws_lambda_alias .arn", [g.where, g.role.address, ref])
}

deny contains msg if {
	some g in grants
	g.s.resources_unknown
	count(g.s.resource_refs) == 0
	msg := sprintf("%s: the API Gateway role %s may invoke resources known only after the apply; refer to this module's aws_lambda_function or aws_lambda_alias .arn", [g.where, g.role.address])
}

lambda_action(a) if startswith(lower(a), "lambda:")

lambda_action(a) if a == "*"

# attached: a policy of the role itself (inline_policy), an
# aws_iam_role_policy whose role argument names it, or an aws_iam_policy
# that an aws_iam_role_policy_attachment attaches to it.
attached(p, role) if p.rc == role

attached(p, role) if {
	p.rc.type == "aws_iam_policy"
	some att in tfplan.of_type("aws_iam_role_policy_attachment")
	attaches_role(att, role)
	attaches_policy(att, p.rc)
}

attaches_role(att, role) if object.get(att.change.after, "role", null) in {object.get(role.change.after, "name", ""), object.get(role.change.after, "id", "")}

attaches_role(att, role) if {
	tfplan.unknown(att, "role")
	tfplan.refers_to(att, "role", role)
}

attaches_policy(att, policy) if {
	arn := object.get(att.change.after, "policy_arn", null)
	arn != null
	arn == object.get(policy.change.after, "arn", "")
}

attaches_policy(att, policy) if {
	tfplan.unknown(att, "policy_arn")
	tfplan.refers_to(att, "policy_arn", policy)
}

attached(p, role) if {
	p.rc.type == "aws_iam_role_policy"
	object.get(p.rc.change.after, "role", null) in {object.get(role.change.after, "name", ""), object.get(role.change.after, "id", "")}
}

attached(p, role) if {
	p.rc.type == "aws_iam_role_policy"
	tfplan.unknown(p.rc, "role")
	tfplan.refers_to(p.rc, "role", role)
}

functions(role) := {fn | some fn in tfplan.of_type("aws_lambda_function"); tfplan.same_module(fn, role)}

aliases(fn) := {alias |
	some alias in tfplan.of_type("aws_lambda_alias")
	tfplan.same_module(alias, fn)
	alias_of(alias, fn)
}

alias_of(alias, fn) if object.get(alias.change.after, "function_name", null) in {fn.change.after.function_name, object.get(fn.change.after, "arn", "")}

alias_of(alias, fn) if tfplan.refers_to(alias, "function_name", fn)

# own_arn: the function's ARN or an alias's, exactly where the plan knows
# them; by name (any region and account, no wildcard) where it does not.
own_arn(r, role) if r in own_arns(role)

own_arn(r, role) if {
	parts := regex.find_all_string_submatch_n(`^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:([A-Za-z0-9_-]+)(?::([A-Za-z0-9_-]+))?$`, r, 1)
	count(parts) == 1
	some fn in functions(role)
	not fn.change.after.arn
	parts[0][1] == fn.change.after.function_name
	qualifier_ok(parts[0][2], fn)
}

qualifier_ok(q, _) if q == ""

qualifier_ok(q, fn) if {
	some alias in aliases(fn)
	q == alias.change.after.name
}

own_arns(role) := {arn |
	some fn in functions(role)
	arn := fn.change.after.arn
} | {arn |
	some fn in functions(role)
	some alias in aliases(fn)
	arn := object.get(alias.change.after, "arn", sprintf("%s:%s", [object.get(fn.change.after, "arn", ""), alias.change.after.name]))
	not startswith(arn, ":")
}

# own_reference: the statement's configuration refers to the ARN of a
# function of the role's module or of an alias of it.
own_reference(ref, role) if {
	some fn in functions(role)
	target := own_targets(fn)[_]
	ref in {tfplan.config_address(target), sprintf("%s.arn", [tfplan.config_address(target)])}
}

# narrower_reference: Terraform lists var.x.arn and var.x for one
# expression; the message names the narrower one.
narrower_reference(ref, refs) if {
	some other in refs
	startswith(other, sprintf("%s.", [ref]))
}

own_targets(fn) := array.concat([fn], [alias | some alias in aliases(fn)])
