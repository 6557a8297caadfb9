# The account-level parts every env shares, applied rarely and by an
# administrator: the artifact bucket, the GitHub OIDC deploy roles and API
# Gateway's CloudWatch role. They live outside envs/ because no env owns
# them and no env's apply should be able to change them.
terraform {
  backend "s3" {
    bucket         = "acme-request-dump-tfstate"
    key            = "request-dump/global/terraform.tfstate"
    region         = "ap-northeast-1"
    dynamodb_table = "acme-request-dump-tflock"
    encrypt        = true
  }
}

provider "aws" {
  region              = "ap-northeast-1"
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = {
      project    = "request-dump"
      managed_by = "terraform"
      repository = "acme/request-dump"
    }
  }
}

module "artifacts" {
  source = "../terraform/artifacts"

  bucket_name  = "acme-request-dump-artifacts"
  environments = ["dev", "stg", "prod"]

  retention = {
    noncurrent_days        = 30
    incomplete_upload_days = 7
    current_days           = { dev = 90 }
  }
}

# The roles Atlantis plans and applies each env with: a read-only one and
# one that changes only that env's service.
module "atlantis_roles" {
  source = "../terraform/atlantis-roles"

  server_role_name = "atlantis"
  artifact_bucket  = module.artifacts.bucket
  state = {
    bucket     = "acme-request-dump-tfstate"
    lock_table = "acme-request-dump-tflock"
  }

  environments = {
    dev  = { service_name = "request-dump-dev", state_key = "request-dump/dev/terraform.tfstate" }
    stg  = { service_name = "request-dump-stg", state_key = "request-dump/stg/terraform.tfstate" }
    prod = { service_name = "request-dump-prod", state_key = "request-dump/prod/terraform.tfstate" }
  }
}

module "github_oidc" {
  source = "../terraform/github-oidc"

  repository      = "acme/request-dump"
  artifact_bucket = module.artifacts.bucket

  # Promotion copies dev/ -> stg/ -> prod/: each role reads the prefix it
  # promotes from and writes only its own.
  environments = {
    dev = {
      log_group_names = ["/aws/lambda/request-dump-dev"]
      state           = { bucket = "acme-request-dump-tfstate", key = "request-dump/dev/terraform.tfstate" }
    }
    stg = {
      read_prefixes        = ["dev"]
      log_group_names      = ["/aws/lambda/request-dump-stg"]
      smoke_key_parameters = ["/request-dump-stg/api-keys/smoke"]
      state                = { bucket = "acme-request-dump-tfstate", key = "request-dump/stg/terraform.tfstate" }
    }
    prod = {
      read_prefixes        = ["stg"]
      log_group_names      = ["/aws/lambda/request-dump-prod"]
      smoke_key_parameters = ["/request-dump-prod/api-keys/smoke"]
      state                = { bucket = "acme-request-dump-tfstate", key = "request-dump/prod/terraform.tfstate" }
    }
  }

  # The drift workflow plans every root, read-only (.github/workflows/drift.yml).
  drift = {
    states = [for root in ["dev", "stg", "prod", "global"] : { bucket = "acme-request-dump-tfstate", key = "request-dump/${root}/terraform.tfstate" }]
  }
}
