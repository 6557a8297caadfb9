# Package lib.tfplan reads Terraform's JSON plan format (`terraform show
# -json <planfile>`, format_version 1.x, what Atlantis's `show` step writes
# and its `policy_check` step hands to conftest): the resources a plan
# leaves in place, what it deletes or replaces, what a resource's
# configuration refers to, and which env the plan is for. Every policy set
# loads it (atlantis/Dockerfile copies it into each set's directory).
package lib.tfplan

# changes are the plan's managed resource changes, no-op ones included.
changes contains rc if {
	some rc in input.resource_changes
	rc.mode == "managed"
}

# resources are the managed resources that exist after the apply: created,
# updated, replaced or left alone. A deleted resource's `after` is null.
resources contains rc if {
	some rc in changes
	rc.change.after != null
}

# of_type returns the resources of one type that exist after the apply.
of_type(type) := {rc | some rc in resources; rc.type == type}

# deletes reports a change that destroys the existing object, alone or as
# part of a replacement.
deletes(rc) if "delete" in rc.change.actions

# replaces reports a change that destroys the object and creates a new one
# (in either order: create_before_destroy plans ["create", "delete"]).
replaces(rc) if {
	"delete" in rc.change.actions
	"create" in rc.change.actions
}

# module_address is "" for a resource of the root module.
module_address(rc) := object.get(rc, "module_address", "")

# same_module reports whether two resource changes sit in the same module
# instance.
same_module(a, b) if module_address(a) == module_address(b)

# module_config returns the configuration block of the module at a module
# address: module.a["k"].module.b is
# configuration.root_module.module_calls.a.module.module_calls.b.module
# (the configuration has one block per module call, not per instance).
module_config(addr) := input.configuration.root_module if addr == ""

module_config(addr) := m if {
	addr != ""
	names := [match[1] | some match in regex.find_all_string_submatch_n(`module\.([A-Za-z0-9_-]+)`, addr, -1)]
	path := array.concat(["root_module"], [step | some name in names; some step in ["module_calls", name, "module"]])
	m := object.get(input.configuration, path, null)
	m != null
}

# config returns a resource's configuration (expressions, as written).
config(rc) := r if {
	some r in module_config(module_address(rc)).resources
	r.mode == rc.mode
	r.type == rc.type
	r.name == rc.name
}

# config_address is a resource's address inside its module, without the
# instance key: what other resources' references name it by.
config_address(rc) := sprintf("%s.%s", [rc.type, rc.name]) if rc.mode == "managed"

config_address(rc) := sprintf("data.%s.%s", [rc.type, rc.name]) if rc.mode == "data"

# references returns what an attribute's expression refers to, e.g.
# ["aws_s3_bucket.this.id", "aws_s3_bucket.this"]; [] for a constant.
references(rc, attr) := object.get(config(rc), ["expressions", attr, "references"], [])

# refers_to reports whether rc's attribute refers to the resource target
# (any attribute of it, any instance of it).
refers_to(rc, attr, target) if {
	same_module(rc, target)
	config_address(target) in references(rc, attr)
}

# unknown reports an attribute whose value is known only after the apply.
unknown(rc, attr) if object.get(rc.change, ["after_unknown", attr], false) == true

# environment is the env an env root deploys: the `environment` argument
# of the module it calls (envs/<env>/main.tf), a literal or a root
# variable, whose value the plan records. Undefined for the account-level
# root, and for an env root that derives it otherwise (a local, an
# expression): env_root tells that one apart.
environment := env if {
	some call in input.configuration.root_module.module_calls
	env := call.expressions.environment.constant_value
	is_string(env)
}

environment := env if {
	some call in input.configuration.root_module.module_calls
	[ref] := call.expressions.environment.references
	startswith(ref, "var.")
	env := input.variables[substring(ref, 4, -1)].value
	is_string(env)
}

# env_root reports a root that calls the service module (envs/<env>),
# whether or not the plan shows which env it deploys. The source may end in
# a slash or, for a Git source, a query (?ref=v1.2.0).
env_root if {
	some call in input.configuration.root_module.module_calls
	regex.match(`(^|/)terraform/service/?(\?.*)?$`, call.source)
}

# environment_unread reports an env root whose env the plan does not show:
# its module call sets environment from a local or an expression. The
# policies hold such a root to their strictest env's (prod's) rules.
environment_unread if {
	env_root
	not environment
}

