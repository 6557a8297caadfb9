# Package terraform.logs: every CloudWatch log group a plan leaves in place
# expires its events (retention_in_days set, not 0 = never), and every
# Lambda function logs to a log group of the same plan: Lambda creates a
# missing one itself, with no retention and outside Terraform.
package terraform.logs

import data.lib.tfplan

deny contains msg if {
	some group in tfplan.of_type("aws_cloudwatch_log_group")
	not expires(group)
	msg := sprintf("%s: retention_in_days is %v, so the events are kept forever; set it to one of CloudWatch Logs' values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)", [group.address, retention(group)])
}

deny contains msg if {
	some fn in tfplan.of_type("aws_lambda_function")
	not logs_to_managed_group(fn)
	msg := sprintf("%s: the function logs to %s, which no aws_cloudwatch_log_group of this plan creates, so Lambda creates it without retention; add the log group with retention_in_days and name it in logging_config.log_group (as terraform/service does)", [fn.address, log_group_name(fn)])
}

expires(group) if object.get(group.change.after, "retention_in_days", 0) > 0

retention(group) := object.get(group.change.after, "retention_in_days", null) if not tfplan.unknown(group, "retention_in_days")

retention(group) := "known only after the apply" if tfplan.unknown(group, "retention_in_days")

# log_group_name is where Lambda sends the function's logs: the
# logging_config's log_group, by default /aws/lambda/<function name>.
# Where the plan does not know that name, it says so, and no log group of
# the plan matches it: the rule cannot show the group is managed, so it
# fails rather than pass a function it could not check.
log_group_name(fn) := "a log group known only after the apply" if {
	some config in object.get(fn.change, ["after_unknown", "logging_config"], [])
	object.get(config, "log_group", false) == true
} else := name if {
	some config in object.get(fn.change.after, "logging_config", [])
	name := object.get(config, "log_group", "")
	is_string(name)
	name != ""
} else := sprintf("/aws/lambda/%s", [fn.change.after.function_name]) if {
	is_string(object.get(fn.change.after, "function_name", null))
} else := "/aws/lambda/<a function name known only after the apply>"

logs_to_managed_group(fn) if {
	some group in tfplan.of_type("aws_cloudwatch_log_group")
	object.get(group.change.after, "name", null) == log_group_name(fn)
}
