variable "artifact" {
  description = "The function zip dev deploys, from artifact.auto.tfvars.json: CI and the promotion workflow write it (scripts/, internal/pointer); edit it by hand only to roll back to an earlier artifact."
  type = object({
    bucket = string
    key    = string
    sha256 = string
  })

  validation {
    condition     = can(regex("^dev/[0-9a-f]{64}[.]zip$", var.artifact.key))
    error_message = "The artifact.key must be \"dev/<sha256 hex of the zip>.zip\": dev deploys only objects under its own prefix. Promote the artifact into dev/ and point at the copy."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.artifact.sha256))
    error_message = "The artifact.sha256 must be the base64 of the zip's raw SHA-256 (44 characters ending in '='), as in dist/function.zip.sha256."
  }
}
