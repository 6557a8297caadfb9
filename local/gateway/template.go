package gateway

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// template is a gateway response body or an access log format, parsed once.
// API Gateway renders both by variable substitution alone (gateway response
// templates are not run through the Velocity engine), so references are the
// only thing to find: $name.name…, ${name.name…}, and their quiet forms
// $!name and $!{name}. Written by hand because substitution is all that is
// needed and no Velocity engine exists for Go.
type template struct {
	parts []templatePart
}

type templatePart struct {
	text string // literal text, or the reference as written
	name string // the reference, e.g. context.requestId; empty for literal text
}

func parseTemplate(s string) template {
	var t template
	lit := 0
	for i := 0; i < len(s); {
		if s[i] != '$' {
			i++
			continue
		}
		name, n := scanReference(s[i:])
		if n == 0 {
			i++
			continue
		}
		if lit < i {
			t.parts = append(t.parts, templatePart{text: s[lit:i]})
		}
		t.parts = append(t.parts, templatePart{text: s[i : i+n], name: name})
		i += n
		lit = i
	}
	if lit < len(s) {
		t.parts = append(t.parts, templatePart{text: s[lit:]})
	}
	return t
}

// scanReference reads the reference at the start of s (which starts with
// $) and returns its name and length, or a length of 0 if there is none.
func scanReference(s string) (string, int) {
	i := 1
	if i < len(s) && s[i] == '!' {
		i++
	}
	braced := i < len(s) && s[i] == '{'
	if braced {
		i++
	}
	start := i
	for i < len(s) && isIdentStart(s[i]) {
		i++
		for i < len(s) && isIdentChar(s[i]) {
			i++
		}
		if i+1 < len(s) && s[i] == '.' && isIdentStart(s[i+1]) {
			i++
			continue
		}
		break
	}
	if i == start {
		return "", 0
	}
	name := s[start:i]
	if braced {
		if i >= len(s) || s[i] != '}' {
			return "", 0
		}
		i++
	}
	return name, i
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// render appends the template to dst, resolving references with lookup. In
// an access log a reference without a value becomes "-", as AWS writes it;
// in a gateway response a $context or $stageVariables reference without a
// value becomes empty and any other reference stays as written.
func (t template) render(dst []byte, lookup func(string) (string, bool), accessLog bool) []byte {
	for _, p := range t.parts {
		if p.name == "" {
			dst = append(dst, p.text...)
			continue
		}
		v, ok := lookup(p.name)
		switch {
		case ok:
			dst = append(dst, v...)
		case accessLog:
			dst = append(dst, '-')
		case strings.HasPrefix(p.name, "context.") || strings.HasPrefix(p.name, "stageVariables."):
		default:
			dst = append(dst, p.text...)
		}
	}
	return dst
}

// lookup resolves a $context or $stageVariables reference for this request.
func (ex *exchange) lookup(name string) (string, bool) {
	if key, ok := strings.CutPrefix(name, "stageVariables."); ok {
		v, ok := ex.g.stageVariables[key]
		return v, ok
	}
	key, ok := strings.CutPrefix(name, "context.")
	if !ok {
		return "", false
	}
	g, r, m := ex.g, ex.r, ex.method
	switch key {
	case "accountId":
		return g.accountID, true
	case "apiId":
		return g.apiID, true
	case "stage":
		return g.stage, true
	case "requestId":
		return ex.requestID, true
	case "extendedRequestId":
		return ex.extendedRequestID, true
	case "xrayTraceId":
		return strings.TrimPrefix(ex.traceID, "Root="), true
	case "domainName":
		return ex.domainName(), true
	case "domainPrefix":
		return ex.domainPrefix(), true
	case "httpMethod":
		return r.Method, true
	case "protocol":
		return r.Proto, true
	case "path":
		return ex.contextPath(), true
	case "requestTime":
		return ex.start.UTC().Format(clfTime), true
	case "requestTimeEpoch":
		return strconv.FormatInt(ex.start.UnixMilli(), 10), true
	case "identity.sourceIp":
		return ex.sourceIP(), true
	case "identity.userAgent":
		ua := r.UserAgent()
		return ua, ua != ""
	case "resourceId":
		if m != nil {
			return m.resource.id, true
		}
	case "resourcePath":
		if m != nil {
			return m.resource.path, true
		}
	case "operationName":
		if m != nil && m.operationName != "" {
			return m.operationName, true
		}
	case "error.message":
		return ex.errorMessage, ex.errorMessage != ""
	case "error.messageString":
		return jsonQuote(ex.errorMessage), ex.errorMessage != ""
	case "error.responseType":
		return ex.responseType, ex.responseType != ""
	case "error.validationErrorString":
		// AWS substitutes it JSON-escaped, ready to sit inside a JSON string.
		q := jsonQuote(ex.validation)
		return q[1 : len(q)-1], ex.validation != ""
	case "status":
		return strconv.Itoa(ex.status), ex.status != 0
	case "responseLength":
		return strconv.Itoa(ex.responseLen), ex.status != 0
	case "responseLatency":
		return strconv.FormatInt(ex.latency().Milliseconds(), 10), true
	case "awsEndpointRequestId", "integration.requestId":
		return ex.lambdaRequestID, ex.lambdaRequestID != ""
	case "integrationLatency", "integration.latency":
		return strconv.FormatInt(ex.integration.latency.Milliseconds(), 10), ex.integration.called
	case "integrationStatus", "integration.integrationStatus", "integration.status":
		return strconv.Itoa(ex.integration.status), ex.integration.called
	case "integration.error", "integrationErrorMessage":
		return ex.integration.err, ex.integration.err != ""
	}
	return "", false
}

// jsonQuote returns s as a JSON string, with <, > and & left as they are.
func jsonQuote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
