variable "name" {
  description = "Name of the function, the REST API, the roles and the log groups (/aws/lambda/<name>), e.g. request-dump-dev."
  type        = string
  nullable    = false

  validation {
    # 64 is Lambda's limit; the longest derived name, the role
    # "<name>-api-gateway", must stay within IAM's 64 characters.
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name))
    error_message = "The name must be 3-40 characters of a-z, 0-9 and '-', start with a letter and not end with '-', e.g. request-dump-dev."
  }
}

variable "environment" {
  description = "Environment this instance belongs to (dev, stg, prod, ...). The artifact key must be under the \"<environment>/\" prefix."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,15}$", var.environment))
    error_message = "The environment must be 2-16 characters of a-z and 0-9 starting with a letter, e.g. dev, stg or prod."
  }
}

variable "artifact" {
  description = "The function zip in S3, as the env's artifact pointer names it: bucket, content-addressed key \"<environment>/<sha256 hex>.zip\" and the base64 SHA-256 of the zip (what source_code_hash takes)."
  type = object({
    bucket = string
    key    = string
    sha256 = string
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact.bucket))
    error_message = "The artifact.bucket must be an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-'."
  }

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,15}/[0-9a-f]{64}[.]zip$", var.artifact.key))
    error_message = "The artifact.key must be the content address \"<env>/<sha256 hex of the zip>.zip\", e.g. dev/9f86d0...0a08.zip; write the pointer with scripts, not by hand."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.artifact.sha256))
    error_message = "The artifact.sha256 must be the base64 of the zip's raw SHA-256 (44 characters ending in '='), as in dist/function.zip.sha256; a 64-character hex digest is the wrong encoding."
  }

  validation {
    # The key's hex digest, base64-encoded three bytes (six hex digits) at a
    # time, must be the sha256: otherwise the pointer names two zips and the
    # plan would deploy whichever the key holds. Terraform has no hex or
    # base64 decoding of raw bytes, hence the arithmetic. Malformed values
    # pass here (Terraform reports every rule a value fails); the rules
    # above report them.
    condition = !can(regex("^[A-Za-z0-9+/]{43}=$", var.artifact.sha256)) || try([
      for hex in regex("^[a-z][a-z0-9]{1,15}/([0-9a-f]{64})[.]zip$", var.artifact.key) : join("", [
        for g in range(11) : join("", [
          for shift in slice([262144, 4096, 64, 1], 0, g == 10 ? 3 : 4) :
          substr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", floor(parseint(substr("${hex}00", 6 * g, 6), 16) / shift) % 64, 1)
        ])
      ])
    ][0] == trimsuffix(var.artifact.sha256, "="), true)
    error_message = "The artifact.key and artifact.sha256 name different zips: the hex digest in the key and the base64 sha256 are not the same SHA-256. Write the pointer with scripts/set-pointer.sh, scripts/upload.sh --write-pointer or scripts/promote.sh instead of editing it."
  }
}

variable "function" {
  description = "The Lambda function: memory in MB, timeout in seconds, CPU architecture, and the application log level Lambda filters JSON log lines at."
  type = object({
    memory_size  = optional(number, 128)
    timeout      = optional(number, 10)
    architecture = optional(string, "arm64")
    log_level    = optional(string, "INFO")
  })
  default  = {}
  nullable = false

  validation {
    condition     = floor(var.function.memory_size) == var.function.memory_size && var.function.memory_size >= 128 && var.function.memory_size <= 10240
    error_message = "The function.memory_size must be a whole number of MB from 128 to 10240."
  }

  validation {
    # API Gateway stops waiting after at most 29 s; a longer function
    # timeout would keep the function running after the caller got a 504.
    condition     = floor(var.function.timeout) == var.function.timeout && var.function.timeout >= 1 && var.function.timeout <= 29
    error_message = "The function.timeout must be a whole number of seconds from 1 to 29 (API Gateway's integration timeout caps it)."
  }

  validation {
    condition     = contains(["arm64", "x86_64"], var.function.architecture)
    error_message = "The function.architecture must be \"arm64\" (what the committed artifacts are built for) or \"x86_64\"."
  }

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.function.log_level)
    error_message = "The function.log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL (Lambda's application log levels)."
  }
}

