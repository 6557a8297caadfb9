# Package terraform.exceptions is the documented list of what the IAM rules
# (terraform.iam) let through. Each entry says why; a change to this file is
# reviewed like any other policy change (CODEOWNERS owns policies/).
package terraform.exceptions

# wildcard_resources are the Allow statements that may name Resource "*",
# by resource address and statement Sid, as long as every action matches
# one of the entry's patterns (glob, `*` does not cross ':').
wildcard_resources := array.concat(
	array.concat(
		[{
			"address": "module.github_oidc.aws_iam_role_policy.drift[0]",
			"sid": "ReadResourceConfiguration",
			"actions": [
				"*:Describe*", "*:List*", "apigateway:GET",
				"iam:Get*", "lambda:Get*", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
				"sns:GetSubscriptionAttributes", "sns:GetTopicAttributes",
				"wafv2:GetWebACL", "wafv2:GetWebACLForResource",
			],
			"reason": "The drift role plans every root with -refresh: it reads the configuration of each resource type the roots manage, and most of those read calls (Describe*, List*) take no resource ARN. Only configuration reads are allowed here, Get* by service: a bare *:Get* would also let through the data-plane reads terraform/github-oidc/drift.tf keeps off \"*\" (s3:GetObject, logs:GetLogEvents, ssm:GetParameter, secretsmanager:GetSecretValue). terraform/drift_test.go checks that every action of the role is a read.",
		}],
		[{
			"address": sprintf("module.atlantis_roles.aws_iam_role_policy.apply[%q]", [env]),
			"sid": "CreateAlarmKey",
			"actions": ["kms:CreateKey", "kms:TagResource"],
			"reason": "An env's apply role creates the KMS key of the env's alarm topic; kms:CreateKey names no resource, so the statement requires the request to tag the key with the env (aws:RequestTag/environment), which terraform/atlantis_roles_test.go checks.",
		} |
			some env in ["dev", "stg", "prod"]
		],
	),
	[{
		"address": sprintf("module.atlantis_roles.aws_iam_role_policy.%s[%q]", [role, env]),
		"sid": "DescribeParameters",
		"actions": ["ssm:DescribeParameters"],
		"reason": "Refreshing an env's API key parameters (aws_ssm_parameter) reads their metadata with ssm:DescribeParameters, which takes no resource ARN; it returns parameters' names and settings, never their values. The values are read with ssm:GetParameter, granted on the env's /<name>/api-keys/* parameters only.",
	} |
		some role in ["plan", "apply"]
		some env in ["dev", "stg", "prod"]
	],
)

# managed_policies are the AWS managed policies a role may have attached
# (their statements are not in the plan, so each is allowed by name).
managed_policies := {
	"AWSXRayDaemonWriteAccess": "X-Ray has no resource-level permissions; the service module attaches this write-only policy to the function's role when tracing is on.",
	"service-role/AmazonAPIGatewayPushToCloudWatchLogs": "API Gateway's account-wide CloudWatch role (global/api-gateway.tf) needs it to write access logs; AWS documents this policy for that role.",
}
