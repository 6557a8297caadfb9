# Package terraform.protect: a plan for prod, or for the account-level root
# whose artifact bucket holds prod's code, deletes or replaces no artifact
# bucket, log group or REST API. Replacing a REST API changes its id and so
# the URL every client calls; a deleted log group loses its events; the
# artifact bucket holds the only copy of what each env runs. Such a plan
# passes only with an override: an owner of this policy set (atlantis/repos.yaml)
# other than the pull request's author approves it in the pull request.
package terraform.protect

import data.lib.tfplan

protected := {
	"aws_s3_bucket": "the artifact bucket and every env's code in it",
	"aws_cloudwatch_log_group": "the log group and every event in it",
	"aws_api_gateway_rest_api": "the REST API, whose new id changes the URL every client calls",
}

protected_plan := "prod" if tfplan.environment == "prod"

protected_plan := "account-level" if tfplan.account_root

# An env root whose env the plan does not show (environment set from a
# local or an expression, not a literal) could be prod: it is guarded as
# prod rather than let through, and unread says why.
protected_plan := "env root's" if tfplan.environment_unread

default unread := ""

unread := sprintf(" (%s)", [tfplan.environment_unread_fix]) if tfplan.environment_unread

deny contains msg if {
	some rc in tfplan.changes
	what := protected[rc.type]
	tfplan.deletes(rc)
	msg := sprintf("%s: this %s plan would %s %s%s. If that is intended, the override is an approval in the pull request by an owner of the prod-destroy policy set other than its author: `atlantis approve_policies -p %s --policy-set prod-destroy` (docs/runbook.md, Guardrails); otherwise change the code so that the plan keeps it (a moved block for a renamed resource; no change to an argument that forces replacement)", [rc.address, protected_plan, verb(rc), what, unread, tfplan.project])
}

verb(rc) := "replace (destroy and re-create)" if tfplan.replaces(rc)

verb(rc) := "destroy" if not tfplan.replaces(rc)
