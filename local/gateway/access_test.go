package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/local/apikeys"
	"github.com/acme/request-dump/local/sigv4"
)

// The answers checked here, from AWS's documentation:
//   - gateway response types and their statuses (INVALID_API_KEY 403,
//     QUOTA_EXCEEDED 429, THROTTLED 429, INVALID_SIGNATURE 403,
//     EXPIRED_TOKEN 403, MISSING_AUTHENTICATION_TOKEN 403):
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
//   - a method that requires an API key, called without one or with a key
//     of no usage plan of the stage: 403 {"message":"Forbidden"}
//     (https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer
//     and the API key answers in
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html);
//   - a usage plan's throttle: 429 "Too Many Requests"; its quota: 429
//     "Limit Exceeded" (https://repost.aws/knowledge-center/api-gateway-429-limit);
//   - AWS_IAM: unsigned "Missing Authentication Token", unknown access key
//     "The security token included in the request is invalid.", wrong
//     secret "The request signature we calculated does not match the
//     signature you provided. Check your AWS Secret Access Key and signing
//     method." (https://repost.aws/knowledge-center/api-gateway-iam-sigv4-mismatch),
//     a signing time out of the window "Signature expired: … is now earlier
//     than … (… - 5 min.)" with x-amzn-ErrorType InvalidSignatureException
//     (https://docs.aws.amazon.com/AlexaWebInfoService/latest/QUERY_QueryAuthenticationErrors.html
//     words the messages; API Gateway's window is 5 minutes);
//   - requestContext.identity carries apiKey and apiKeyId, or accessKey,
//     accountId, caller, user and userArn
//     (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format).

type credentialMap map[string]sigv4.Principal

func (m credentialMap) Lookup(id string) (sigv4.Principal, bool) { p, ok := m[id]; return p, ok }

var caller = sigv4.Principal{AccessKeyID: "ASIACALLER", SecretAccessKey: "secret", SessionToken: "tok", Expires: time.Now().Add(time.Hour),
	AccountID: "000000000000", Caller: "AROACALLER:smoke", ARN: "arn:aws:sts::000000000000:assumed-role/request-dump-dev-caller/smoke"}

var stale = sigv4.Principal{AccessKeyID: "ASIASTALE", SecretAccessKey: "old", SessionToken: "old", Expires: time.Now().Add(-time.Minute)}

func accessDoc(t testing.TB, mode string) *openapi3.T {
	vars := deployedVars
	vars.AccessMode = mode
	doc, err := apispec.Load(vars)
	require.NoError(t, err)
	return doc
}

var acceptAll = answering(`{"statusCode":200,"body":"{}"}`)

type accessCase struct {
	name      string
	header    http.Header
	sign      *aws.Credentials // sign the request with these
	signedAt  time.Duration    // signing time, from now
	status    int
	body      string // exact, or the start when prefix
	prefix    bool
	errorType string // x-amzn-ErrorType; "" for an accepted request
	response  string // $context.error.responseType in the access log
}

func runAccessCases(t *testing.T, srv *httptest.Server, fn *fakeFunction, sink *memorySink, cases []accessCase) {
	t.Helper()
	body := []byte(`{"event_id":"e-1","type":"signup"}`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls, lines := fn.calls(), len(sink.lines)
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/events", bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			for k, vs := range c.header {
				req.Header[k] = vs
			}
			if c.sign != nil {
				sum := sha256.Sum256(body)
				require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), *c.sign, req, hex.EncodeToString(sum[:]), "execute-api", "ap-northeast-1", time.Now().Add(c.signedAt)))
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			got := readAll(t, resp)
			r := reply{status: resp.StatusCode, header: resp.Header, body: got}
			require.Equal(t, c.status, r.status, string(r.body))
			if c.prefix {
				var m map[string]string
				require.NoError(t, json.Unmarshal(r.body, &m))
				assert.True(t, strings.HasPrefix(m["message"], c.body), "message %q, want prefix %q", m["message"], c.body)
			} else {
				assert.Equal(t, c.body, string(r.body))
			}
			require.Len(t, sink.lines, lines+1, "one access log line per request")
			var line map[string]string
			require.NoError(t, json.Unmarshal([]byte(sink.lines[len(sink.lines)-1]), &line))
			if c.errorType == "" {
				assert.Equal(t, calls+1, fn.calls())
				return
			}
			requireGatewayAnswer(t, r, c.errorType)
			assert.Equal(t, calls, fn.calls(), "a refused request never reaches the function")
			assert.Equal(t, c.response, line["errorResponseType"])
		})
	}
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err := b.ReadFrom(resp.Body)
	require.NoError(t, err)
	return b.Bytes()
}

