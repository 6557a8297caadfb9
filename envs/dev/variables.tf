variable "artifact" {
  description = "The function zip dev deploys, from artifact.auto.tfvars.json, written by scripts/ (upload.sh, set-pointer.sh, promote.sh, rollback.sh; internal/pointer), not by hand."
  # A map, not an object: an object type would silently drop a "KEY" beside
  # "key", which the rule below refuses, as internal/pointer does.
  type     = map(string)
  nullable = false

  validation {
    condition     = length(var.artifact) == 3 && length(setsubtract(keys(var.artifact), ["bucket", "key", "sha256"])) == 0
    error_message = "The artifact pointer must have exactly the keys bucket, key and sha256, in lower case, each once (a \"KEY\" beside \"key\" would name another zip to the scripts than to Terraform). Write it with scripts/set-pointer.sh, scripts/upload.sh --write-pointer or scripts/promote.sh instead of editing it."
  }

  validation {
    condition     = can(regex("^dev/[0-9a-f]{64}[.]zip$", try(var.artifact["key"], "")))
    error_message = "The artifact.key must be \"dev/<sha256 hex of the zip>.zip\": dev deploys only objects under its own prefix. Upload or promote the artifact into dev/ (scripts/upload.sh, scripts/promote.sh), which also writes the pointer."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", try(var.artifact["sha256"], "")))
    error_message = "The artifact.sha256 must be the base64 of the zip's raw SHA-256 (44 characters ending in '='), as in dist/function.zip.sha256."
  }
}

variable "allowed_account_ids" {
  description = "The AWS accounts this root may plan and apply in: the provider refuses credentials of any other account before it reads or changes anything. Replace the placeholder with your account's id (docs/runbook.md, section 7)."
  type        = list(string)
  default     = ["123456789012"]
  nullable    = false

  validation {
    condition     = length(var.allowed_account_ids) > 0 && length(distinct(var.allowed_account_ids)) == length(var.allowed_account_ids) && alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "The allowed_account_ids must be one or more distinct AWS account ids of 12 digits, e.g. [\"123456789012\"]."
  }
}
