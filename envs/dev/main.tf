terraform {
  # State per env in the shared state bucket; Terraform 1.5 has no S3-native
  # locking (use_lockfile came in 1.10), so a DynamoDB table holds the lock.
  backend "s3" {
    bucket         = "acme-request-dump-tfstate"
    key            = "request-dump/dev/terraform.tfstate"
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
      environment = "dev"
      managed_by  = "terraform"
      repository  = "acme/request-dump"
    }
  }
}

# The local stack reads this block (internal/envconfig): keep every argument
# a literal, except the artifact, which comes from artifact.auto.tfvars.json.
module "service" {
  source = "../../terraform/service"

  name        = "request-dump-dev"
  environment = "dev"
  artifact    = var.artifact

  function = {
    memory_size  = 128
    timeout      = 10
    architecture = "arm64"
    log_level    = "INFO"
  }

  dump = {
    # dev dumps more than stg and prod, to see what requests carry.
    fields = {
      event_id   = "body.event_id"
      type       = "body.type"
      user_id    = "body.user.id"
      attributes = "body.attributes"
      source_ip  = "requestContext.identity.sourceIp"
      user_agent = "headers.User-Agent"
    }
    redact_keys     = ["password", "token", "secret", "authorization", "cookie", "api-key", "api_key", "apikey", "x-api-key", "x-amz-security-token", "accesskey", "access_key"]
    max_value_bytes = 8192
    max_event_bytes = 65536
  }

  api = {
    stage_name             = "dev"
    throttling_rate_limit  = 50
    throttling_burst_limit = 100
    integration_timeout_ms = 29000
    xray_tracing           = false
  }

  # dev follows every merge: no canary, but the new version still passes
  # the smoke test before it takes the traffic, and after.
  # Open to anyone: dev serves no real traffic, and its dumps are test data.
  access = {
    mode       = "none"
    allow_none = true
  }

  rollout = {
    strategy = "all_at_once"
  }

  alarms = {
    errors                = 5
    throttles             = 5
    duration_percent      = 80
    api_5xx               = 5
    latency_p99_ms        = 3000
    missing_dumps_percent = 1
  }

  log_retention_days = 14
}
