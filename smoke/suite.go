// Package smoke is the smoke test run after every deploy of an env, on AWS
// and on the local stack: it posts an event through the env's API, finds
// the function's dump of it in CloudWatch Logs with the filter pattern
// { $.fields.event_id = "<id>" }, checks the dump against the env's own
// dump settings (envs/<env>, read by internal/envconfig), and checks that
// the gateway rejects a bad body and an unknown route without a dump.
//
// The suite reports to a require.TestingT, so a Go test runs it against a
// deployment (scripts/smoke.sh) and another test runs it against a broken
// one and asserts that it fails, and why.
package smoke

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/apicaller"
	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/envconfig"
)

// Check ids, in report order.
const (
	CheckAccepted   = 1 // a valid POST gets 2xx and its request id
	CheckDump       = 2 // its dump appears exactly once, with the configured fields
	CheckRejected   = 3 // an invalid body gets the gateway's 400 and no dump
	CheckUnknown    = 4 // an unknown route or method gets 403
	CheckVisibility = 5 // the time until the dump was visible
	// CheckUnauthenticated: without the access mode's credentials, the
	// gateway's 403 and no dump.
	CheckUnauthenticated = 6
)

var checkNames = map[int]string{
	CheckAccepted:        "valid POST /events → 2xx with its request id",
	CheckDump:            "its dump exactly once, with the configured fields",
	CheckRejected:        "invalid body → gateway 400, no dump",
	CheckUnknown:         "unknown route or method → 403",
	CheckVisibility:      "time to visibility",
	CheckUnauthenticated: "without credentials → gateway 403, no dump",
}

// Suite is the smoke test of one deployed env.
type Suite struct {
	target     Target
	env        *envconfig.Config
	timeout    time.Duration
	firstRetry time.Duration
	out        io.Writer
}

// Option changes a Suite made by New.
type Option func(*Suite)

// WithTimeout sets how long a dump may take to become visible (default:
// the target's DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(s *Suite) { s.timeout = d } }

// WithFirstCallRetry sets how long the first POST is retried while the API
// answers 5xx (default: the target's DefaultFirstCallRetry); 0 sends it once.
func WithFirstCallRetry(d time.Duration) Option { return func(s *Suite) { s.firstRetry = d } }

// WithOutput writes the report to w when Run ends.
func WithOutput(w io.Writer) Option { return func(s *Suite) { s.out = w } }

// New returns the smoke test of target, the deployment of env (its
// expected dump fields and redact keys come from env). It refuses a target
// that is not env's deployment, and an env whose dump cannot be found.
func New(target Target, env *envconfig.Config, opts ...Option) (*Suite, error) {
	s := &Suite{target: target, env: env, timeout: target.DefaultTimeout(), firstRetry: target.DefaultFirstCallRetry(), out: io.Discard}
	for _, o := range opts {
		o(s)
	}
	if s.timeout <= 0 {
		return nil, fmt.Errorf("smoke: visibility timeout %v is not positive", s.timeout)
	}
	if s.firstRetry < 0 {
		return nil, fmt.Errorf("smoke: first-call retry window %v is negative", s.firstRetry)
	}
	hint := "the outputs are not this env's"
	if target.Local() {
		hint = fmt.Sprintf("the local stack runs another env: run make local-up ENV=%s", env.Env)
	}
	for _, c := range []struct{ what, got, want string }{
		{"function", target.FunctionName, env.Name},
		{"log group", target.LogGroupName, env.LogGroupName()},
		{"region", target.Region, env.Region},
	} {
		if c.got != c.want {
			return nil, fmt.Errorf("smoke: the target's %s is %q but env %s's is %q: %s", c.what, c.got, env.Env, c.want, hint)
		}
	}
	if path := env.Dump.Fields["event_id"]; path != "body.event_id" {
		return nil, fmt.Errorf(`smoke: envs/%s dumps event_id from %q, not body.event_id: the smoke test (and anyone following docs/architecture.md) finds a dump by { $.fields.event_id = "<event_id>" }; keep event_id = "body.event_id" in the dump fields`, env.Env, path)
	}
	return s, nil
}

// Report is the outcome of one run.
type Report struct {
	// Env is the env tested; Target where it runs.
	Env    string
	Target Target
	// RunID makes this run's event ids unique.
	RunID string
	// Timeout is the visibility deadline.
	Timeout time.Duration
	// Access says which access mode the run tested, with which credentials.
	Access string
	// Checks are the results, in id order.
	Checks []Result
	// Visibility is how long after the 2xx the dump was first seen (an
	// upper bound: the poll that saw it); zero if it never was.
	Visibility time.Duration
	// Elapsed is the run's duration.
	Elapsed time.Duration
	// Err is why no check ran (the clients for the target could not be
	// made); nil when the checks ran.
	Err error
}

