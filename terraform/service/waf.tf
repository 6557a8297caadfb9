# With var.waf.enabled: an AWS WAF web ACL in front of the public stage. Its
# one rule blocks an IP address that sends more than waf.rate_limit requests
# in a 5-minute window, before API Gateway counts them against a key's quota
# or the function writes a dump line; everything else is allowed. The
# candidate stage carries only the rollout's smoke test behind its own low
# throttle and is not associated. The local stack does not emulate WAF.
locals {
  waf_rate_rule = {
    name   = "per-ip-rate"
    metric = "${var.name}-per-ip-rate"
  }
  # WAF checks the rate over this window, in seconds (60, 120, 300 or 600).
  waf_window_seconds = 300
}

resource "aws_wafv2_web_acl" "this" {
  count = var.waf.enabled ? 1 : 0

  name        = var.name
  description = "Blocks IP addresses that send more than ${var.waf.rate_limit} requests in 5 minutes to ${var.name}."
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = local.waf_rate_rule.name
    priority = 0

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit                 = var.waf.rate_limit
        aggregate_key_type    = "IP"
        evaluation_window_sec = local.waf_window_seconds
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = local.waf_rate_rule.metric
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.name
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "this" {
  count = var.waf.enabled ? 1 : 0

  resource_arn = aws_api_gateway_stage.this.arn
  web_acl_arn  = aws_wafv2_web_acl.this[0].arn
}

# The rate rule's blocks, per 5 minutes. Named outside the "<name>/" prefix
# on purpose: the rollout watches those alarms to judge a new version, and
# blocked requests measure callers, not the version (an attack during a
# canary must not roll it back, nor stop a fix from rolling out).
#
# Dimensions: AWS/WAFV2 publishes a rule's BlockedRequests by Region, Rule
# (the rule's metric name) and WebACL (the web ACL's metric name), as the
# tools that read these metrics list them. The part of AWS's "metrics and
# dimensions" page that was available here did not show the dimension
# table, so that set is unconfirmed for a REGIONAL web ACL: check the
# metric's dimensions in the CloudWatch console after the first apply.
resource "aws_cloudwatch_metric_alarm" "waf_blocked" {
  count = var.waf.enabled ? 1 : 0

  alarm_name        = "${var.name}-waf-blocked"
  alarm_description = "AWS WAF blocked more than ${var.waf.blocked_alarm_threshold} requests to the ${var.api.stage_name} stage in 5 minutes: some IP address sent more than ${var.waf.rate_limit} requests in 5 minutes."
  namespace         = "AWS/WAFV2"
  metric_name       = "BlockedRequests"
  dimensions = {
    WebACL = aws_wafv2_web_acl.this[0].visibility_config[0].metric_name
    Rule   = local.waf_rate_rule.metric
    Region = data.aws_arn.function.region
  }
  statistic           = "Sum"
  period              = local.waf_window_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.waf.blocked_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}