// TestAPIKeyAccess serves the template rendered for access mode api_key.
// The keys' clock stands still, so that the quota's day cannot end between
// the request that uses the quota and the one it refuses.
func TestAPIKeyAccess(t *testing.T) {
	noon := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	keys := apikeys.New(apikeys.WithClock(func() time.Time { return noon }))
	keys.PutKey(apikeys.Key{ID: "key1", Name: "smoke", Value: "smoke-value"})
	keys.PutKey(apikeys.Key{ID: "key2", Name: "burst", Value: "burst-value"})
	keys.PutKey(apikeys.Key{ID: "key3", Name: "quota", Value: "quota-value"})
	keys.PutKey(apikeys.Key{ID: "key4", Name: "elsewhere", Value: "other-stage-value"})
	id := APIID("request-dump-dev")
	stage := []apikeys.Stage{{APIID: id, Stage: "test"}}
	keys.PutPlan(apikeys.Plan{ID: "open", Stages: stage, KeyIDs: []string{"key1"}, RateLimit: 1000, BurstLimit: 1000})
	keys.PutPlan(apikeys.Plan{ID: "tight", Stages: stage, KeyIDs: []string{"key2"}, RateLimit: 0.001, BurstLimit: 1})
	keys.PutPlan(apikeys.Plan{ID: "small", Stages: stage, KeyIDs: []string{"key3"}, RateLimit: 1000, BurstLimit: 1000, QuotaPerDay: 1})
	keys.PutPlan(apikeys.Plan{ID: "prod", Stages: []apikeys.Stage{{APIID: id, Stage: "prod"}}, KeyIDs: []string{"key4"}, RateLimit: 1000, BurstLimit: 1000})

	fn := &fakeFunction{respond: acceptAll}
	sink := &memorySink{}
	srv := serve(t, accessDoc(t, apispec.AccessAPIKey), WithFunctions(map[string]Function{"request-dump-dev": fn}), WithAPIKeys(keys),
		WithAccessLog(sink, "/aws/apigateway/request-dump-dev", "access", deployedAccessLogFormat(t)))
	runAccessCases(t, srv, fn, sink, []accessCase{
		{name: "no key", status: 403, body: `{"message":"Forbidden"}`, errorType: "ForbiddenException", response: "INVALID_API_KEY"},
		{name: "unknown key", header: hdr("x-api-key", "guess"), status: 403, body: `{"message":"Forbidden"}`, errorType: "ForbiddenException", response: "INVALID_API_KEY"},
		{name: "key of another stage's plan", header: hdr("x-api-key", "other-stage-value"), status: 403, body: `{"message":"Forbidden"}`, errorType: "ForbiddenException", response: "INVALID_API_KEY"},
		{name: "valid key", header: hdr("X-Api-Key", "smoke-value"), status: 200, body: `{}`},
		{name: "burst used", header: hdr("x-api-key", "burst-value"), status: 200, body: `{}`},
		{name: "throttled", header: hdr("x-api-key", "burst-value"), status: 429, body: `{"message":"Too Many Requests"}`, errorType: "TooManyRequestsException", response: "THROTTLED"},
		{name: "quota used", header: hdr("x-api-key", "quota-value"), status: 200, body: `{}`},
		{name: "quota exhausted", header: hdr("x-api-key", "quota-value"), status: 429, body: `{"message":"Limit Exceeded"}`, errorType: "LimitExceededException", response: "QUOTA_EXCEEDED"},
	})

	r := do(t, srv, call{method: "POST", path: "/events", header: hdr("x-api-key", "smoke-value", "Content-Type", "application/json"), body: []byte(`{"event_id":"e-2","type":"t"}`)})
	require.Equal(t, 200, r.status)
	var event map[string]any
	require.NoError(t, json.Unmarshal(fn.lastPayload(t), &event))
	identity := event["requestContext"].(map[string]any)["identity"].(map[string]any)
	assert.Equal(t, "smoke-value", identity["apiKey"])
	assert.Equal(t, "key1", identity["apiKeyId"])
	assert.Nil(t, identity["userArn"])
}

