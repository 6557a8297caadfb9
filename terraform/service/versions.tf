terraform {
  # 1.5.7 is the version the repository pins and checks with (the last MPL
  # release); lifecycle pre/postconditions need 1.2, startswith 1.3.
  required_version = ">= 1.5.7"

  # A lower bound only: the roots cap the major version (and lock the exact
  # one), so that a module never blocks a root's upgrade.
  required_providers {
    aws = {
      source = "hashicorp/aws"
      # code_sha256 as an argument of aws_lambda_function arrived in 6.27.
      version = ">= 6.27"
    }
  }
}
