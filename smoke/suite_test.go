package smoke

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/local/stacktest"
)

// recorder is a require.TestingT that keeps what a suite reports, so a test
// can run the suite against a broken deployment and assert that it fails.
type recorder struct{ errors []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) FailNow() { panic("the suite must not stop its caller") }

// deploy starts a local stack with env deployed, changed by edit when not
// nil, and returns its target, read back from a `terraform output -json`
// file as scripts/smoke.sh --local reads it.
func deploy(t *testing.T, env string, edit func(*envconfig.Config)) (Target, *stacktest.Env) {
	t.Helper()
	opts := []stacktest.Option{stacktest.WithEnv(env)}
	if edit != nil {
		opts = append(opts, stacktest.WithConfig(edit))
	}
	deployed := stacktest.Start(t, opts...)
	data, err := json.Marshal(deployed.Outputs)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "outputs.json")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	target, err := LoadOutputs(path)
	require.NoError(t, err)
	require.NoError(t, target.CheckLoopback())
	return target, deployed
}

// load reads env from envs/ and applies edit: what the suite expects.
func load(t *testing.T, env string, edit func(*envconfig.Config)) *envconfig.Config {
	t.Helper()
	cfg, err := envconfig.Load(env)
	require.NoError(t, err)
	if edit != nil {
		edit(cfg)
	}
	return cfg
}

// runSuite runs the suite against target with expectations from cfg and
// returns the report, its text and what it told its TestingT.
func runSuite(t *testing.T, target Target, cfg *envconfig.Config, timeout time.Duration) (*Report, string, *recorder) {
	t.Helper()
	var out bytes.Buffer
	suite, err := New(target, cfg, WithTimeout(timeout), WithOutput(&out))
	require.NoError(t, err)
	rec := &recorder{}
	report := suite.Run(rec)
	t.Logf("report:\n%s", out.String())
	return report, out.String(), rec
}

// TestSuitePassesOnEachEnv runs the suite against each env as envs/<env>
// configures it: the checks adapt to each env's dump fields.
func TestSuitePassesOnEachEnv(t *testing.T) {
	for _, env := range []string{"dev", "stg", "prod"} {
		t.Run(env, func(t *testing.T) {
			target, deployed := deploy(t, env, nil)
			report, text, rec := runSuite(t, target, deployed.Config, DefaultLocalTimeout)
			require.Empty(t, rec.errors)
			require.True(t, report.Passed())
			require.Len(t, report.Checks, 6)
			for i, c := range report.Checks {
				assert.Equal(t, i+1, c.ID)
				assert.True(t, c.Passed, "check %d: %v", c.ID, c.Failures)
				assert.NotEmpty(t, c.Detail, "check %d says what it saw", c.ID)
			}
			assert.Positive(t, report.Visibility)
			assert.Less(t, report.Visibility, DefaultLocalTimeout)
			for name := range deployed.Config.Dump.Fields {
				assert.Contains(t, report.Check(CheckDump).Detail, name, "the report names every dumped field")
			}
			assert.Contains(t, text, "smoke: PASS (6/6 checks passed)")
			assert.Contains(t, text, "; the dump was visible ≤ ")
			assert.Contains(t, text, "env "+env+": request-dump-"+env)
			checkOutputsContract(t, env, deployed)
		})
	}
}

