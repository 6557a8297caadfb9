package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/local/stack"
	"github.com/acme/request-dump/local/stacktest"
)

// The doors of issue 13 item 1: what a web page the developer opens can
// send to the local stack without a CORS preflight (a form POST, a
// text/plain POST, a no-cors GET), and what it can send once DNS rebinding
// points its own name at 127.0.0.1.

// do sends a request built by the test and returns its status, headers and body.
func do(t *testing.T, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(data)
}

func newRequest(t *testing.T, method, url, contentType string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// formUpload is the multipart form POST a web page submits to put an object
// in a bucket (S3's browser-based upload), with its SHA-256 as a form field.
func formUpload(t *testing.T, endpoint, bucket, key string, data []byte) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("key", key))
	require.NoError(t, mw.WriteField("x-amz-checksum-sha256", pointer.New(bucket, "dev", pointer.Sum(data)).SHA256))
	fw, err := mw.CreateFormFile("file", "function.zip")
	require.NoError(t, err)
	_, err = fw.Write(data)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req := newRequest(t, http.MethodPost, endpoint+"/"+bucket, mw.FormDataContentType(), body.Bytes())
	req.Header.Set("Origin", "https://attacker.example")
	return req
}

// rogueSpec is the dev deployment an attacker would send, naming the zip
// it planted.
func rogueSpec(t *testing.T, code []byte) []byte {
	t.Helper()
	spec := devSpec(t)
	spec.Artifact = pointer.New(artifactBucket, "dev", pointer.Sum(code))
	data, err := json.Marshal(spec)
	require.NoError(t, err)
	return data
}

// otherToken is token with its first character changed: a token of the
// same length and alphabet that is not the stack's.
func otherToken(token string) string {
	if token[0] == '0' {
		return "1" + token[1:]
	}
	return "0" + token[1:]
}

func TestControlAPIAcceptsOnlyJSONWithTheToken(t *testing.T) {
	st, endpoint := stacktest.NewStack(t, "", artifactBucket)
	code := stacktest.FunctionZip(t)
	stacktest.Upload(t, endpoint, artifactBucket, "dev", code)
	spec := rogueSpec(t, code)

	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		token       string
		want        int
		wantMessage string
	}{
		{"text/plain deploy, as a web page sends it", "POST", "/_local/deploy", "text/plain", "", http.StatusUnsupportedMediaType, "application/json"},
		{"form deploy", "POST", "/_local/deploy", "application/x-www-form-urlencoded", st.Token(), http.StatusUnsupportedMediaType, "application/json"},
		{"no content type", "POST", "/_local/deploy", "", st.Token(), http.StatusUnsupportedMediaType, "application/json"},
		{"JSON deploy without the token", "POST", "/_local/deploy", "application/json", "", http.StatusUnauthorized, ".local/control-token"},
		{"JSON deploy with a wrong token", "POST", "/_local/deploy", "application/json", otherToken(st.Token()), http.StatusUnauthorized, ".local/control-token"},
		{"health without the token", "GET", "/_local/health", "", "", http.StatusUnauthorized, ".local/control-token"},
		{"unknown control path without the token", "GET", "/_local/anything", "", "", http.StatusUnauthorized, ".local/control-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.method == "POST" {
				body = spec
			}
			req := newRequest(t, tt.method, endpoint+tt.path, tt.contentType, body)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			status, _, answer := do(t, req)
			assert.Equal(t, tt.want, status, answer)
			assert.Contains(t, answer, tt.wantMessage, "the answer says what the control API takes")
		})
	}
	h, err := (&stack.Client{Endpoint: endpoint, Token: st.Token()}).Health(context.Background())
	require.NoError(t, err)
	assert.Empty(t, h.Deployments, "no refused request deployed anything")

	req := newRequest(t, "POST", endpoint+"/_local/deploy", "application/json; charset=utf-8", spec)
	req.Header.Set("Authorization", "Bearer "+st.Token())
	status, _, answer := do(t, req)
	assert.Equal(t, http.StatusOK, status, "JSON with the token is what local-aws deploy sends: %s", answer)
}