# environment_unread_fix says so in a message, and what to change.
environment_unread_fix := "the environment of this env root could not be read from the plan, so it is held to prod's rules; set environment in the module call of envs/<env>/main.tf to a literal (environment = \"stg\") or a root variable (environment = var.environment), whose value the plan records"

# account_root reports the account-level root (global/): the one that
# calls the artifacts module, whose bucket holds every env's code (its
# source read as env_root reads the service module's).
account_root if {
	some call in input.configuration.root_module.module_calls
	regex.match(`(^|/)terraform/artifacts/?(\?.*)?$`, call.source)
}

# project is the Atlantis project a plan belongs to, for the commands a
# message suggests: the env, or "global" for the account-level root.
default project := "<project>"

project := environment

project := "global" if {
	not environment
	account_root
}

# policy_source describes where the policy attribute attr of rc comes
# from: {"json": <document>} when the plan knows it, {"statements": [...]}
# from the aws_iam_policy_document data sources it refers to when those
# are read during the apply, or {"opaque": true} when neither shows it
# (a jsonencode() of values known only after the apply).
policy_source(rc, attr) := {"json": json.unmarshal(doc)} if {
	doc := object.get(rc.change.after, attr, null)
	is_string(doc)
	doc != ""
}

policy_source(rc, attr) := {"statements": [s | some doc in docs; some s in document_statements(doc)]} if {
	not is_string(object.get(rc.change.after, attr, null))
	docs := policy_documents(rc, attr)
	count(docs) > 0
	not any_merges_unknown(docs)
}

policy_source(rc, attr) := {"opaque": true} if {
	not is_string(object.get(rc.change.after, attr, null))
	count(policy_documents(rc, attr)) == 0
}

policy_source(rc, attr) := {"opaque": true} if {
	not is_string(object.get(rc.change.after, attr, null))
	any_merges_unknown(policy_documents(rc, attr))
}

# merged_attributes are the arguments of aws_iam_policy_document that
# merge whole policy documents (JSON strings) into its own statements.
merged_attributes := ["source_policy_documents", "override_policy_documents"]

# any_merges_unknown: a document merges a policy the plan does not know.
any_merges_unknown(docs) if {
	some doc in docs
	some attr in merged_attributes
	any_unknown(object.get(doc.change, ["after_unknown", attr], false))
}

# policy_documents are the aws_iam_policy_document data sources, read
# during the apply, that rc's attribute refers to.
policy_documents(rc, attr) := {doc |
	some doc in input.resource_changes
	doc.mode == "data"
	doc.type == "aws_iam_policy_document"
	same_module(doc, rc)
	config_address(doc) in references(rc, attr)
}

# document_statements are an aws_iam_policy_document's statements: its own
# blocks and those of the documents it merges.
document_statements(doc) := array.concat(block_statements(doc), merged_statements(doc))

# merged_statements are the statements of the policy documents that
# source_policy_documents and override_policy_documents merge in (an
# override replaces a statement of the same Sid, so keeping both can only
# report more).
merged_statements(doc) := [normalize(s) |
	some attr in merged_attributes
	some merged in value(doc.change.after, attr, [])
	is_string(merged)
	some s in as_array(object.get(json.unmarshal(merged), "Statement", []))
]

# block_statements turns the planned statement blocks of an
# aws_iam_policy_document into statements shaped like a policy document's
# (Sid, Effect, Action, NotAction, Resource, NotResource, Principal). An
# element known only after the apply is null in `after` (the position is
# kept) or the whole set is missing; resources_unknown says so, and
# resource_refs what the block's configuration refers to there.
block_statements(doc) := [s |
	some i, block in object.get(doc.change.after, "statement", [])
	unknown := object.get(doc.change, ["after_unknown", "statement", i, "resources"], false)
	s := {
		"Sid": value(block, "sid", ""),
		"Effect": value(block, "effect", "Allow"),
		"Action": value(block, "actions", []),
		"NotAction": value(block, "not_actions", []),
		"Resource": [r | some r in value(block, "resources", []); r != null],
		"NotResource": value(block, "not_resources", []),
		"Principal": principals(value(block, "principals", [])),
		"resources_unknown": any_unknown(unknown),
		"resource_refs": object.get(config(doc), ["expressions", "statement", i, "resources", "references"], []),
	}
]

