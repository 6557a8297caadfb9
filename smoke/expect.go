package smoke

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/acme/request-dump/internal/envconfig"
)

// redactedValue is what the function writes in place of a redacted value.
const redactedValue = "[REDACTED]"

// probe is the valid request the suite sends, and what the suite can know
// of the event API Gateway builds from it.
type probe struct {
	eventID   string
	body      []byte
	headers   map[string]string // as sent
	query     map[string]string // as sent
	userAgent string
	// sentinels are unique values placed where no field of a default env
	// reaches; a dump may carry one only if an expected field does.
	sentinels []sentinel
}

// sentinel is a unique value sent in one place of the request.
type sentinel struct {
	where string // e.g. body.attributes.password, header X-Smoke-Token
	value string
}

// smokeHeaderToken is a header whose name holds "token", so the default
// redact keys mask it wherever a field dumps it.
const smokeHeaderToken = "X-Smoke-Token"

// newProbe builds the valid request with event_id id for a run. The body
// follows the OpenAPI model (event_id, type, occurred_at, user, attributes)
// and carries, in attributes, values under keys the default redact keys
// cover (password, api_token), so any env that dumps the attributes, the
// user or the whole body exercises redaction. A query parameter is added
// for each field that reads one, so its value is known.
func newProbe(id, run, occurredAt string, fields map[string]string) probe {
	p := probe{
		eventID:   id,
		headers:   map[string]string{},
		query:     map[string]string{},
		userAgent: "request-dump-smoke/" + run,
	}
	add := func(where, value string) string {
		p.sentinels = append(p.sentinels, sentinel{where: where, value: value})
		return value
	}
	body := map[string]any{
		"event_id":    id,
		"type":        "smoke.check",
		"occurred_at": occurredAt,
		"user": map[string]any{
			"id":    add("body.user.id", "smoke-user-"+run),
			"email": add("body.user.email", "smoke-"+run+"@example.com"),
		},
		"attributes": map[string]any{
			"note":      add("body.attributes.note", "smoke-note-"+run),
			"password":  add("body.attributes.password", "smoke-secret-password-"+run),
			"api_token": add("body.attributes.api_token", "smoke-secret-token-"+run),
			"seats":     3,
		},
	}
	p.body, _ = json.Marshal(body) // a map of strings and ints always encodes
	p.headers["Content-Type"] = "application/json"
	p.headers["User-Agent"] = p.userAgent
	p.headers[smokeHeaderToken] = add("header "+smokeHeaderToken, "smoke-secret-header-"+run)
	for _, name := range sortedKeys(fields) {
		if src, param, ok := strings.Cut(fields[name], "."); ok && src == "queryStringParameters" {
			p.query[param] = add("query "+param, "smoke-query-"+name+"-"+run)
		}
	}
	return p
}

// expectation is what one configured field must hold in the dump.
type expectation struct {
	name, path string
	// absent: the field must be listed in absent, not in fields.
	absent bool
	// value is the exact value (decoded with UseNumber) when known.
	value any
	known bool
	// check tests a value the client only partly knows; optional says the
	// field may also be absent.
	check    func(v any) error
	optional bool
	// note says what a partial check covers, for the report.
	note string
	// redacted lists the places whose redaction this field exercises.
	redacted []string
}

// callFacts are what the API's answer to the probe tells about its event.
type callFacts struct {
	apiRequestID string
	stage        string
}

