# Traffic reaches the function through two aliases, never $LATEST:
#
# - live: what the public stage serves. Terraform creates it on the first
#   version and then leaves its version, weights and description to
#   scripts/rollout.sh, which moves it to the candidate after apply (canary
#   or linear weights, alarms watched, back to the previous version on
#   failure) and keeps the state of a rollout in progress in its routing
#   config and description.
# - candidate: the version this apply published, served on the candidate
#   stage, where the rollout smoke-tests it before it takes any traffic.
#   While a rollout runs, or after one was rolled back, the rollout command
#   changes this alias (description; version back to the previous one), so
#   the next plan shows changes and Atlantis cannot count an unfinished
#   rollout as applied.
locals {
  live_description      = "Serves the public stage. scripts/rollout.sh moves it to the candidate after each apply; Terraform only creates it."
  candidate_description = "The version Terraform published last, served on the candidate stage for the rollout's smoke test."
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = local.live_description
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version

  lifecycle {
    ignore_changes = [function_version, routing_config, description]
  }
}

resource "aws_lambda_alias" "candidate" {
  name             = "candidate"
  description      = local.candidate_description
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}
