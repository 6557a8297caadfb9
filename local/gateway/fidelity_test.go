package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/internal/rawheader"
)

// The cases here reproduce answers recorded from AWS. Sources:
//
// [output]: AWS, "Output format of a Lambda function for proxy
// integration", https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format
// (the fields a result may have, and "If you specify values for both
// headers and multiValueHeaders, API Gateway merges them into a single
// list. If the same key-value pair is specified in both, only the values
// from multiValueHeaders will appear in the merged list.").
//
// [recorded]: LocalStack's tests run against AWS with their answers
// recorded (markers.aws.validated), tests/aws/services/apigateway/
// test_apigateway_lambda.py in github.com/localstack/localstack:
// test_aws_proxy_response_payload_format_validation and
// test_lambda_aws_proxy_response_format (a result with "wrongValue" is 502,
// one with only headers or no body is 200, "statusCode": "201" is 201,
// "test" is 502, a header value true is sent), and
// test_lambda_aws_proxy_integration with its snapshot (recorded
// 10-07-2024): the event for a GET has "body": null and
// "isBase64Encoded": false, every identity key (null when unknown), a
// deploymentId, "tEsT-HEADeR" as the client sent it in headers and
// multiValueHeaders while "authorization" arrives as "Authorization", no
// Connection or Content-Length, and a path with %2B kept encoded in path,
// pathParameters and requestContext.path. LocalStack's parser, checked
// against the same tests, drops Connection, Content-Length, Content-MD5,
// Expect, Max-Forwards, Proxy-Authenticate, Server, TE, Transfer-Encoding,
// Trailer, Upgrade and WWW-Authenticate from the request, and routes a
// path starting with "//" as the path with one slash.

func TestProxyResultFormat(t *testing.T) {
	const internal = `{"message": "Internal server error"}`
	tests := []struct {
		name    string
		payload string
		status  int
		body    string
		headers http.Header // each must be sent with exactly these values
	}{
		// [recorded] wrong-format: a key the format does not have.
		{"an unknown top-level key", `{"statusCode": 200, "wrongValue": "value"}`, 502, internal, nil},
		// The names are exact: another spelling is another key.
		{"a key in another case", `{"StatusCode": 201}`, 502, internal, nil},
		// [recorded] only-headers, no-body: none of the fields is required.
		{"no statusCode", `{"headers": {"test-header": "value"}}`, 200, "", http.Header{"Test-Header": {"value"}}},
		{"no body", `{"statusCode": 200}`, 200, "", nil},
		{"headers null", `{"statusCode": 200, "headers": null}`, 200, "", nil},
		// [recorded] status-code-str, invalid-status-code.
		{"statusCode as a string", `{"statusCode": "201", "body": "made"}`, 201, "made", nil},
		{"statusCode as a string that is no number", `{"statusCode": "test"}`, 502, internal, nil},
		// [recorded] with-headers: a boolean header value.
		{"a boolean header value", `{"statusCode": 200, "headers": {"header-bool": true, "x-off": false}}`, 200, "", http.Header{"Header-Bool": {"true"}, "X-Off": {"false"}}},
		{"a boolean multi-value header value", `{"statusCode": 200, "multiValueHeaders": {"x-flags": [true, "b"]}}`, 200, "", http.Header{"X-Flags": {"true", "b"}}},
		// [output] both maps: merged into a single list.
		{"headers and multiValueHeaders for one name", `{"statusCode": 200, "headers": {"test-multi": "value-solo"}, "multiValueHeaders": {"tesT-Multi": ["value-multi"]}}`, 200, "", http.Header{"Test-Multi": {"value-solo", "value-multi"}}},
		{"the same pair in both", `{"statusCode": 200, "headers": {"x-a": "1"}, "multiValueHeaders": {"X-A": ["1", "2"]}}`, 200, "", http.Header{"X-A": {"1", "2"}}},
		// [recorded] multi-headers-invalid, just-string.
		{"a multi-value header that is no list", `{"statusCode": 200, "multiValueHeaders": {"test-multi-invalid": "value1"}}`, 502, internal, nil},
		{"just a string", `"justAString"`, 502, internal, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fns := newFixtureFunctions()
			fns.files.respond = answering(tt.payload)
			srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
			r := do(t, srv, call{method: "GET", path: "/files/a"})
			assert.Equal(t, tt.status, r.status, string(r.body))
			assert.Equal(t, tt.body, string(r.body))
			for name, want := range tt.headers {
				assert.Equal(t, want, r.header.Values(name), name)
			}
		})
	}
}

