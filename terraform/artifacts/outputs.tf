output "bucket" {
  description = "Name of the artifact bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the artifact bucket."
  value       = aws_s3_bucket.this.arn
}

output "prefixes" {
  description = "Each env's key prefix, e.g. { dev = \"dev/\" }."
  value       = { for env in var.environments : env => "${env}/" }
}
