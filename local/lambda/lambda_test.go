package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/lambda"
)

var (
	startRE  = regexp.MustCompile(`^START RequestId: (\S+) Version: \$LATEST\n$`)
	endRE    = regexp.MustCompile(`^END RequestId: (\S+)\n$`)
	reportRE = regexp.MustCompile(`^REPORT RequestId: (\S+)\tDuration: (\d+\.\d\d) ms\tBilled Duration: (\d+) ms\tMemory Size: (\d+) MB\tMax Memory Used: (\d+) MB\t(Init Duration: (\d+\.\d\d) ms\t)?(Status: (timeout|error)\t(Error Type: (\S+)\t)?)?\n$`)
)

func TestSpecIsChecked(t *testing.T) {
	tests := []struct {
		name string
		spec lambda.Spec
		want string
	}{
		{"bad name", lambda.Spec{FunctionName: "bad name", Bootstrap: "x"}, "function name"},
		{"no code", lambda.Spec{FunctionName: "f"}, "no code"},
		{"two codes", lambda.Spec{FunctionName: "f", Code: []byte("x"), Bootstrap: "x"}, "not both"},
		{"memory", lambda.Spec{FunctionName: "f", Bootstrap: "x", MemorySize: 64}, "128 to 10240"},
		{"fractional timeout", lambda.Spec{FunctionName: "f", Bootstrap: "x", Timeout: 1500 * time.Millisecond}, "whole seconds"},
		{"long timeout", lambda.Spec{FunctionName: "f", Bootstrap: "x", Timeout: 901 * time.Second}, "whole seconds"},
		{"log format", lambda.Spec{FunctionName: "f", Bootstrap: "x", LogFormat: "XML"}, "Text or JSON"},
		{"log level", lambda.Spec{FunctionName: "f", Bootstrap: "x", LogFormat: "JSON", LogLevel: "LOUD"}, "log level"},
		{"level without JSON", lambda.Spec{FunctionName: "f", Bootstrap: "x", LogLevel: "DEBUG"}, "needs the JSON log format"},
		{"reserved variable", lambda.Spec{FunctionName: "f", Bootstrap: "x", Environment: map[string]string{"AWS_REGION": "x"}}, "AWS_REGION is reserved"},
		{"RIE's timeout variable", lambda.Spec{FunctionName: "f", Bootstrap: "x", Environment: map[string]string{"AWS_LAMBDA_FUNCTION_TIMEOUT": "9"}}, "reserved"},
		{"variable name", lambda.Spec{FunctionName: "f", Bootstrap: "x", Environment: map[string]string{"1X": "x"}}, "start with a letter"},
		{"variables too big", lambda.Spec{FunctionName: "f", Bootstrap: "x", Environment: map[string]string{"BIG": strings.Repeat("x", 5000)}}, "4096"},
		{"reserved concurrency", lambda.Spec{FunctionName: "f", Bootstrap: "x", ReservedConcurrency: 1001}, "reserved concurrency"},
		{"max concurrency", lambda.Spec{FunctionName: "f", Bootstrap: "x", MaxConcurrency: -1}, "max concurrency"},
		{"missing bootstrap file", lambda.Spec{FunctionName: "f", Bootstrap: "/nonexistent/bootstrap"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lambda.New(tt.spec, newSink())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDeploymentPackageIsChecked(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, mode))
		return p
	}
	elfBytes, err := os.ReadFile(testBootstrap)
	require.NoError(t, err)
	// e_machine (offset 18, little-endian) set to another architecture.
	foreign := append([]byte(nil), elfBytes...)
	if foreign[18] == 62 { // EM_X86_64
		foreign[18], foreign[19] = 183, 0 // EM_AARCH64
	} else {
		foreign[18], foreign[19] = 62, 0
	}
	notExec := write("plain", []byte("#!/bin/sh\n"), 0o644)
	foreignPath := write("foreign", foreign, 0o755)

	tests := []struct {
		name  string
		files map[string]string
		raw   []byte
		want  string
	}{
		{"not a zip", nil, []byte("PK? no"), "not a zip"},
		{"no bootstrap", map[string]string{"main": testBootstrap}, nil, "no bootstrap file"},
		{"path traversal", map[string]string{"bootstrap": testBootstrap, "../evil": notExec}, nil, "outside the package"},
		{"absolute path", map[string]string{"bootstrap": testBootstrap, "/etc/evil": notExec}, nil, "outside the package"},
		{"other architecture", map[string]string{"bootstrap": foreignPath}, nil, "build it for the host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := tt.raw
			if code == nil {
				code, err = zipOf(tt.files)
				require.NoError(t, err)
			}
			_, err := lambda.New(lambda.Spec{FunctionName: "f", Code: code}, newSink())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	t.Run("not executable", func(t *testing.T) {
		_, err := lambda.New(lambda.Spec{FunctionName: "f", Bootstrap: notExec}, newSink())
		assert.ErrorContains(t, err, "not executable")
	})
	t.Run("symlink", func(t *testing.T) {
		code, err := os.ReadFile("testdata/symlink.zip")
		require.NoError(t, err)
		_, err = lambda.New(lambda.Spec{FunctionName: "f", Code: code}, newSink())
		assert.ErrorContains(t, err, "not a file")
	})
}

func TestInvokeFromZipReusesWarmEnvironment(t *testing.T) {
	f, sink := deploy(t, lambda.Spec{Code: testZip, Environment: map[string]string{"INIT_SLEEP_MS": "60"}})

	first := invoke(t, f, "req-1", `{"action":"echo","text":"héllo"}`)
	assert.JSONEq(t, `{"action":"echo","text":"héllo"}`, string(first.Payload))
	assert.Empty(t, first.FunctionError)
	assert.True(t, first.ColdStart)
	assert.GreaterOrEqual(t, first.InitDuration, 60*time.Millisecond, "the init phase slept 60 ms")

	second := invoke(t, f, "req-2", `{"action":"request-id"}`)
	assert.Equal(t, `"req-2"`, string(second.Payload), "X-Amzn-RequestId reaches the function")
	assert.False(t, second.ColdStart)
	assert.Zero(t, second.InitDuration)
	assert.Equal(t, first.LogStream, second.LogStream, "a warm environment is reused")
	assert.Equal(t, 1, f.Stats().Environments)
	assert.EqualValues(t, 1, f.Stats().ColdStarts)

	assert.Regexp(t, `^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`, first.LogStream)
	assert.Equal(t, []string{first.LogStream}, sink.streamNames())
	assert.True(t, sink.groups["/aws/lambda/testfn"])

	// The cold start's REPORT has Init Duration, billed with the run.
	m := reportRE.FindStringSubmatch(last(sink.invocationLog(first.LogStream, "req-1")))
	require.NotNil(t, m)
	assert.NotEmpty(t, m[7], "Init Duration on the cold start")
	m = reportRE.FindStringSubmatch(last(sink.invocationLog(first.LogStream, "req-2")))
	require.NotNil(t, m)
	assert.Empty(t, m[6], "no Init Duration when warm")
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

func TestFunctionEnvironmentIsClean(t *testing.T) {
	t.Setenv("HOST_SECRET", "must not leak")
	f, _ := deploy(t, lambda.Spec{
		MemorySize: 256, Timeout: 7 * time.Second, Region: "ap-northeast-1",
		LogFormat: "JSON", LogLevel: "warn",
		Environment: map[string]string{"DUMP_FIELDS": "event_id=body.event_id"},
	})
	res := invoke(t, f, "env-1", `{"action":"env"}`)
	var env map[string]string
	require.NoError(t, json.Unmarshal(res.Payload, &env))

	want := map[string]string{
		"AWS_REGION":                      "ap-northeast-1",
		"AWS_DEFAULT_REGION":              "ap-northeast-1",
		"AWS_LAMBDA_FUNCTION_NAME":        "testfn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     "7",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/testfn",
		"AWS_LAMBDA_LOG_STREAM_NAME":      res.LogStream,
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "WARN",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"_HANDLER":                        "bootstrap",
		"TZ":                              ":UTC",
		"GOMAXPROCS":                      "1",
		"DUMP_FIELDS":                     "event_id=body.event_id",
	}
	for k, v := range want {
		assert.Equal(t, v, env[k], k)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_RUNTIME_API"} {
		assert.NotEmpty(t, env[k], k)
	}
	assert.NotContains(t, env, "HOST_SECRET")
	assert.NotContains(t, env, "HOME")
	assert.NotContains(t, env, "GOPATH")
	assert.FileExists(t, filepath.Join(env["LAMBDA_TASK_ROOT"], "bootstrap"))
}

// TestFunctionGOMAXPROCS: the environment's processes get Lambda's CPU share
// for the memory size as GOMAXPROCS, unless the function sets its own.
func TestFunctionGOMAXPROCS(t *testing.T) {
	for _, tc := range []struct {
		memory int
		own    string
		want   string
	}{
		{memory: 128, want: "1"},
		{memory: 1769, want: "1"},
		{memory: 1770, want: "2"},
		{memory: 10240, want: "6"},
		{memory: 128, own: "4", want: "4"},
	} {
		t.Run(fmt.Sprintf("%d MB %s", tc.memory, tc.own), func(t *testing.T) {
			spec := lambda.Spec{MemorySize: tc.memory}
			if tc.own != "" {
				spec.Environment = map[string]string{"GOMAXPROCS": tc.own}
			}
			f, _ := deploy(t, spec)
			res := invoke(t, f, "gomaxprocs", `{"action":"env"}`)
			var env map[string]string
			require.NoError(t, json.Unmarshal(res.Payload, &env))
			assert.Equal(t, tc.want, env["GOMAXPROCS"])
		})
	}
}

func TestTextLogs(t *testing.T) {
	f, sink := deploy(t, lambda.Spec{})
	res := invoke(t, f, "text-1", `{"action":"lines","lines":4,"text":"hello"}`)
	got := sink.invocationLog(res.LogStream, "text-1")
	require.Len(t, got, 8, "%q", got)
	assert.Equal(t, "START RequestId: text-1 Version: $LATEST\n", got[0])
	assert.Equal(t, []string{"hello line 0\n", "hello line 1\n", "hello line 2\n", "hello line 3\n", "hello unterminated"}, got[1:6],
		"stdout and stderr lines in order, the unterminated one too")
	assert.Equal(t, "END RequestId: text-1\n", got[6])
	m := reportRE.FindStringSubmatch(got[7])
	require.NotNil(t, m, "%q", got[7])
	assert.Equal(t, "128", m[4])
	var used int
	fmt.Sscan(m[5], &used)
	assert.Greater(t, used, 1, "Max Memory Used is the runtime's resident memory")
	assert.Less(t, used, 128)

	evs := sink.events(res.LogStream)
	for i := 1; i < len(evs); i++ {
		assert.False(t, evs[i].Timestamp.Before(evs[i-1].Timestamp), "timestamps never go backwards")
	}
}

// TestMemoryIsMeasured: Max Memory Used is the runtime's peak resident
// memory, also when the runtime gave the memory back before it answered:
// the kernel's high-water mark (VmHWM) is read after every invocation, not
// only when a sampled RSS grew.
func TestMemoryIsMeasured(t *testing.T) {
	for _, action := range []string{"allocate", "allocate-and-free"} {
		t.Run(action, func(t *testing.T) {
			f, sink := deploy(t, lambda.Spec{MemorySize: 512})
			invoke(t, f, "mem-0", `{"action":"allocate-and-free","mb":16}`)
			res := invoke(t, f, "mem-1", `{"action":"`+action+`","mb":64}`)
			m := reportRE.FindStringSubmatch(last(sink.invocationLog(res.LogStream, "mem-1")))
			require.NotNil(t, m)
			var used int
			fmt.Sscan(m[5], &used)
			assert.GreaterOrEqual(t, used, 64)
			assert.Equal(t, "512", m[4])
		})
	}
}

func TestLongLinesAreSplitNotLost(t *testing.T) {
	f, sink := deploy(t, lambda.Spec{})
	res := invoke(t, f, "long-1", `{"action":"long-line","bytes":600000}`)
	got := sink.invocationLog(res.LogStream, "long-1")
	require.GreaterOrEqual(t, len(got), 5)
	body := strings.Join(got[1:len(got)-2], "")
	var sizes []int
	for _, m := range got {
		sizes = append(sizes, len(m))
	}
	assert.True(t, strings.Repeat("L", 600000)+"\n" == body, "event sizes %v", sizes)
	for _, m := range got {
		assert.LessOrEqual(t, len(m), 256<<10)
	}
}

func TestJSONLogs(t *testing.T) {
	tests := []struct {
		level string
		want  []string // messages of the application records kept
	}{
		{"WARN", []string{"warn record", "error record"}},
		{"INFO", []string{"info record", "warn record", "error record", "plain text line", "json without a level"}},
		{"DEBUG", []string{"debug record", "info record", "warn record", "error record", "plain text line", "json without a level"}},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			f, sink := deploy(t, lambda.Spec{LogFormat: "JSON", LogLevel: tt.level})
			res := invoke(t, f, "json-1", `{"action":"json-logs"}`)
			got := sink.invocationLog(res.LogStream, "json-1")
			require.GreaterOrEqual(t, len(got), 2)

			var start struct {
				Time   string
				Type   string
				Record struct{ RequestID, Version string }
			}
			require.NoError(t, json.Unmarshal([]byte(got[0]), &start), got[0])
			assert.Equal(t, "platform.start", start.Type)
			assert.Equal(t, "json-1", start.Record.RequestID)
			assert.Equal(t, "$LATEST", start.Record.Version)
			_, err := time.Parse(time.RFC3339, start.Time)
			assert.NoError(t, err)

			var report struct {
				Type   string
				Record struct {
					RequestID string
					Status    string
					Metrics   map[string]float64
				}
			}
			require.NoError(t, json.Unmarshal([]byte(last(got)), &report), last(got))
			assert.Equal(t, "platform.report", report.Type)
			assert.Equal(t, "success", report.Record.Status)
			for _, k := range []string{"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB", "initDurationMs"} {
				assert.Contains(t, report.Record.Metrics, k)
			}

			var msgs []string
			for _, m := range got[1 : len(got)-1] {
				var rec map[string]any
				require.NoError(t, json.Unmarshal([]byte(m), &rec), "every record is JSON: %q", m)
				msg, _ := rec["msg"].(string)
				if msg == "" {
					msg, _ = rec["message"].(string)
					assert.Equal(t, "json-1", rec["requestId"], "a wrapped line carries the request id")
				}
				msgs = append(msgs, msg)
			}
			assert.Equal(t, tt.want, msgs)
		})
	}
}

func TestFunctionErrors(t *testing.T) {
	tests := []struct {
		name       string
		payload    string
		errorType  string
		crash      bool
		message    string
		logLine    string // a line the invocation's log must hold
		reportTail string
	}{
		{"handled error", `{"action":"error"}`, "errorString", false, "handled failure", "", ""},
		{"panic", `{"action":"panic"}`, "string", true, "test panic", "calling the handler function resulted in a panic", "Status: error\tError Type: Runtime.ExitError\t\n"},
		{"exit", `{"action":"exit"}`, "Runtime.ExitError", true, "Runtime exited with error: exit status 3",
			"RequestId: %s Error: Runtime exited with error: exit status 3\nRuntime.ExitError\n", "Status: error\tError Type: Runtime.ExitError\t\n"},
		{"response too large", `{"action":"big","bytes":7000000}`, "Function.ResponseSizeTooLarge", true, "Response payload size exceeded", "", "Error Type: Function.ResponseSizeTooLarge\t\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, sink := deploy(t, lambda.Spec{})
			id := "err-" + strings.ReplaceAll(tt.name, " ", "-")
			res := invoke(t, f, id, tt.payload)
			assert.Equal(t, "Unhandled", res.FunctionError)
			assert.Equal(t, tt.errorType, res.ErrorType)
			assert.Equal(t, tt.crash, res.Crash)
			var doc struct{ ErrorMessage, ErrorType string }
			require.NoError(t, json.Unmarshal(res.Payload, &doc), string(res.Payload))
			assert.Contains(t, doc.ErrorMessage, tt.message)
			assert.Equal(t, tt.errorType, doc.ErrorType)

			got := sink.invocationLog(res.LogStream, id)
			require.NotEmpty(t, got)
			assert.Regexp(t, reportRE, last(got))
			assert.True(t, strings.HasSuffix(last(got), tt.reportTail), "%q", last(got))
			if tt.logLine != "" {
				line := strings.ReplaceAll(tt.logLine, "%s", id)
				assert.True(t, containsLine(got, line), "%q not in %q", line, got)
			}
			assert.Equal(t, "END RequestId: "+id+"\n", got[len(got)-2])

			next := invoke(t, f, id+"-next", `{"action":"echo"}`)
			assert.Empty(t, next.FunctionError, "the next invocation is served")
			assert.Equal(t, res.LogStream, next.LogStream, "by the same environment, whose runtime RIE restarted")
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

func TestTimeout(t *testing.T) {
	f, sink := deploy(t, lambda.Spec{Timeout: time.Second})
	res := invoke(t, f, "slow-1", `{"action":"sleep","sleep_ms":5000}`)
	assert.True(t, res.Timeout)
	assert.Equal(t, "Unhandled", res.FunctionError)
	assert.Equal(t, "Sandbox.Timedout", res.ErrorType)
	assert.JSONEq(t, `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: slow-1 Error: Task timed out after 1.00 seconds"}`, string(res.Payload))

	got := sink.invocationLog(res.LogStream, "slow-1")
	require.Len(t, got, 5, "%q", got)
	assert.Equal(t, "sleeping 5000 ms\n", got[1])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z slow-1 Task timed out after 1\.00 seconds\n\n$`, got[2])
	assert.Equal(t, "END RequestId: slow-1\n", got[3])
	m := reportRE.FindStringSubmatch(got[4])
	require.NotNil(t, m, got[4])
	assert.Equal(t, "1000.00", m[2])
	assert.Equal(t, "timeout", m[9])

	next := invoke(t, f, "slow-2", `{"action":"sleep","sleep_ms":10}`)
	assert.Empty(t, next.FunctionError, "the runtime was reset and serves again")
	assert.Equal(t, 1, strings.Count(strings.Join(sink.messages(res.LogStream), ""), "awake"), "the timed-out runtime was killed before it woke")
}

func TestPayloadLimits(t *testing.T) {
	// Echoing 6 MB through RIE takes a second or more on a loaded machine:
	// the function's timeout must not be what the test measures.
	f, _ := deploy(t, lambda.Spec{Timeout: time.Minute})
	_, err := f.Invoke(context.Background(), "big-in", make([]byte, lambda.MaxRequestBytes+1))
	var se *lambda.ServiceError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 413, se.StatusCode)
	assert.Equal(t, "RequestEntityTooLargeException", se.Type)

	// A request of exactly the limit reaches the function whole (RIE would
	// truncate nothing at this size, and the function echoes it).
	exact := []byte(`"` + strings.Repeat("a", lambda.MaxRequestBytes-2) + `"`)
	res, err := f.Invoke(context.Background(), "exact", exact)
	require.NoError(t, err)
	require.Empty(t, res.FunctionError, "%.300s", res.Payload)
	assert.Len(t, res.Payload, len(exact))
	assert.True(t, bytes.Equal(exact, res.Payload), "the payload comes back whole")
}

func TestConcurrencySpawnsUpToTheMaximum(t *testing.T) {
	f, sink := deploy(t, lambda.Spec{MaxConcurrency: 3})
	var pending []chan invoked
	for i := range 9 {
		pending = append(pending, invokeAsync(f, fmt.Sprintf("par-%d", i), `{"action":"sleep","sleep_ms":200}`))
	}
	streams := map[string]int{}
	for i, p := range pending {
		o := <-p
		require.NoError(t, o.err)
		r := o.res
		assert.Empty(t, r.FunctionError)
		streams[r.LogStream]++
		assert.Len(t, sink.invocationLog(r.LogStream, fmt.Sprintf("par-%d", i)), 5)
	}
	assert.Len(t, streams, 3, "three environments served nine overlapping requests")
	st := f.Stats()
	assert.Equal(t, 3, st.Environments)
	assert.EqualValues(t, 3, st.ColdStarts)
	assert.Zero(t, st.InFlight)
}

func TestQueueWaitEndsWithTheContext(t *testing.T) {
	f, _ := deploy(t, lambda.Spec{MaxConcurrency: 1})
	done := invokeAsync(f, "hold", `{"action":"sleep","sleep_ms":1500}`)
	require.Eventually(t, func() bool { return f.Stats().InFlight == 1 }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := f.Invoke(ctx, "queued", []byte(`{}`))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, f.Stats().InFlight, "the abandoned request left the queue")
	o := <-done
	require.NoError(t, o.err)
	assert.Empty(t, o.res.FunctionError)
	assert.Zero(t, f.Stats().Waiting)
}

func TestReservedConcurrencyThrottles(t *testing.T) {
	f, _ := deploy(t, lambda.Spec{ReservedConcurrency: 1, MaxConcurrency: 2})
	done := invokeAsync(f, "hold", `{"action":"sleep","sleep_ms":800}`)
	require.Eventually(t, func() bool { return f.Stats().InFlight == 1 }, 5*time.Second, time.Millisecond)

	_, err := f.Invoke(context.Background(), "throttled", []byte(`{}`))
	var se *lambda.ServiceError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 429, se.StatusCode)
	assert.Equal(t, "TooManyRequestsException", se.Type)
	assert.EqualValues(t, 1, f.Stats().Throttles)
	require.NoError(t, (<-done).err)
	assert.Empty(t, invoke(t, f, "after", `{}`).FunctionError)
}

func TestCancelledInvocationFinishesInTheBackground(t *testing.T) {
	f, sink := deploy(t, lambda.Spec{MaxConcurrency: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := f.Invoke(ctx, "gone", []byte(`{"action":"sleep","sleep_ms":2000}`))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	// Ordered by what happened rather than by a clock, which a slow machine
	// stretches: Invoke returned before the invocation had ended.
	for _, stream := range sink.streamNames() {
		assert.Empty(t, sink.invocationLog(stream, "gone"), "Invoke returns when its context ends, not when the invocation does")
	}

	res := invoke(t, f, "next", `{"action":"echo"}`)
	assert.Empty(t, res.FunctionError)
	log := sink.invocationLog(res.LogStream, "gone")
	require.Len(t, log, 5, "the abandoned invocation ran to its end and logged: %q", log)
	assert.Equal(t, "awake\n", log[2])
}

func TestDeadRuntimeOrRIEIsReplaced(t *testing.T) {
	tests := []struct {
		name string
		kill func(t *testing.T, f *lambda.Function, e lambda.Environment)
	}{
		{"runtime killed while idle", func(t *testing.T, _ *lambda.Function, e lambda.Environment) {
			require.NotZero(t, e.RuntimePID)
			require.NoError(t, syscall.Kill(e.RuntimePID, syscall.SIGKILL))
			waitGone(t, e.RuntimePID)
		}},
		{"runtime exits by itself while idle", func(t *testing.T, f *lambda.Function, e lambda.Environment) {
			invoke(t, f, "exit-later", `{"action":"exit-later","sleep_ms":50}`)
			waitGone(t, e.RuntimePID)
		}},
		{"RIE killed while idle", func(t *testing.T, _ *lambda.Function, e lambda.Environment) {
			require.NoError(t, syscall.Kill(e.PID, syscall.SIGKILL))
			waitGone(t, e.PID)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := deploy(t, lambda.Spec{})
			first := invoke(t, f, "first", `{"action":"echo"}`)
			envs := f.Environments()
			require.Len(t, envs, 1)
			tt.kill(t, f, envs[0])

			next := invoke(t, f, "next", `{"action":"echo"}`)
			assert.Empty(t, next.FunctionError, "the request after the death is served")
			assert.True(t, next.ColdStart)
			assert.NotEqual(t, first.LogStream, next.LogStream, "by a new environment")
			require.Eventually(t, func() bool { return len(f.Environments()) == 1 }, 5*time.Second, 5*time.Millisecond)
			waitGone(t, envs[0].PID)
		})
	}
}

func TestRIEKilledDuringInvocation(t *testing.T) {
	f, sink := deploy(t, lambda.Spec{})
	invoke(t, f, "warm", `{"action":"echo"}`)
	env := f.Environments()[0]
	// The function marks when it is inside the handler: a kill before that
	// would be a kill before the invocation, which the pool retries
	// elsewhere.
	mark := filepath.Join(t.TempDir(), "in-handler")
	done := invokeAsync(f, "victim", fmt.Sprintf(`{"action":"sleep","sleep_ms":3000,"mark":%q}`, mark))
	require.Eventually(t, func() bool { _, err := os.Stat(mark); return err == nil }, 30*time.Second, time.Millisecond, "the invocation reached the handler")
	require.NoError(t, syscall.Kill(env.PID, syscall.SIGKILL))

	o := <-done
	require.NoError(t, o.err)
	res := o.res
	assert.True(t, res.Crash)
	assert.Equal(t, "Runtime.ExitError", res.ErrorType)
	log := sink.invocationLog(res.LogStream, "victim")
	require.NotEmpty(t, log)
	assert.Contains(t, last(log), "Error Type: Runtime.ExitError")

	next := invoke(t, f, "after", `{"action":"echo"}`)
	assert.Empty(t, next.FunctionError)
	assert.NotEqual(t, env.LogStream, next.LogStream)
	waitGone(t, env.PID)
	waitGone(t, env.RuntimePID)
}

func TestManyLinesNoneLostNoneDuplicated(t *testing.T) {
	const workers, perWorker, lines = 4, 25, 40
	f, sink := deploy(t, lambda.Spec{MaxConcurrency: workers})
	var wg sync.WaitGroup
	results := make([][]lambda.Result, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := fmt.Sprintf("w%d-i%d", w, i)
				payload := fmt.Sprintf(`{"action":"lines","lines":%d,"text":"%s"}`, lines, id)
				res, err := f.Invoke(context.Background(), id, []byte(payload))
				if err != nil {
					errs[w] = err
					return
				}
				results[w] = append(results[w], res)
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	for w := range workers {
		for i, res := range results[w] {
			id := fmt.Sprintf("w%d-i%d", w, i)
			got := sink.invocationLog(res.LogStream, id)
			require.Len(t, got, lines+4, "%s: %q", id, got)
			for n := range lines {
				assert.Equal(t, fmt.Sprintf("%s line %d\n", id, n), got[1+n])
			}
		}
	}
	seen := map[string]int{}
	for _, s := range sink.streamNames() {
		for _, m := range sink.messages(s) {
			if strings.Contains(m, " line ") {
				seen[m]++
			}
		}
	}
	assert.Len(t, seen, workers*perWorker*lines)
	for m, n := range seen {
		if n != 1 {
			t.Errorf("%q logged %d times", m, n)
		}
	}
}

func TestCloseStopsEverything(t *testing.T) {
	f, sink := deploy(t, lambda.Spec{MaxConcurrency: 2})
	a, b := invokeAsync(f, "c0", `{"action":"sleep","sleep_ms":100}`), invokeAsync(f, "c1", `{"action":"sleep","sleep_ms":100}`)
	require.NoError(t, (<-a).err)
	require.NoError(t, (<-b).err)
	envs := f.Environments()
	require.Len(t, envs, 2)
	// A runtime with a goroutine still running is stopped too.
	invoke(t, f, "late", `{"action":"exit-later","sleep_ms":60000}`)
	envs = f.Environments()
	require.NoError(t, f.Close())
	for _, e := range envs {
		assert.False(t, alive(e.PID), "RIE %d", e.PID)
		if e.RuntimePID != 0 {
			waitGone(t, e.RuntimePID)
		}
	}
	_, err := f.Invoke(context.Background(), "after-close", []byte(`{}`))
	var se *lambda.ServiceError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "ResourceNotFoundException", se.Type)
	assert.Len(t, sink.streamNames(), 2)
	require.NoError(t, f.Close(), "Close is idempotent")
}

func TestShutdownDrainsInFlight(t *testing.T) {
	f, _ := deploy(t, lambda.Spec{})
	done := invokeAsync(f, "drain", `{"action":"sleep","sleep_ms":300}`)
	require.Eventually(t, func() bool { return f.Stats().InFlight == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, f.Shutdown(ctx))
	o := <-done
	require.NoError(t, o.err)
	assert.Empty(t, o.res.FunctionError, "the in-flight invocation completed")
	_, err := f.Invoke(context.Background(), "late", []byte(`{}`))
	var se *lambda.ServiceError
	require.ErrorAs(t, err, &se, "an invocation after Shutdown is refused")
	assert.Equal(t, "ResourceNotFoundException", se.Type)
	assert.Equal(t, 404, se.StatusCode)
}

func TestBrokenRIEFailsClearly(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "aws-lambda-rie")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho 'cannot start: broken on purpose' >&2\nexit 7\n"), 0o755))
	f, _ := deploy(t, lambda.Spec{}, lambda.WithRIE(fake))
	_, err := f.Invoke(context.Background(), "x", []byte(`{}`))
	var se *lambda.ServiceError
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Equal(t, 500, se.StatusCode)
	assert.Contains(t, se.Message, "broken on purpose")
	assert.Zero(t, f.Stats().InFlight)
}

// TestALineOfLambdasLargestEventIsOneEvent: Lambda splits a line of output
// at 256 KB less CloudWatch Logs' 26 bytes per event (262,118 bytes, as
// recorded from Lambda); the dump's largest line (DUMP_MAX_EVENT_BYTES, and
// Terraform's rule) is that size, and must stay one event.
func TestALineOfLambdasLargestEventIsOneEvent(t *testing.T) {
	f, sink := deploy(t, lambda.Spec{})
	const largest = 256<<10 - 26
	res := invoke(t, f, "line-1", fmt.Sprintf(`{"action":"long-line","bytes":%d}`, largest-1))
	got := sink.invocationLog(res.LogStream, "line-1")
	require.Len(t, got, 4, "START, the line, END, REPORT")
	assert.Len(t, got[1], largest, "the line with its newline")
	res = invoke(t, f, "line-2", fmt.Sprintf(`{"action":"long-line","bytes":%d}`, largest+1))
	got = sink.invocationLog(res.LogStream, "line-2")
	require.Len(t, got, 5, "two bytes more: two events")
	assert.Len(t, got[1], largest)
	assert.Equal(t, "L\n", got[2])
}

// A published version names itself where Lambda names it: the runtime's
// AWS_LAMBDA_FUNCTION_VERSION, the START line and the log stream.
func TestPublishedVersionNamesItself(t *testing.T) {
	f, sink := deploy(t, lambda.Spec{Code: testZip, Version: "7"})
	res := invoke(t, f, "v-1", `{"action":"env"}`)
	var env map[string]string
	require.NoError(t, json.Unmarshal(res.Payload, &env))
	assert.Equal(t, "7", env["AWS_LAMBDA_FUNCTION_VERSION"])
	assert.Regexp(t, `^\d{4}/\d{2}/\d{2}/\[7\][0-9a-f]{32}$`, res.LogStream)
	assert.Equal(t, "START RequestId: v-1 Version: 7\n", sink.invocationLog(res.LogStream, "v-1")[0])

	for _, bad := range []string{"0", "07", "live", "$latest"} {
		_, err := lambda.New(lambda.Spec{FunctionName: "f", Code: testZip, Version: bad}, newSink())
		assert.ErrorContains(t, err, "want $LATEST or a published version number", "version %q", bad)
	}
}
