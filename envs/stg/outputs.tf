output "api_url" {
  description = "Base URL of the stage; POST <api_url>/events."
  value       = module.service.api_url
}

output "candidate_api_url" {
  description = "Base URL of the candidate stage, which serves the version under rollout."
  value       = module.service.candidate_api_url
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = module.service.function_name
}

output "log_group_name" {
  description = "Log group of the function's dump events."
  value       = module.service.log_group_name
}

output "artifact_bucket" {
  description = "Bucket the function's code comes from."
  value       = module.service.artifact_bucket
}

output "region" {
  description = "Region the service runs in."
  value       = module.service.region
}

# The smoke test calls with the credentials these name (smoke/target.go).
output "access_mode" {
  description = "Who may call POST /events: none, api_key or iam."
  value       = module.service.access_mode
}

output "api_key_parameters" {
  description = "For api_key: each key's SSM SecureString parameter name (never its value)."
  value       = module.service.api_key_parameters
}

output "caller_role_arn" {
  description = "For iam: the role a caller assumes to sign requests."
  value       = module.service.caller_role_arn
}

output "usage_plan_id" {
  description = "For api_key: the usage plan that throttles the keys. Null otherwise."
  value       = module.service.usage_plan_id
}

output "web_acl_arn" {
  description = "The WAF web ACL on the public stage when waf.enabled. Null otherwise."
  value       = module.service.web_acl_arn
}
