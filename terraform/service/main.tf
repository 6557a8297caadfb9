locals {
  log_group_name = "/aws/lambda/${var.name}"
}

# Plans fail here, before anything changes, when the env's artifact pointer
# names an object that is not in S3 or not the zip the pointer's checksum
# describes. The listing comes first so that a missing object gets this
# message instead of the provider's bare "not found".
data "aws_s3_objects" "artifact" {
  bucket   = var.artifact.bucket
  prefix   = var.artifact.key
  max_keys = 1

  lifecycle {
    precondition {
      condition     = startswith(var.artifact.key, "${var.environment}/")
      error_message = "The artifact key ${var.artifact.key} is outside the ${var.environment}/ prefix: an env deploys only objects under its own prefix. Promote the artifact into ${var.environment}/ (scripts/promote.sh) and point at the copy."
    }

    postcondition {
      condition     = contains(self.keys, var.artifact.key)
      error_message = "The artifact s3://${var.artifact.bucket}/${var.artifact.key} does not exist. Upload the build (CI does this for every pull request) or point envs/${var.environment}/artifact.auto.tfvars.json at an artifact that exists."
    }
  }
}

data "aws_s3_object" "artifact" {
  bucket        = var.artifact.bucket
  key           = var.artifact.key
  checksum_mode = "ENABLED"

  depends_on = [data.aws_s3_objects.artifact]

  lifecycle {
    # The function takes this version of the object (s3_object_version), so
    # an apply deploys exactly the bytes this plan checked below.
    postcondition {
      condition     = self.version_id != null && self.version_id != "" && self.version_id != "null"
      error_message = "The artifact s3://${var.artifact.bucket}/${var.artifact.key} has no object version: the artifact bucket must have versioning enabled (terraform/artifacts enables it), so that the apply deploys exactly the object version this plan checked."
    }

    # S3 keeps a SHA-256 of the whole object only when it was written in
    # one request with that algorithm; an upload in parts gets a checksum
    # of the parts' checksums ("<base64>-<parts>"), which never matches.
    postcondition {
      condition     = self.checksum_sha256 == var.artifact.sha256
      error_message = "The artifact s3://${var.artifact.bucket}/${var.artifact.key} has SHA-256 \"${self.checksum_sha256 == null || self.checksum_sha256 == "" ? "none" : self.checksum_sha256}\" but the pointer says \"${var.artifact.sha256}\". ${self.checksum_sha256 == null || self.checksum_sha256 == "" ? "It was uploaded without --checksum-algorithm SHA256, so S3 holds no SHA-256 for it." : can(regex("-[0-9]+$", self.checksum_sha256)) ? "It was uploaded in parts (multipart), so S3 holds a checksum of the parts, not of the zip." : "The object was replaced or the pointer names another build."} Upload the build with scripts/upload.sh ${var.environment} or promote it with scripts/promote.sh (one PutObject or CopyObject with its SHA-256), or fix envs/${var.environment}/artifact.auto.tfvars.json."
    }
  }
}

# The region, for the outputs, taken from the function's ARN: data
# "aws_region" renamed its attribute between provider 5 and 6.
data "aws_arn" "function" {
  arn = aws_lambda_function.this.arn
}