// checkOutputsContract holds the local stack's .local/outputs.json to
// /work/shared/DESIGN.md §3 and to the env root: every output envs/<env>
// declares, plus endpoint_url, in the shape of `terraform output -json`,
// with at least api_url, function_name, log_group_name, artifact_bucket and
// region non-empty strings; so the smoke suite reads a local env as it
// reads a real one.
func checkOutputsContract(t *testing.T, env string, deployed *stacktest.Env) {
	t.Helper()
	data, err := json.Marshal(deployed.Outputs)
	require.NoError(t, err)
	var outputs map[string]map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &outputs))
	for name, o := range outputs {
		for _, key := range []string{"sensitive", "type", "value"} {
			assert.Contains(t, o, key, "output %s has the `terraform output -json` key %s", name, key)
		}
	}
	root, err := repo.Path("envs", env, "outputs.tf")
	require.NoError(t, err)
	f, diags := hclparse.NewParser().ParseHCLFile(root)
	require.False(t, diags.HasErrors(), diags.Error())
	var declared []string
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "output" {
			declared = append(declared, b.Labels[0])
			assert.Contains(t, outputs, b.Labels[0], "envs/%s declares output %s, so .local/outputs.json must have it", env, b.Labels[0])
		}
	}
	require.Contains(t, declared, "api_url", "envs/%s/outputs.tf was read", env)
	for name := range outputs {
		if name != "endpoint_url" {
			assert.Contains(t, declared, name, ".local/outputs.json has %s, so envs/%s/outputs.tf must declare it: the smoke tests read a local env as a real one", name, env)
		}
	}
	values := map[string]string{
		"api_url":         deployed.URL + "/restapis/" + deployed.Deployment.APIID + "/" + deployed.Config.API.StageName + "/_user_request_",
		"function_name":   "request-dump-" + env,
		"log_group_name":  "/aws/lambda/request-dump-" + env,
		"artifact_bucket": deployed.Config.Artifact.Bucket,
		"region":          deployed.Config.Region,
		"endpoint_url":    deployed.URL,
	}
	for name, want := range values {
		assert.NotEmpty(t, want, name)
		assert.Equal(t, want, deployed.Outputs[name].String(), "output %s", name)
	}
}

// allSources dumps a field from every kind of path, each of which the
// suite resolves on its own: body objects with redacted keys, a redacted
// body key, every header and named ones, query and path parameters, the
// request context and the event's top-level strings.
func allSources(cfg *envconfig.Config) {
	cfg.Dump.Fields = map[string]string{
		"event_id":     "body.event_id",
		"type":         "body.type",
		"user":         "body.user",
		"attributes":   "body.attributes",
		"password":     "body.attributes.password",
		"seats":        "body.attributes.seats",
		"missing":      "body.nothing.here",
		"headers":      "headers",
		"user_agent":   "headers.User-Agent",
		"smoke_token":  "headers.X-Smoke-Token",
		"not_sent":     "headers.X-Not-Sent",
		"page":         "queryStringParameters.page",
		"access_token": "queryStringParameters.access_token",
		"id":           "pathParameters.id",
		"request_id":   "requestContext.requestId",
		"stage":        "requestContext.stage",
		"resource":     "requestContext.resourcePath",
		"source_ip":    "requestContext.identity.sourceIp",
		"agent":        "requestContext.identity.userAgent",
		"api_id":       "requestContext.apiId",
		"method":       "httpMethod",
		"path":         "path",
		"route":        "resource",
	}
}

func TestSuiteResolvesEverySource(t *testing.T) {
	target, deployed := deploy(t, "dev", allSources)
	report, _, rec := runSuite(t, target, deployed.Config, DefaultLocalTimeout)
	require.Empty(t, rec.errors)
	require.True(t, report.Passed())
	detail := report.Check(CheckDump).Detail
	assert.Contains(t, detail, "as sent: access_token, agent, attributes, event_id, method, page, password, path, request_id, resource, route, seats, smoke_token, stage, type, user, user_agent")
	assert.Contains(t, detail, "checked in part: api_id (a request context value the client cannot know), headers (every header sent, redacted by name), source_ip (the caller's IP address)")
	assert.Contains(t, detail, "absent as expected: id, missing, not_sent")
	assert.Contains(t, detail, "redaction checked at body.attributes.api_token, body.attributes.password, header X-Smoke-Token, query access_token")
	assert.Contains(t, detail, "not dumped, as no field selects them: none")
}

