terraform {
  backend "s3" {}
}

module "artifacts" {
  source = "../terraform/artifacts"
}

module "github_oidc" {
  source = "../terraform/github-oidc"
}