// Result is one check's outcome.
type Result struct {
	ID     int
	Name   string
	Passed bool
	// Detail says what was seen.
	Detail string
	// Failures are the check's assertion failures, as testify words them.
	Failures []string
}

// Passed reports whether every check ran and passed.
func (r *Report) Passed() bool {
	if r.Err != nil {
		return false
	}
	for _, c := range r.Checks {
		if !c.Passed {
			return false
		}
	}
	return len(r.Checks) > 0
}

// Check returns the result of check id.
func (r *Report) Check(id int) Result {
	for _, c := range r.Checks {
		if c.ID == id {
			return c
		}
	}
	return Result{ID: id}
}

// call is one request to the API and its answer.
type call struct {
	label   string
	method  string
	url     string
	eventID string
	status  int
	body    []byte
	header  http.Header
	err     error
	sent    time.Time
	took    time.Duration
	// apiRequestID and awsRequestID are the ids an accepted call answers.
	apiRequestID, awsRequestID string
	// retried are the 5xx answers of earlier attempts of this call, and
	// since is when the first attempt was sent (the first POST only).
	retried []string
	since   time.Time
}

func (c *call) accepted() bool { return c.err == nil && c.status >= 200 && c.status < 300 }

func (c *call) String() string {
	if c.err != nil {
		return fmt.Sprintf("%s %s: %v", c.method, c.url, c.err)
	}
	return fmt.Sprintf("%s %s → %d %s", c.method, c.url, c.status, bytes.TrimSpace(c.body))
}

// run is the state of one Run.
type run struct {
	*Suite
	id     string
	ctx    context.Context
	http   *http.Client // sends the access mode's credentials
	bare   *http.Client // sends none
	caller *apicaller.Caller
	logs   *logReader
	probe  probe
	valid  *call // the probe
	bad    *call // invalid body
	route  *call // unknown route, with a valid body
	method *call // unknown method on /events
	unauth *call // a valid event without credentials (not in mode none)
	fence  *call // a valid call after the others
	// validSeen and fenceSeen are the sightings of the probe's and the
	// fence's dumps.
	validSeen, fenceSeen *sighting
	// afterFence are the dump events of each call with an event_id,
	// looked up again once the fence's dump was seen.
	afterFence []count
}

// count is the events that matched pattern.
type count struct {
	pattern string
	events  []types.FilteredLogEvent
	err     error
}

// Run runs every check and reports each failed one to t (with Errorf: the
// other checks still run), then writes the report. Checks that depend on an
// earlier one fail with the reason when it failed.
func (s *Suite) Run(t require.TestingT) *Report {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	start := time.Now()
	r := &run{Suite: s, id: newRunID(start)}
	report := &Report{Env: s.env.Env, Target: s.target, RunID: r.id, Timeout: s.timeout}
	defer func() {
		report.Elapsed = time.Since(start)
		report.Write(s.out)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 2*s.timeout+5*requestTimeout+s.firstRetry)
	defer cancel()
	r.ctx = ctx
	httpClient, logsClient, err := clients(ctx, s.target)
	if err != nil {
		report.Err = err
		t.Errorf("%v", err)
		return report
	}
	base := httpClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	caller, err := NewCaller(ctx, s.target, base)
	if err != nil {
		report.Err = err
		t.Errorf("%v", err)
		return report
	}
	report.Access = caller.Describe
	r.caller, r.bare = caller, httpClient
	r.http = &http.Client{Timeout: httpClient.Timeout, Transport: caller.Transport}
	// Dump events carry Lambda's clock; allow for skew against this one.
	r.logs = &logReader{client: logsClient, group: s.target.LogGroupName, since: start.Add(-15 * time.Minute)}

	r.send()
	r.settle()
	for _, c := range []struct {
		id int
		fn func(*checkT) string
	}{
		{CheckAccepted, r.checkAccepted},
		{CheckDump, r.checkDump},
		{CheckRejected, r.checkRejected},
		{CheckUnknown, r.checkUnknown},
		{CheckVisibility, r.checkVisibility},
		{CheckUnauthenticated, r.checkUnauthenticated},
	} {
		res := runCheck(c.id, c.fn)
		report.Checks = append(report.Checks, res)
		if !res.Passed {
			t.Errorf("smoke check %d (%s) failed:\n%s", res.ID, res.Name, strings.Join(res.Failures, "\n"))
		}
	}
	report.Visibility, _ = r.visibility(r.valid, r.validSeen)
	return report
}

