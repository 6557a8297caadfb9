# The env's alarms: what scripts/rollout.sh watches while a new version
# takes traffic (an alarm in ALARM sends the traffic back to the previous
# version), and what tells people the service is unwell at any other time.
# Every alarm is named "<name>/<what>", so the rollout finds an env's alarms
# by that prefix (function names cannot contain '/'), and notifies the env's
# one SNS topic on entering and leaving ALARM. The local stack evaluates the
# same alarms (local/stack, SpecFor; a test in terraform/ holds them to this
# file).
locals {
  alarm_period   = 60
  dump_metric    = "Dumps"
  dump_pattern   = "{ $.msg = \"request dump\" }"
  dump_namespace = "RequestDump/${var.name}"
}

data "aws_caller_identity" "current" {}

# SNS encrypts the topic with this key. CloudWatch must be able to use it to
# publish, which the AWS managed key (alias/aws/sns) does not allow.
data "aws_iam_policy_document" "alarms_key" {
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchPublishesAlarms"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_kms_key" "alarms" {
  description         = "Encrypts the ${var.name} alarm topic; CloudWatch may use it to publish."
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.alarms_key.json
  tags                = var.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarms.email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarms.email
}

resource "aws_sns_topic_subscription" "https" {
  count = var.alarms.https_endpoint == null ? 0 : 1

  topic_arn              = aws_sns_topic.alarms.arn
  protocol               = "https"
  endpoint               = var.alarms.https_endpoint
  endpoint_auto_confirms = false
}

# Lambda's metrics by FunctionName cover every version and alias, so a
# canary's errors count here while it takes its share.
resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}/function-errors"
  alarm_description   = "The function failed (error, timeout or crash) more than ${var.alarms.errors} times in a minute."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = local.alarm_period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.errors
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.name}/function-throttles"
  alarm_description   = "Lambda throttled the function more than ${var.alarms.throttles} times in a minute."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = local.alarm_period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.throttles
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "duration" {
  alarm_name          = "${var.name}/function-duration"
  alarm_description   = "The function's p99 duration over a minute passed ${var.alarms.duration_percent} % of its ${var.function.timeout} s timeout."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  extended_statistic  = "p99"
  period              = local.alarm_period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.function.timeout * 1000 * var.alarms.duration_percent / 100
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# API Gateway's metrics of the public stage, which carries the canary share.
resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name}/api-5xx"
  alarm_description   = "The ${var.api.stage_name} stage answered 5XX more than ${var.alarms.api_5xx} times in a minute."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5XXError"
  dimensions          = { ApiName = aws_api_gateway_rest_api.this.name, Stage = aws_api_gateway_stage.this.stage_name }
  statistic           = "Sum"
  period              = local.alarm_period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.api_5xx
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  alarm_name          = "${var.name}/api-latency-p99"
  alarm_description   = "The ${var.api.stage_name} stage's p99 latency over a minute passed ${var.alarms.latency_p99_ms} ms."
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = { ApiName = aws_api_gateway_rest_api.this.name, Stage = aws_api_gateway_stage.this.stage_name }
  extended_statistic  = "p99"
  period              = local.alarm_period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.latency_p99_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# The service's one job: every request that reaches the function leaves a
# dump line. A metric filter counts the lines; the alarm compares them with
# Lambda's invocations, so a build that answers 200 but dumps nothing (which
# no error metric shows) still fires it. FILL makes a minute with
# invocations and no dump line at all 100 % missing rather than no data.
resource "aws_cloudwatch_log_metric_filter" "dumps" {
  name           = "${var.name}-dumps"
  log_group_name = aws_cloudwatch_log_group.this.name
  pattern        = local.dump_pattern

  metric_transformation {
    name      = local.dump_metric
    namespace = local.dump_namespace
    value     = "1"
  }
}

resource "aws_cloudwatch_metric_alarm" "missing_dumps" {
  alarm_name          = "${var.name}/missing-dumps"
  alarm_description   = "More than ${var.alarms.missing_dumps_percent} % of the invocations in a minute wrote no dump line."
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.missing_dumps_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags

  metric_query {
    id          = "missing"
    expression  = "100 * (invocations - FILL(dumps, 0)) / invocations"
    label       = "Invocations without a dump line (%)"
    return_data = true
  }

  metric_query {
    id = "invocations"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Invocations"
      dimensions  = { FunctionName = aws_lambda_function.this.function_name }
      stat        = "Sum"
      period      = local.alarm_period
    }
  }

  metric_query {
    id = "dumps"
    metric {
      namespace   = local.dump_namespace
      metric_name = local.dump_metric
      stat        = "Sum"
      period      = local.alarm_period
    }
  }

  depends_on = [aws_cloudwatch_log_metric_filter.dumps]
}