func TestEveryRequestNeedsALoopbackHost(t *testing.T) {
	env := stacktest.Start(t)
	apiURL := env.Outputs["api_url"].String()
	paths := map[string]string{
		"control": env.URL + "/_local/health",
		"S3":      env.URL + "/" + artifactBucket,
		"API":     apiURL + "/events",
	}
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
		for service, u := range paths {
			t.Run(service+" via "+host, func(t *testing.T) {
				req := newRequest(t, "GET", u, "", nil)
				req.Host = strings.Replace(req.URL.Host, "127.0.0.1", host, 1)
				req.Header.Set("Authorization", "Bearer "+env.Stack.Token())
				status, _, body := do(t, req)
				assert.NotEqual(t, http.StatusMisdirectedRequest, status, body)
			})
		}
	}
	// After DNS rebinding, a web page's requests reach 127.0.0.1 under the
	// page's own name: the browser sends that name as Host.
	for _, host := range []string{"attacker.example", "127.0.0.1.nip.io", "localhost.attacker.example", "0x7f000001", "2130706433"} {
		for service, u := range paths {
			t.Run(service+" via "+host, func(t *testing.T) {
				req := newRequest(t, "POST", u, "text/plain", []byte(`{"event_id":"rebind","type":"t"}`))
				_, port, _ := strings.Cut(req.URL.Host, ":")
				req.Host = host + ":" + port
				req.Header.Set("Authorization", "Bearer "+env.Stack.Token())
				status, _, body := do(t, req)
				assert.Equal(t, http.StatusMisdirectedRequest, status, body)
				assert.Contains(t, body, "loopback")
			})
		}
	}
	assert.Empty(t, filter(t, env.URL, env.Outputs["log_group_name"].String(), `{ $.fields.event_id = "rebind" }`),
		"no rebound request reached the function")
}

func TestS3AnswersNoCORS(t *testing.T) {
	_, endpoint := stacktest.NewStack(t, "", artifactBucket)
	stacktest.Upload(t, endpoint, artifactBucket, "dev", []byte("zip"))

	preflight := newRequest(t, "OPTIONS", endpoint+"/"+artifactBucket+"/dev/x.zip", "", nil)
	preflight.Header.Set("Origin", "https://attacker.example")
	preflight.Header.Set("Access-Control-Request-Method", "PUT")
	status, h, body := do(t, preflight)
	assert.Equal(t, http.StatusForbidden, status, body)
	assert.Empty(t, h.Values("Access-Control-Allow-Origin"))
	assert.Empty(t, h.Values("Access-Control-Allow-Methods"))
	assert.Contains(t, body, "CORSResponse", "S3's answer to a preflight for a bucket without a CORS configuration")

	list := newRequest(t, "GET", endpoint+"/"+artifactBucket, "", nil)
	list.Header.Set("Origin", "http://127.0.0.1:3000")
	status, h, body = do(t, list)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Empty(t, h.Values("Access-Control-Allow-Origin"), "no CORS header, so no other origin can read the answer")
}

func TestS3RefusesFormUploads(t *testing.T) {
	_, endpoint := stacktest.NewStack(t, "", artifactBucket)
	code := []byte("a zip a web page wants to plant")
	key := pointer.Key("dev", pointer.Sum(code))
	req := formUpload(t, endpoint, artifactBucket, key, code)
	req.Header.Del("Origin") // refused for what it is, not only for where it comes from
	status, _, body := do(t, req)
	assert.Equal(t, http.StatusForbidden, status, body)
	assert.Contains(t, body, "PutObject", "the answer says how to upload instead")

	_, err := stacktest.S3(endpoint).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(artifactBucket), Key: aws.String(key)})
	assert.Error(t, err, "nothing was stored")
}

