package lib.tfplan_test

import data.lib.plantest
import data.lib.tfplan

nested := {"configuration": {"root_module": {"module_calls": {"a": {"module": {"module_calls": {"b": {"module": {"resources": [{
	"address": "aws_iam_role_policy.p",
	"mode": "managed",
	"type": "aws_iam_role_policy",
	"name": "p",
	"expressions": {"role": {"references": ["aws_iam_role.r.id", "aws_iam_role.r"]}},
}]}}}}}}}}}

test_config_of_a_nested_module_instance if {
	rc := plantest.change(`module.a["x"].module.b.aws_iam_role_policy.p`, ["create"], {})
	tfplan.references(rc, "role") == ["aws_iam_role.r.id", "aws_iam_role.r"] with input as nested
}

test_refers_to_needs_the_same_module if {
	rc := plantest.change("module.a.module.b.aws_iam_role_policy.p", ["create"], {})
	same := plantest.change("module.a.module.b.aws_iam_role.r", ["create"], {})
	other := plantest.change("module.c.aws_iam_role.r", ["create"], {})
	tfplan.refers_to(rc, "role", same) with input as nested
	not tfplan.refers_to(rc, "role", other) with input as nested
}

test_references_of_a_constant_are_empty if {
	rc := plantest.change("module.a.module.b.aws_iam_role_policy.p", ["create"], {})
	tfplan.references(rc, "name") == [] with input as nested
}

test_resources_leave_out_deletes if {
	keep := plantest.change("aws_s3_bucket.a", ["no-op"], {"bucket": "a"})
	gone := plantest.change("aws_s3_bucket.b", ["delete"], null)
	tfplan.resources == {keep} with input as {"resource_changes": [keep, gone]}
}

test_replaces if {
	tfplan.replaces({"change": {"actions": ["delete", "create"]}})
	tfplan.replaces({"change": {"actions": ["create", "delete"]}})
	not tfplan.replaces({"change": {"actions": ["delete"]}})
	tfplan.deletes({"change": {"actions": ["delete"]}})
	not tfplan.deletes({"change": {"actions": ["update"]}})
}

test_environment_and_project_of_an_env_root if {
	plan := plantest.plan([], [])
	tfplan.environment == "prod" with input as plan
	tfplan.project == "prod" with input as plan
	tfplan.env_root with input as plan
	not tfplan.account_root with input as plan
}

# environment = var.environment: the plan records the variable's value.
# Any other expression leaves the env unknown, but still an env root.
test_environment_from_a_root_variable if {
	by_var := {
		"variables": {"environment": {"value": "stg"}},
		"configuration": {"root_module": {"module_calls": {"service": {"source": "../../terraform/service", "expressions": {"environment": {"references": ["var.environment"]}}}}}},
	}
	tfplan.environment == "stg" with input as by_var
	tfplan.project == "stg" with input as by_var
	by_local := json.patch(by_var, [{"op": "replace", "path": "/configuration/root_module/module_calls/service/expressions/environment/references", "value": ["local.environment"]}])
	not tfplan.environment with input as by_local
	tfplan.env_root with input as by_local
	tfplan.environment_unread with input as by_local
	not tfplan.environment_unread with input as by_var
}

# A module-only plan (no root calls the service module) has no env, and
# is not an env root whose env the plan does not show.
test_a_plan_without_an_env_root if {
	plan := plantest.root_plan([], [])
	not tfplan.environment with input as plan
	not tfplan.env_root with input as plan
	not tfplan.environment_unread with input as plan
	not tfplan.environment_unread with input as {"configuration": {"root_module": {"module_calls": {"artifacts": {"source": "../terraform/artifacts"}}}}}
}

# A Git source with a ref, or a trailing slash, still names the module; a
# module whose name merely ends in service does not.
test_module_sources if {
	every source in ["../../terraform/service/", "git::https://github.com/acme/request-dump.git//terraform/service?ref=v1.2.0"] {
		tfplan.env_root with input as {"configuration": {"root_module": {"module_calls": {"service": {"source": source}}}}}
	}
	not tfplan.env_root with input as {"configuration": {"root_module": {"module_calls": {"other": {"source": "../../terraform/service-mesh"}}}}}
	tfplan.account_root with input as {"configuration": {"root_module": {"module_calls": {"artifacts": {"source": "git::https://github.com/acme/request-dump.git//terraform/artifacts?ref=v1.2.0"}}}}}
}

