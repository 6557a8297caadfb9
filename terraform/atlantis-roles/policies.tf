# What `terraform plan` of an env root reads: its state (and lock), the
# artifact its pointer names, and every resource terraform/service manages
# for the env. Nothing is written but the state lock.
data "aws_iam_policy_document" "plan" {
  for_each = var.environments

  source_policy_documents = [data.aws_iam_policy_document.state[each.key].json]

  statement {
    sid       = "ReadArtifact"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]
    resources = ["${local.artifact_bucket_arn}/${each.key}/*"]
  }

  statement {
    sid       = "ListArtifact"
    actions   = ["s3:ListBucket"]
    resources = [local.artifact_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${each.key}/*"]
    }
  }

  statement {
    sid       = "ReadFunction"
    actions   = ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionCodeSigningConfig", "lambda:GetPolicy", "lambda:GetAlias", "lambda:ListAliases", "lambda:ListVersionsByFunction", "lambda:ListTags"]
    resources = [local.service[each.key].function, "${local.service[each.key].function}:*"]
  }

  statement {
    sid       = "ReadServiceRoles"
    actions   = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags"]
    resources = [local.service[each.key].roles]
  }

  statement {
    sid       = "ReadLogGroups"
    actions   = ["logs:ListTagsForResource", "logs:ListTagsLogGroup"]
    resources = local.service[each.key].log_groups
  }

  # DescribeLogGroups is authorized on all of the region's log groups at
  # once; it returns their names and settings, never their events.
  statement {
    sid       = "DescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
  }

  statement {
    sid       = "ReadMetricFilters"
    actions   = ["logs:DescribeMetricFilters"]
    resources = local.service[each.key].log_groups
  }

  # The alarms, which the rollout after an apply reads too.
  statement {
    sid       = "ReadAlarms"
    actions   = ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"]
    resources = local.service[each.key].alarms
  }

  # The alarm topic and its subscriptions ("<topic ARN>:<id>").
  statement {
    sid       = "ReadAlarmTopic"
    actions   = ["sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:ListSubscriptionsByTopic", "sns:GetSubscriptionAttributes"]
    resources = [local.service[each.key].alarm_topic, "${local.service[each.key].alarm_topic}:*"]
  }

  statement {
    sid       = "ReadAlarmKey"
    actions   = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
    resources = [local.kms_keys]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/environment"
      values   = [each.key]
    }
  }

  # A REST API's ARN holds its generated id, not its name, so the read
  # cannot be narrowed to one env's API before it exists.
  statement {
    sid       = "ReadRestApis"
    actions   = ["apigateway:GET"]
    resources = local.rest_apis
  }

  statement {
    sid       = "ReadApiKeysAndUsagePlans"
    actions   = ["apigateway:GET"]
    resources = flatten(local.api_keys_and_usage_plans)
  }

  # Refreshing an aws_ssm_parameter reads its value (with decryption), its
  # metadata and its tags: the env's API key parameters only. The smoke
  # test after an apply reads the smoke key the same way.
  statement {
    sid       = "ReadApiKeyParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:ListTagsForResource"]
    resources = [local.service[each.key].api_key_parameters]
  }

  # DescribeParameters takes no resource ARN; it returns parameters' names
  # and metadata, never a value. policies/baseline/exceptions.rego lists it.
  statement {
    sid       = "DescribeParameters"
    actions   = ["ssm:DescribeParameters"]
    resources = ["*"] #tfsec:ignore:aws-iam-no-policy-wildcards DescribeParameters names no resource; it returns metadata, never values.
  }

  statement {
    sid       = "ReadWebACL"
    actions   = ["wafv2:GetWebACL", "wafv2:ListTagsForResource", "wafv2:GetWebACLForResource"]
    resources = [local.service[each.key].web_acl, local.stages]
  }
}

# What `terraform apply` of an env root changes, and what the smoke test
# after it reads: everything the plan role reads, and writes to the
# resources named after the env's service_name only. API Gateway is the
# exception (its ARNs hold generated ids); see the README.
data "aws_iam_policy_document" "apply" {
  for_each = var.environments

  source_policy_documents = [data.aws_iam_policy_document.plan[each.key].json]

  statement {
    sid       = "WriteState"
    actions   = ["s3:PutObject"]
    resources = [local.service[each.key].state_object]
  }

  statement {
    sid = "ManageFunction"
    actions = [
      "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
      "lambda:PublishVersion", "lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias",
      "lambda:TagResource", "lambda:UntagResource",
    ]
    resources = [local.service[each.key].function, "${local.service[each.key].function}:*"]
  }

  statement {
    sid = "ManageServiceRoles"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
      "iam:TagRole", "iam:UntagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:ListInstanceProfilesForRole",
    ]
    resources = [local.service[each.key].roles]
  }

  # The one managed policy the service attaches (with X-Ray tracing).
  statement {
    sid       = "AttachXRayPolicy"
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = [local.service[each.key].roles]
    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = ["arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"]
    }
  }

  # Lambda runs as the execution role, and the OpenAPI body names the API
  # Gateway role as the integration's credentials: both need PassRole.
  statement {
    sid       = "PassServiceRoles"
    actions   = ["iam:PassRole"]
    resources = [local.service[each.key].roles]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com", "apigateway.amazonaws.com"]
    }
  }

  statement {
    sid = "ManageLogGroups"
    actions = [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
      "logs:AssociateKmsKey", "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup",
    ]
    resources = local.service[each.key].log_groups
  }

  # The smoke test after the apply finds the dump events; "<group ARN>:*"
  # is CloudWatch Logs' IAM form for a group and its streams.
  statement {
    sid       = "ReadDumpEvents"
    actions   = ["logs:FilterLogEvents"]
    resources = [for arn in local.service[each.key].log_groups : "${arn}:*"]
  }

  statement {
    sid       = "ManageMetricFilters"
    actions   = ["logs:PutMetricFilter", "logs:DeleteMetricFilter"]
    resources = local.service[each.key].log_groups
  }

  statement {
    sid       = "ManageAlarms"
    actions   = ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"]
    resources = local.service[each.key].alarms
  }

  statement {
    sid = "ManageAlarmTopic"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource",
      "sns:Subscribe", "sns:Unsubscribe", "sns:SetSubscriptionAttributes",
    ]
    resources = [local.service[each.key].alarm_topic, "${local.service[each.key].alarm_topic}:*"]
  }

  # CreateKey has no resource yet to name: only a key tagged as this env's
  # may be created.
  statement {
    sid       = "CreateAlarmKey"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"] #tfsec:ignore:aws-iam-no-policy-wildcards CreateKey cannot name a resource; the request must tag the key with this env.
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/environment"
      values   = [each.key]
    }
  }

  statement {
    sid = "ManageAlarmKey"
    actions = [
      "kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:UpdateKeyDescription",
      "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
    ]
    resources = [local.kms_keys]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/environment"
      values   = [each.key]
    }
  }

  # A REST API's ARN holds its generated id, so the env's API cannot be
  # named before it exists: these writes cover the region's REST APIs.
  statement {
    sid       = "ManageRestApis"
    actions   = ["apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"]
    resources = concat(local.rest_apis, ["arn:${local.partition}:apigateway:${local.region}::/tags/*"])
  }

  # API keys and usage plans have generated ids too (access mode api_key).
  statement {
    sid       = "ManageApiKeysAndUsagePlans"
    actions   = ["apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"]
    resources = flatten(local.api_keys_and_usage_plans)
  }

  statement {
    sid       = "ManageApiKeyParameters"
    actions   = ["ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"]
    resources = [local.service[each.key].api_key_parameters]
  }

  # The smoke test reads the smoke key with decryption. The values are
  # SecureStrings under the AWS managed key aws/ssm, whose key policy lets
  # every principal of the account decrypt through SSM (what the plan's
  # refresh of the parameters relies on); this names the smoke test's use
  # in IAM as well, as narrowly as KMS allows: Decrypt, only through SSM,
  # only for the smoke key (SSM's encryption context is the parameter's
  # ARN), so it keeps working under a customer managed key whose policy
  # defers to IAM.
  statement {
    sid       = "DecryptSmokeKey"
    actions   = ["kms:Decrypt"]
    resources = [local.kms_keys]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = [local.service[each.key].smoke_key_parameter]
    }
  }

  # The smoke test after an apply in access mode iam signs as the caller
  # role (the env lists this role in access.caller_principals).
  statement {
    sid       = "AssumeCallerRole"
    actions   = ["sts:AssumeRole"]
    resources = [local.service[each.key].caller_role]
  }

  statement {
    sid = "ManageWebACL"
    actions = [
      "wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:TagResource", "wafv2:UntagResource",
      "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
    ]
    resources = [local.service[each.key].web_acl, local.stages]
  }

  # WAF checks that the caller may change the stage it protects.
  statement {
    sid       = "SetStageWebACL"
    actions   = ["apigateway:SetWebACL"]
    resources = [local.stages]
  }
}

# Both roles read the env's state and hold its lock; only the lock items of
# the env's own state key.
data "aws_iam_policy_document" "state" {
  for_each = var.environments

  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = [local.service[each.key].state_object]
  }

  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
    condition {
      test     = "StringEquals"
      variable = "s3:prefix"
      values   = [each.value.state_key, "env:/"]
    }
  }

  statement {
    sid       = "LockState"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [local.lock_table_arn]
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = local.service[each.key].lock_ids
    }
  }
}
