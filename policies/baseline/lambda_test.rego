package terraform.lambda_test

import data.lib.plantest
import data.terraform.lambda

fn(after) := plantest.created("module.service.aws_lambda_function.this", object.union({"function_name": "f", "runtime": "provided.al2023", "architectures": ["arm64"]}, after))

plan(changes) := {"resource_changes": changes}

test_what_the_repository_builds if {
	count(lambda.deny) == 0 with input as plan([fn({})])
}

test_another_runtime if {
	lambda.deny == {`module.service.aws_lambda_function.this: runtime is go1.x; the function is a Go bootstrap built for "provided.al2023" (scripts/build.sh): set runtime = "provided.al2023"`} with input as plan([fn({"runtime": "go1.x"})])
}

test_another_architecture if {
	lambda.deny == {`module.service.aws_lambda_function.this: architectures is ["x86_64"]; the artifact the pointer names is built for arm64 (scripts/build.sh): set architectures = ["arm64"] (the env's function.architecture)`} with input as plan([fn({"architectures": ["x86_64"]})])
}

test_architecture_left_to_lambda if {
	rc := plantest.with_unknown(json.patch(fn({}), [{"op": "remove", "path": "/change/after/architectures"}]), {"architectures": true})
	[msg] := [m | some m in lambda.deny] with input as plan([rc])
	contains(msg, "architectures is known only after the apply (not set)")
}