// TestSuiteFailsAgainstBrokenDeployments deploys an env whose function
// does not do what envs/dev says and checks that the suite fails the right
// checks for the right reason.
func TestSuiteFailsAgainstBrokenDeployments(t *testing.T) {
	// What the suite expects: dev with its body objects dumped, so that
	// redaction is exercised whatever envs/dev selects today.
	expected := func(cfg *envconfig.Config) {
		cfg.Dump.Fields = map[string]string{
			"event_id":   "body.event_id",
			"type":       "body.type",
			"user_id":    "body.user.id",
			"attributes": "body.attributes",
		}
		cfg.Dump.RedactKeys = []string{"password", "token", "secret", "authorization", "cookie"}
	}
	for _, tc := range []struct {
		name     string
		breakage func(*envconfig.Config)
		// failures maps each failing check to phrases its failures hold;
		// every other check must pass.
		failures map[int][]string
	}{
		{
			name:     "event_id not dumped",
			breakage: func(cfg *envconfig.Config) { delete(cfg.Dump.Fields, "event_id") },
			failures: map[int][]string{
				CheckDump:       {`no event matching { $.fields.event_id = "smoke-`, "the request's dump (api_request_id ", "it has no fields.event_id at all (fields: attributes, type, user_id)", "does not dump event_id from body.event_id as envs/dev says"},
				CheckRejected:   {"the fence's dump", "did not appear within", "proves nothing"},
				CheckUnknown:    {"the fence's dump", "proves nothing"},
				CheckVisibility: {"the dump did not become visible within 1.5s (set SMOKE_TIMEOUT to wait longer)"},
			},
		},
		{
			name:     "event_id from the wrong path",
			breakage: func(cfg *envconfig.Config) { cfg.Dump.Fields["event_id"] = "body.type" },
			failures: map[int][]string{
				CheckDump:       {`its fields.event_id is "smoke.check", not the body's event_id "smoke-`, "does not dump event_id from body.event_id"},
				CheckRejected:   {"proves nothing"},
				CheckUnknown:    {"proves nothing"},
				CheckVisibility: {"did not become visible"},
			},
		},
		{
			name:     "event_id from a path the body lacks",
			breakage: func(cfg *envconfig.Config) { cfg.Dump.Fields["event_id"] = "body.eventId" },
			failures: map[int][]string{
				CheckDump:       {"it lists event_id as absent: its path finds nothing in the body"},
				CheckRejected:   {"proves nothing"},
				CheckUnknown:    {"proves nothing"},
				CheckVisibility: {"did not become visible"},
			},
		},
		{
			name:     "redaction off",
			breakage: func(cfg *envconfig.Config) { cfg.Dump.RedactKeys = nil },
			failures: map[int][]string{
				CheckDump: {
					"fields.attributes (from body.attributes) is not what the probe sent there (after redaction)",
					`"password": (string) (len=10) "[REDACTED]"`,
					"the dump carries the value sent as body.attributes.password",
					"it is under a key envs/dev redacts, so it must never appear: redaction is not working",
					"the dump carries the value sent as body.attributes.api_token",
				},
			},
		},
		{
			name:     "an unselected field dumped",
			breakage: func(cfg *envconfig.Config) { cfg.Dump.Fields["email"] = "body.user.email" },
			failures: map[int][]string{
				CheckDump: {
					"fields.email is in the dump, but envs/dev selects only attributes, event_id, type, user_id",
					"the dump carries the value sent as body.user.email",
					"no field of envs/dev selects it",
				},
			},
		},
		{
			name:     "a field from the wrong path",
			breakage: func(cfg *envconfig.Config) { cfg.Dump.Fields["user_id"] = "body.user.uid" },
			failures: map[int][]string{
				CheckDump: {"fields.user_id (from body.user.id) is missing from the dump (absent: [user_id]), but the probe sent a value there"},
			},
		},
		{
			name:     "values cut to tight bounds",
			breakage: func(cfg *envconfig.Config) { cfg.Dump.MaxValueBytes = 64 },
			failures: map[int][]string{
				CheckDump: {"the dump cut fields [attributes] to the env's size bounds"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target, _ := deploy(t, "dev", func(cfg *envconfig.Config) {
				expected(cfg)
				tc.breakage(cfg)
			})
			report, text, rec := runSuite(t, target, load(t, "dev", expected), 1500*time.Millisecond)
			require.False(t, report.Passed())
			assert.Contains(t, text, "smoke: FAIL")
			failed := map[int]bool{}
			for _, c := range report.Checks {
				phrases, want := tc.failures[c.ID]
				if !want {
					assert.True(t, c.Passed, "check %d should pass: %v", c.ID, c.Failures)
					continue
				}
				failed[c.ID] = true
				require.False(t, c.Passed, "check %d should fail", c.ID)
				all := strings.Join(c.Failures, "\n")
				for _, p := range phrases {
					assert.Contains(t, all, p, "check %d", c.ID)
				}
				assert.Contains(t, text, fmt.Sprintf("FAIL  %d  %s", c.ID, c.Name))
			}
			assert.Equal(t, len(tc.failures), len(failed))
			// The TestingT heard of each failed check, with its reason.
			require.Len(t, rec.errors, len(tc.failures))
			for _, e := range rec.errors {
				assert.Regexp(t, `^smoke check \d \(.+\) failed:\n`, e)
			}
		})
	}
}

// apiProxy starts a proxy in front of the API at upstream and returns its
// URL. Each request goes to intercept first, with a function that sends it
// upstream (again on every call); unless intercept answered it (true), the
// proxy relays the upstream answer.
func apiProxy(t *testing.T, upstream string, intercept func(w http.ResponseWriter, r *http.Request, forward func() (*http.Response, error)) bool) string {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		forward := func() (*http.Response, error) {
			req, err := http.NewRequestWithContext(r.Context(), r.Method, upstream+r.URL.RequestURI(), bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			req.Header = r.Header.Clone()
			return client.Do(req)
		}
		if intercept(w, r, forward) {
			return
		}
		resp, err := forward()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		maps.Copy(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL
}

// TestSuiteFailsOnADuplicatedDump puts a proxy in front of the API that
// delivers every POST /events twice, as a retrying client or a function
// that logs its dump twice would: the probe's event_id then matches two
// events, and check 2 must fail while the others pass.
func TestSuiteFailsOnADuplicatedDump(t *testing.T) {
	target, deployed := deploy(t, "dev", nil)
	target.APIURL = apiProxy(t, target.APIURL, func(w http.ResponseWriter, r *http.Request, forward func() (*http.Response, error)) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/events") {
			return false
		}
		first, err := forward()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return true
		}
		_, _ = io.Copy(io.Discard, first.Body)
		first.Body.Close()
		return false
	})

	report, text, rec := runSuite(t, target, deployed.Config, DefaultLocalTimeout)
	require.False(t, report.Passed())
	assert.Contains(t, text, "smoke: FAIL (5/6 checks passed)")
	for _, c := range report.Checks {
		if c.ID != CheckDump {
			assert.True(t, c.Passed, "check %d should pass: %v", c.ID, c.Failures)
			continue
		}
		require.False(t, c.Passed)
		assert.Contains(t, strings.Join(c.Failures, "\n"), "2 events in /aws/lambda/request-dump-dev match { $.fields.event_id = \"smoke-")
		assert.Contains(t, strings.Join(c.Failures, "\n"), "want exactly 1")
		assert.Contains(t, strings.Join(c.Failures, "\n"), "the request reached the function 2 times, so something delivered it again (aws_request_id ", "the report tells a redelivery from a function that logs twice")
		assert.Contains(t, strings.Join(c.Failures, "\n"), "in stream ")
	}
	require.Len(t, rec.errors, 1)
}

