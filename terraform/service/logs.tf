# Created by Terraform, before the function, so that it has a retention
# period and the function's role needs no logs:CreateLogGroup.
resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_groups.kms_key_id
  skip_destroy      = var.log_groups.skip_destroy
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_groups.kms_key_id
  skip_destroy      = var.log_groups.skip_destroy
  tags              = var.tags
}