// expectations derives, from the env's dump settings and the probe, what
// each configured field must hold. Paths are resolved here independently of
// the function's own code (lambda/dump), so a bug there cannot hide itself:
// a field's value is looked up in what the client sent, and the function's
// redaction rule is applied (a key containing a redact key, ignoring case,
// has its value replaced; a path through such a key is replaced whole).
func expectations(dump envconfig.Dump, p probe, facts callFacts) ([]expectation, error) {
	redact := lowerAll(dump.RedactKeys)
	var body any
	dec := json.NewDecoder(bytes.NewReader(p.body))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("smoke: probe body: %w", err)
	}
	var out []expectation
	for _, name := range sortedKeys(dump.Fields) {
		path := dump.Fields[name]
		e := expectation{name: name, path: path}
		head, rest := splitHead(path)
		switch head {
		case "body":
			steps, err := parseSteps(rest)
			if err != nil {
				return nil, fmt.Errorf("smoke: field %s: path %q: %w", name, path, err)
			}
			v, ok := walk(body, steps)
			switch {
			case !ok:
				e.absent = true
			case matchesAny(redact, stepKeys(steps)):
				e.value, e.known, e.redacted = redactedValue, true, []string{path}
			default:
				e.value, e.redacted = redactTree(v, path, redact)
				e.known = true
			}
		case "headers":
			if rest == "" {
				e.check, e.note = headersCheck(p.headers, redact), "every header sent, redacted by name"
				for _, h := range sortedKeys(p.headers) {
					if matches(redact, h) {
						e.redacted = append(e.redacted, "header "+h)
					}
				}
				break
			}
			header := strings.TrimPrefix(rest, ".")
			sent, ok := lookupFold(p.headers, header)
			switch {
			case ok && matches(redact, header):
				e.value, e.known, e.redacted = redactedValue, true, []string{"header " + header}
			case ok:
				e.value, e.known = sent, true
			default:
				e = unknown(e, redact, []string{header}, "a header the client does not send")
			}
		case "queryStringParameters":
			param := strings.TrimPrefix(rest, ".")
			if matches(redact, param) {
				e.value, e.known, e.redacted = redactedValue, true, []string{"query " + param}
			} else {
				e.value, e.known = p.query[param], true
			}
		case "pathParameters":
			// POST /events has no path parameters.
			e.absent = true
		case "stageVariables":
			e = unknown(e, redact, []string{strings.TrimPrefix(rest, ".")}, "stage variables are not in the outputs")
		case "requestContext":
			steps, err := parseSteps(rest)
			if err != nil {
				return nil, fmt.Errorf("smoke: field %s: path %q: %w", name, path, err)
			}
			e = contextExpectation(e, stepKeys(steps), redact, p, facts)
		case "httpMethod":
			e.value, e.known = "POST", true
		case "path", "resource":
			e.value, e.known = "/events", true
		default:
			return nil, fmt.Errorf("smoke: field %s: path %q has an unknown source %q", name, path, head)
		}
		out = append(out, e)
	}
	return out, nil
}

// contextExpectation covers requestContext.<keys>: the values the client
// knows exactly, an IP address for the source, anything for the rest.
func contextExpectation(e expectation, keys []string, redact []string, p probe, facts callFacts) expectation {
	if matchesAny(redact, keys) {
		return unknown(e, redact, keys, "")
	}
	switch strings.Join(keys, ".") {
	case "requestId":
		e.value, e.known = facts.apiRequestID, true
	case "stage":
		e.value, e.known = facts.stage, true
	case "httpMethod":
		e.value, e.known = "POST", true
	case "resourcePath":
		e.value, e.known = "/events", true
	case "path":
		e.value, e.known = "/"+facts.stage+"/events", true
	case "identity.userAgent":
		e.value, e.known = p.userAgent, true
	case "identity.sourceIp":
		e.note = "the caller's IP address"
		e.check = func(v any) error {
			s, ok := v.(string)
			if !ok || net.ParseIP(s) == nil {
				return fmt.Errorf("is %v, want the caller's IP address", v)
			}
			return nil
		}
	default:
		e.optional, e.note = true, "a request context value the client cannot know"
	}
	return e
}

// unknown is the expectation of a field whose value the client cannot
// know: it may be absent, and if a key on its path is redacted it must be
// masked.
func unknown(e expectation, redact, keys []string, why string) expectation {
	e.optional, e.note = true, why
	if matchesAny(redact, keys) {
		e.note = "masked if present"
		e.check = func(v any) error {
			if v != redactedValue {
				return fmt.Errorf("is %v, want %q: a key on its path is redacted", v, redactedValue)
			}
			return nil
		}
	}
	return e
}