// TestDescribeCopies: the report tells a request delivered twice from an
// invocation that logged its dump twice.
func TestDescribeCopies(t *testing.T) {
	event := func(stream, id string) types.FilteredLogEvent {
		return types.FilteredLogEvent{LogStreamName: aws.String(stream), Message: aws.String(`{"msg":"request dump","aws_request_id":"` + id + `"}`)}
	}
	for _, tc := range []struct {
		name   string
		events []types.FilteredLogEvent
		want   string
	}{
		{
			name:   "redelivered",
			events: []types.FilteredLogEvent{event("s1", "a"), event("s2", "b")},
			want:   "the request reached the function 2 times, so something delivered it again (aws_request_id a in stream s1; aws_request_id b in stream s2)",
		},
		{
			name:   "logged twice",
			events: []types.FilteredLogEvent{event("s1", "a"), event("s1", "a"), event("s1", "a")},
			want:   "one invocation wrote its dump 3 times (aws_request_id a in stream s1; aws_request_id a in stream s1; aws_request_id a in stream s1)",
		},
		{
			name:   "not a dump line",
			events: []types.FilteredLogEvent{{LogStreamName: aws.String("s1"), Message: aws.String("text")}, event("s1", "a")},
			want:   "the request reached the function 2 times, so something delivered it again (aws_request_id none in stream s1; aws_request_id a in stream s1)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, describeCopies(tc.events))
		})
	}
}

