locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id

  state_bucket_arn    = "arn:${local.partition}:s3:::${var.state.bucket}"
  lock_table_arn      = "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${var.state.lock_table}"
  artifact_bucket_arn = "arn:${local.partition}:s3:::${var.artifact_bucket}"
  server_role_arn     = "arn:${local.partition}:iam::${local.account_id}:role/${var.server_role_name}"

  # Per env, the ARNs of what terraform/service creates for it, all named
  # after its service_name.
  service = { for env, cfg in var.environments : env => {
    function   = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${cfg.service_name}"
    roles      = "arn:${local.partition}:iam::${local.account_id}:role/${cfg.service_name}-*"
    log_groups = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${cfg.service_name}", "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/apigateway/${cfg.service_name}/access"]
    # The rollout's alarms ("<name>/<what>") and the WAF's, named outside
    # that prefix.
    alarms = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${cfg.service_name}/*", "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${cfg.service_name}-waf-blocked"]
    # The SSM parameters holding the API keys' values (/<name>/api-keys/<key>),
    # the smoke test's among them, and the caller role of iam mode.
    api_key_parameters  = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/${cfg.service_name}/api-keys/*"
    smoke_key_parameter = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/${cfg.service_name}/api-keys/smoke"
    caller_role         = "arn:${local.partition}:iam::${local.account_id}:role/${cfg.service_name}-caller"
    # A web ACL's ARN ends in a generated id after its name.
    web_acl      = "arn:${local.partition}:wafv2:${local.region}:${local.account_id}:regional/webacl/${cfg.service_name}/*"
    alarm_topic  = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${cfg.service_name}-alarms"
    state_object = "${local.state_bucket_arn}/${cfg.state_key}"
    # The S3 backend's lock item and state digest item in the lock table.
    lock_ids = ["${var.state.bucket}/${cfg.state_key}", "${var.state.bucket}/${cfg.state_key}-md5"]
  } }

  # KMS key ARNs hold generated ids: the env's keys are told apart by the
  # environment tag its root's provider sets on everything (default_tags).
  kms_keys = "arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"

  rest_apis = ["arn:${local.partition}:apigateway:${local.region}::/restapis", "arn:${local.partition}:apigateway:${local.region}::/restapis/*"]
  # API keys and usage plans (with their keys, /usageplans/<id>/keys/<id>)
  # are API Gateway resources of their own, also named by generated ids.
  api_keys_and_usage_plans = [for path in ["apikeys", "usageplans"] : ["arn:${local.partition}:apigateway:${local.region}::/${path}", "arn:${local.partition}:apigateway:${local.region}::/${path}/*"]]
  # The stages a web ACL is associated with (WAF authorizes the association
  # on the protected resource too).
  stages = "arn:${local.partition}:apigateway:${local.region}::/restapis/*/stages/*"
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

# The provider's region (the region attribute is provider 6's): the envs'
# resources live there.
data "aws_region" "current" {}

# Only the Atlantis server's own role may assume these roles; its
# workflows pick one per stage with AWS_PROFILE (atlantis/repos.yaml,
# atlantis/aws-config).
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [local.server_role_arn]
    }
  }
}

resource "aws_iam_role" "plan" {
  for_each = var.environments

  name                 = "${var.role_name_prefix}${each.key}-plan"
  description          = "Atlantis plans envs/${each.key} with this role: it reads the env's resources, state and artifact and changes nothing but the state lock."
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role" "apply" {
  for_each = var.environments

  name                 = "${var.role_name_prefix}${each.key}-apply"
  description          = "Atlantis applies envs/${each.key} with this role and smoke-tests it: it changes only the resources terraform/service creates for ${each.value.service_name}, and the env's state."
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = !startswith(var.role_name_prefix, "${each.value.service_name}-")
      error_message = "The role_name_prefix ${var.role_name_prefix} starts with \"${each.value.service_name}-\": the ${each.key} apply role may change the roles named so, so it could change its own policies. Choose another prefix."
    }
  }
}

resource "aws_iam_role_policy" "plan" {
  for_each = var.environments

  name   = "plan-${each.key}"
  role   = aws_iam_role.plan[each.key].id
  policy = data.aws_iam_policy_document.plan[each.key].json
}

resource "aws_iam_role_policy" "apply" {
  for_each = var.environments

  name   = "apply-${each.key}"
  role   = aws_iam_role.apply[each.key].id
  policy = data.aws_iam_policy_document.apply[each.key].json
}
