data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${var.name}-function"
  description        = "Execution role of the ${var.name} function."
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

# Instead of AWSLambdaBasicExecutionRole, which lets a function create any
# log group and write to every log group in the account, the function may
# only write streams of its own log group, which Terraform creates.
# "<group ARN>:*" is the form CloudWatch Logs documents for IAM policies: it
# matches the group as CreateLogStream is checked and each of its streams
# as PutLogEvents is; no other group's ARN has it as a prefix (group names
# cannot contain ':').
data "aws_iam_policy_document" "function_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"] #tfsec:ignore:aws-iam-no-policy-wildcards Lambda names the streams itself; the wildcard covers only this function's own log group and its streams.
  }
}

resource "aws_iam_role_policy" "function_logs" {
  name   = "write-own-log-group"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function_logs.json
}

# X-Ray has no resource-level permissions, so the AWS managed write-only
# policy is as tight as it gets.
resource "aws_iam_role_policy_attachment" "function_xray" {
  count = var.api.xray_tracing ? 1 : 0

  role       = aws_iam_role.function.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# Read while planning (it depends on nothing the plan creates), so even a
# first plan shows the attached policy's ARN to the IAM policy check
# (policies/baseline/iam.rego), which allows only the managed policies it
# lists.
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

# The integration's credentials: API Gateway invokes the function as this
# role, which may invoke this function's two aliases and nothing else (not
# $LATEST, not a version by number, not the unqualified function).
resource "aws_iam_role" "api_gateway" {
  name               = "${var.name}-api-gateway"
  description        = "Role the ${var.name} REST API assumes to invoke its function."
  assume_role_policy = data.aws_iam_policy_document.api_gateway_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "api_gateway_invoke" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_alias.live.arn, aws_lambda_alias.candidate.arn]
  }
}

resource "aws_iam_role_policy" "api_gateway_invoke" {
  name   = "invoke-function"
  role   = aws_iam_role.api_gateway.id
  policy = data.aws_iam_policy_document.api_gateway_invoke.json
}