func newRunID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// send makes every call, in this order: the probe, the invalid body, the
// unknown route and method, then the fence. The fence is a valid request
// whose dump, once visible, shows that the log pipeline has delivered what
// was written before it: had the invalid body or the unknown route reached
// the function, their dumps would have been written earlier.
func (r *run) send() {
	base := r.target.APIURL
	events := base + "/events"
	r.probe = newProbe(r.eventID("valid"), r.id, time.Now().UTC().Format(time.RFC3339Nano), r.env.Dump.Fields)
	r.valid = r.doFirst(func() *call {
		return r.do("valid", http.MethodPost, events, r.probe.eventID, r.probe.body, r.probe.headers, r.probe.query)
	})

	// Valid JSON, but type is missing: the model's required list rejects it.
	badID := r.eventID("invalid")
	r.bad = r.do("invalid body", http.MethodPost, events, badID, fmt.Appendf(nil, `{"event_id":%q,"attributes":{"note":"no type"}}`, badID), jsonHeaders(r.probe.userAgent), nil)

	routeID := r.eventID("route")
	r.route = r.do("unknown route", http.MethodPost, base+"/smoke-unknown-"+r.id, routeID, fmt.Appendf(nil, `{"event_id":%q,"type":"smoke.check"}`, routeID), jsonHeaders(r.probe.userAgent), nil)
	r.method = r.do("unknown method", http.MethodGet, events, "", nil, map[string]string{"User-Agent": r.probe.userAgent}, nil)

	if r.target.AccessMode != apispec.AccessNone {
		unauthID := r.eventID("unauthenticated")
		r.unauth = r.doWith(r.bare, "without credentials", http.MethodPost, events, unauthID, fmt.Appendf(nil, `{"event_id":%q,"type":"smoke.unauthenticated"}`, unauthID), jsonHeaders(r.probe.userAgent), nil)
	}

	fenceID := r.eventID("fence")
	r.fence = r.do("fence", http.MethodPost, events, fenceID, fmt.Appendf(nil, `{"event_id":%q,"type":"smoke.fence"}`, fenceID), jsonHeaders(r.probe.userAgent), nil)
}

func (r *run) eventID(kind string) string { return "smoke-" + r.id + "-" + kind }

func jsonHeaders(userAgent string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "User-Agent": userAgent}
}

func (r *run) do(label, method, url, eventID string, body []byte, headers, query map[string]string) *call {
	return r.doWith(r.http, label, method, url, eventID, body, headers, query)
}

