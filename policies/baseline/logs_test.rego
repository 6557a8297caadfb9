package terraform.logs_test

import data.lib.plantest
import data.terraform.logs

group(name, retention) := plantest.created("module.service.aws_cloudwatch_log_group.this", {"name": name, "retention_in_days": retention})

fn(after) := plantest.created("module.service.aws_lambda_function.this", object.union({"function_name": "f"}, after))

plan(changes) := {"resource_changes": changes}

test_retention_and_the_functions_group_pass if {
	count(logs.deny) == 0 with input as plan([group("/aws/lambda/f", 30), fn({})])
	count(logs.deny) == 0 with input as plan([group("/custom/f", 30), fn({"logging_config": [{"log_group": "/custom/f", "log_format": "JSON"}]})])
}

test_kept_forever if {
	logs.deny == {"module.service.aws_cloudwatch_log_group.this: retention_in_days is 0, so the events are kept forever; set it to one of CloudWatch Logs' values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)"} with input as plan([group("/g", 0)])
	logs.deny == {"module.service.aws_cloudwatch_log_group.this: retention_in_days is null, so the events are kept forever; set it to one of CloudWatch Logs' values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)"} with input as plan([group("/g", null)])
}

test_a_function_without_its_log_group if {
	logs.deny == {"module.service.aws_lambda_function.this: the function logs to /aws/lambda/f, which no aws_cloudwatch_log_group of this plan creates, so Lambda creates it without retention; add the log group with retention_in_days and name it in logging_config.log_group (as terraform/service does)"} with input as plan([fn({})])
	count(logs.deny) == 1 with input as plan([group("/aws/lambda/f", 30), fn({"logging_config": [{"log_group": "/elsewhere"}]})])
}

# A name the plan does not know cannot be matched to a log group of the
# plan: the function is reported, not passed unchecked.
test_a_log_group_name_known_only_after_the_apply if {
	unnamed := plantest.with_unknown(plantest.created("module.service.aws_lambda_function.this", {}), {"function_name": true})
	logs.deny == {"module.service.aws_lambda_function.this: the function logs to /aws/lambda/<a function name known only after the apply>, which no aws_cloudwatch_log_group of this plan creates, so Lambda creates it without retention; add the log group with retention_in_days and name it in logging_config.log_group (as terraform/service does)"} with input as plan([group("/aws/lambda/f", 30), unnamed])
	elsewhere := plantest.with_unknown(fn({"logging_config": [{"log_group": null}]}), {"logging_config": [{"log_group": true}]})
	[msg] := [m | some m in logs.deny] with input as plan([group("/aws/lambda/f", 30), elsewhere])
	contains(msg, "the function logs to a log group known only after the apply, which no aws_cloudwatch_log_group of this plan creates")
}