func TestCrossSiteRequestsToS3AreRefused(t *testing.T) {
	_, endpoint := stacktest.NewStack(t, "", artifactBucket)
	p := stacktest.Upload(t, endpoint, artifactBucket, "dev", []byte("the dev zip"))
	// DeleteObjects is a POST a page can send as text/plain, no preflight.
	del := newRequest(t, "POST", endpoint+"/"+artifactBucket+"?delete", "text/plain",
		[]byte(`<Delete><Object><Key>`+p.Key+`</Key></Object></Delete>`))
	del.Header.Set("Origin", "https://attacker.example")
	status, _, body := do(t, del)
	assert.Equal(t, http.StatusForbidden, status, body)

	_, err := stacktest.S3(endpoint).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(artifactBucket), Key: aws.String(p.Key)})
	assert.NoError(t, err, "the object is still there")
}

func TestARogueDeploymentIsNeitherMadeNorKept(t *testing.T) {
	dir := t.TempDir()
	st, endpoint := stacktest.NewStack(t, dir, artifactBucket)
	code := stacktest.FunctionZip(t)

	// The attack of issue 13: plant the zip with a form POST, deploy it
	// with a text/plain POST, as a page can without a preflight.
	status, _, body := do(t, formUpload(t, endpoint, artifactBucket, pointer.Key("dev", pointer.Sum(code)), code))
	assert.Equal(t, http.StatusForbidden, status, body)
	stacktest.Upload(t, endpoint, artifactBucket, "dev", code) // even with the zip in place
	deploy := newRequest(t, "POST", endpoint+"/_local/deploy", "text/plain", rogueSpec(t, code))
	deploy.Header.Set("Origin", "https://attacker.example")
	status, _, body = do(t, deploy)
	assert.NotEqual(t, http.StatusOK, status, body)
	require.NoError(t, st.Close())

	saved, err := os.ReadDir(filepath.Join(dir, "deployments"))
	require.NoError(t, err)
	assert.Empty(t, saved, "nothing was saved to come back at the next start")
	st2, endpoint2 := stacktest.NewStack(t, dir, artifactBucket)
	h, err := (&stack.Client{Endpoint: endpoint2, Token: st2.Token()}).Health(context.Background())
	require.NoError(t, err)
	assert.Empty(t, h.Deployments)
	assert.NotEqual(t, st.Token(), st2.Token(), "each start has its own token")
}

// recordingTransport fails every request it is given, after noting it.
type recordingTransport struct{ sent []*http.Request }

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.sent = append(rt.sent, req)
	return nil, io.ErrUnexpectedEOF
}

// The client sends the control token to the stack only: an endpoint that
// is not http on a loopback address (a typo, a LOCAL_AWS_ENDPOINT meant for
// another tool) is refused before any request leaves.
func TestClientSendsTheTokenToLoopbackOnly(t *testing.T) {
	for _, endpoint := range []string{
		"http://192.0.2.1:4566",
		"http://example.com:4566",
		"https://127.0.0.1:4566",
		"ftp://127.0.0.1:4566",
		"127.0.0.1:4566",
		"http://:4566",
	} {
		t.Run(endpoint, func(t *testing.T) {
			rt := &recordingTransport{}
			c := &stack.Client{Endpoint: endpoint, Token: "secret", HTTP: &http.Client{Transport: rt}}
			_, err := c.Health(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "want http://<loopback address>:<port>")
			_, err = c.Deploy(context.Background(), stack.Spec{})
			require.Error(t, err)
			assert.Empty(t, rt.sent, "no request, so no token, left for %s", endpoint)
		})
	}
	rt := &recordingTransport{}
	c := &stack.Client{Endpoint: "http://localhost:4566", Token: "secret", HTTP: &http.Client{Transport: rt}}
	_, err := c.Health(context.Background())
	require.Error(t, err)
	require.Len(t, rt.sent, 1, "a loopback endpoint is called")
	assert.Equal(t, "Bearer secret", rt.sent[0].Header.Get("Authorization"))
}
