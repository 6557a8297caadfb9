output "plan_role_arns" {
  description = "The plan role of each env, e.g. { dev = \"arn:aws:iam::123456789012:role/request-dump-atlantis-dev-plan\" }: the role_arn of the server's profile request-dump-<env>-plan."
  value       = { for env, role in aws_iam_role.plan : env => role.arn }
}

output "apply_role_arns" {
  description = "The apply role of each env: the role_arn of the server's profile request-dump-<env>-apply."
  value       = { for env, role in aws_iam_role.apply : env => role.arn }
}