// TestIAMAccess serves the template rendered for access mode iam.
func TestIAMAccess(t *testing.T) {
	verifier := sigv4.New(credentialMap{caller.AccessKeyID: caller, stale.AccessKeyID: stale}, "execute-api", "ap-northeast-1")
	fn := &fakeFunction{respond: acceptAll}
	sink := &memorySink{}
	srv := serve(t, accessDoc(t, apispec.AccessIAM), WithFunctions(map[string]Function{"request-dump-dev": fn}), WithSigV4(verifier),
		WithAccessLog(sink, "/aws/apigateway/request-dump-dev", "access", deployedAccessLogFormat(t)))
	good := &aws.Credentials{AccessKeyID: caller.AccessKeyID, SecretAccessKey: caller.SecretAccessKey, SessionToken: caller.SessionToken}
	runAccessCases(t, srv, fn, sink, []accessCase{
		{name: "unsigned", status: 403, body: `{"message":"Missing Authentication Token"}`, errorType: "MissingAuthenticationTokenException", response: "MISSING_AUTHENTICATION_TOKEN"},
		{name: "signed", sign: good, status: 200, body: `{}`},
		{name: "wrong secret", sign: &aws.Credentials{AccessKeyID: caller.AccessKeyID, SecretAccessKey: "wrong", SessionToken: caller.SessionToken}, status: 403, prefix: true,
			body:      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/events\n",
			errorType: "InvalidSignatureException", response: "INVALID_SIGNATURE"},
		{name: "unknown access key", sign: &aws.Credentials{AccessKeyID: "AKIANOBODY", SecretAccessKey: "x"}, status: 403,
			body: `{"message":"The security token included in the request is invalid."}`, errorType: "UnrecognizedClientException", response: "INVALID_SIGNATURE"},
		{name: "signed 10 minutes ago", sign: good, signedAt: -10 * time.Minute, status: 403, prefix: true, body: "Signature expired: ", errorType: "InvalidSignatureException", response: "INVALID_SIGNATURE"},
		{name: "expired session", sign: &aws.Credentials{AccessKeyID: stale.AccessKeyID, SecretAccessKey: stale.SecretAccessKey, SessionToken: stale.SessionToken}, status: 403,
			body: `{"message":"The security token included in the request is expired"}`, errorType: "ExpiredTokenException", response: "EXPIRED_TOKEN"},
		{name: "an API key is no signature", header: hdr("x-api-key", "anything"), status: 403, body: `{"message":"Missing Authentication Token"}`, errorType: "MissingAuthenticationTokenException", response: "MISSING_AUTHENTICATION_TOKEN"},
	})

	var event map[string]any
	require.NoError(t, json.Unmarshal(fn.lastPayload(t), &event))
	identity := event["requestContext"].(map[string]any)["identity"].(map[string]any)
	assert.Equal(t, caller.AccessKeyID, identity["accessKey"])
	assert.Equal(t, "000000000000", identity["accountId"])
	assert.Equal(t, caller.Caller, identity["caller"])
	assert.Equal(t, caller.Caller, identity["user"])
	assert.Equal(t, caller.ARN, identity["userArn"])
	assert.NotContains(t, identity, "apiKey")
}

// New refuses the security it does not serve, saying what it would need.
func TestRefusedSecurity(t *testing.T) {
	keys := WithAPIKeys(apikeys.New())
	fns := WithFunctions(map[string]Function{"request-dump-dev": &fakeFunction{}})
	for _, c := range []struct {
		name string
		mode string
		edit func(*openapi3.T)
		opts []Option
		want string
	}{
		{"api key without WithAPIKeys", apispec.AccessAPIKey, nil, nil, "requires an API key: pass WithAPIKeys"},
		{"iam without WithSigV4", apispec.AccessIAM, nil, nil, "asks for AWS_IAM authorization: pass WithSigV4"},
		{"keys from an authorizer", apispec.AccessAPIKey, func(d *openapi3.T) { d.Extensions[extAPIKeySource] = "AUTHORIZER" }, []Option{keys}, "x-api-key header only (HEADER), not from an authorizer"},
		{"a Lambda authorizer", apispec.AccessAPIKey, func(d *openapi3.T) {
			s := d.Components.SecuritySchemes["api_key"].Value
			s.Name = "Authorization"
			s.Extensions = map[string]any{extAuthType: "custom", extAuthorizer: map[string]any{"type": "token"}}
		}, []Option{keys}, `is an authorizer (x-amazon-apigateway-authtype "custom")`},
		{"an HTTP bearer scheme", apispec.AccessAPIKey, func(d *openapi3.T) {
			d.Components.SecuritySchemes["api_key"].Value = &openapi3.SecurityScheme{Type: "http", Scheme: "bearer"}
		}, []Option{keys}, "is http in ; API Gateway imports apiKey schemes in the header only"},
		{"a key under another name", apispec.AccessAPIKey, func(d *openapi3.T) { d.Components.SecuritySchemes["api_key"].Value.Name = "key" }, []Option{keys}, `an API key named "key"`},
		{"alternatives", apispec.AccessAPIKey, func(d *openapi3.T) {
			op := d.Paths.Value("/events").Post
			*op.Security = append(*op.Security, openapi3.SecurityRequirement{"api_key": {}})
		}, []Option{keys}, "2 alternative security requirements"},
		{"x-amazon-apigateway-auth", apispec.AccessNone, func(d *openapi3.T) {
			d.Paths.Value("/events").Post.Extensions[extAuth] = map[string]any{"type": "AWS_IAM"}
		}, nil, "x-amazon-apigateway-auth is not served"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := accessDoc(t, c.mode)
			if c.edit != nil {
				c.edit(doc)
			}
			_, err := New(doc, append([]Option{WithStage("test"), fns}, c.opts...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}
