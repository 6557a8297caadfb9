variable "artifact" {
  description = "The function zip dev deploys, from artifact.auto.tfvars.json, written by scripts/ (upload.sh, set-pointer.sh, promote.sh, rollback.sh; internal/pointer), not by hand."
  type = object({
    bucket = string
    key    = string
    sha256 = string
  })

  validation {
    condition     = can(regex("^dev/[0-9a-f]{64}[.]zip$", var.artifact.key))
    error_message = "The artifact.key must be \"dev/<sha256 hex of the zip>.zip\": dev deploys only objects under its own prefix. Upload or promote the artifact into dev/ (scripts/upload.sh, scripts/promote.sh), which also writes the pointer."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.artifact.sha256))
    error_message = "The artifact.sha256 must be the base64 of the zip's raw SHA-256 (44 characters ending in '='), as in dist/function.zip.sha256."
  }
}
