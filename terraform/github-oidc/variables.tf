variable "repository" {
  description = "The GitHub repository whose workflows may assume the roles, as OWNER/REPO."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,39}/[A-Za-z0-9_.-]{1,100}$", var.repository))
    error_message = "The repository must be OWNER/REPO as GitHub spells it, e.g. acme/request-dump."
  }
}

variable "artifact_bucket" {
  description = "Name of the artifact bucket the roles upload to."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket))
    error_message = "The artifact_bucket must be an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-'."
  }
}

variable "environments" {
  description = "One deploy role per env. A role may write only its own prefix \"<env>/\"; read_prefixes are the envs it copies artifacts from when promoting (stg reads dev/), log_group_names the log groups its smoke tests read, smoke_key_parameters the SSM parameters of the API keys its smoke tests call the API with (/<service name>/api-keys/smoke where the env's access mode is api_key), and state the env's Terraform state object, which the smoke tests read for the env's outputs."
  type = map(object({
    read_prefixes        = optional(list(string), [])
    log_group_names      = optional(list(string), [])
    smoke_key_parameters = optional(list(string), [])
    state = optional(object({
      bucket = string
      key    = string
    }))
  }))
  nullable = false

  validation {
    condition     = length(var.environments) > 0 && alltrue([for env, cfg in var.environments : can(regex("^[a-z][a-z0-9]{1,15}$", env)) && alltrue([for from in cfg.read_prefixes : contains(keys(var.environments), from) && from != env])])
    error_message = "The environments keys must be env names (2-16 of a-z and 0-9, starting with a letter), and each read_prefixes entry must be another env of the map, e.g. { dev = {}, stg = { read_prefixes = [\"dev\"] } }."
  }

  validation {
    condition     = alltrue([for cfg in values(var.environments) : cfg.state == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", cfg.state.bucket)) && length(cfg.state.key) > 0 && !startswith(cfg.state.key, "/")])
    error_message = "Each state must name the env's state object: an S3 bucket name and the backend's key, e.g. { bucket = \"acme-request-dump-tfstate\", key = \"request-dump/dev/terraform.tfstate\" }."
  }

  validation {
    condition     = alltrue(flatten([for cfg in values(var.environments) : [for name in cfg.log_group_names : can(regex("^[.\\-_/#A-Za-z0-9]{1,512}$", name))]]))
    error_message = "Each log_group_names entry must be a CloudWatch log group name, e.g. /aws/lambda/request-dump-dev."
  }

  validation {
    condition     = alltrue(flatten([for cfg in values(var.environments) : [for name in cfg.smoke_key_parameters : can(regex("^/[a-z][a-z0-9-]{1,38}[a-z0-9]/api-keys/[a-z][a-z0-9-]{0,30}[a-z0-9]$", name))]]))
    error_message = "Each smoke_key_parameters entry must be the SSM parameter of an API key as terraform/service names it, /<service name>/api-keys/<key>, e.g. /request-dump-stg/api-keys/smoke."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the account's existing GitHub OIDC provider (token.actions.githubusercontent.com); null creates it. An account has at most one provider per URL."
  type        = string
  default     = null

  validation {
    condition     = var.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token[.]actions[.]githubusercontent[.]com$", var.oidc_provider_arn))
    error_message = "The oidc_provider_arn must be arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com, or null to create the provider."
  }
}

variable "role_name_prefix" {
  description = "Prefix of the roles' names; the role of env is \"<prefix><env>\"."
  type        = string
  default     = "request-dump-deploy-"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,48}$", var.role_name_prefix))
    error_message = "The role_name_prefix must be 1-48 characters allowed in IAM role names (letters, digits, +=,.@_-)."
  }
}

variable "max_session_duration" {
  description = "Longest session, in seconds, a workflow gets from a role."
  type        = number
  default     = 3600
  nullable    = false

  validation {
    condition     = floor(var.max_session_duration) == var.max_session_duration && var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "The max_session_duration must be a whole number of seconds from 3600 (1 hour) to 43200 (12 hours), IAM's limits for a role."
  }
}

variable "tags" {
  description = "Tags for every resource, on top of the provider's default_tags."
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

variable "drift" {
  description = "The drift workflow's read-only role: the GitHub environment its jobs run in (the role trusts repo:OWNER/REPO:environment:<environment>), the role's name, and the state objects of the roots it plans (bucket and backend key of each). null: no drift role."
  type = object({
    environment = optional(string, "drift")
    role_name   = optional(string, "request-dump-drift")
    states = list(object({
      bucket = string
      key    = string
    }))
  })
  default = null

  validation {
    condition     = var.drift == null ? true : can(regex("^[A-Za-z0-9_.-]{1,255}$", var.drift.environment)) && can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.drift.role_name)) && length(var.drift.states) > 0 && alltrue([for s in var.drift.states : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", s.bucket)) && length(s.key) > 0 && !startswith(s.key, "/")])
    error_message = "The drift must name a GitHub environment (letters, digits, '_', '.', '-'), an IAM role name (1-64 of letters, digits, +=,.@_-) and at least one state object, each an S3 bucket name and the backend's key, e.g. { states = [{ bucket = \"acme-request-dump-tfstate\", key = \"request-dump/prod/terraform.tfstate\" }] }."
  }
}
