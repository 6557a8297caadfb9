variable "bucket_name" {
  description = "Name of the artifact bucket, e.g. acme-request-dump-artifacts."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("[.][.]|^[0-9.]+$", var.bucket_name))
    error_message = "The bucket_name must be an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit, not an IP address."
  }
}

variable "environments" {
  description = "The envs, in promotion order; each owns the prefix \"<env>/\" and objects may be written only under these prefixes."
  type        = list(string)
  default     = ["dev", "stg", "prod"]
  nullable    = false

  validation {
    condition     = length(var.environments) > 0 && length(distinct(var.environments)) == length(var.environments) && alltrue([for env in var.environments : can(regex("^[a-z][a-z0-9]{1,15}$", env))])
    error_message = "The environments must be distinct env names of 2-16 characters of a-z and 0-9 starting with a letter, e.g. [\"dev\", \"stg\", \"prod\"]."
  }
}

variable "retention" {
  description = "How long old artifacts stay: noncurrent versions (an overwritten or deleted zip) for noncurrent_days, unfinished multipart uploads for incomplete_upload_days, and current objects under a prefix for current_days[<env>] days (envs left out keep theirs, since a rollback may need any of them)."
  type = object({
    noncurrent_days        = optional(number, 30)
    incomplete_upload_days = optional(number, 7)
    current_days           = optional(map(number), { dev = 90 })
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for days in concat([var.retention.noncurrent_days, var.retention.incomplete_upload_days], values(var.retention.current_days)) : floor(days) == days && days >= 1])
    error_message = "Every retention period must be a whole number of days, at least 1."
  }
}

variable "kms_key_arn" {
  description = "ARN of a KMS key to encrypt artifacts with (SSE-KMS with a bucket key); null uses S3-managed keys (SSE-S3). With a key, whoever deploys or uploads also needs kms:Decrypt / kms:GenerateDataKey on it."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id>, or null."
  }
}

variable "tags" {
  description = "Tags for the bucket, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
  nullable    = false
  validation {
    # AWS's tag rules, common to every service here: keys 1-128 and values
    # up to 256 characters, letters, digits, spaces and _ . : / = + - @;
    # the aws: prefix is AWS's own. AWS would refuse them only at apply.
    condition = alltrue([for k, v in var.tags :
      length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:") &&
      can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$", "${k}${v}"))
    ])
    error_message = "Each tag key must be 1-128 characters and each value at most 256, of letters, digits, spaces and _ . : / = + - @ only, and no key may start with aws: (AWS reserves it), e.g. tags = { team = \"payments\" }."
  }
}
