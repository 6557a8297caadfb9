package terraform.s3_test

import data.lib.plantest
import data.terraform.s3

bucket := plantest.created("module.artifacts.aws_s3_bucket.this", {"bucket": "b"})

by_name(address, after) := plantest.created(address, object.union({"bucket": "b"}, after))

pab := by_name("module.artifacts.aws_s3_bucket_public_access_block.this", {"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true})

versioning := by_name("module.artifacts.aws_s3_bucket_versioning.this", {"versioning_configuration": [{"status": "Enabled"}]})

sse := by_name("module.artifacts.aws_s3_bucket_server_side_encryption_configuration.this", {"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}]})

plan(changes) := {"resource_changes": changes}

test_a_protected_bucket_passes if {
	count(s3.deny) == 0 with input as plan([bucket, pab, versioning, sse])
}

test_no_public_access_block if {
	s3.deny == {"module.artifacts.aws_s3_bucket.this: no aws_s3_bucket_public_access_block for this bucket; add one with block_public_acls, block_public_policy, ignore_public_acls, restrict_public_buckets all true (as terraform/artifacts/main.tf does)"} with input as plan([bucket, versioning, sse])
}

test_public_access_partly_open if {
	open := json.patch(pab, [{"op": "replace", "path": "/change/after/ignore_public_acls", "value": false}])
	s3.deny == {"module.artifacts.aws_s3_bucket.this: module.artifacts.aws_s3_bucket_public_access_block.this leaves ignore_public_acls off, so the bucket can be made public; set ignore_public_acls = true"} with input as plan([bucket, open, versioning, sse])
}

test_versioning_suspended if {
	suspended := json.patch(versioning, [{"op": "replace", "path": "/change/after/versioning_configuration/0/status", "value": "Suspended"}])
	[msg] := [m | some m in s3.deny] with input as plan([bucket, pab, suspended, sse])
	contains(msg, "module.artifacts.aws_s3_bucket.this: no aws_s3_bucket_versioning with versioning_configuration.status = \"Enabled\"")
}

test_no_encryption if {
	[msg] := [m | some m in s3.deny] with input as plan([bucket, pab, versioning])
	contains(msg, "no aws_s3_bucket_server_side_encryption_configuration")
}

test_a_deleted_setting_protects_nothing if {
	gone := json.patch(versioning, [{"op": "replace", "path": "/change/actions", "value": ["delete"]}, {"op": "replace", "path": "/change/after", "value": null}])
	count(s3.deny) == 1 with input as plan([bucket, pab, gone, sse])
}

test_another_buckets_settings_do_not_count if {
	other := json.patch(pab, [{"op": "replace", "path": "/change/after/bucket", "value": "other"}])
	count(s3.deny) == 1 with input as plan([bucket, other, versioning, sse])
}

# A bucket still to be created: the settings' bucket argument is unknown,
# and the configuration says which bucket it is.
unknown_bucket(rc) := plantest.with_unknown(json.patch(rc, [{"op": "remove", "path": "/change/after/bucket"}]), {"bucket": true})

test_settings_of_a_new_bucket_by_reference if {
	ref := {"bucket": ["aws_s3_bucket.this.id", "aws_s3_bucket.this"]}
	p := {
		"resource_changes": [bucket, unknown_bucket(pab), unknown_bucket(versioning), unknown_bucket(sse)],
		"configuration": {"root_module": {"module_calls": {"artifacts": {"module": {"resources": [
			plantest.config("aws_s3_bucket_public_access_block.this", ref),
			plantest.config("aws_s3_bucket_versioning.this", ref),
			plantest.config("aws_s3_bucket_server_side_encryption_configuration.this", {"bucket": ["aws_s3_bucket.other.id", "aws_s3_bucket.other"]}),
		]}}}}},
	}
	[msg] := [m | some m in s3.deny] with input as p
	contains(msg, "no aws_s3_bucket_server_side_encryption_configuration")
}

test_instances_pair_up if {
	b1 := plantest.with_index(plantest.created(`module.artifacts.aws_s3_bucket.this["a"]`, {"bucket": "b1"}), "a")
	b2 := plantest.with_index(plantest.created(`module.artifacts.aws_s3_bucket.this["b"]`, {"bucket": "b2"}), "b")
	v1 := plantest.with_index(unknown_bucket(by_name(`module.artifacts.aws_s3_bucket_versioning.this["a"]`, {"versioning_configuration": [{"status": "Enabled"}]})), "a")
	p := {
		"resource_changes": [b1, b2, v1],
		"configuration": {"root_module": {"module_calls": {"artifacts": {"module": {"resources": [
			plantest.config("aws_s3_bucket_versioning.this", {"bucket": ["aws_s3_bucket.this", "each.key"]}),
		]}}}}},
	}
	versioned := {m | some m in s3.deny; contains(m, "aws_s3_bucket_versioning")} with input as p
	versioned == {`module.artifacts.aws_s3_bucket.this["b"]: no aws_s3_bucket_versioning with versioning_configuration.status = "Enabled" for this bucket, so an overwritten or deleted object is lost; add one, as terraform/artifacts/main.tf does`}
}