// headersCheck checks the "headers" field: an object holding every header
// the client sent (names compared ignoring case: HTTP/2 sends them in lower
// case), redacted by name; the gateway may add others.
func headersCheck(sent map[string]string, redact []string) func(any) error {
	return func(v any) error {
		got, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("is %v, want an object of headers", v)
		}
		var problems []string
		for _, name := range sortedKeys(sent) {
			want := sent[name]
			if matches(redact, name) {
				want = redactedValue
			}
			value, found := lookupFold(got, name)
			switch {
			case !found:
				problems = append(problems, fmt.Sprintf("header %s is missing", name))
			case value != want:
				problems = append(problems, fmt.Sprintf("header %s is %v, want %q", name, value, want))
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("%s", strings.Join(problems, "; "))
		}
		return nil
	}
}

// redactTree returns v with the values of redacted keys replaced, and the
// places replaced.
func redactTree(v any, at string, redact []string) (any, []string) {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		var places []string
		for _, k := range sortedKeys(v) {
			if matches(redact, k) {
				out[k] = redactedValue
				places = append(places, at+"."+k)
				continue
			}
			var sub []string
			out[k], sub = redactTree(v[k], at+"."+k, redact)
			places = append(places, sub...)
		}
		return out, places
	case []any:
		out := make([]any, len(v))
		var places []string
		for i, item := range v {
			var sub []string
			out[i], sub = redactTree(item, at+"["+strconv.Itoa(i)+"]", redact)
			places = append(places, sub...)
		}
		return out, places
	default:
		return v, nil
	}
}

// step is one .key or [index] of a path into the body or request context.
type step struct {
	key   string
	index int
	isKey bool
}

var stepPattern = regexp.MustCompile(`^(?:\.([^.\[\]]+)|\[(0|[1-9][0-9]*)\])`)

// parseSteps parses the .key and [index] steps of a path. The env's paths
// were checked by Terraform's validation and the function's parser; this
// only needs to read them (no library parses this path syntax).
func parseSteps(s string) ([]step, error) {
	var steps []step
	for s != "" {
		m := stepPattern.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("cannot read %q (want .key or [index])", s)
		}
		if m[1] != "" {
			steps = append(steps, step{key: m[1], isKey: true})
		} else {
			n, err := strconv.Atoi(m[2])
			if err != nil {
				return nil, err
			}
			steps = append(steps, step{index: n})
		}
		s = s[len(m[0]):]
	}
	return steps, nil
}

func splitHead(path string) (string, string) {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i], path[i:]
	}
	return path, ""
}

func stepKeys(steps []step) []string {
	var keys []string
	for _, s := range steps {
		if s.isKey {
			keys = append(keys, s.key)
		}
	}
	return keys
}

// walk follows steps into a decoded JSON value.
func walk(v any, steps []step) (any, bool) {
	for _, s := range steps {
		switch node := v.(type) {
		case map[string]any:
			if !s.isKey {
				return nil, false
			}
			next, ok := node[s.key]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			if s.isKey || s.index >= len(node) {
				return nil, false
			}
			v = node[s.index]
		default:
			return nil, false
		}
	}
	return v, true
}

// matches reports whether key contains one of the redact keys (lower case),
// ignoring case: the function's rule.
func matches(redact []string, key string) bool {
	lower := strings.ToLower(key)
	for _, r := range redact {
		if strings.Contains(lower, r) {
			return true
		}
	}
	return false
}

func matchesAny(redact, keys []string) bool {
	for _, k := range keys {
		if matches(redact, k) {
			return true
		}
	}
	return false
}

func lowerAll(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			out = append(out, strings.ToLower(k))
		}
	}
	return out
}

func lookupFold[V any](m map[string]V, name string) (V, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
