// Package lambda is the local stack's AWS Lambda: it runs a provided.al2023
// function's bootstrap under the AWS Lambda Runtime Interface Emulator
// (aws-lambda-rie, AWS's own, pinned and built by scripts/tools.sh), one
// RIE process per execution environment, and writes the function's output
// to the local CloudWatch Logs in Lambda's formats.
//
// New deploys a function from its zip (or an unpacked bootstrap) and the
// settings Terraform gives aws_lambda_function; Function.Invoke is Lambda's
// synchronous Invoke. Environments start on demand, warm ones are reused
// (the most recently used first, as Lambda roughly does), and requests wait
// for one when Spec.MaxConcurrency environments are busy. Reserved
// concurrency throttles with TooManyRequestsException, as Lambda does.
//
// # What RIE does, and what this package does about it
//
// RIE emulates one execution environment for local testing; run as a pool
// behind a gateway it needs the following handled around it.
//
//   - Its internal Runtime API listens on 127.0.0.1:9001 by default, and a
//     second RIE on the same port dies. Every environment gets its own
//     --runtime-interface-emulator-address and --runtime-api-address, picked
//     free, and starts are serialised until RIE listens on both; RIE exits
//     when another process took one meanwhile, and the start is retried
//     with other ports.
//   - Two overlapping invocations crash it (both clients get an empty
//     reply). Each environment serves one invocation at a time, on the
//     invoking caller's goroutine (a goroutine of its own only when the
//     caller's context may end before the function's timeout), over one
//     keep-alive HTTP connection.
//   - It passes its whole environment to the runtime, and reads some of it
//     itself (AWS_LAMBDA_FUNCTION_TIMEOUT is the timeout). It is started
//     with exactly the variables Lambda sets (AWS_REGION,
//     AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_LOG_STREAM_NAME, …, fake
//     credentials) and the function's own, and nothing of this process.
//   - It prints START/END/REPORT on its stdout, where the runtime's stdout
//     and stderr also go, unprefixed; its REPORT has a meaningless Init
//     Duration, and Max Memory Used always equals Memory Size. Each
//     environment's stdout is read into lines, and RIE's platform lines are
//     replaced by Lambda's: the TEXT format's tab-separated lines (every
//     TEXT event keeps its trailing "\n", as Lambda's do), or
//     platform.start/platform.report records with the JSON format, whose
//     level filter this package applies (plain-text lines become INFO
//     records). Init Duration comes from RIE's own
//     log (its INIT REPORT line, on stderr) and is taken out of RIE's
//     Duration, which counts it; Max Memory Used is the runtime's peak
//     resident memory (VmHWM) read from /proc; Billed Duration is rounded
//     up to the millisecond and includes the init, as Lambda bills it.
//   - Its HTTP answer can overtake its own output (TCP versus a pipe). After
//     the answer, a fence is written into the same pipe and the pipe is read
//     up to it; the lines before it are exactly the invocation's, so none is
//     lost or counted twice, and they are in the log store before Invoke
//     returns. Between invocations the pipe is drained every 10-200 ms.
//   - A handler error comes back as 200 with {"errorMessage","errorType"};
//     a timeout as 200 with plain text "Task timed out after N.00 seconds"
//     (after RIE has SIGKILLed the runtime); a panic, an exit or a response
//     over 6 MB as 502. Result reports each the way Lambda does
//     (FunctionError "Unhandled", errorType Sandbox.Timedout,
//     Runtime.ExitError, Function.ResponseSizeTooLarge); RIE restarts the
//     runtime on the next invocation.
//   - A request over 6 MB is silently truncated by RIE: Invoke refuses it
//     before (RequestEntityTooLargeException).
//   - A runtime killed while idle makes RIE fail the next invocation with
//     Runtime.ExitError. Each runtime is watched through a pidfd, so an idle
//     environment whose runtime or RIE process is gone is replaced before it
//     is handed a request, and a request that a dead RIE never started (no
//     START line) is run on another environment.
//   - RIE puts the runtime in a process group of its own. Close kills the
//     runtime's group and RIE's, and waits for RIE; RIE also dies with this
//     process (Pdeathsig), and the runtime then loses its Runtime API and
//     exits.
//
// Not emulated: memory is reported, not limited; there is no
// INIT_START/platform.initStart line, no X-Ray, no extensions, and the
// system log level is always INFO.
package lambda
