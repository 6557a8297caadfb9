terraform {
  backend "s3" {}
}

module "service" {
  source = "../../terraform/service"

  name     = "request-dump-dev"
  artifact = var.artifact
}
