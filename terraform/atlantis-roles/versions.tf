terraform {
  required_version = ">= 1.5.7"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # data "aws_region" has its region attribute from 6.0.
      version = ">= 6.0"
    }
  }
}