// serveRaw is serve over a listener that keeps the header names as the
// client sent them, as the local stack serves callers.
func serveRaw(t *testing.T, doc *openapi3.T, opts ...Option) *httptest.Server {
	t.Helper()
	h, err := New(doc, append([]Option{WithStage("test")}, opts...)...)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = rawheader.Wrap(srv.Config, srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// rawEvent is the event the function received, as JSON values, so that
// null and absent stay apart.
func rawEvent(t *testing.T, f *fakeFunction) map[string]any {
	t.Helper()
	var e map[string]any
	require.NoError(t, json.Unmarshal(f.lastPayload(t), &e))
	return e
}

func TestEventAsAWSRecordedIt(t *testing.T) {
	fns := newFixtureFunctions()
	srv := serveRaw(t, loadDoc(t, "api.yaml"), fns.option())
	// Names set on the map as they are, so that Go's client sends them so.
	r := do(t, srv, call{method: "GET", path: "/files/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com", header: http.Header{
		"tEsT-HEADeR":   {"aValUE"},
		"authorization": {"random-value"},
		"x-api-key":     {"k-1"},
		"Connection":    {"keep-alive"},
		"TE":            {"trailers"},
		"Upgrade":       {"websocket"},
		"Max-Forwards":  {"3"},
		"Content-MD5":   {"Q2hlY2sgSW50ZWdyaXR5IQ=="},
	}})
	require.Equal(t, 200, r.status, string(r.body))
	e := rawEvent(t, fns.files)

	assert.Nil(t, e["body"], "body is null for a request without one")
	assert.Contains(t, e, "body")
	assert.Equal(t, false, e["isBase64Encoded"])

	headers := e["headers"].(map[string]any)
	multi := e["multiValueHeaders"].(map[string]any)
	for _, name := range []string{"tEsT-HEADeR", "x-api-key", "Authorization"} {
		assert.Contains(t, headers, name, "headers keep the client's names (Authorization is capitalised)")
		assert.Contains(t, multi, name, "so do multiValueHeaders")
	}
	assert.Equal(t, "aValUE", headers["tEsT-HEADeR"])
	assert.Equal(t, []any{"aValUE"}, multi["tEsT-HEADeR"])
	assert.NotContains(t, headers, "Test-Header")
	for _, hop := range []string{"Connection", "Te", "TE", "Upgrade", "Max-Forwards", "Content-MD5", "Content-Md5", "Content-Length"} {
		assert.NotContains(t, headers, hop, "%s is not passed", hop)
		assert.NotContains(t, multi, hop, "%s is not passed", hop)
	}

	assert.Equal(t, "/files/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com", e["path"])
	assert.Equal(t, map[string]any{"proxy": "api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com"}, e["pathParameters"])
	rc := e["requestContext"].(map[string]any)
	assert.Equal(t, "/test/files/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com", rc["path"])
	assert.Regexp(t, `^[a-z0-9]{6}$`, rc["deploymentId"])

	identity := rc["identity"].(map[string]any)
	for _, key := range []string{"accessKey", "accountId", "caller", "cognitoAuthenticationProvider", "cognitoAuthenticationType", "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId", "user", "userArn"} {
		assert.Contains(t, identity, key)
		assert.Nil(t, identity[key], key)
	}
	assert.Equal(t, "127.0.0.1", identity["sourceIp"])
}

func TestEventWithABody(t *testing.T) {
	fns := newFixtureFunctions()
	srv := serveRaw(t, loadDoc(t, "api.yaml"), fns.option())
	r := do(t, srv, call{method: "POST", path: "/files/a", header: http.Header{"content-type": {"text/plain"}, "X-Tenant": {"t1"}}, body: []byte("hello")})
	require.Equal(t, 200, r.status, string(r.body))
	e := rawEvent(t, fns.files)
	assert.Equal(t, "hello", e["body"])
	assert.Equal(t, false, e["isBase64Encoded"])
	assert.Contains(t, e["headers"], "content-type")
	assert.NotContains(t, e["headers"], "Content-Length")
}

// TestEventPathsAsAWSRecordedThem: the event's path, requestContext.path
// and proxy parameter for the paths [recorded] by
// test_lambda_aws_proxy_integration (snapshot of 02-08-2024): a trailing
// slash stays in path but not in the parameter; a double slash stays in
// both; a path that starts with "//"
// is routed and given as path with one slash, while requestContext.path
// keeps both.
func TestEventPathsAsAWSRecordedThem(t *testing.T) {
	tests := []struct {
		name, path             string
		eventPath, contextPath string
		proxy                  string
	}{
		{"plain", "/files/a", "/files/a", "/test/files/a", "a"},
		{"trailing slash", "/files/a/", "/files/a/", "/test/files/a/", "a"},
		{"prepended slash", "//files/a", "/files/a", "/test//files/a", "a"},
		{"double slash inside the greedy parameter", "/files/a//b", "/files/a//b", "/test/files/a//b", "a//b"},
	}
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, srv, call{method: "GET", path: tt.path})
			require.Equal(t, 200, r.status, string(r.body))
			e := rawEvent(t, fns.files)
			assert.Equal(t, tt.eventPath, e["path"])
			assert.Equal(t, tt.contextPath, e["requestContext"].(map[string]any)["path"])
			assert.Equal(t, map[string]any{"proxy": tt.proxy}, e["pathParameters"])
		})
	}
}

// TestQueryStringAsAWSParsesIt: testdata/query-strings.json holds query
// strings with the parameters the function gets for each; the first two as
// recorded from AWS ([recorded] above, test_lambda_aws_proxy_integration),
// the semicolon ones from AWS's "Amazon API Gateway important notes for REST
// APIs", https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html#api-gateway-known-issues-rest-apis
// ("The semicolon character (;) is not supported for any request URL query
// string and results in the data being split.").
func TestQueryStringAsAWSParsesIt(t *testing.T) {
	var cases []struct {
		Name  string              `json:"name"`
		Query string              `json:"query"`
		Multi map[string][]string `json:"multiValueQueryStringParameters"`
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "query-strings.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.NotEmpty(t, cases)

	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option())
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			r := do(t, srv, call{method: "GET", path: "/files/a?" + tt.Query})
			require.Equal(t, 200, r.status, string(r.body))
			var e proxyEvent
			require.NoError(t, json.Unmarshal(fns.files.lastPayload(t), &e))
			assert.Equal(t, tt.Multi, e.MultiValueQueryStringParameters)
			single := make(map[string]string, len(tt.Multi))
			for k, vs := range tt.Multi {
				single[k] = vs[len(vs)-1]
			}
			assert.Equal(t, single, e.QueryStringParameters, "the last value of each name")
		})
	}
}
