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
