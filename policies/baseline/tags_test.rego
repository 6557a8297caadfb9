package terraform.tags_test

import data.lib.plantest
import data.terraform.tags

bucket(tags_all) := plantest.created("module.artifacts.aws_s3_bucket.this", {"bucket": "b", "tags_all": tags_all})

account := {"configuration": {"root_module": {"module_calls": {"artifacts": {"source": "../terraform/artifacts"}}}}}

test_account_root_needs_no_environment_tag if {
	count(tags.deny) == 0 with input as object.union(account, {"resource_changes": [bucket({"project": "p", "managed_by": "terraform", "repository": "r"})]})
}

test_missing_tags if {
	tags.deny == {`module.artifacts.aws_s3_bucket.this: missing the tags ["managed_by", "repository"]; set them in the root's provider default_tags (as envs/*/main.tf and global/main.tf do) or in the resource's tags`} with input as object.union(account, {"resource_changes": [bucket({"project": "p"})]})
}

test_env_roots_need_environment if {
	p := plantest.plan([plantest.created("module.service.aws_cloudwatch_log_group.this", {"name": "g", "tags_all": {"project": "p", "managed_by": "terraform", "repository": "r"}})], [])
	[msg] := [m | some m in tags.deny] with input as p
	contains(msg, `missing the tags ["environment"]`)
}

test_untaggable_resources_are_skipped if {
	count(tags.deny) == 0 with input as {"resource_changes": [plantest.created("aws_iam_role_policy.p", {"name": "p"})]}
}

test_an_env_root_whose_env_the_plan_does_not_show_needs_environment if {
	p := plantest.plan([plantest.created("module.service.aws_cloudwatch_log_group.this", {"name": "g", "tags_all": {"project": "p", "managed_by": "terraform", "repository": "r"}})], [])
	by_local := json.patch(p, [{"op": "replace", "path": "/configuration/root_module/module_calls/service/expressions/environment", "value": {"references": ["local.env"]}}])
	[msg] := [m | some m in tags.deny] with input as by_local
	contains(msg, `missing the tags ["environment"]`)
}
