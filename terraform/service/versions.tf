terraform {
  # 1.5.7 is the version the repository pins and checks with (the last MPL
  # release); lifecycle pre/postconditions need 1.2, startswith 1.3.
  required_version = ">= 1.5.7"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # logging_config on aws_lambda_function arrived in 5.32.
      version = ">= 5.32, < 7.0"
    }
  }
}
