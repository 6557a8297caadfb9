variable "server_role_name" {
  description = "Name of the IAM role the Atlantis server runs as, in this account (its instance profile, task or service-account role). Only this role may assume the plan and apply roles."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.server_role_name))
    error_message = "The server_role_name must be an IAM role name: 1-64 letters, digits and +=,.@_-, e.g. atlantis."
  }
}

variable "artifact_bucket" {
  description = "Name of the artifact bucket the env roots read the function zip from."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket))
    error_message = "The artifact_bucket must be an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-'."
  }
}

variable "state" {
  description = "The Terraform state bucket and DynamoDB lock table every env root's backend names."
  type = object({
    bucket     = string
    lock_table = string
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state.bucket)) && can(regex("^[A-Za-z0-9_.-]{3,255}$", var.state.lock_table))
    error_message = "The state must name an S3 bucket (3-63 of a-z, 0-9, '.', '-') and a DynamoDB table (3-255 of letters, digits, '_', '.', '-'), e.g. { bucket = \"acme-request-dump-tfstate\", lock_table = \"acme-request-dump-tflock\" }."
  }
}

variable "environments" {
  description = "One plan role and one apply role per env: service_name is the name the env root passes to terraform/service (its function, roles and log groups carry it), state_key the key of the env's state in the state bucket."
  type = map(object({
    service_name = string
    state_key    = string
  }))
  nullable = false

  validation {
    condition     = length(var.environments) > 0 && alltrue([for env, cfg in var.environments : can(regex("^[a-z][a-z0-9]{1,15}$", env)) && can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", cfg.service_name)) && length(cfg.state_key) > 0 && !startswith(cfg.state_key, "/")])
    error_message = "Each environments key must be an env name (2-16 of a-z and 0-9, starting with a letter) with the service_name terraform/service takes (3-40 of a-z, 0-9, '-') and the backend's state_key, e.g. { dev = { service_name = \"request-dump-dev\", state_key = \"request-dump/dev/terraform.tfstate\" } }."
  }
}

variable "role_name_prefix" {
  description = "Prefix of the roles' names: \"<prefix><env>-plan\" and \"<prefix><env>-apply\". It must not start with a service_name followed by '-', or an apply role could change its own policies."
  type        = string
  default     = "request-dump-atlantis-"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,40}$", var.role_name_prefix))
    error_message = "The role_name_prefix must be 1-40 characters allowed in IAM role names (letters, digits, +=,.@_-)."
  }
}

variable "tags" {
  description = "Tags for the roles, on top of the provider's default_tags."
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
