package smoke

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/apispec"
)

// dumpMessage is the "msg" of every dump line (lambda/dump.Message).
const dumpMessage = "request dump"

// gatewayBadBody and gatewayNoRoute are API Gateway's messages for a body
// that fails its model and for an unknown route or method.
const (
	gatewayBadBody = "Invalid request body"
	gatewayNoRoute = "Missing Authentication Token"
)

// dumpLine is the function's log line (docs/architecture.md, "The dump event").
type dumpLine struct {
	Msg          string                     `json:"msg"`
	AWSRequestID string                     `json:"aws_request_id"`
	APIRequestID string                     `json:"api_request_id"`
	Fields       map[string]json.RawMessage `json:"fields"`
	Absent       []string                   `json:"absent"`
	Truncated    []string                   `json:"truncated"`
	BodyError    string                     `json:"body_error"`
}

func (r *run) checkAccepted(t *checkT) string {
	c := r.valid
	require.NoErrorf(t, c.err, "POST %s", c.url)
	retries := c.retries()
	if retries != "" && !c.accepted() {
		retries = fmt.Sprintf("; %s: the API answered 5xx for the whole retry window (%s), longer than IAM takes to propagate the invoke role's policy on a first deploy", retries, r.firstRetry)
	} else if retries != "" {
		retries = "; " + retries + ": a first deploy answers 5xx until IAM has propagated the invoke role's policy"
	}
	require.Truef(t, c.accepted(), "POST %s with a valid event got %d, want 2xx; body: %s%s", c.url, c.status, c.body, retries)
	require.NotEmptyf(t, c.apiRequestID, `the answer %s has no request_id (want {"request_id":"…","aws_request_id":"…"})`, c.body)
	require.NotEmptyf(t, c.awsRequestID, `the answer %s has no aws_request_id (want {"request_id":"…","aws_request_id":"…"})`, c.body)
	if h := c.header.Get("X-Amzn-Requestid"); h != "" {
		assert.Equalf(t, h, c.apiRequestID, "the body's request_id is not the gateway's x-amzn-RequestId header")
	}
	return fmt.Sprintf("%d in %s; request_id %s, aws_request_id %s%s", c.status, ms(c.took), c.apiRequestID, c.awsRequestID, retries)
}

func (r *run) checkDump(t *checkT) string {
	require.True(t, r.valid.accepted(), "not run: check 1 failed, so there is no accepted request whose dump to look for")
	if r.validSeen == nil || len(r.validSeen.events) == 0 {
		require.Fail(t, r.diagnoseMissing())
	}
	// The count once the fence was visible shows a copy that arrived late;
	// the larger of the two counts stands, should a later query miss one.
	events := r.validSeen.events
	if n, ok := r.countAfterFence(r.valid.eventID); ok && n.err == nil && len(n.events) > len(events) {
		events = n.events
	}
	if len(events) != 1 {
		require.Fail(t, fmt.Sprintf("%d events in %s match %s, want exactly 1: %s", len(events), r.target.LogGroupName, eventIDPattern(r.valid.eventID), describeCopies(events)))
	}
	event := events[0]
	detail := r.verifyDump(t, *event.Message)
	return fmt.Sprintf("1 event in %s, stream %s\n%s", r.target.LogGroupName, *event.LogStreamName, detail)
}

