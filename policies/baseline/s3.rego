# Package terraform.s3: every S3 bucket a plan leaves in place has its
# public access blocked, default encryption and versioning, each set by the
# separate resources the AWS provider uses since v4
# (aws_s3_bucket_public_access_block,
# aws_s3_bucket_server_side_encryption_configuration,
# aws_s3_bucket_versioning) for that bucket, in the same plan.
package terraform.s3

import data.lib.tfplan

public_access_settings := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

deny contains msg if {
	some bucket in tfplan.of_type("aws_s3_bucket")
	blocks := [c | some c in tfplan.of_type("aws_s3_bucket_public_access_block"); configures(c, bucket)]
	count(blocks) == 0
	msg := sprintf("%s: no aws_s3_bucket_public_access_block for this bucket; add one with %s all true (as terraform/artifacts/main.tf does)", [bucket.address, concat(", ", public_access_settings)])
}

deny contains msg if {
	some bucket in tfplan.of_type("aws_s3_bucket")
	some c in tfplan.of_type("aws_s3_bucket_public_access_block")
	configures(c, bucket)
	off := [s | some s in public_access_settings; object.get(c.change.after, s, false) != true]
	count(off) > 0
	msg := sprintf("%s: %s leaves %s off, so the bucket can be made public; set %s = true", [bucket.address, c.address, concat(", ", off), concat(" = true, ", off)])
}

deny contains msg if {
	some bucket in tfplan.of_type("aws_s3_bucket")
	not encrypted(bucket)
	msg := sprintf("%s: no aws_s3_bucket_server_side_encryption_configuration with a default sse_algorithm (AES256, aws:kms or aws:kms:dsse) for this bucket; add one, as terraform/artifacts/main.tf does", [bucket.address])
}

deny contains msg if {
	some bucket in tfplan.of_type("aws_s3_bucket")
	not versioned(bucket)
	msg := sprintf("%s: no aws_s3_bucket_versioning with versioning_configuration.status = \"Enabled\" for this bucket, so an overwritten or deleted object is lost; add one, as terraform/artifacts/main.tf does", [bucket.address])
}

encrypted(bucket) if {
	some c in tfplan.of_type("aws_s3_bucket_server_side_encryption_configuration")
	configures(c, bucket)
	some rule in object.get(c.change.after, "rule", [])
	some sse in object.get(rule, "apply_server_side_encryption_by_default", [])
	sse.sse_algorithm in {"AES256", "aws:kms", "aws:kms:dsse"}
}

versioned(bucket) if {
	some c in tfplan.of_type("aws_s3_bucket_versioning")
	configures(c, bucket)
	some v in object.get(c.change.after, "versioning_configuration", [])
	v.status == "Enabled"
}

# configures reports that a bucket setting c applies to bucket: its bucket
# argument names the bucket (known when the bucket exists), or, for a
# bucket still to be created, refers to it in the configuration (the same
# instance where both have count or for_each).
configures(c, bucket) if {
	name := object.get(c.change.after, "bucket", null)
	is_string(name)
	name == object.get(bucket.change.after, "bucket", "")
}

configures(c, bucket) if {
	tfplan.unknown(c, "bucket")
	tfplan.refers_to(c, "bucket", bucket)
	same_instance(c, bucket)
}

same_instance(c, bucket) if object.get(c, "index", null) == object.get(bucket, "index", null)

same_instance(c, _) if not "index" in object.keys(c)