variable "dump" {
  description = "What the function dumps: fields maps a name in the dump event to a request path (body.user.id, headers.User-Agent, requestContext.identity.sourceIp, ...); redact_keys are key names whose values are masked anywhere; max_value_bytes and max_event_bytes bound one value and one log line."
  type = object({
    fields = optional(map(string), {
      event_id = "body.event_id"
      type     = "body.type"
    })
    redact_keys     = optional(list(string), ["password", "token", "secret", "authorization", "cookie", "api-key", "api_key", "apikey", "x-api-key", "x-amz-security-token", "accesskey", "access_key"])
    max_value_bytes = optional(number, 8192)
    max_event_bytes = optional(number, 65536)
  })
  default  = {}
  nullable = false

  validation {
    condition     = length(var.dump.fields) >= 1 && length(var.dump.fields) <= 50
    error_message = "The dump.fields must name 1 to 50 fields."
  }

  validation {
    condition     = alltrue([for name in keys(var.dump.fields) : can(regex("^[A-Za-z_][A-Za-z0-9_]{0,63}$", name))])
    error_message = "Each dump.fields name must be 1-64 characters of letters, digits and '_', not starting with a digit (it becomes a JSON key matched by filter patterns such as { $.fields.event_id = \"e-1\" })."
  }

  validation {
    # The function's path syntax (lambda/dump), no looser: body[.key|[index]]...,
    # headers[.Name], queryStringParameters|pathParameters|stageVariables.<name>,
    # requestContext.<key>... by the event's JSON names, httpMethod, path,
    # resource. ',' and '=' are out because DUMP_FIELDS is "name=path,...";
    # terraform/function_test.go checks every accepted path parses in the
    # function.
    condition = alltrue([for path in values(var.dump.fields) : can(regex(join("", [
      "^(",
      "body((\\.[^.\\[\\],=[:space:][:cntrl:]]+)|(\\[(0|[1-9][0-9]{0,5})\\]))*",
      "|headers(\\.[A-Za-z0-9_-]+)?",
      "|(queryStringParameters|pathParameters|stageVariables)\\.[^.\\[\\],=[:space:][:cntrl:]]+",
      "|requestContext\\.(accountId|resourceId|operationName|stage|domainName|domainPrefix|requestId|extendedRequestId|protocol|resourcePath|path|httpMethod|requestTime|requestTimeEpoch|apiId",
      "|identity(\\.(cognitoIdentityPoolId|accountId|cognitoIdentityId|caller|apiKey|apiKeyId|accessKey|sourceIp|cognitoAuthenticationType|cognitoAuthenticationProvider|userArn|userAgent|user",
      "|clientCert(\\.(clientCertPem|issuerDN|serialNumber|subjectDN|validity(\\.(notAfter|notBefore))?))?))?",
      "|authorizer((\\.[^.\\[\\],=[:space:][:cntrl:]]+)|(\\[(0|[1-9][0-9]{0,5})\\]))*)",
      "|httpMethod|path|resource",
      ")$",
    ]), path))])
    error_message = "Each dump.fields path must be body, body.<key>.<key>[<index>]..., headers, headers.<Name>, queryStringParameters.<name>, pathParameters.<name>, stageVariables.<name>, requestContext.<key>... (the event's JSON names, e.g. requestContext.identity.sourceIp, requestContext.authorizer.<key>), httpMethod, path or resource, without spaces, ',' or '=' (e.g. body.event_id, headers.User-Agent)."
  }

  validation {
    # The function folds ASCII case only, so keys are printable ASCII.
    condition     = alltrue([for key in var.dump.redact_keys : can(regex("^[\\x21-\\x2b\\x2d-\\x7e]{1,128}$", key))])
    error_message = "Each dump.redact_keys entry must be a key name of 1-128 printable ASCII characters without spaces or ',', e.g. password."
  }

  validation {
    condition     = floor(var.dump.max_value_bytes) == var.dump.max_value_bytes && var.dump.max_value_bytes >= 16 && var.dump.max_value_bytes <= var.dump.max_event_bytes
    error_message = "The dump.max_value_bytes must be a whole number from 16 up to dump.max_event_bytes."
  }

  validation {
    # Lambda delivers a line of output as one CloudWatch Logs event up to
    # 256 KB less the 26 bytes CloudWatch counts per event, and splits a
    # longer one into events no JSON filter finds (PutLogEvents itself takes
    # 1 MB). The function needs room for the line's fixed parts (ids, time,
    # lists of absent and truncated fields) and every field's name twice;
    # terraform/function_test.go checks both bounds against it.
    condition     = floor(var.dump.max_event_bytes) == var.dump.max_event_bytes && var.dump.max_event_bytes >= 4096 + 2 * length(join("", keys(var.dump.fields))) + 9 * length(var.dump.fields) && var.dump.max_event_bytes <= 262118
    error_message = "The dump.max_event_bytes must be a whole number from 4096 plus, per field, 9 bytes and twice its name's length (room for the line's fixed parts), up to 262118 (Lambda delivers a longer line as several CloudWatch Logs events, which a JSON filter pattern cannot find)."
  }
}

