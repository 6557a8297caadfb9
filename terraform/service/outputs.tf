output "api_url" {
  description = "Base URL of the stage; the API answers POST <api_url>/events."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "rest_api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "candidate_api_url" {
  description = "Base URL of the candidate stage, which serves the version under rollout; the rollout smoke-tests it there."
  value       = aws_api_gateway_stage.candidate.invoke_url
}

output "stage_name" {
  description = "Name of the stage."
  value       = aws_api_gateway_stage.this.stage_name
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "log_group_name" {
  description = "Log group the function's dump events go to (/aws/lambda/<name>)."
  value       = aws_cloudwatch_log_group.this.name
}

output "access_log_group_name" {
  description = "Log group of the stage's access log."
  value       = aws_cloudwatch_log_group.access.name
}

output "artifact_bucket" {
  description = "Bucket the function's code comes from."
  value       = data.aws_s3_object.artifact.bucket
}

output "region" {
  description = "Region the service runs in."
  value       = data.aws_arn.function.region
}

output "function_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.function.arn
}

output "api_gateway_role_arn" {
  description = "ARN of the role API Gateway assumes to invoke the function."
  value       = aws_iam_role.api_gateway.arn
}

output "live_alias_arn" {
  description = "ARN of the live alias, which the public stage invokes."
  value       = aws_lambda_alias.live.arn
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm of the env notifies."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of the env's alarms (all start with \"<name>/\"), which the rollout watches."
  value = sort([for a in [
    aws_cloudwatch_metric_alarm.errors,
    aws_cloudwatch_metric_alarm.throttles,
    aws_cloudwatch_metric_alarm.duration,
    aws_cloudwatch_metric_alarm.api_5xx,
    aws_cloudwatch_metric_alarm.latency,
    aws_cloudwatch_metric_alarm.missing_dumps,
  ] : a.alarm_name])
}

output "rollout" {
  description = "The rollout settings, defaults applied, that scripts/rollout.sh applies to this env (it reads them from the env root, as the local stack does)."
  value       = var.rollout
}

output "access_mode" {
  description = "Who may call POST /events: none, api_key or iam (var.access.mode)."
  value       = var.access.mode
}

output "api_key_parameters" {
  description = "For api_key: each API key's name mapped to the SSM Parameter Store SecureString holding its value (/<name>/api-keys/<key>); never the values. Empty otherwise."
  value       = { for key, parameter in aws_ssm_parameter.api_key : key => parameter.name }
}

output "caller_role_arn" {
  description = "For iam: ARN of the role <name>-caller, which may execute-api:Invoke POST /events on the public and candidate stages. Null otherwise."
  value       = one(aws_iam_role.caller[*].arn)
}

output "usage_plan_id" {
  description = "For api_key: ID of the usage plan that throttles the keys on both stages. Null otherwise."
  value       = one(aws_api_gateway_usage_plan.this[*].id)
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL on the public stage when waf.enabled. Null otherwise."
  value       = one(aws_wafv2_web_acl.this[*].arn)
}
