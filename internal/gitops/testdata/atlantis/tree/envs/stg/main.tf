terraform {
  backend "s3" {}
}

module "service" {
  source = "../../terraform/service"

  name     = "request-dump-stg"
  artifact = var.artifact
}