variable "api" {
  description = "The REST API's stage: its name, steady-state requests per second and burst (throttling for every method), the integration timeout in ms, and whether X-Ray tracing is on for the stage and the function."
  type = object({
    stage_name             = optional(string, "v1")
    throttling_rate_limit  = optional(number, 50)
    throttling_burst_limit = optional(number, 100)
    integration_timeout_ms = optional(number, 29000)
    xray_tracing           = optional(bool, false)
  })
  default  = {}
  nullable = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,128}$", var.api.stage_name))
    error_message = "The api.stage_name must be 1-128 characters of letters, digits and '_' (API Gateway's stage name rule), e.g. dev."
  }

  validation {
    condition     = var.api.stage_name != "candidate"
    error_message = "The api.stage_name must not be \"candidate\": the module serves the version under rollout on a stage of that name."
  }

  validation {
    condition     = var.api.throttling_rate_limit > 0 && var.api.throttling_rate_limit <= 10000
    error_message = "The api.throttling_rate_limit must be more than 0 and at most 10000 requests per second (the default account quota)."
  }

  validation {
    condition     = floor(var.api.throttling_burst_limit) == var.api.throttling_burst_limit && var.api.throttling_burst_limit >= 1 && var.api.throttling_burst_limit <= 5000
    error_message = "The api.throttling_burst_limit must be a whole number of requests from 1 to 5000 (the default account quota)."
  }

  validation {
    condition     = floor(var.api.integration_timeout_ms) == var.api.integration_timeout_ms && var.api.integration_timeout_ms >= 50 && var.api.integration_timeout_ms <= 29000
    error_message = "The api.integration_timeout_ms must be a whole number of milliseconds from 50 to 29000."
  }
}

variable "rollout" {
  description = "How scripts/rollout.sh moves the live alias to a newly published version after apply: all_at_once (smoke-test the new version, then 100 %), canary (percent of the traffic for interval_seconds, then 100 %) or linear (percent more every interval_seconds). Each share runs while the env's alarms are watched; an alarm or a failed smoke test puts the traffic back on the previous version."
  type = object({
    strategy         = optional(string, "canary")
    percent          = optional(number, 10)
    interval_seconds = optional(number, 300)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["all_at_once", "canary", "linear"], var.rollout.strategy)
    error_message = "The rollout.strategy must be all_at_once, canary or linear."
  }

  validation {
    condition     = floor(var.rollout.percent) == var.rollout.percent && var.rollout.percent >= 1 && var.rollout.percent <= 99
    error_message = "The rollout.percent must be a whole number from 1 to 99: the share of the traffic, in percent, the new version takes during the canary or adds at each linear step."
  }

  validation {
    condition     = floor(var.rollout.interval_seconds) == var.rollout.interval_seconds && var.rollout.interval_seconds >= 1 && var.rollout.interval_seconds <= 3600
    error_message = "The rollout.interval_seconds must be a whole number of seconds from 1 to 3600: how long each share runs while the alarms are watched."
  }

  validation {
    # The rollout runs inside the Atlantis apply: its shares, one after the
    # other, must fit in an hour. A linear rollout of p % has ceil(100/p) - 1
    # shares below 100 %. Terraform reports every rule a value fails, so a
    # percent or interval the rules above refuse passes this one: one
    # mistake, one message (and 100 / 0 is +Inf in Terraform, not an error
    # a try() would catch).
    condition = !(
      var.rollout.strategy == "linear" &&
      floor(var.rollout.percent) == var.rollout.percent && var.rollout.percent >= 1 && var.rollout.percent <= 99 &&
      floor(var.rollout.interval_seconds) == var.rollout.interval_seconds && var.rollout.interval_seconds >= 1 && var.rollout.interval_seconds <= 3600
    ) || (ceil(100 / var.rollout.percent) - 1) * var.rollout.interval_seconds <= 3600
    error_message = "A linear rollout must finish within 3600 seconds: (ceil(100 / rollout.percent) - 1) steps of rollout.interval_seconds each. Take bigger steps or a shorter interval."
  }
}

