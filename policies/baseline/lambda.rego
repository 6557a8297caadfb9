# Package terraform.lambda: functions run what this repository builds:
# scripts/build.sh makes a Go `bootstrap` for the OS-only runtime
# provided.al2023, for arm64 by default, and that build is what CI checks
# the artifact pointers against.
package terraform.lambda

import data.lib.tfplan

runtime := "provided.al2023"

architectures := ["arm64"]

deny contains msg if {
	some fn in tfplan.of_type("aws_lambda_function")
	object.get(fn.change.after, "runtime", null) != runtime
	msg := sprintf("%s: runtime is %v; the function is a Go bootstrap built for %q (scripts/build.sh): set runtime = %q", [fn.address, value(fn, "runtime"), runtime, runtime])
}

deny contains msg if {
	some fn in tfplan.of_type("aws_lambda_function")
	object.get(fn.change.after, "architectures", null) != architectures
	msg := sprintf("%s: architectures is %v; the artifact the pointer names is built for arm64 (scripts/build.sh): set architectures = %v (the env's function.architecture)", [fn.address, value(fn, "architectures"), architectures])
}

value(fn, attr) := "known only after the apply (not set)" if tfplan.unknown(fn, attr)

value(fn, attr) := sprintf("%v", [object.get(fn.change.after, attr, null)]) if not tfplan.unknown(fn, attr)