// describeCopies says where the copies of a dump come from: one
// invocation per copy (the request was delivered again, by a retry) or one
// invocation that logged its dump more than once.
func describeCopies(events []types.FilteredLogEvent) string {
	var where, ids []string
	for _, e := range events {
		var line dumpLine
		_ = json.Unmarshal([]byte(aws.ToString(e.Message)), &line) // an unreadable line has no id
		id := line.AWSRequestID
		if id == "" {
			id = "none"
		}
		where = append(where, fmt.Sprintf("aws_request_id %s in stream %s", id, aws.ToString(e.LogStreamName)))
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	cause := fmt.Sprintf("the request reached the function %d times, so something delivered it again", len(ids))
	if len(ids) == 1 {
		cause = fmt.Sprintf("one invocation wrote its dump %d times", len(events))
	}
	return cause + " (" + strings.Join(where, "; ") + ")"
}

// verifyDump checks the probe's dump line against the env's dump settings
// and returns what it checked.
func (r *run) verifyDump(t *checkT, message string) string {
	var line dumpLine
	require.NoErrorf(t, json.Unmarshal([]byte(message), &line), "the event that matched is not a JSON dump line: %s", message)
	assert.Equalf(t, dumpMessage, line.Msg, "msg of the dump line")
	assert.Equalf(t, r.valid.awsRequestID, line.AWSRequestID, "the dump's aws_request_id is not the Lambda request id the call answered")
	assert.Equalf(t, r.valid.apiRequestID, line.APIRequestID, "the dump's api_request_id is not the API request id the call answered")
	assert.Emptyf(t, line.Truncated, "the dump cut fields %v to the env's size bounds; the smoke event is small, so max_value_bytes or max_event_bytes is too tight", line.Truncated)
	assert.Emptyf(t, line.BodyError, "the dump reports body_error %q for a valid JSON body", line.BodyError)
	if r.caller.Secret != "" {
		assert.Falsef(t, strings.Contains(message, r.caller.Secret), "the dump carries the credential the smoke test called with (%s)", r.caller.Describe)
	}

	stage := r.env.API.StageName
	if r.target.StageName != "" {
		stage = r.target.StageName
	}
	exps, err := expectations(r.env.Dump, r.probe, callFacts{apiRequestID: r.valid.apiRequestID, stage: stage})
	require.NoError(t, err)
	names := sortedKeys(r.env.Dump.Fields)
	for _, name := range sortedKeys(line.Fields) {
		if _, ok := r.env.Dump.Fields[name]; !ok {
			t.Errorf("fields.%s is in the dump, but envs/%s selects only %s: the deployed function dumps a field the env does not configure", name, r.env.Env, strings.Join(names, ", "))
		}
	}
	for _, name := range line.Absent {
		if _, ok := r.env.Dump.Fields[name]; !ok {
			t.Errorf("absent lists %q, which envs/%s does not select (it selects %s)", name, r.env.Env, strings.Join(names, ", "))
		}
	}

	var asSent, partly, absent, allowed []string
	var redacted []string
	for _, e := range exps {
		raw, inFields := line.Fields[e.name]
		inAbsent := slices.Contains(line.Absent, e.name)
		where := fmt.Sprintf("fields.%s (from %s)", e.name, e.path)
		if inFields && inAbsent {
			t.Errorf("%s is both in fields and in absent", where)
		}
		if e.absent {
			if inFields || !inAbsent {
				t.Errorf("%s: the probe has nothing at %s, so the dump must list %s in absent; fields: %s, absent: %v", where, e.path, e.name, raw, line.Absent)
			}
			absent = append(absent, e.name)
			continue
		}
		if !inFields {
			switch {
			case e.optional && inAbsent:
				absent = append(absent, e.name)
			case e.optional:
				t.Errorf("%s is neither in fields nor in absent", where)
			default:
				t.Errorf("%s is missing from the dump (absent: %v), but the probe sent a value there", where, line.Absent)
			}
			continue
		}
		var got any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			t.Errorf("%s is not JSON: %s", where, raw)
			continue
		}
		redacted = append(redacted, e.redacted...)
		if e.known {
			assert.Equalf(t, e.value, got, "%s is not what the probe sent there (after redaction)", where)
			text, _ := json.Marshal(e.value)
			allowed = append(allowed, string(text))
		}
		if e.check != nil {
			if err := e.check(got); err != nil {
				t.Errorf("%s %v", where, err)
			}
		}
		if e.path == "headers" {
			for name, v := range r.probe.headers {
				if !matches(lowerAll(r.env.Dump.RedactKeys), name) {
					allowed = append(allowed, v)
				}
			}
		}
		if e.known {
			asSent = append(asSent, e.name)
		} else {
			partly = append(partly, e.name+" ("+e.note+")")
		}
	}

	slices.Sort(redacted)
	redacted = slices.Compact(redacted)

	// Values the probe sent where no configured field reaches must not be
	// in the line at all; secrets under redacted keys must not either.
	mayCarry := strings.Join(allowed, "\n")
	var withheld []string
	for _, s := range r.probe.sentinels {
		if strings.Contains(mayCarry, s.value) {
			continue
		}
		if !slices.Contains(redacted, s.where) {
			withheld = append(withheld, s.where)
		}
		if strings.Contains(message, s.value) {
			why := "no field of envs/" + r.env.Env + " selects it"
			if matches(lowerAll(r.env.Dump.RedactKeys), lastKey(s.where)) {
				why = "it is under a key envs/" + r.env.Env + " redacts, so it must never appear: redaction is not working"
			}
			t.Errorf("the dump carries the value sent as %s (%q), but %s", s.where, s.value, why)
		}
	}

	lines := []string{
		"as sent: " + orNone(asSent),
	}
	if len(partly) > 0 {
		lines = append(lines, "checked in part: "+strings.Join(partly, ", "))
	}
	lines = append(lines,
		"absent as expected: "+orNone(absent),
		"aws_request_id and api_request_id match the call",
	)
	if len(redacted) > 0 {
		lines = append(lines, "redaction checked at "+strings.Join(redacted, ", "))
	} else {
		lines = append(lines, fmt.Sprintf("redaction not exercised: no field of envs/%s reaches a redacted key", r.env.Env))
	}
	lines = append(lines, "not dumped, as no field selects them: "+orNone(withheld))
	return strings.Join(lines, "\n")
}

