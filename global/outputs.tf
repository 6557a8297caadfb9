output "artifact_bucket" {
  description = "The artifact bucket every env deploys from."
  value       = module.artifacts.bucket
}

output "deploy_role_arns" {
  description = "GitHub Actions deploy role of each env (role-to-assume)."
  value       = module.github_oidc.role_arns
}

output "api_gateway_cloudwatch_role_arn" {
  description = "Role API Gateway writes access logs with."
  value       = aws_iam_role.api_gateway_cloudwatch.arn
}

output "atlantis_plan_role_arns" {
  description = "Role Atlantis plans each env with (the role_arn of the profile request-dump-<env>-plan in atlantis/aws-config)."
  value       = module.atlantis_roles.plan_role_arns
}

output "atlantis_apply_role_arns" {
  description = "Role Atlantis applies and smoke-tests each env with (the role_arn of the profile request-dump-<env>-apply)."
  value       = module.atlantis_roles.apply_role_arns
}

output "drift_role_arn" {
  description = "Role the drift workflow plans every root with, read-only: the AWS_ROLE_ARN of the GitHub environment drift."
  value       = module.github_oidc.drift_role_arn
}
