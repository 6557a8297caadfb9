package dump

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const awsRequestID = "8f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"

// dumpLine is the dump event as docs/architecture.md describes it.
type dumpLine struct {
	Time         string         `json:"time"`
	Level        string         `json:"level"`
	Msg          string         `json:"msg"`
	AWSRequestID string         `json:"aws_request_id"`
	APIRequestID string         `json:"api_request_id"`
	Fields       map[string]any `json:"fields"`
	Absent       []string       `json:"absent"`
	Truncated    []string       `json:"truncated"`
	BodyError    string         `json:"body_error"`
}

// allowedKeys are the only keys a dump line may have.
var allowedKeys = map[string]bool{
	"time": true, "level": true, "msg": true, "aws_request_id": true, "api_request_id": true,
	"fields": true, "absent": true, "truncated": true, "body_error": true,
}

func loadEvent(t testing.TB, name string) events.APIGatewayProxyRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	var req events.APIGatewayProxyRequest
	require.NoError(t, json.Unmarshal(b, &req))
	return req
}

// invoke runs the real handler with the configuration vars, as Lambda
// would, and returns the response and what it wrote.
func invoke(t *testing.T, vars map[string]string, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, []byte, Config) {
	t.Helper()
	cfg, err := LoadConfig(env(vars))
	require.NoError(t, err)
	return invokeWith(t, cfg, req)
}

func invokeWith(t *testing.T, cfg Config, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, []byte, Config) {
	t.Helper()
	var out bytes.Buffer
	d := New(cfg, WithOutput(&out))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: awsRequestID})
	resp, err := d.Handle(ctx, req)
	require.NoError(t, err)
	return resp, out.Bytes(), cfg
}

// oneLine checks the invariants every request must keep: a 200 answer with
// the ids, and exactly one well-formed line within the bound.
func oneLine(t *testing.T, req events.APIGatewayProxyRequest, resp events.APIGatewayProxyResponse, out []byte, cfg Config) dumpLine {
	t.Helper()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Headers["Content-Type"])
	var r Response
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &r))
	assert.Equal(t, Response{RequestID: req.RequestContext.RequestID, AWSRequestID: awsRequestID}, r)

	require.Equal(t, 1, bytes.Count(out, []byte("\n")), "exactly one line: %q", out)
	require.True(t, bytes.HasSuffix(out, []byte("\n")))
	assert.LessOrEqual(t, len(out), cfg.MaxEventBytes, "line within DUMP_MAX_EVENT_BYTES")
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out, &keys), "line is JSON: %s", out)
	for k := range keys {
		assert.True(t, allowedKeys[k], "unexpected key %q", k)
	}
	l := decodeLine(t, out)
	_, err := time.Parse(time.RFC3339, l.Time)
	assert.NoError(t, err, "time is RFC 3339")
	assert.Equal(t, "INFO", l.Level)
	assert.Equal(t, Message, l.Msg)
	assert.Equal(t, awsRequestID, l.AWSRequestID)
	assert.Equal(t, cutID(req.RequestContext.RequestID), l.APIRequestID)
	require.NotNil(t, l.Fields, "fields is always an object")
	return l
}