variable "alarms" {
  description = "The env's CloudWatch alarms, each watched by scripts/rollout.sh and notifying one SNS topic: an alarm fires when its value over one minute is above the threshold. errors, throttles and api_5xx count per minute; duration_percent is the function's p99 duration as a percentage of its timeout; latency_p99_ms is API Gateway's p99 latency; missing_dumps_percent is the share of invocations that wrote no dump line. email and https_endpoint subscribe to the topic."
  type = object({
    errors                = optional(number, 0)
    throttles             = optional(number, 0)
    duration_percent      = optional(number, 80)
    api_5xx               = optional(number, 0)
    latency_p99_ms        = optional(number, 2000)
    missing_dumps_percent = optional(number, 1)
    email                 = optional(string)
    https_endpoint        = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for n in [var.alarms.errors, var.alarms.throttles, var.alarms.api_5xx] : floor(n) == n && n >= 0 && n <= 100000])
    error_message = "The alarms.errors, alarms.throttles and alarms.api_5xx must be whole numbers from 0 to 100000: how many per minute are tolerated (0: any one fires the alarm)."
  }

  validation {
    condition     = var.alarms.duration_percent >= 1 && var.alarms.duration_percent <= 100
    error_message = "The alarms.duration_percent must be from 1 to 100: the function's p99 duration, in percent of its timeout, above which the alarm fires."
  }

  validation {
    condition     = floor(var.alarms.latency_p99_ms) == var.alarms.latency_p99_ms && var.alarms.latency_p99_ms >= 1 && var.alarms.latency_p99_ms <= 29000
    error_message = "The alarms.latency_p99_ms must be a whole number of milliseconds from 1 to 29000 (API Gateway's longest integration timeout)."
  }

  validation {
    condition     = var.alarms.missing_dumps_percent >= 0 && var.alarms.missing_dumps_percent < 100
    error_message = "The alarms.missing_dumps_percent must be from 0 (any missing dump line fires the alarm) up to, not including, 100."
  }

  validation {
    condition     = var.alarms.email == null || can(regex("^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$", var.alarms.email))
    error_message = "The alarms.email must be an email address (user@example.com), or left out."
  }

  validation {
    condition     = var.alarms.https_endpoint == null || can(regex("^https://[^[:space:]/]+", var.alarms.https_endpoint))
    error_message = "The alarms.https_endpoint must be an https:// URL (SNS confirms the subscription there), or left out."
  }
}