// diagnoseMissing says why the probe's dump was not found: whether the
// function dumped the request at all (found by its API request id) and
// what it put in fields.event_id.
func (r *run) diagnoseMissing() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no event matching %s appeared in %s within %s", eventIDPattern(r.valid.eventID), r.target.LogGroupName, r.timeout)
	if r.validSeen != nil && r.validSeen.err != nil {
		fmt.Fprintf(&b, " (the last FilterLogEvents failed: %v)", r.validSeen.err)
	}
	events, err := r.logs.find(r.ctx, requestIDPattern(r.valid.apiRequestID))
	switch {
	case err != nil:
		fmt.Fprintf(&b, "; looking for the request's dump by its api_request_id failed too: %v", err)
	case len(events) == 0:
		fmt.Fprintf(&b, "; nor is there any dump with api_request_id %s: the function wrote no dump line for the request to this log group (check its log level and logging_config)", r.valid.apiRequestID)
	default:
		var line dumpLine
		if err := json.Unmarshal([]byte(*events[0].Message), &line); err != nil {
			fmt.Fprintf(&b, "; the request's log event (api_request_id %s) is not a JSON dump line: %s", r.valid.apiRequestID, *events[0].Message)
			break
		}
		fmt.Fprintf(&b, "; the request's dump (api_request_id %s) is there, but ", r.valid.apiRequestID)
		switch raw, ok := line.Fields["event_id"]; {
		case ok:
			fmt.Fprintf(&b, "its fields.event_id is %s, not the body's event_id %q", raw, r.valid.eventID)
		case slices.Contains(line.Absent, "event_id"):
			b.WriteString("it lists event_id as absent: its path finds nothing in the body")
		default:
			fmt.Fprintf(&b, "it has no fields.event_id at all (fields: %s)", orNone(sortedKeys(line.Fields)))
		}
		fmt.Fprintf(&b, ": the deployed function does not dump event_id from body.event_id as envs/%s says; its DUMP_FIELDS differ from the env's dump fields", r.env.Env)
	}
	return b.String()
}

func (r *run) checkRejected(t *checkT) string {
	c := r.bad
	require.NoErrorf(t, c.err, "POST %s", c.url)
	require.Equalf(t, 400, c.status, "POST %s with an event that lacks the required type got %d, want the gateway's 400 (is the request validator on?); body: %s", c.url, c.status, c.body)
	assert.Equalf(t, gatewayBadBody, gatewayMessage(c.body), "message of the 400 (gateway response BAD_REQUEST_BODY); body: %s", c.body)
	r.requireFence(t, c)
	n := r.requireCountAfterFence(t, c.eventID)
	assert.Emptyf(t, n.events, "%d events match %s: the rejected request reached the function", len(n.events), n.pattern)
	return fmt.Sprintf("400 %q; no dump for %s once the fence's dump was visible", gatewayMessage(c.body), c.eventID)
}

