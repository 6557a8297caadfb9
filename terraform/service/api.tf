locals {
  # The integration invokes the alias its stage names in this stage
  # variable: live on the public stage, candidate on the candidate stage.
  # One REST API body serves both stages, so the alias cannot be written
  # into the URI itself.
  alias_variable = "lambda_alias"
  invoke_arn     = "arn:${data.aws_arn.function.partition}:apigateway:${data.aws_arn.function.region}:lambda:path/2015-03-31/functions/${aws_lambda_function.this.arn}:$${stageVariables.${local.alias_variable}}/invocations"

  # The candidate stage only carries the rollout's smoke test: a low
  # throttle keeps it from being a second way in to the service.
  candidate_throttling = {
    rate_limit  = 10
    burst_limit = 20
  }

  # The OpenAPI document, as internal/apispec renders it for the local
  # stack: apispec.Vars has exactly these keys (a test checks).
  openapi = templatefile("${path.module}/openapi.yaml.tftpl", {
    title           = var.name
    invoke_arn      = local.invoke_arn
    credentials_arn = aws_iam_role.api_gateway.arn
    timeout_ms      = var.api.integration_timeout_ms
    access_mode     = var.access.mode
  })
}

resource "aws_api_gateway_rest_api" "this" {
  name = var.name
  # The OpenAPI document's info.description (a test holds them equal): with
  # a body, a different description here would overwrite the document's
  # on every apply.
  description = "Accepts events and dumps selected request fields to CloudWatch Logs."

  # YAML in, canonical JSON out: a malformed template fails at plan time in
  # yamldecode, and edits that do not change the document (comments,
  # layout) do not change the body, so they neither show in plans nor
  # trigger a redeployment.
  body = jsonencode(yamldecode(local.openapi))

  # A warning on import means part of the document was dropped; fail
  # instead of serving an API weaker than the template says.
  fail_on_warnings = true

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.function.timeout * 1000 <= var.api.integration_timeout_ms
      error_message = "The function.timeout (${var.function.timeout} s) is longer than api.integration_timeout_ms (${var.api.integration_timeout_ms} ms): callers would get 504 while the function keeps running. Lower the function timeout or raise the integration timeout."
    }
  }
}

# A deployment is a snapshot of the API: a new one is made whenever the
# body changes (and created before the old one is destroyed, since the
# stage still points at it), or OpenAPI changes would never reach the stage.
resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "Body ${sha1(aws_api_gateway_rest_api.this.body)}"

  triggers = {
    body = sha1(aws_api_gateway_rest_api.this.body)
  }

  # The stage serves a deployment at once, and its integration invokes the
  # function as the API Gateway role: the role's policy exists first. IAM
  # may still take seconds to propagate it on a first deploy, which the
  # smoke test's first-call retry allows for.
  depends_on = [aws_iam_role_policy.api_gateway_invoke]

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "this" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.api.stage_name
  xray_tracing_enabled = var.api.xray_tracing

  variables = {
    (local.alias_variable) = aws_lambda_alias.live.name
  }

  # Access logs need the account's API Gateway CloudWatch role
  # (aws_api_gateway_account, set once per account and region in global/).
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      extendedRequestId  = "$context.extendedRequestId"
      requestTime        = "$context.requestTime"
      ip                 = "$context.identity.sourceIp"
      userAgent          = "$context.identity.userAgent"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationStatus  = "$context.integration.status"
      integrationLatency = "$context.integration.latency"
      errorMessage       = "$context.error.message"
      errorResponseType  = "$context.error.responseType"
    })
  }

  tags = var.tags

  lifecycle {
    # allow_none is the env's consent to an open endpoint; stg and prod may
    # not give it. A variable's validation cannot read another variable in
    # Terraform 1.5, hence a precondition.
    precondition {
      condition     = var.access.mode != "none" || !contains(["stg", "prod"], var.environment)
      error_message = "The access.mode \"none\" would leave POST /events of ${var.environment} open to anyone on the internet, and ${var.environment} must not be. Set access = { mode = \"api_key\" } (callers send an API key from SSM Parameter Store /${var.name}/api-keys/<key>) or access = { mode = \"iam\", caller_principals = [...] } in envs/${var.environment}/main.tf."
    }
  }
}

resource "aws_api_gateway_method_settings" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    throttling_rate_limit  = var.api.throttling_rate_limit
    throttling_burst_limit = var.api.throttling_burst_limit
    metrics_enabled        = true
    # Execution logs would go to a log group API Gateway creates without
    # retention; the access log above records every request instead.
    logging_level        = "OFF"
    caching_enabled      = false
    cache_data_encrypted = true
  }
}

# The version under rollout, on its own stage of the same deployment: the
# rollout's smoke test reaches exactly that version through API Gateway,
# with the same routes, validation and integration as the public stage.
resource "aws_api_gateway_stage" "candidate" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = "candidate"
  xray_tracing_enabled = var.api.xray_tracing

  variables = {
    (local.alias_variable) = aws_lambda_alias.candidate.name
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format          = aws_api_gateway_stage.this.access_log_settings[0].format
  }

  tags = var.tags
}

resource "aws_api_gateway_method_settings" "candidate" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.candidate.stage_name
  method_path = "*/*"

  settings {
    throttling_rate_limit  = local.candidate_throttling.rate_limit
    throttling_burst_limit = local.candidate_throttling.burst_limit
    metrics_enabled        = true
    logging_level          = "OFF"
    caching_enabled        = false
    cache_data_encrypted   = true
  }
}
