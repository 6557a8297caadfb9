# Package lib.plantest builds small plans for the policies' unit tests
# (conftest verify): only the parts of Terraform's JSON plan format a rule
# reads. The fixtures in policies/testdata are whole plans.
package lib.plantest

# change is a resource change: a managed resource at address (which may
# name a module and an instance key) with actions and after.
change(address, actions, after) := object.union(
	{
		"address": address,
		"mode": mode_of(address),
		"type": type_of(address),
		"name": name_of(address),
		"change": {"actions": actions, "before": null, "after": after, "after_unknown": {}},
	},
	module_of(address),
)

# created is change(address, ["create"], after).
created(address, after) := change(address, ["create"], after)

# with_unknown marks attributes of a change known only after the apply.
with_unknown(rc, unknown) := json.patch(rc, [{"op": "add", "path": "/change/after_unknown", "value": unknown}])

# with_index gives a change an instance key.
with_index(rc, index) := object.union(rc, {"index": index})

# data_read is a data source read during the apply.
data_read(address, after, unknown) := with_unknown(change(address, ["read"], after), unknown)

# plan is a plan of changes whose module (module.service unless the
# addresses say otherwise) has the given resource configurations.
plan(changes, configs) := {
	"resource_changes": changes,
	"configuration": {"root_module": {"module_calls": {"service": {
		"source": "../../terraform/service",
		"expressions": {"environment": {"constant_value": "prod"}},
		"module": {"resources": configs},
	}}}},
}

# root_plan is a plan whose resources are all in the root module.
root_plan(changes, configs) := {
	"resource_changes": changes,
	"configuration": {"root_module": {"resources": configs}},
}

# config is a resource's configuration with attributes referring to refs
# ({"policy": ["data.aws_iam_policy_document.x.json", ...]}).
config(local_address, refs) := {
	"address": local_address,
	"mode": mode_of(local_address),
	"type": type_of(local_address),
	"name": name_of(local_address),
	"expressions": {attr: {"references": r} | some attr, r in refs},
}

policy(statements) := json.marshal({"Version": "2012-10-17", "Statement": statements})

local(address) := regex.replace(address, `^(module\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.)+`, "")

mode_of(address) := "data" if startswith(local(address), "data.")

mode_of(address) := "managed" if not startswith(local(address), "data.")

type_of(address) := parts[count(parts) - 2] if parts := split(regex.replace(local(address), `\[.*\]$`, ""), ".")

name_of(address) := parts[count(parts) - 1] if parts := split(regex.replace(local(address), `\[.*\]$`, ""), ".")

module_of(address) := {"module_address": trim_suffix(substring(address, 0, count(address) - count(local(address))), ".")} if local(address) != address

module_of(address) := {} if local(address) == address

tags := {"project": "request-dump", "managed_by": "terraform", "repository": "acme/request-dump", "environment": "prod"}