func TestHandleSources(t *testing.T) {
	signup := loadEvent(t, "events/signup.json")
	sample := loadEvent(t, "apigw/apigw-request.json")
	openapi := loadEvent(t, "apigw/apigw-restapi-openapi-request.json")
	tests := []struct {
		name       string
		fields     string
		req        events.APIGatewayProxyRequest
		wantFields map[string]any
		wantAbsent []string
	}{
		{
			name:       "default configuration",
			req:        signup,
			wantFields: map[string]any{"event_id": "evt-0001", "type": "signup"},
		},
		{
			name: "body paths, nested objects and arrays, all JSON types",
			fields: "id=body.user.id,tags=body.user.profile.tags,tag=body.user.profile.tags[1],sku=body.items[1].sku," +
				"item=body.items[0],amount=body.amount,consent=body.consent,coupon=body.coupon,note=body.note",
			req: signup,
			wantFields: map[string]any{
				"id": 48213.0, "tags": []any{"beta", "jp"}, "tag": "jp", "sku": "CAP-BLK",
				"item": map[string]any{"sku": "TSH-BLU-M", "qty": 2.0}, "amount": 12.5,
				"consent": true, "coupon": nil, "note": "first order \u00e9\u2028",
			},
		},
		{
			name:   "headers ignore case; the multi-value map is the fallback",
			fields: "ua=headers.user-agent,rid=headers.X-REQUEST-ID,multi=headers.x-only-multi,none=headers.X-Missing",
			req:    signup,
			wantFields: map[string]any{
				"ua": "curl/8.5.0", "rid": "req-42", "multi": "second",
			},
			wantAbsent: []string{"none"},
		},
		{
			name:   "query string, path parameters and stage variables",
			fields: "source=queryStringParameters.source,tag=queryStringParameters.tag,Source=queryStringParameters.Source,proxy=pathParameters.proxy,stage_var=stageVariables.stageVariableName",
			req:    sample,
			wantFields: map[string]any{
				"proxy": "hello/world", "stage_var": "stageVariableValue",
			},
			wantAbsent: []string{"source", "tag", "Source"},
		},
		{
			name:   "multi-value query string fallback, exact names",
			fields: "source=queryStringParameters.source,tag=queryStringParameters.tag,Source=queryStringParameters.Source,proxy=pathParameters.proxy",
			req:    signup,
			wantFields: map[string]any{
				"source": "web", "tag": "b",
			},
			wantAbsent: []string{"Source", "proxy"},
		},
		{
			name: "request context and the request line",
			fields: "ip=requestContext.identity.sourceIp,rid=requestContext.requestId,stage=requestContext.stage," +
				"epoch=requestContext.requestTimeEpoch,client=requestContext.authorizer.clientId,op=requestContext.operationName," +
				"cert=requestContext.identity.clientCert.validity.notAfter,method=httpMethod,path=path,resource=resource",
			req: sample,
			wantFields: map[string]any{
				"ip": "192.168.196.186", "rid": "deef4878-7910-11e6-8f14-25afc3e9ae33", "stage": "testStage",
				"epoch": 1589522469693.0, "client": 1.0, "cert": "Aug  5 09:36:04 2021 GMT",
				"method": "POST", "path": "/hello/world", "resource": "/{proxy+}",
			},
			wantAbsent: []string{"op"},
		},
		{
			name:       "OpenAPI sample: operation name, no client certificate",
			fields:     "op=requestContext.operationName,cert=requestContext.identity.clientCert.subjectDN,body=body",
			req:        openapi,
			wantFields: map[string]any{"op": "HelloWorld", "body": map[string]any{"a": 1.0}},
			wantAbsent: []string{"cert"},
		},
		{
			name:       "names taken from the path",
			fields:     "body.user.email,requestContext.stage,headers.Host",
			req:        signup,
			wantFields: map[string]any{"email": "hanako@example.com", "stage": "dev", "Host": "a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com"},
		},
		{
			name:       "authorizer values at depth",
			fields:     "scope=requestContext.authorizer.claims.scope[1],claims=requestContext.authorizer.claims,missing=requestContext.authorizer.claims.nope,bad_index=requestContext.authorizer.claims[0]",
			req:        signup,
			wantFields: map[string]any{"scope": "write", "claims": map[string]any{"sub": "48213", "scope": []any{"read", "write"}}},
			wantAbsent: []string{"missing", "bad_index"},
		},
		{
			name: "missing fields and wrong types are absent",
			fields: "a=body.nope,b=body.user.id.deeper,c=body.items[9],d=body.user[0],e=body.items.sku,f=body.note.x," +
				"g=pathParameters.x,h=stageVariables.nope,i=requestContext.identity.user",
			req:        signup,
			wantFields: map[string]any{},
			wantAbsent: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{}
			if tt.fields != "" {
				vars[EnvFields] = tt.fields
			}
			resp, out, cfg := invoke(t, vars, tt.req)
			l := oneLine(t, tt.req, resp, out, cfg)
			assert.Equal(t, tt.wantFields, l.Fields)
			assert.Equal(t, tt.wantAbsent, l.Absent)
			assert.Empty(t, l.Truncated)
		})
	}
}