// TestNewRefusesAnotherEnvsTarget: a target that is not the env's
// deployment (the local stack runs another env) is refused before any
// request, with the fix.
func TestNewRefusesAnotherEnvsTarget(t *testing.T) {
	stg := Target{APIURL: "http://127.0.0.1:1/x", FunctionName: "request-dump-stg", LogGroupName: "/aws/lambda/request-dump-stg", Region: "ap-northeast-1", EndpointURL: "http://127.0.0.1:1"}
	_, err := New(stg, load(t, "dev", nil))
	require.ErrorContains(t, err, `the target's function is "request-dump-stg" but env dev's is "request-dump-dev": the local stack runs another env: run make local-up ENV=dev`)

	aws := stg
	aws.EndpointURL = ""
	_, err = New(aws, load(t, "dev", nil))
	require.ErrorContains(t, err, "the outputs are not this env's")

	region := stg
	region.FunctionName, region.LogGroupName, region.Region = "request-dump-dev", "/aws/lambda/request-dump-dev", "us-east-1"
	_, err = New(region, load(t, "dev", nil))
	require.ErrorContains(t, err, `the target's region is "us-east-1" but env dev's is "ap-northeast-1"`)
}

// TestNewRefusesUnfindableDump: an env that does not dump event_id from
// body.event_id breaks the contract the suite finds dumps by.
func TestNewRefusesUnfindableDump(t *testing.T) {
	dev := load(t, "dev", func(cfg *envconfig.Config) {
		cfg.Dump.Fields = maps.Clone(cfg.Dump.Fields)
		cfg.Dump.Fields["event_id"] = "body.id"
	})
	target := Target{APIURL: "http://127.0.0.1:1/x", FunctionName: dev.Name, LogGroupName: dev.LogGroupName(), Region: dev.Region, EndpointURL: "http://127.0.0.1:1"}
	_, err := New(target, dev)
	require.ErrorContains(t, err, `envs/dev dumps event_id from "body.id", not body.event_id`)

	_, err = New(target, dev, WithTimeout(0))
	require.ErrorContains(t, err, "visibility timeout 0s is not positive")
}

// TestRunReportsOffLoopbackTarget: a local target off loopback is refused
// before anything is dialled, and the run fails saying so, in the report
// too: scripts/smoke.sh prints only the report, so a run that could not
// start must say why there.
func TestRunReportsOffLoopbackTarget(t *testing.T) {
	dev := load(t, "dev", nil)
	target := Target{APIURL: "http://192.0.2.10/dev", FunctionName: dev.Name, LogGroupName: dev.LogGroupName(), Region: dev.Region, EndpointURL: "http://127.0.0.1:1"}
	var out bytes.Buffer
	suite, err := New(target, dev, WithOutput(&out))
	require.NoError(t, err)
	rec := &recorder{}
	report := suite.Run(rec)
	require.False(t, report.Passed())
	require.Len(t, rec.errors, 1)
	why := `api_url "http://192.0.2.10/dev" is not on a loopback address`
	assert.Contains(t, rec.errors[0], why)
	assert.Empty(t, report.Checks)
	assert.Contains(t, out.String(), "smoke: FAIL: no check ran: smoke: "+why)
	assert.NotContains(t, out.String(), "0/0 checks passed")
}

// The rollout smoke-tests the version under rollout on the candidate
// stage: the target's StageName is what the dump's requestContext.stage
// must say there, and the same URL with the env's own stage fails.
func TestSuiteTestsTheCandidateStage(t *testing.T) {
	withStage := func(cfg *envconfig.Config) { cfg.Dump.Fields["stage"] = "requestContext.stage" }
	target, deployed := deploy(t, "dev", withStage)
	candidate, err := target.Candidate()
	require.NoError(t, err)
	assert.Equal(t, "candidate", candidate.StageName)
	assert.Contains(t, candidate.APIURL, "/candidate/_user_request_")
	assert.Contains(t, candidate.String(), "stage candidate")

	report, _, rec := runSuite(t, candidate, deployed.Config, DefaultLocalTimeout)
	assert.Empty(t, rec.errors)
	assert.True(t, report.Passed())

	wrong := candidate
	wrong.StageName = ""
	report, _, _ = runSuite(t, wrong, deployed.Config, DefaultLocalTimeout)
	assert.False(t, report.Passed(), "the candidate stage's dump says stage candidate, not dev")
	assert.Contains(t, strings.Join(report.Check(CheckDump).Failures, "\n"), "stage")

	target.CandidateAPIURL = ""
	_, err = target.Candidate()
	assert.ErrorContains(t, err, "the outputs have no candidate_api_url")
}

