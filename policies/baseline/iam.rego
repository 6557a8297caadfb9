# Package terraform.iam: no Allow statement grants every action of a service
# ("*", "s3:*") or everything but a list (NotAction); Resource "*" (or an
# ARN that is only a wildcard) only where policies/baseline/exceptions.rego
# allows it; no trust policy lets any principal assume a role; attached
# managed policies are the AWS ones exceptions.rego lists or policies this
# plan defines (and so checks).
package terraform.iam

import data.lib.tfplan
import data.terraform.exceptions

# policies are every policy document of the plan: identity, resource and
# trust policies, with the address to name in a message.
policies contains p if some p in tfplan.inline_policies

policies contains {"rc": rc, "where": sprintf("%s assume_role_policy", [rc.address]), "source": tfplan.policy_source(rc, "assume_role_policy")} if {
	some rc in tfplan.of_type("aws_iam_role")
}

deny contains msg if {
	some p in policies
	some s in tfplan.statements(p.source)
	tfplan.allows(s)
	some action in s.Action
	wildcard_action(action)
	msg := sprintf("%s: statement %s allows %q, every action of %s; list the actions the role needs instead", [p.where, sid(s), action, service(action)])
}

deny contains msg if {
	some p in policies
	some s in tfplan.statements(p.source)
	tfplan.allows(s)
	count(s.NotAction) > 0
	msg := sprintf("%s: statement %s allows every action except %v (NotAction); list the actions it allows in actions instead", [p.where, sid(s), s.NotAction])
}

deny contains msg if {
	some p in policies
	some s in tfplan.statements(p.source)
	tfplan.allows(s)
	some resource in s.Resource
	wildcard_resource(resource)
	not excepted(p, s)
	msg := sprintf("%s: statement %s allows %v on every resource (%q); name the ARNs it needs, or, where the actions take no resource ARN, add the statement (address, Sid, action patterns, reason) to policies/baseline/exceptions.rego", [p.where, sid(s), s.Action, resource])
}

deny contains msg if {
	some p in policies
	some s in tfplan.statements(p.source)
	tfplan.allows(s)
	count(s.NotResource) > 0
	msg := sprintf("%s: statement %s allows %v on every resource except %v (NotResource); name the resources it applies to instead", [p.where, sid(s), s.Action, s.NotResource])
}

deny contains msg if {
	some rc in tfplan.of_type("aws_iam_role")
	some s in tfplan.statements(tfplan.policy_source(rc, "assume_role_policy"))
	tfplan.allows(s)
	any_principal(s.Principal)
	msg := sprintf("%s: the trust policy (statement %s) lets any principal assume the role; name the service, account or federated provider that may", [rc.address, sid(s)])
}

deny contains msg if {
	some p in policies
	p.source.opaque
	msg := sprintf("%s: the policy is known only after the apply, so its statements cannot be checked; build it with a data \"aws_iam_policy_document\", whose statements the plan shows", [p.where])
}

deny contains msg if {
	some a in attachments
	not checked_policy(a)
	msg := sprintf("%s: attaches %s, whose statements this plan does not show; use an inline policy built with aws_iam_policy_document, an aws_iam_policy defined here, or an AWS managed policy listed (with the reason) in policies/baseline/exceptions.rego", [a.where, a.arn])
}

# attachments are the managed policy ARNs the plan attaches, with where.
attachments contains {"rc": rc, "where": rc.address, "arn": object.get(rc.change.after, "policy_arn", "(known only after the apply)")} if {
	some rc in tfplan.resources
	rc.type in {"aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_policy_attachment"}
}

attachments contains {"rc": rc, "where": sprintf("%s managed_policy_arns", [rc.address]), "arn": arn} if {
	some rc in tfplan.of_type("aws_iam_role")
	some arn in object.get(rc.change.after, "managed_policy_arns", [])
}

# checked_policy: an AWS managed policy listed in exceptions.rego, or a
# policy of this plan, by its ARN or, for one still to be created, by the
# configuration's reference to it.
checked_policy(a) if {
	some name, _ in exceptions.managed_policies
	regex.match(sprintf(`^arn:aws[a-z-]*:iam::aws:policy/%s$`, [name]), a.arn)
}

checked_policy(a) if {
	some policy in tfplan.of_type("aws_iam_policy")
	a.arn == object.get(policy.change.after, "arn", null)
}

checked_policy(a) if {
	tfplan.unknown(a.rc, "policy_arn")
	refs := tfplan.references(a.rc, "policy_arn")
	count(refs) > 0
	every ref in refs {
		some policy in tfplan.of_type("aws_iam_policy")
		tfplan.same_module(policy, a.rc)
		addr := tfplan.config_address(policy)
		ref in {addr, sprintf("%s.arn", [addr])}
	}
}

# wildcard_action: "*" or a whole service ("s3:*").
wildcard_action(action) if action == "*"

wildcard_action(action) if endswith(action, ":*")

# wildcard_resource: "*" or an ARN whose resource part is only wildcards
# and separators (arn:aws:s3:::*, arn:aws:s3:::*/*, every object of every
# bucket; arn:aws:lambda:*:*:*).
wildcard_resource(resource) if resource == "*"

wildcard_resource(resource) if regex.match(`^arn:[^:]*:[^:]*:[^:]*:[^:]*:[*/:]+$`, resource)

any_principal(principal) if principal == "*"

any_principal(principal) if "*" in tfplan.as_array(object.get(principal, "AWS", []))

# aws_iam_policy_document writes principals { type = "*" } as Principal "*".
any_principal(principal) if "*" in object.get(principal, "*", [])

excepted(p, s) if {
	some e in exceptions.wildcard_resources
	p.rc.address == e.address
	s.Sid == e.sid
	every action in s.Action {
		some pattern in e.actions
		glob.match(pattern, [":"], action)
	}
}

sid(s) := sprintf("%q", [s.Sid]) if s.Sid != ""

sid(s) := "(no Sid)" if s.Sid == ""

service(action) := "AWS" if action == "*"

service(action) := split(action, ":")[0] if action != "*"