variable "access" {
  description = "Who may call POST /events. mode: none (open to anyone; only with allow_none = true, and never in stg or prod), api_key (callers send an API key in x-api-key; the keys named in api_keys are created with generated values kept in SSM Parameter Store SecureString /<name>/api-keys/<key>, and a usage plan bounds them with a per-second rate, a burst and a daily quota) or iam (AWS_IAM: callers sign with SigV4 as a principal allowed to execute-api:Invoke this method and stage, e.g. through the caller role, which the principals in caller_principals may assume)."
  type = object({
    mode       = string
    allow_none = optional(bool, false)
    api_keys   = optional(list(string), ["smoke"])
    usage_plan = optional(object({
      rate_limit    = optional(number, 50)
      burst_limit   = optional(number, 100)
      quota_per_day = optional(number, 100000)
    }), {})
    caller_principals = optional(list(string), [])
  })
  nullable = false

  validation {
    condition     = contains(["none", "api_key", "iam"], var.access.mode)
    error_message = "The access.mode must be none, api_key or iam."
  }

  validation {
    condition     = var.access.mode != "none" || var.access.allow_none
    error_message = "The access.mode \"none\" leaves POST /events open to anyone on the internet: set access.allow_none = true to say this env means it (dev only), or choose api_key or iam."
  }

  validation {
    # A key name is a segment of its SSM parameter's name and a suffix of
    # the API key's name ("<name>-<key>").
    condition     = alltrue([for key in var.access.api_keys : can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", key))]) && length(distinct(var.access.api_keys)) == length(var.access.api_keys)
    error_message = "Each access.api_keys entry must be a distinct key name of 2-32 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-', e.g. smoke or partner-a (the value is kept at /<name>/api-keys/<key name>)."
  }

  validation {
    condition     = var.access.mode != "api_key" || contains(var.access.api_keys, "smoke")
    error_message = "The access.api_keys must include \"smoke\" when access.mode is api_key: the smoke test and the rollout gate call the API with the key /<name>/api-keys/smoke. Add \"smoke\" to the list."
  }

  validation {
    # API Gateway's default account quota in a region: 10000 requests per
    # second, a burst of 5000; a usage plan cannot raise them.
    condition     = var.access.usage_plan.rate_limit > 0 && var.access.usage_plan.rate_limit <= 10000
    error_message = "The access.usage_plan.rate_limit must be more than 0 and at most 10000 requests per second per key (the default account quota)."
  }

  validation {
    condition     = floor(var.access.usage_plan.burst_limit) == var.access.usage_plan.burst_limit && var.access.usage_plan.burst_limit >= 1 && var.access.usage_plan.burst_limit <= 5000
    error_message = "The access.usage_plan.burst_limit must be a whole number of requests from 1 to 5000 (the default account quota); 0 would refuse every request."
  }

  validation {
    # The quota's limit is an integer in API Gateway's API.
    condition     = floor(var.access.usage_plan.quota_per_day) == var.access.usage_plan.quota_per_day && var.access.usage_plan.quota_per_day >= 1 && var.access.usage_plan.quota_per_day <= 2147483647
    error_message = "The access.usage_plan.quota_per_day must be a whole number of requests per key and day from 1 to 2147483647."
  }

  validation {
    # IAM principals a trust policy can name: an account (its root), a role
    # or a user. No wildcards: a trust policy for "*" would let anyone with
    # AWS credentials call the API.
    condition     = alltrue([for arn in var.access.caller_principals : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/[A-Za-z0-9+=,.@_/-]{1,512}|user/[A-Za-z0-9+=,.@_/-]{1,512})$", arn))]) && length(distinct(var.access.caller_principals)) == length(var.access.caller_principals)
    error_message = "Each access.caller_principals entry must be a distinct IAM ARN of an account root, a role or a user, without wildcards, e.g. arn:aws:iam::123456789012:role/request-dump-atlantis-stg-apply."
  }

  validation {
    condition     = var.access.mode != "iam" || length(var.access.caller_principals) > 0
    error_message = "The access.caller_principals must name at least one principal when access.mode is iam: nobody could assume the caller role <name>-caller otherwise. Name the roles that call the API, and the Atlantis apply role, whose smoke test assumes it."
  }
}

variable "waf" {
  description = "An optional AWS WAF web ACL (REGIONAL) on the public stage: enabled turns it on; rate_limit is how many requests one IP address may send in a 5-minute window before the rule blocks it; blocked_alarm_threshold is how many blocked requests in 5 minutes fire the alarm <name>-waf-blocked (notifying the alarm topic; the rollout does not watch it). Not emulated by the local stack."
  type = object({
    enabled                 = optional(bool, false)
    rate_limit              = optional(number, 1000)
    blocked_alarm_threshold = optional(number, 100)
  })
  default  = {}
  nullable = false

  validation {
    # AWS WAF's rate-based rule: a limit of at least 10 requests per
    # evaluation window, at most 2,000,000,000.
    condition     = floor(var.waf.rate_limit) == var.waf.rate_limit && var.waf.rate_limit >= 10 && var.waf.rate_limit <= 2000000000
    error_message = "The waf.rate_limit must be a whole number of requests per IP address and 5 minutes from 10 to 2000000000 (AWS WAF's limits for a rate-based rule)."
  }

  validation {
    condition     = floor(var.waf.blocked_alarm_threshold) == var.waf.blocked_alarm_threshold && var.waf.blocked_alarm_threshold >= 0
    error_message = "The waf.blocked_alarm_threshold must be a whole number of blocked requests in 5 minutes, 0 or more (0: any blocked request fires the alarm)."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the function's and the access log's events."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 (0, never expire, is not allowed)."
  }
}

variable "log_groups" {
  description = "Settings of both log groups (the function's and the stage's access log): kms_key_id, the ARN of a KMS key to encrypt their events with (its key policy must let logs.<region>.amazonaws.com use it; null keeps CloudWatch Logs' own encryption), and skip_destroy, which keeps the groups and their events when they leave the configuration (Terraform then only forgets them)."
  type = object({
    kms_key_id   = optional(string)
    skip_destroy = optional(bool, false)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.log_groups.kms_key_id == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", var.log_groups.kms_key_id))
    error_message = "The log_groups.kms_key_id must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id> (CloudWatch Logs takes no alias), or null."
  }
}

variable "tags" {
  description = "Tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
  nullable    = false
  validation {
    # AWS's tag rules, common to every service here: keys 1-128 and values
    # up to 256 characters, letters, digits, spaces and _ . : / = + - @;
    # the aws: prefix is AWS's own. AWS would refuse them only at apply.
    condition = alltrue([for k, v in var.tags :
      length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:") &&
      can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$", "${k}${v}"))
    ])
    error_message = "Each tag key must be 1-128 characters and each value at most 256, of letters, digits, spaces and _ . : / = + - @ only, and no key may start with aws: (AWS reserves it), e.g. tags = { team = \"payments\" }."
  }
}