// TestSuiteRetriesTheFirstPOSTOn5xx puts a proxy in front of the API that
// answers 500, as API Gateway does right after a first deploy until IAM has
// propagated the invoke role's policy: the suite retries its first POST
// within its window and says so; a 5xx that outlasts the window fails
// check 1 with the retries listed.
func TestSuiteRetriesTheFirstPOSTOn5xx(t *testing.T) {
	target, deployed := deploy(t, "dev", nil)
	for _, tc := range []struct {
		name    string
		fail    int // POSTs to /events answered 500 before the API is reached
		window  time.Duration
		passed  bool
		phrases []string
	}{
		{"propagated within the window", 2, 3 * time.Second, true, []string{"retried 2 time(s) on 5xx over ", "(500 after ", "a first deploy answers 5xx until IAM has propagated the invoke role's policy"}},
		{"still failing after the window", 1 << 30, 300 * time.Millisecond, false, []string{"got 500, want 2xx", "; retried ", "time(s) on 5xx over ", "the API answered 5xx for the whole retry window (300ms)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var posts atomic.Int64
			broken := target
			broken.APIURL = apiProxy(t, target.APIURL, func(w http.ResponseWriter, r *http.Request, _ func() (*http.Response, error)) bool {
				if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/events") || posts.Add(1) > int64(tc.fail) {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"message": "Internal server error"}`)
				return true
			})

			var out bytes.Buffer
			suite, err := New(broken, deployed.Config, WithTimeout(DefaultLocalTimeout), WithFirstCallRetry(tc.window), WithOutput(&out))
			require.NoError(t, err)
			rec := &recorder{}
			start := time.Now()
			report := suite.Run(rec)
			t.Logf("report:\n%s", out.String())
			check := report.Check(CheckAccepted)
			assert.Equal(t, tc.passed, check.Passed, "check 1: %v", check.Failures)
			text := check.Detail + strings.Join(check.Failures, "\n")
			for _, p := range tc.phrases {
				assert.Contains(t, text, p)
			}
			if tc.passed {
				assert.True(t, report.Passed(), "the other checks pass once the first POST got through: %v", rec.errors)
				assert.Contains(t, out.String(), "retried 2 time(s) on 5xx", "the report says the first POST was retried")
				return
			}
			// The retries stop at the window: each waits at least 10 ms, so
			// the first POST is sent at most 1+window/10ms times; the invalid
			// body and the fence are the other POSTs to /events.
			var retried int
			_, err = fmt.Sscanf(text[strings.Index(text, "retried "):], "retried %d time(s)", &retried)
			require.NoError(t, err, "the failure says how often it retried: %s", text)
			assert.Equal(t, int64(1+retried+2), posts.Load(), "every POST to /events is the first one, its retries, the invalid body or the fence")
			assert.LessOrEqual(t, retried, int(tc.window/(10*time.Millisecond)), "the retries stop at the window")
			assert.WithinDuration(t, start.Add(report.Elapsed), time.Now(), time.Second)
		})
	}
}

// TestFirstCallRetryDefaults: only AWS, where IAM propagates, gets a retry
// window; a negative window is refused.
func TestFirstCallRetryDefaults(t *testing.T) {
	local := Target{APIURL: "http://127.0.0.1:1/v1", FunctionName: "request-dump-dev", LogGroupName: "/aws/lambda/request-dump-dev", Region: "ap-northeast-1", EndpointURL: "http://127.0.0.1:1"}
	assert.Zero(t, local.DefaultFirstCallRetry())
	onAWS := local
	onAWS.EndpointURL = ""
	assert.Equal(t, DefaultAWSFirstCallRetry, onAWS.DefaultFirstCallRetry())
	_, err := New(local, load(t, "dev", nil), WithFirstCallRetry(-time.Second))
	assert.ErrorContains(t, err, "first-call retry window -1s is negative")
}

// TestSuiteAccessModes: with the env's credentials the suite passes, and
// without them the gateway refuses the probe's twin and nothing is dumped;
// the report says which access mode it tested and how it called.
func TestSuiteAccessModes(t *testing.T) {
	for _, c := range []struct {
		mode, access, refusal string
	}{
		{"api_key", "smoke: access mode api_key: x-api-key from SSM /request-dump-stg/api-keys/smoke (WithDecryption)", `access mode api_key: 403 "Forbidden"`},
		{"iam", "smoke: access mode iam: SigV4 as role arn:aws:iam::000000000000:role/request-dump-stg-caller assumed from arn:aws:iam::000000000000:user/local", `access mode iam: 403 "Missing Authentication Token"`},
	} {
		t.Run(c.mode, func(t *testing.T) {
			target, deployed := deploy(t, "stg", func(cfg *envconfig.Config) { cfg.Access.Mode = c.mode })
			report, text, rec := runSuite(t, target, deployed.Config, DefaultLocalTimeout)
			require.Empty(t, rec.errors)
			require.True(t, report.Passed())
			assert.Contains(t, text, c.access)
			assert.Contains(t, report.Check(CheckUnauthenticated).Detail, c.refusal)
		})
	}
}

