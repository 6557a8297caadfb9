terraform {
  # Atlantis and scripts/check-terraform.sh run Terraform 1.5.7.
  required_version = "~> 1.5.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.32, < 7.0"
    }
  }
}