func (r *run) doWith(client *http.Client, label, method, url, eventID string, body []byte, headers, query map[string]string) *call {
	c := &call{label: label, method: method, url: url, eventID: eventID}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(r.ctx, method, url, reader)
	if err != nil {
		c.err = err
		return c
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if len(query) > 0 {
		q := req.URL.Query()
		for k, v := range query {
			q.Set(k, v)
		}
		req.URL.RawQuery = q.Encode()
	}
	c.sent = time.Now()
	resp, err := client.Do(req)
	if err != nil {
		c.err = err
		return c
	}
	defer resp.Body.Close()
	c.body, c.err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	c.took = time.Since(c.sent)
	c.status, c.header = resp.StatusCode, resp.Header
	if c.accepted() {
		var ids struct {
			RequestID    string `json:"request_id"`
			AWSRequestID string `json:"aws_request_id"`
		}
		if json.Unmarshal(c.body, &ids) == nil {
			c.apiRequestID, c.awsRequestID = ids.RequestID, ids.AWSRequestID
		}
	}
	return c
}

// doFirst makes the first call, again with backoff while it answers 5xx,
// for up to the suite's first-call retry window: on a first deploy API
// Gateway may answer 500 until IAM has propagated the invoke role's policy.
// The same request (the same event_id) is sent each time, so a 5xx that did
// reach the function and dump shows as a second dump in check 2.
func (r *run) doFirst(send func() *call) *call {
	start := time.Now()
	var retried []string
	wait := max(r.firstRetry/30, 10*time.Millisecond)
	for {
		c := send()
		if c.err != nil || c.status < 500 || time.Since(start)+wait > r.firstRetry {
			c.retried, c.since = retried, start
			return c
		}
		retried = append(retried, fmt.Sprintf("%d after %s", c.status, ms(time.Since(start))))
		select {
		case <-r.ctx.Done():
			c.retried, c.since = retried, start
			return c
		case <-time.After(wait):
		}
		wait = min(2*wait, max(r.firstRetry/6, 10*time.Millisecond))
	}
}

// retries says how the first call was retried, for the report; "" when it
// was sent once.
func (c *call) retries() string {
	if len(c.retried) == 0 {
		return ""
	}
	return fmt.Sprintf("retried %d time(s) on 5xx over %s (%s)", len(c.retried), ms(c.sent.Add(c.took).Sub(c.since)), strings.Join(c.retried, ", "))
}

// settle waits, within the visibility deadline, for the dumps of the probe
// and of the fence, then counts the probe's dump again: a copy that arrived
// late would show now.
func (r *run) settle() {
	var patterns []string
	if r.valid.accepted() {
		patterns = append(patterns, eventIDPattern(r.valid.eventID))
	}
	if r.fence.accepted() {
		patterns = append(patterns, eventIDPattern(r.fence.eventID))
	}
	if len(patterns) == 0 {
		return
	}
	seen := r.logs.await(r.ctx, patterns, r.timeout)
	if r.valid.accepted() {
		r.validSeen = seen[eventIDPattern(r.valid.eventID)]
	}
	if r.fence.accepted() {
		r.fenceSeen = seen[eventIDPattern(r.fence.eventID)]
	}
	if r.fenceVisible() {
		for _, c := range []*call{r.valid, r.bad, r.route, r.unauth} {
			if c == nil || c.eventID == "" {
				continue
			}
			p := eventIDPattern(c.eventID)
			events, err := r.logs.find(r.ctx, p)
			r.afterFence = append(r.afterFence, count{pattern: p, events: events, err: err})
		}
	}
}

func (r *run) fenceVisible() bool { return r.fenceSeen != nil && len(r.fenceSeen.events) > 0 }

func (r *run) countAfterFence(eventID string) (count, bool) {
	for _, c := range r.afterFence {
		if c.pattern == eventIDPattern(eventID) {
			return c, true
		}
	}
	return count{}, false
}

// visibility is how long after c's answer its dump was first seen: an
// upper bound, the time of the poll that saw it.
func (r *run) visibility(c *call, seen *sighting) (time.Duration, bool) {
	if seen == nil || len(seen.events) == 0 {
		return 0, false
	}
	return seen.seenAt.Sub(c.sent.Add(c.took)), true
}

// checkT is the require.TestingT of one check: it records failures, and
// FailNow ends the check's goroutine as testing.T's does.
type checkT struct {
	failures []string
}

// Errorf records a failure, tidied for the report.
func (c *checkT) Errorf(format string, args ...any) {
	c.failures = append(c.failures, tidy(fmt.Sprintf(format, args...)))
}

var (
	testifyLabel        = regexp.MustCompile(`^\t([A-Za-z ]+):\s*\t(.*)$`)
	testifyContinuation = regexp.MustCompile(`^\t *\t`)
)

// tidy rewrites a testify failure ("Error Trace:", "Error:", "Messages:"
// sections) as the message, then the assertion's own text unless it only
// says "Should be true"; the trace points into this package, not at the
// deployment, and is dropped. Other messages pass through.
func tidy(msg string) string {
	sections := map[string][]string{}
	label := ""
	for _, line := range strings.Split(msg, "\n") {
		if m := testifyLabel.FindStringSubmatch(line); m != nil {
			label = m[1]
			sections[label] = append(sections[label], m[2])
			continue
		}
		if label != "" && testifyContinuation.MatchString(line) {
			sections[label] = append(sections[label], testifyContinuation.ReplaceAllString(line, ""))
			continue
		}
		if strings.TrimSpace(line) != "" {
			label = ""
		}
	}
	errText := strings.TrimSpace(strings.Join(sections["Error"], "\n"))
	if errText == "" {
		return strings.TrimSpace(msg)
	}
	var parts []string
	if m := strings.TrimSpace(strings.Join(sections["Messages"], "\n")); m != "" {
		parts = append(parts, m)
	}
	if errText != "Should be true" && errText != "Should be false" || len(parts) == 0 {
		parts = append(parts, errText)
	}
	return strings.Join(parts, "\n")
}

func (c *checkT) FailNow() { runtime.Goexit() }

// runCheck runs fn in its own goroutine so that a require failure stops
// that check only; fn returns what it saw, for the report.
func runCheck(id int, fn func(*checkT) string) Result {
	t := &checkT{}
	res := Result{ID: id, Name: checkNames[id]}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("panic: %v", p)
			}
		}()
		res.Detail = fn(t)
	}()
	<-done
	res.Failures = t.failures
	res.Passed = len(t.failures) == 0
	return res
}

// ms formats a duration for the report.
func ms(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 10*time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}
