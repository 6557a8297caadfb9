# Every other setting of the global root is a literal in main.tf, reviewed in
# the pull request that changes it. The account guard is a variable in every
# root, validated the same way.
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
