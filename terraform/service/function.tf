resource "aws_lambda_function" "this" {
  function_name = var.name
  description   = "Dumps selected request fields of ${var.name} to CloudWatch Logs."
  role          = aws_iam_role.function.arn

  # The zip comes from the artifact bucket as the env's pointer names it,
  # through the data source so that its checks run first. The object
  # version binds the apply to the very object the plan checked: Lambda
  # fetches that version, not whatever a later write put at the key. The
  # pointer's SHA-256 updates the code when the zip changes: as
  # source_code_hash, which provider 5.51 and later keep in state only, and
  # as code_sha256 (provider 6.27), which is compared with the SHA-256
  # Lambda reports for the code it runs, so code changed out of band shows
  # in the plan and is put back.
  s3_bucket         = data.aws_s3_object.artifact.bucket
  s3_key            = data.aws_s3_object.artifact.key
  s3_object_version = data.aws_s3_object.artifact.version_id
  source_code_hash  = var.artifact.sha256
  code_sha256       = var.artifact.sha256

  # Every change of code or configuration becomes a numbered, immutable
  # version; API Gateway calls the aliases in aliases.tf, never $LATEST.
  publish = true

  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.function.architecture]
  memory_size   = var.function.memory_size
  timeout       = var.function.timeout

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.function.log_level
    system_log_level      = "INFO"
  }

  environment {
    # The function's whole configuration; internal/envconfig builds the
    # same map for the local stack (its tests evaluate this expression).
    variables = {
      DUMP_FIELDS          = join(",", [for name in sort(keys(var.dump.fields)) : "${name}=${var.dump.fields[name]}"])
      DUMP_REDACT_KEYS     = join(",", var.dump.redact_keys)
      DUMP_MAX_VALUE_BYTES = tostring(var.dump.max_value_bytes)
      DUMP_MAX_EVENT_BYTES = tostring(var.dump.max_event_bytes)
    }
  }

  tracing_config {
    mode = var.api.xray_tracing ? "Active" : "PassThrough"
  }

  tags = var.tags

  # The log group exists, with its retention, before the function can log;
  # with tracing Active, Lambda rejects the function (InvalidParameterValue)
  # unless its role may already write to X-Ray.
  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.function_logs,
    aws_iam_role_policy_attachment.function_xray,
  ]
}
