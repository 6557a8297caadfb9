# The drift workflow (.github/workflows/drift.yml, scripts/drift.sh) plans
# every root with -refresh and -lock=false to find what changed outside
# Terraform. Its role may read, and nothing else: the state objects of the
# roots, the artifact bucket's settings and objects (the env roots check
# their artifact), and the configuration of what the roots manage. It
# trusts only jobs in the GitHub environment var.drift.environment.
locals {
  drift_states = var.drift == null ? [] : var.drift.states
}

data "aws_iam_policy_document" "drift_assume" {
  count = var.drift == null ? 0 : 1

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
      values   = ["repo:${var.repository}:environment:${var.drift.environment}"]
    }
  }
}

resource "aws_iam_role" "drift" {
  count = var.drift == null ? 0 : 1

  name                 = var.drift.role_name
  description          = "Assumed by ${var.repository}'s drift workflow in the GitHub environment ${var.drift.environment}: plans every root, read-only."
  assume_role_policy   = data.aws_iam_policy_document.drift_assume[0].json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

# Refreshing a resource calls its service's read API, and most of those
# calls (Describe*, List*, API Gateway's GET) take no resource ARN, hence
# Resource "*" for the configuration reads; policies/baseline/exceptions.rego
# allows it for this statement and only for read actions. No data-plane
# read is granted there (no logs:GetLogEvents, no s3:GetObject on "*").
data "aws_iam_policy_document" "drift" {
  count = var.drift == null ? 0 : 1

  statement {
    sid = "ReadResourceConfiguration"
    actions = [
      "apigateway:GET",
      "cloudwatch:Describe*",
      "cloudwatch:ListTagsForResource",
      "iam:Get*",
      "iam:List*",
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListResourceTags",
      "lambda:Get*",
      "lambda:List*",
      "logs:Describe*",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "sns:GetSubscriptionAttributes",
      "sns:GetTopicAttributes",
      "sns:ListTagsForResource",
      "ssm:DescribeParameters",
      "ssm:ListTagsForResource",
      "wafv2:GetWebACL",
      "wafv2:GetWebACLForResource",
      "wafv2:ListTagsForResource",
    ]
    resources = ["*"] #tfsec:ignore:aws-iam-no-policy-wildcards read-only configuration calls that take no resource ARN; policies/baseline/exceptions.rego documents it.
  }

  statement {
    sid = "ReadArtifactBucket"
    actions = [
      "s3:GetAccelerateConfiguration",
      "s3:GetBucket*",
      "s3:GetEncryptionConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:ListBucket",
    ]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "ReadArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/*"]
  }

  # Refreshing an env's API key parameters reads their values (the
  # provider always asks SSM to decrypt; the AWS managed key aws/ssm lets
  # the account's principals do so). The values are in the states this role
  # reads anyway; no other parameter is readable.
  statement {
    sid       = "ReadApiKeyParameters"
    actions   = ["ssm:GetParameter"]
    resources = ["arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter/*/api-keys/*"]
  }

  statement {
    sid       = "ReadStates"
    actions   = ["s3:GetObject"]
    resources = [for s in local.drift_states : "arn:${data.aws_partition.current.partition}:s3:::${s.bucket}/${s.key}"]
  }

  # The S3 backend lists the state key and the workspace prefix (env:/).
  dynamic "statement" {
    for_each = toset([for s in local.drift_states : s.bucket])
    content {
      actions   = ["s3:ListBucket"]
      resources = ["arn:${data.aws_partition.current.partition}:s3:::${statement.value}"]
      condition {
        test     = "StringEquals"
        variable = "s3:prefix"
        values   = concat([for s in local.drift_states : s.key if s.bucket == statement.value], ["env:/"])
      }
    }
  }
}

resource "aws_iam_role_policy" "drift" {
  count = var.drift == null ? 0 : 1

  name   = "read-for-drift-plan"
  role   = aws_iam_role.drift[0].id
  policy = data.aws_iam_policy_document.drift[0].json
}
