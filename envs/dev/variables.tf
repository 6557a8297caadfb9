variable "artifact" {
  description = "The function zip dev deploys, from artifact.auto.tfvars.json, written by scripts/ (upload.sh, set-pointer.sh, promote.sh, rollback.sh; internal/pointer), not by hand."
  # A map, not an object: an object type would silently drop a "KEY" beside
  # "key", which the rule below refuses, as internal/pointer does.
  type = map(string)

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