# value is an attribute of a planned object, or def where it is missing or
# null (an optional argument left out of a block read during the apply is
# null: the provider's default is applied later).
value(obj, key, def) := v if {
	v := object.get(obj, key, null)
	v != null
} else := def

default any_unknown(_) := false

any_unknown(x) if x == true

any_unknown(x) if {
	is_array(x)
	true in x
}

principals(blocks) := {t: ids |
	some p in blocks
	t := p.type
	ids := [id | some q in blocks; q.type == t; some id in q.identifiers]
}

# statements returns a policy source's statements with Action, Resource
# and their Not forms as arrays (a policy document may give one string).
statements(source) := [normalize(s) | some s in as_array(object.get(source.json, "Statement", []))] if source.json

statements(source) := source.statements if source.statements

statements(source) := [] if source.opaque

normalize(s) := {
	"Sid": object.get(s, "Sid", ""),
	"Effect": object.get(s, "Effect", ""),
	"Action": as_array(object.get(s, "Action", [])),
	"NotAction": as_array(object.get(s, "NotAction", [])),
	"Resource": as_array(object.get(s, "Resource", [])),
	"NotResource": as_array(object.get(s, "NotResource", [])),
	"Principal": object.get(s, "Principal", {}),
	"resources_unknown": false,
	"resource_refs": [],
}

as_array(x) := x if is_array(x)

as_array(x) := [x] if not is_array(x)

# allows reports an Allow statement (Effect defaults to Allow in a policy
# document block).
allows(s) if s.Effect == "Allow"

# inline_policies are every identity and resource policy the plan holds, as
# {"rc": <resource change>, "where": <what to name in a message>, "source": ...}.
inline_policies contains {"rc": rc, "where": rc.address, "source": policy_source(rc, "policy")} if {
	some rc in resources
	rc.type in {"aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy", "aws_s3_bucket_policy"}
}

inline_policies contains {"rc": rc, "where": sprintf("%s inline_policy %q", [rc.address, p.name]), "source": {"json": json.unmarshal(p.policy)}} if {
	some rc in of_type("aws_iam_role")
	some p in object.get(rc.change.after, "inline_policy", [])
	is_string(p.policy)
	p.policy != ""
}

# An inline_policy whose document is known only after the apply is opaque,
# as is an inline_policy set known only after the apply as a whole where the
# configuration writes inline_policy blocks (a role without any plans the
# set as unknown too: the provider computes it).
inline_policies contains {"rc": rc, "where": sprintf("%s inline_policy %s", [rc.address, json.marshal(object.get(p, "name", null))]), "source": {"opaque": true}} if {
	some rc in of_type("aws_iam_role")
	some i, p in object.get(rc.change.after, "inline_policy", [])
	object.get(rc.change, ["after_unknown", "inline_policy", i, "policy"], false) == true
}

inline_policies contains {"rc": rc, "where": sprintf("%s inline_policy", [rc.address]), "source": {"opaque": true}} if {
	some rc in of_type("aws_iam_role")
	unknown(rc, "inline_policy")
	count(object.get(config(rc), ["expressions", "inline_policy"], [])) > 0
}

# tag_keys returns the tag keys a resource will carry: tags_all, which the
# AWS provider plans as its own tags merged with the provider's
# default_tags. A tag whose value is unknown still has its key in
# after_unknown. Where tags_all is unknown as a whole, the resource's tags
# and the provider block's default_tags are taken instead.
tag_keys(rc) := {k | some k, _ in object.get(rc.change.after, "tags_all", {})} | {k | some k, v in object.get(rc.change, ["after_unknown", "tags_all"], {}); v == true} if {
	not unknown(rc, "tags_all")
}

tag_keys(rc) := {k | some k, _ in object.get(rc.change.after, "tags", {})} | default_tag_keys if unknown(rc, "tags_all")

default_tag_keys := {k |
	some provider in input.configuration.provider_config
	provider.name == "aws"
	not provider.module_address
	some block in object.get(provider, ["expressions", "default_tags"], [])
	some k, _ in object.get(block, ["tags", "constant_value"], {})
}

# taggable reports a resource type that takes tags: the AWS provider plans
# tags_all for each of those.
taggable(rc) if "tags_all" in object.keys(rc.change.after)

taggable(rc) if "tags_all" in object.keys(object.get(rc.change, "after_unknown", {}))