// TestSuiteFailsOnAnOpenAPI: outputs that say iam for an API that lets
// anyone in fail check 6, with the request that got through.
func TestSuiteFailsOnAnOpenAPI(t *testing.T) {
	target, deployed := deploy(t, "dev", nil)
	target.AccessMode = "iam"
	report, text, rec := runSuite(t, target, deployed.Config, DefaultLocalTimeout)
	require.False(t, report.Passed())
	require.NotEmpty(t, rec.errors)
	assert.Contains(t, text, "smoke: FAIL (5/6 checks passed)")
	got := report.Check(CheckUnauthenticated)
	require.False(t, got.Passed)
	assert.Contains(t, strings.Join(got.Failures, "\n"), "with a valid event and no credentials (access mode iam) got 200, want the gateway's 403")
}

// TestAbsenceChecksNeedTheLookup: checks 3, 4 and 6 pass on "no dump" only
// when the lookup after the fence was made and found nothing; a lookup
// that is missing or failed fails them instead of passing on an empty count.
func TestAbsenceChecksNeedTheLookup(t *testing.T) {
	fence := &call{eventID: "smoke-r-fence", status: http.StatusOK}
	newRun := func(afterFence ...count) *run {
		return &run{
			Suite:      &Suite{timeout: time.Second, target: Target{APIURL: "http://127.0.0.1:1/dev", AccessMode: "api_key"}},
			bad:        &call{label: "invalid body", eventID: "smoke-r-invalid", status: http.StatusBadRequest, body: []byte(`{"message":"Invalid request body"}`)},
			route:      &call{label: "unknown route", method: http.MethodPost, url: "http://127.0.0.1:1/dev/x", eventID: "smoke-r-route", status: http.StatusForbidden, body: []byte(`{"message":"Missing Authentication Token"}`)},
			method:     &call{label: "unknown method", method: http.MethodGet, url: "http://127.0.0.1:1/dev/events", status: http.StatusForbidden, body: []byte(`{"message":"Missing Authentication Token"}`)},
			unauth:     &call{label: "without credentials", eventID: "smoke-r-unauthenticated", status: http.StatusForbidden, body: []byte(`{"message":"Forbidden"}`)},
			fence:      fence,
			fenceSeen:  &sighting{events: []types.FilteredLogEvent{{Message: aws.String("{}")}}},
			afterFence: afterFence,
		}
	}
	checks := func(r *run) map[int]func(*checkT) string {
		return map[int]func(*checkT) string{CheckRejected: r.checkRejected, CheckUnknown: r.checkUnknown, CheckUnauthenticated: r.checkUnauthenticated}
	}
	looked := []count{
		{pattern: eventIDPattern("smoke-r-invalid")},
		{pattern: eventIDPattern("smoke-r-route")},
		{pattern: eventIDPattern("smoke-r-unauthenticated")},
	}
	for id, fn := range checks(newRun(looked...)) {
		res := runCheck(id, fn)
		assert.True(t, res.Passed, "check %d with an empty lookup: %v", id, res.Failures)
	}
	for id, fn := range checks(newRun()) {
		res := runCheck(id, fn)
		assert.False(t, res.Passed, "check %d without a lookup", id)
		assert.Contains(t, strings.Join(res.Failures, "\n"), "no lookup of { $.fields.event_id = \"smoke-r-", "check %d", id)
	}
	failed := make([]count, len(looked))
	for i, c := range looked {
		failed[i] = count{pattern: c.pattern, err: fmt.Errorf("FilterLogEvents: throttled")}
	}
	for id, fn := range checks(newRun(failed...)) {
		res := runCheck(id, fn)
		assert.False(t, res.Passed, "check %d with a failed lookup", id)
		assert.Contains(t, strings.Join(res.Failures, "\n"), "throttled", "check %d", id)
	}
}