func decodeLine(t *testing.T, out []byte) dumpLine {
	t.Helper()
	var l dumpLine
	require.NoError(t, json.Unmarshal(out, &l), "line %s", out)
	return l
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestHandleRedaction(t *testing.T) {
	signup := loadEvent(t, "events/signup.json")
	tests := []struct {
		name   string
		keys   *string
		fields string
		body   *string // replaces the sample's body
		base64 bool
		want   map[string]any
		hidden []string // must not be in the line at all
	}{
		{
			name:   "keys at any depth, any case, as substrings",
			fields: "user=body.user",
			hidden: []string{"hunter2", "ya29.a0Af", "s3cr3t"},
			want: map[string]any{"user": map[string]any{
				"id": 48213.0, "email": "hanako@example.com", "Password": "[REDACTED]",
				"profile": map[string]any{"name": "Hanako", "tags": []any{"beta", "jp"}},
				"credentials": []any{
					map[string]any{"kind": "oauth", "access_token": "[REDACTED]", "scope": "email"},
					map[string]any{"kind": "api", "Client_Secret": "[REDACTED]"},
				},
			}},
		},
		{
			name:   "a redacted key on the path itself",
			hidden: []string{"hunter2", "ya29.a0Af", "eyJhbGciOiJIUzI1NiJ9", "abc123", "qs-token", "rt-1"},
			fields: "pw=body.user.Password,creds=body.user.credentials[0].access_token,auth=headers.authorization,cookie=headers.Cookie,qs=queryStringParameters.access_token,rt=requestContext.authorizer.refresh_token",
			want: map[string]any{
				"pw": "[REDACTED]", "creds": "[REDACTED]", "auth": "[REDACTED]", "cookie": "[REDACTED]",
				"qs": "[REDACTED]", "rt": "[REDACTED]",
			},
		},
		{
			name:   "all headers",
			fields: "h=headers",
			hidden: []string{"eyJhbGciOiJIUzI1NiJ9", "abc123"},
			want: map[string]any{"h": map[string]any{
				"Accept": "application/json", "Authorization": "[REDACTED]", "Content-Type": "application/json",
				"Cookie": "[REDACTED]", "Host": "a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com",
				"User-Agent": "curl/8.5.0", "X-Amzn-Trace-Id": "Root=1-67433a50-2f9d1e7b3c4a5d6e7f809102",
				"X-Forwarded-For": "203.0.113.7, 198.51.100.20", "X-Request-Id": "req-42",
			}},
		},
		{
			name:   "configured keys replace the defaults",
			keys:   ptr("EMAIL, sku"),
			fields: "user=body.user.email,items=body.items,auth=headers.Authorization",
			want: map[string]any{
				"user":  "[REDACTED]",
				"items": []any{map[string]any{"sku": "[REDACTED]", "qty": 2.0}, map[string]any{"sku": "[REDACTED]", "qty": 1.0}},
				"auth":  "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
			},
		},
		{
			name:   "a form body that names a key is redacted whole",
			fields: "body=body",
			body:   ptr("user=hanako&Password=hunter2"),
			hidden: []string{"hunter2"},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		{
			name:   "so is a truncated JSON body",
			fields: "body=body,event_id=body.event_id",
			body:   ptr(`{"event_id":"e-1","user":{"password":"hunter2"`),
			hidden: []string{"hunter2"},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		{
			name:   "and a JSON body nested too deep to read",
			fields: "body=body",
			body:   ptr(`{"password":"hunter2","x":` + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + `}`),
			hidden: []string{"hunter2"},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		{
			name:   "a base64 body is looked at decoded",
			fields: "body=body",
			body:   ptr(base64.StdEncoding.EncodeToString([]byte("user=hanako&access_token=ya29.a0Af"))),
			base64: true,
			hidden: []string{"ya29.a0Af", base64.StdEncoding.EncodeToString([]byte("user=hanako&access_token=ya29.a0Af"))},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		// Keys spelt with escapes in text that is not read as JSON: the
		// fallback looks at the text decoded as JSON escapes and as
		// percent-encoding, in turn, too.
		{
			name:   "a JSON escape in a truncated body",
			fields: "body=body",
			body:   ptr(`{"event_id":"e-1","user":{"pass\u0077ord":"hunter2"`),
			hidden: []string{"hunter2"},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		{
			name:   "a JSON escape in a body nested too deep",
			fields: "body=body",
			body:   ptr(`{"\u0050ASSWORD":"hunter2","x":` + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + `}`),
			hidden: []string{"hunter2"},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		{
			name:   "a percent-encoded form key",
			fields: "body=body",
			body:   ptr("user=hanako&pass%77ord=hunter2"),
			hidden: []string{"hunter2"},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		{
			name:   "a percent-encoded capital",
			fields: "body=body",
			body:   ptr("user=hanako&%50ASSWORD=hunter2"),
			hidden: []string{"hunter2"},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		{
			name:   "percent-encoding encoded twice",
			fields: "body=body",
			body:   ptr("user=hanako&pass%2577ord=hunter2"),
			hidden: []string{"hunter2"},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		{
			name:   "a JSON escape of a percent sign",
			fields: "body=body",
			body:   ptr(`{"pass\u002577ord":"hunter2"`),
			hidden: []string{"hunter2"},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		{
			name:   "a base64 body with a percent-encoded key",
			fields: "body=body",
			body:   ptr(base64.StdEncoding.EncodeToString([]byte("user=hanako&to%6Ben=ya29.a0Af"))),
			base64: true,
			hidden: []string{"ya29.a0Af"},
			want:   map[string]any{"body": "[REDACTED]"},
		},
		{
			name:   "a text body without a redacted key stays",
			fields: "body=body",
			body:   ptr("user=hanako&lang=ja"),
			want:   map[string]any{"body": "user=hanako&lang=ja"},
		},
		{
			name:   "and stays as received when it has escapes",
			fields: "body=body",
			body:   ptr("user=hanako%20san&note=100%25+sure"),
			want:   map[string]any{"body": "user=hanako%20san&note=100%25+sure"},
		},
		{
			name:   "an empty list turns redaction off",
			keys:   ptr(""),
			fields: "pw=body.user.Password",
			want:   map[string]any{"pw": "hunter2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{EnvFields: tt.fields}
			if tt.keys != nil {
				vars[EnvRedactKeys] = *tt.keys
			}
			req := signup
			if tt.body != nil {
				req.Body, req.IsBase64Encoded = *tt.body, tt.base64
			}
			resp, out, cfg := invoke(t, vars, req)
			l := oneLine(t, req, resp, out, cfg)
			assert.Equal(t, tt.want, l.Fields)
			for _, secret := range tt.hidden {
				assert.NotContains(t, string(out), secret)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func decode(t *testing.T, s string) any {
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	return v
}

func TestHandleBounds(t *testing.T) {
	long := strings.Repeat("é", 5000) // 10,000 bytes
	req := loadEvent(t, "events/signup.json")
	req.Body = `{"event_id":"e-1","long":"` + long + `","obj":{"a":"` + long + `"},"num":` + strings.Repeat("9", 300) + `,"esc":"` + strings.Repeat(`\u0001`, 100) + `"}`
	tests := []struct {
		name          string
		vars          map[string]string
		wantTruncated []string
		check         func(t *testing.T, l dumpLine)
	}{
		{
			name:          "values cut to DUMP_MAX_VALUE_BYTES at a character boundary",
			vars:          map[string]string{EnvFields: "event_id=body.event_id,long=body.long,obj=body.obj,num=body.num,esc=body.esc", EnvMaxValueBytes: "64"},
			wantTruncated: []string{"long", "obj", "num", "esc"},
			check: func(t *testing.T, l dumpLine) {
				assert.Equal(t, "e-1", l.Fields["event_id"])
				assert.Equal(t, strings.Repeat("é", 31), l.Fields["long"], "62 bytes of é and the quotes")
				assert.Equal(t, `{"a":"`+strings.Repeat("é", 26), l.Fields["obj"], "a cut object is kept as text")
				assert.Equal(t, strings.Repeat("9", 62), l.Fields["num"])
				assert.Equal(t, strings.Repeat("\x01", 10), l.Fields["esc"], "escapes count as written")
			},
		},
		{
			name:          "the line is cut to DUMP_MAX_EVENT_BYTES: small fields stay, large ones share the rest",
			vars:          map[string]string{EnvFields: "long=body.long,obj=body.obj,event_id=body.event_id", EnvMaxEventBytes: "4096"},
			wantTruncated: []string{"long", "obj"},
			check: func(t *testing.T, l dumpLine) {
				assert.Equal(t, "e-1", l.Fields["event_id"])
				long, obj := l.Fields["long"].(string), l.Fields["obj"].(string)
				assert.Greater(t, len(long), 1500)
				assert.InDelta(t, len(long), len(obj), 16, "both get the same room")
			},
		},
		{
			name: "a value that fits is not marked",
			vars: map[string]string{EnvFields: "long=body.long", EnvMaxValueBytes: "10002"},
			check: func(t *testing.T, l dumpLine) {
				assert.Equal(t, long, l.Fields["long"])
			},
		},
		{
			name:          "one byte less is",
			vars:          map[string]string{EnvFields: "long=body.long", EnvMaxValueBytes: "10001"},
			wantTruncated: []string{"long"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, out, cfg := invoke(t, tt.vars, req)
			l := oneLine(t, req, resp, out, cfg)
			assert.Equal(t, tt.wantTruncated, l.Truncated)
			if tt.check != nil {
				tt.check(t, l)
			}
		})
	}
}

func TestHandleBadInput(t *testing.T) {
	signup := loadEvent(t, "events/signup.json")
	b64 := loadEvent(t, "events/signup-base64.json")
	huge := `{"pad":"` + strings.Repeat("x", 5<<20) + `","event_id":"e-huge","type":"t"}`
	deep := strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000)
	just := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	with := func(body string, base64Encoded bool) events.APIGatewayProxyRequest {
		r := signup
		r.Body, r.IsBase64Encoded = body, base64Encoded
		return r
	}
	tests := []struct {
		name          string
		fields        string
		req           events.APIGatewayProxyRequest
		wantFields    map[string]any
		wantAbsent    []string
		wantBodyError string
		wantTruncated []string
	}{
		{
			name: "base64 JSON body is decoded", req: b64,
			wantFields: map[string]any{"event_id": "evt-0001", "type": "signup"},
		},
		{
			name: "base64 body that is not JSON", req: with(base64.StdEncoding.EncodeToString([]byte("a=1&b=2")), true),
			wantFields: map[string]any{}, wantAbsent: []string{"event_id", "type"}, wantBodyError: "not JSON",
		},
		{
			name: "invalid base64", req: with("%%%", true),
			wantFields: map[string]any{}, wantAbsent: []string{"event_id", "type"}, wantBodyError: "invalid base64",
		},
		{
			name: "the whole body of a bad base64 request is its text", fields: "body=body,event_id=body.event_id", req: with("%%%", true),
			wantFields: map[string]any{"body": "%%%"}, wantAbsent: []string{"event_id"}, wantBodyError: "invalid base64",
		},
		{
			name: "form body", req: with("event_id=e-1&type=signup", false),
			wantFields: map[string]any{}, wantAbsent: []string{"event_id", "type"}, wantBodyError: "not JSON",
		},
		{
			name: "the whole body of a non-JSON request is its text", fields: "body=body,event_id=body.event_id", req: with("event_id=e-1", false),
			wantFields: map[string]any{"body": "event_id=e-1"}, wantAbsent: []string{"event_id"}, wantBodyError: "not JSON",
		},
		{
			name: "the whole body alone needs no JSON", fields: "body=body", req: with("plain text", false),
			wantFields: map[string]any{"body": "plain text"},
		},
		{
			name: "empty body", req: with("", false),
			wantFields: map[string]any{}, wantAbsent: []string{"event_id", "type"}, wantBodyError: "empty",
		},
		{
			name: "truncated JSON", req: with(`{"event_id":"e-1","type":"sign`, false),
			wantFields: map[string]any{}, wantAbsent: []string{"event_id", "type"}, wantBodyError: "not JSON",
		},
		{
			name: "trailing garbage", req: with(`{"event_id":"e-1","type":"t"} x`, false),
			wantFields: map[string]any{}, wantAbsent: []string{"event_id", "type"}, wantBodyError: "not JSON",
		},
		{
			name: "NaN is not JSON", req: with(`{"event_id":"e-1","type":NaN}`, false),
			wantFields: map[string]any{}, wantAbsent: []string{"event_id", "type"}, wantBodyError: "not JSON",
		},
		{
			name: "a JSON array body", req: with(`[{"event_id":"e-1"}]`, false),
			wantFields: map[string]any{}, wantAbsent: []string{"event_id", "type"},
		},
		{
			name: "wrong types are kept as they are", req: with(`{"event_id":42,"type":{"k":["v"]}}`, false),
			wantFields: map[string]any{"event_id": 42.0, "type": map[string]any{"k": []any{"v"}}},
		},
		{
			name: "duplicate keys: the last wins, as in encoding/json", req: with(`{"event_id":"first","type":{"x":1},"event_id":"last","type":"t"}`, false),
			wantFields: map[string]any{"event_id": "last", "type": "t"},
		},
		{
			name: "escaped keys match their text", req: with(`{"event\u005fid":"e-1","\u0074ype":"t"}`, false),
			wantFields: map[string]any{"event_id": "e-1", "type": "t"},
		},
		{
			name: "invalid UTF-8 becomes U+FFFD", req: with("{\"event_id\":\"a\xffb\",\"type\":\"t\"}", false),
			wantFields: map[string]any{"event_id": "a\ufffdb", "type": "t"},
		},
		{
			name: "a 5 MiB body", req: with(huge, false),
			wantFields: map[string]any{"event_id": "e-huge", "type": "t"},
		},
		{
			name: "the whole 5 MiB body is cut", fields: "body=body,event_id=body.event_id", req: with(huge, false),
			wantFields:    map[string]any{"body": `{"pad":"` + strings.Repeat("x", DefaultMaxValueBytes-len(`""`)-len(`{\"pad\":\"`)), "event_id": "e-huge"},
			wantTruncated: []string{"body"},
		},
		{
			name: "100,000 levels deep", req: with(deep, false),
			wantFields: map[string]any{}, wantAbsent: []string{"event_id", "type"}, wantBodyError: "nested deeper than 1000 levels",
		},
		{
			name: "exactly MaxDepth levels is read", fields: "first=body[0]", req: with(just, false),
			wantFields: map[string]any{"first": decode(t, just[1:len(just)-1])},
		},
		{
			name: "one level more is not", fields: "first=body[0]", req: with("["+just+"]", false),
			wantFields: map[string]any{}, wantAbsent: []string{"first"}, wantBodyError: "nested deeper than 1000 levels",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{}
			if tt.fields != "" {
				vars[EnvFields] = tt.fields
			}
			resp, out, cfg := invoke(t, vars, tt.req)
			l := oneLine(t, tt.req, resp, out, cfg)
			assert.Equal(t, tt.wantFields, l.Fields)
			assert.Equal(t, tt.wantAbsent, l.Absent)
			assert.Equal(t, tt.wantBodyError, l.BodyError)
			assert.Equal(t, tt.wantTruncated, l.Truncated)
		})
	}
}

func TestHandleLogLevel(t *testing.T) {
	req := loadEvent(t, "events/signup.json")
	for level, lines := range map[string]int{"": 1, "TRACE": 1, "debug": 1, "INFO": 1, "WARN": 0, "ERROR": 0, "FATAL": 0} {
		t.Run("level "+level, func(t *testing.T) {
			resp, out, _ := invoke(t, map[string]string{EnvLogLevel: level}, req)
			assert.Equal(t, 200, resp.StatusCode, "the answer does not depend on the level")
			assert.Equal(t, lines, bytes.Count(out, []byte("\n")))
		})
	}
}

func TestHandleWithoutLambdaContext(t *testing.T) {
	cfg, err := LoadConfig(env(nil))
	require.NoError(t, err)
	var out bytes.Buffer
	at := time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.FixedZone("JST", 9*3600))
	d := New(cfg, WithOutput(&out), WithClock(func() time.Time { return at }))
	resp, err := d.Handle(context.Background(), events.APIGatewayProxyRequest{
		Body:           `{"event_id":"e-1","type":"signup"}`,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "api-1"},
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"request_id":"api-1","aws_request_id":""}`, resp.Body)
	assert.Equal(t, `{"time":"2026-11-24T03:00:00.123456789Z","level":"INFO","msg":"request dump","aws_request_id":"","api_request_id":"api-1","fields":{"event_id":"e-1","type":"signup"}}`+"\n", out.String())
}
