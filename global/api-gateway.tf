# API Gateway writes stage access logs through one role per account and
# region (aws_api_gateway_account is a singleton, not a per-API setting), so
# it is set here once rather than in the service module, where each env
# would overwrite the others'.
data "aws_partition" "current" {}

data "aws_iam_policy_document" "api_gateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "api_gateway_cloudwatch" {
  name               = "api-gateway-cloudwatch-logs"
  description        = "Lets API Gateway write REST API access logs to CloudWatch Logs in this account."
  assume_role_policy = data.aws_iam_policy_document.api_gateway_assume.json
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  role       = aws_iam_role.api_gateway_cloudwatch.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch.arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]

  # From provider 6.0, destroying this resource resets the account's API
  # Gateway settings, which removes the CloudWatch role from the region and
  # silently stops the access logs of every env's stage. A plan that would
  # destroy or replace it fails instead (docs/runbook.md, section 7, says
  # how to retire it deliberately).
  lifecycle {
    prevent_destroy = true
  }
}
