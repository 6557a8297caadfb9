output "role_arns" {
  description = "Deploy role of each env, e.g. { dev = \"arn:aws:iam::123456789012:role/request-dump-deploy-dev\" }: the role-to-assume of the env's workflow jobs."
  value       = { for env, role in aws_iam_role.this : env => role.arn }
}

output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider the roles trust."
  value       = local.oidc_provider_arn
}

output "drift_role_arn" {
  description = "ARN of the drift workflow's read-only role (null without var.drift): the AWS_ROLE_ARN of the GitHub environment the drift jobs run in."
  value       = one(aws_iam_role.drift[*].arn)
}
