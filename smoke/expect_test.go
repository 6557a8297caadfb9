package smoke

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
)

func TestParseSteps(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []step
		wantErr string
	}{
		{in: "", want: nil},
		{in: ".event_id", want: []step{{key: "event_id", isKey: true}}},
		{in: ".user.id", want: []step{{key: "user", isKey: true}, {key: "id", isKey: true}}},
		{in: ".items[0].name", want: []step{{key: "items", isKey: true}, {index: 0}, {key: "name", isKey: true}}},
		{in: "[12]", want: []step{{index: 12}}},
		{in: ".a..b", wantErr: `cannot read "..b"`},
		{in: "[01]", wantErr: `cannot read "[01]"`},
		{in: "[x]", wantErr: `cannot read "[x]"`},
	} {
		got, err := parseSteps(tc.in)
		if tc.wantErr != "" {
			assert.ErrorContains(t, err, tc.wantErr, tc.in)
			continue
		}
		assert.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestRedactTree(t *testing.T) {
	var v any
	require.NoError(t, json.Unmarshal([]byte(`{"Password":"p","nested":{"api_token":"t","keep":1},"list":[{"client_secret":"s"},"x"],"ok":"yes"}`), &v))
	got, places := redactTree(v, "body", []string{"password", "token", "secret"})
	assert.Equal(t, map[string]any{
		"Password": redactedValue,
		"nested":   map[string]any{"api_token": redactedValue, "keep": float64(1)},
		"list":     []any{map[string]any{"client_secret": redactedValue}, "x"},
		"ok":       "yes",
	}, got)
	assert.Equal(t, []string{"body.Password", "body.list[0].client_secret", "body.nested.api_token"}, places)
}

// TestExpectations derives each field's expectation from the env's dump
// settings and the probe, without a deployment.
func TestExpectations(t *testing.T) {
	dump := envconfig.Dump{
		Fields: map[string]string{
			"event_id":   "body.event_id",
			"user":       "body.user",
			"secret":     "body.attributes.password",
			"seat":       "body.attributes.seats",
			"gone":       "body.user.id[0]",
			"agent":      "headers.user-agent",
			"token":      "headers.X-Smoke-Token",
			"cookie":     "headers.Cookie",
			"page":       "queryStringParameters.page",
			"id":         "pathParameters.id",
			"var":        "stageVariables.name",
			"request_id": "requestContext.requestId",
			"stage":      "requestContext.stage",
			"ip":         "requestContext.identity.sourceIp",
			"auth":       "requestContext.authorizer.token",
			"method":     "httpMethod",
		},
		RedactKeys: []string{"password", "TOKEN", "cookie"},
	}
	p := newProbe("smoke-run-valid", "run", "2026-11-24T12:00:00Z", dump.Fields)
	assert.Equal(t, map[string]string{"page": "smoke-query-page-run"}, p.query)
	exps, err := expectations(dump, p, callFacts{apiRequestID: "req-1", stage: "dev"})
	require.NoError(t, err)
	byName := map[string]expectation{}
	for _, e := range exps {
		byName[e.name] = e
	}
	require.Len(t, byName, len(dump.Fields))

	known := map[string]any{
		"event_id":   "smoke-run-valid",
		"user":       map[string]any{"id": "smoke-user-run", "email": "smoke-run@example.com"},
		"secret":     redactedValue,
		"seat":       json.Number("3"),
		"agent":      "request-dump-smoke/run",
		"token":      redactedValue,
		"page":       "smoke-query-page-run",
		"request_id": "req-1",
		"stage":      "dev",
		"method":     "POST",
	}
	for name, want := range known {
		e := byName[name]
		assert.True(t, e.known, name)
		assert.Equal(t, want, e.value, name)
	}
	assert.Equal(t, []string{"body.attributes.password"}, byName["secret"].redacted)
	assert.Equal(t, []string{"header X-Smoke-Token"}, byName["token"].redacted)

	assert.True(t, byName["gone"].absent, "an index into a string finds nothing")
	assert.True(t, byName["id"].absent, "POST /events has no path parameters")

	for _, name := range []string{"var", "cookie", "auth"} {
		assert.True(t, byName[name].optional, name)
		assert.False(t, byName[name].known, name)
	}
	require.NotNil(t, byName["cookie"].check, "a redacted header the client does not send must be masked if present")
	assert.NoError(t, byName["cookie"].check(redactedValue))
	assert.Error(t, byName["cookie"].check("session=1"))
	assert.NotNil(t, byName["auth"].check)

	ip := byName["ip"].check
	require.NotNil(t, ip)
	assert.NoError(t, ip("203.0.113.7"))
	assert.NoError(t, ip("::1"))
	assert.ErrorContains(t, ip("not-an-ip"), "want the caller's IP address")
}

func TestHeadersCheck(t *testing.T) {
	check := headersCheck(map[string]string{"User-Agent": "ua", "X-Smoke-Token": "secret"}, []string{"token"})
	assert.NoError(t, check(map[string]any{"user-agent": "ua", "x-smoke-token": redactedValue, "host": "example.com"}))
	assert.ErrorContains(t, check(map[string]any{"User-Agent": "ua", "X-Smoke-Token": "secret"}), `header X-Smoke-Token is secret, want "[REDACTED]"`)
	assert.ErrorContains(t, check(map[string]any{"X-Smoke-Token": redactedValue}), "header User-Agent is missing")
	assert.ErrorContains(t, check("headers"), "want an object of headers")
}

func TestExpectationsRejectUnknownSource(t *testing.T) {
	dump := envconfig.Dump{Fields: map[string]string{"x": "cookies.session"}}
	_, err := expectations(dump, newProbe("id", "run", "2026-11-24T12:00:00Z", dump.Fields), callFacts{})
	require.ErrorContains(t, err, `field x: path "cookies.session" has an unknown source "cookies"`)
}

func TestTidy(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{
			in:   "\n\tError Trace:\t/x/checks.go:10\n\t            \t\t/x/suite.go:20\n\tError:      \tShould be true\n\tMessages:   \tthe fence was not seen\n",
			want: "the fence was not seen",
		},
		{
			in:   "\n\tError Trace:\t/x/checks.go:10\n\tError:      \tNot equal: \n\t            \texpected: 1\n\t            \tactual  : 2\n\tMessages:   \t2 events match\n",
			want: "2 events match\nNot equal: \nexpected: 1\nactual  : 2",
		},
		{
			in:   "\n\tError Trace:\t/x/checks.go:10\n\tError:      \tno dump appeared\n\tTest:       \tTestSmoke\n",
			want: "no dump appeared",
		},
		{in: "plain message", want: "plain message"},
	} {
		assert.Equal(t, tc.want, tidy(tc.in))
	}
}
