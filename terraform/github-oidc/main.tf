locals {
  github_host       = "token.actions.githubusercontent.com"
  oidc_provider_arn = var.oidc_provider_arn != null ? var.oidc_provider_arn : aws_iam_openid_connect_provider.github[0].arn
  bucket_arn        = "arn:${data.aws_partition.current.partition}:s3:::${var.artifact_bucket}"
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

# The provider's region (the region attribute is provider 6's).
data "aws_region" "current" {}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.oidc_provider_arn == null ? 1 : 0

  url            = "https://${local.github_host}"
  client_id_list = ["sts.amazonaws.com"]
  # AWS validates GitHub's certificate through its own trust store; the
  # argument is kept because older provider versions require it.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
  tags            = var.tags
}

# Only a workflow job that runs in the GitHub environment named like the env
# gets the env's role: the sub claim is repo:OWNER/REPO:environment:<env>,
# matched exactly, and the audience is STS.
data "aws_iam_policy_document" "assume" {
  for_each = var.environments

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.github_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.github_host}:sub"
      values   = ["repo:${var.repository}:environment:${each.key}"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = var.environments

  name                 = "${var.role_name_prefix}${each.key}"
  description          = "Assumed by ${var.repository}'s workflows in the GitHub environment ${each.key}: upload and promote ${each.key} artifacts."
  assume_role_policy   = data.aws_iam_policy_document.assume[each.key].json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

# Write only the env's own prefix. Read it too, plus the prefixes promotion
# copies from (a copy into stg/ reads the object in dev/). Listing is
# limited to the same prefixes; a HEAD of a missing key carries no s3:prefix,
# so S3 may still answer it 403 rather than 404, which cmd/artifact takes
# for "missing" (its writes are conditional, so that never overwrites).
# These are the calls cmd/artifact and the smoke suite make, and no more.
data "aws_iam_policy_document" "this" {
  for_each = var.environments

  statement {
    sid       = "WriteOwnPrefix"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/${each.key}/*"]
  }

  statement {
    sid       = "ReadOwnAndPromotedFromPrefixes"
    actions   = ["s3:GetObject"]
    resources = [for env in concat([each.key], each.value.read_prefixes) : "${local.bucket_arn}/${env}/*"]
  }

  statement {
    sid       = "ListOwnAndPromotedFromPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for env in concat([each.key], each.value.read_prefixes) : "${env}/*"]
    }
  }

  # FilterLogEvents is authorized on the log group; CloudWatch Logs documents
  # its IAM form as "<group ARN>:*", which also matches the group's streams
  # and no other group (names cannot contain ':'). The bare ARN is kept for
  # the calls that check that form. The region is the provider's: the envs'
  # log groups live there, not in every region of the account.
  dynamic "statement" {
    for_each = length(each.value.log_group_names) > 0 ? [1] : []
    content {
      sid     = "ReadSmokeTestLogs"
      actions = ["logs:FilterLogEvents"]
      resources = flatten([for name in each.value.log_group_names : [
        "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:${name}",
        "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:${name}:*",
      ]])
    }
  }

  # The smoke tests of an env in access mode api_key call the API with the
  # smoke key, read from its SSM parameter with decryption (the AWS managed
  # key aws/ssm lets the account's principals decrypt through SSM).
  dynamic "statement" {
    for_each = length(each.value.smoke_key_parameters) > 0 ? [1] : []
    content {
      sid       = "ReadSmokeTestKey"
      actions   = ["ssm:GetParameter"]
      resources = [for name in each.value.smoke_key_parameters : "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter${name}"]
    }
  }
}

# The manual smoke workflow reads the env's outputs (terraform output) from
# its state: read-only, that one object.
data "aws_iam_policy_document" "state" {
  for_each = { for env, cfg in var.environments : env => cfg.state if cfg.state != null }

  statement {
    sid       = "ReadOwnState"
    actions   = ["s3:GetObject"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${each.value.bucket}/${each.value.key}"]
  }

  # Listing: the state key itself, and the backend's workspace prefix
  # (env:/), which every StateMgr call lists. Terraform 1.5 ignores a denied
  # list there; the S3 backend of 1.6 and later fails on it.
  statement {
    sid       = "ListOwnState"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${each.value.bucket}"]
    condition {
      test     = "StringEquals"
      variable = "s3:prefix"
      values   = [each.value.key, "env:/"]
    }
  }
}

resource "aws_iam_role_policy" "state" {
  for_each = data.aws_iam_policy_document.state

  name   = "terraform-state-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = each.value.json
}

resource "aws_iam_role_policy" "this" {
  for_each = var.environments

  name   = "artifacts-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.this[each.key].json
}
