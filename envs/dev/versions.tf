terraform {
  # Atlantis and scripts/check-terraform.sh run Terraform 1.5.7.
  required_version = "~> 1.5.7"

  # One major version, the same in every root, at or above every module's
  # floor (terraform/service needs 6.27); .terraform.lock.hcl pins the exact
  # version.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.27, < 7.0"
    }
  }
}