test_account_root_and_project if {
	plan := {"configuration": {"root_module": {"module_calls": {"artifacts": {"source": "../terraform/artifacts", "expressions": {"environments": {"constant_value": ["dev"]}}}}}}}
	tfplan.account_root with input as plan
	tfplan.project == "global" with input as plan
	not tfplan.environment with input as plan
	not tfplan.env_root with input as plan
}

test_policy_source_known_json if {
	rc := plantest.created("aws_iam_role_policy.p", {"policy": plantest.policy([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}])})
	source := tfplan.policy_source(rc, "policy")
	tfplan.statements(source) == [{
		"Sid": "", "Effect": "Allow", "Action": ["s3:GetObject"], "NotAction": [], "Resource": ["arn:aws:s3:::b/*"],
		"NotResource": [], "Principal": {}, "resources_unknown": false, "resource_refs": [],
	}]
}

doc_plan := plantest.plan(
	[
		plantest.with_unknown(plantest.created("module.service.aws_iam_role_policy.p", {"name": "p"}), {"policy": true}),
		plantest.data_read(
			"module.service.data.aws_iam_policy_document.d",
			{"statement": [{"actions": ["lambda:InvokeFunction"], "resources": [null, "arn:aws:lambda:ap-northeast-1:123456789012:function:f"], "effect": null, "sid": null, "principals": [], "not_actions": null, "not_resources": null}]},
			{"json": true, "statement": [{"resources": [true, false]}]},
		),
	],
	[
		plantest.config("aws_iam_role_policy.p", {"policy": ["data.aws_iam_policy_document.d.json", "data.aws_iam_policy_document.d"]}),
		{"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document", "name": "d", "expressions": {"statement": [{"resources": {"references": ["aws_lambda_function.this.arn", "aws_lambda_function.this"]}}]}},
	],
)

test_policy_source_from_a_document_read_during_the_apply if {
	rc := doc_plan.resource_changes[0]
	[s] := tfplan.statements(tfplan.policy_source(rc, "policy")) with input as doc_plan
	s.Effect == "Allow"
	s.Sid == ""
	s.Action == ["lambda:InvokeFunction"]
	s.Resource == ["arn:aws:lambda:ap-northeast-1:123456789012:function:f"]
	s.resources_unknown
	s.resource_refs == ["aws_lambda_function.this.arn", "aws_lambda_function.this"]
}

# A document read during the apply that merges other documents
# (source_policy_documents, override_policy_documents): their statements
# count, and one the plan does not know makes the policy opaque.
merging_plan(merged, unknown) := json.patch(doc_plan, [
	{"op": "add", "path": "/resource_changes/1/change/after/source_policy_documents", "value": merged},
	{"op": "add", "path": "/resource_changes/1/change/after_unknown/source_policy_documents", "value": unknown},
])

test_policy_source_merging_documents if {
	rc := doc_plan.resource_changes[0]
	merged := plantest.policy([{"Sid": "Merged", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
	[own, theirs] := tfplan.statements(tfplan.policy_source(rc, "policy")) with input as merging_plan([merged], [false])
	own.Action == ["lambda:InvokeFunction"]
	theirs.Sid == "Merged"
	theirs.Action == ["s3:*"]
	theirs.Resource == ["*"]
	tfplan.policy_source(rc, "policy") == {"opaque": true} with input as merging_plan([null], [true])
	tfplan.policy_source(rc, "policy") == {"opaque": true} with input as merging_plan(null, true)
}

test_policy_source_opaque if {
	rc := plantest.with_unknown(plantest.created("aws_iam_role_policy.p", {"name": "p"}), {"policy": true})
	tfplan.policy_source(rc, "policy") == {"opaque": true} with input as plantest.root_plan([rc], [plantest.config("aws_iam_role_policy.p", {"policy": ["aws_lambda_function.f.arn"]})])
}

test_tag_keys_from_tags_all_and_unknown_values if {
	rc := plantest.with_unknown(plantest.created("aws_s3_bucket.b", {"tags_all": {"project": "x"}}), {"tags_all": {"owner": true}})
	tfplan.tag_keys(rc) == {"project", "owner"}
	tfplan.taggable(rc)
}

test_tag_keys_from_default_tags_when_tags_all_is_unknown if {
	rc := plantest.with_unknown(plantest.created("aws_s3_bucket.b", {"tags": {"owner": "me"}}), {"tags_all": true})
	plan := {"configuration": {"provider_config": {"aws": {"name": "aws", "expressions": {"default_tags": [{"tags": {"constant_value": {"project": "x"}}}]}}}}}
	tfplan.tag_keys(rc) == {"owner", "project"} with input as plan
}

test_not_taggable if {
	not tfplan.taggable(plantest.created("aws_iam_role_policy.p", {"name": "p"}))
}