// requireFence stops a check whose absence of a dump would prove nothing
// because the fence's dump was never seen.
func (r *run) requireFence(t *checkT, c *call) {
	require.Truef(t, r.fence.accepted(), "the fence (a valid event sent after %s) was not accepted: %s; without its dump, no dump for %s proves nothing", c.label, r.fence, c.eventID)
	require.Truef(t, r.fenceVisible(), "the fence's dump (%s) did not appear within %s, so no dump for %s proves nothing", eventIDPattern(r.fence.eventID), r.timeout, c.eventID)
}

// requireCountAfterFence returns the dumps of eventID looked up once the
// fence was visible. A missing lookup stops the check: an empty count that
// was never taken must not read as "no dump".
func (r *run) requireCountAfterFence(t *checkT, eventID string) count {
	n, ok := r.countAfterFence(eventID)
	require.Truef(t, ok, "no lookup of %s was made after the fence's dump was visible", eventIDPattern(eventID))
	require.NoError(t, n.err)
	return n
}

func (r *run) checkUnknown(t *checkT) string {
	var seen []string
	for _, c := range []*call{r.route, r.method} {
		require.NoErrorf(t, c.err, "%s %s", c.method, c.url)
		assert.Equalf(t, 403, c.status, "%s %s (%s) got %d, want 403; body: %s", c.method, c.url, c.label, c.status, c.body)
		assert.Equalf(t, gatewayNoRoute, gatewayMessage(c.body), "message of the 403 to %s %s; body: %s", c.method, c.url, c.body)
		seen = append(seen, fmt.Sprintf("%s %s %d", c.method, strings.TrimPrefix(c.url, r.target.APIURL), c.status))
	}
	r.requireFence(t, r.route)
	n := r.requireCountAfterFence(t, r.route.eventID)
	assert.Emptyf(t, n.events, "%d events match %s: a request to an unknown route reached the function", len(n.events), n.pattern)
	return fmt.Sprintf("%s, %q; no dump for %s", strings.Join(seen, ", "), gatewayNoRoute, r.route.eventID)
}

func (r *run) checkVisibility(t *checkT) string {
	require.True(t, r.valid.accepted(), "not run: check 1 failed")
	d, ok := r.visibility(r.valid, r.validSeen)
	require.Truef(t, ok, "the dump did not become visible within %s (set %s to wait longer)", r.timeout, TimeoutVar)
	detail := fmt.Sprintf("dump visible ≤ %s after the 2xx (deadline %s)", ms(d), r.timeout)
	if fence, ok := r.visibility(r.fence, r.fenceSeen); ok {
		detail += fmt.Sprintf("; fence ≤ %s", ms(fence))
	}
	return detail
}

func (r *run) checkUnauthenticated(t *checkT) string {
	if r.unauth == nil {
		return "access mode none: the API is open to anyone, so no request is refused for lack of credentials"
	}
	c := r.unauth
	status, message := http.StatusForbidden, "Forbidden"
	if r.target.AccessMode == apispec.AccessIAM {
		message = gatewayNoRoute
	}
	require.NoErrorf(t, c.err, "POST %s", c.url)
	require.Equalf(t, status, c.status, "POST %s with a valid event and no credentials (access mode %s) got %d, want the gateway's %d; body: %s", c.url, r.target.AccessMode, c.status, status, c.body)
	assert.Equalf(t, message, gatewayMessage(c.body), "message of the %d; body: %s", status, c.body)
	r.requireFence(t, c)
	n := r.requireCountAfterFence(t, c.eventID)
	assert.Emptyf(t, n.events, "%d events match %s: a request without credentials reached the function", len(n.events), n.pattern)
	return fmt.Sprintf("access mode %s: %d %q; no dump for %s once the fence's dump was visible", r.target.AccessMode, c.status, gatewayMessage(c.body), c.eventID)
}

func gatewayMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	return m.Message
}

func lastKey(where string) string {
	where = where[strings.LastIndexAny(where, ". ")+1:]
	return where
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
