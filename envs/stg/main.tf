terraform {
  # State per env in the shared state bucket; Terraform 1.5 has no S3-native
  # locking (use_lockfile came in 1.10), so a DynamoDB table holds the lock.
  backend "s3" {
    bucket         = "acme-request-dump-tfstate"
    key            = "request-dump/stg/terraform.tfstate"
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
      project     = "request-dump"
      environment = "stg"
      managed_by  = "terraform"
      repository  = "acme/request-dump"
    }
  }
}

# The local stack reads this block (internal/envconfig): keep every argument
# a literal, except the artifact, which comes from artifact.auto.tfvars.json.
module "service" {
  source = "../../terraform/service"

  name        = "request-dump-stg"
  environment = "stg"
  artifact    = var.artifact

  function = {
    memory_size  = 256
    timeout      = 10
    architecture = "arm64"
    log_level    = "INFO"
  }

  dump = {
    fields = {
      event_id  = "body.event_id"
      type      = "body.type"
      user_id   = "body.user.id"
      source_ip = "requestContext.identity.sourceIp"
    }
    redact_keys     = ["password", "token", "secret", "authorization", "cookie", "api-key", "api_key", "apikey", "x-api-key", "x-amz-security-token", "accesskey", "access_key"]
    max_value_bytes = 8192
    max_event_bytes = 65536
  }

  api = {
    stage_name             = "stg"
    throttling_rate_limit  = 100
    throttling_burst_limit = 200
    integration_timeout_ms = 29000
    xray_tracing           = true
  }

  # Callers need an API key of the env's usage plan (the module's default
  # keys and limits); the smoke test and the rollout gate use the "smoke"
  # key, read from SSM Parameter Store (docs/runbook.md).
  access = {
    mode = "api_key"
  }

  rollout = {
    strategy         = "canary"
    percent          = 20
    interval_seconds = 120
  }

  alarms = {
    errors                = 0
    throttles             = 0
    duration_percent      = 80
    api_5xx               = 0
    latency_p99_ms        = 2000
    missing_dumps_percent = 1
  }

  log_retention_days = 30
}
