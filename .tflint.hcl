# tflint settings for every Terraform module and root; run by
# scripts/check-terraform.sh. Only the bundled terraform ruleset is used:
# the AWS ruleset is a plugin downloaded from GitHub releases, which these
# machines cannot reach, and the Go module proxy does not serve it.
config {
  # Local modules are read from their source directories, so no
  # `terraform init` (which needs the provider registry) is required.
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
