package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/sigv4"
)

type keys map[string]sigv4.Principal

func (k keys) Lookup(id string) (sigv4.Principal, bool) { p, ok := k[id]; return p, ok }

var (
	user    = sigv4.Principal{AccessKeyID: "local", SecretAccessKey: "local", AccountID: "000000000000", Caller: "AIDALOCAL", ARN: "arn:aws:iam::000000000000:user/local"}
	session = sigv4.Principal{AccessKeyID: "ASIASESSION", SecretAccessKey: "s3cret", SessionToken: "token-1", Expires: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC),
		AccountID: "000000000000", Caller: "AROACALLER:smoke", ARN: "arn:aws:sts::000000000000:assumed-role/request-dump-stg-caller/smoke"}
	expired = sigv4.Principal{AccessKeyID: "ASIAOLD", SecretAccessKey: "old", SessionToken: "token-0", Expires: time.Date(2026, 12, 4, 14, 0, 0, 0, time.UTC)}
)

// server answers 200 with the principal's ARN when Verify accepts a request
// under /stage/, as the gateway is mounted behind http.StripPrefix, and the
// refusal's kind and message otherwise.
func server(t *testing.T, now func() time.Time) string {
	v := sigv4.New(keys{user.AccessKeyID: user, session.AccessKeyID: session, expired.AccessKeyID: expired}, "execute-api", "ap-northeast-1")
	h := http.StripPrefix("/restapis/abc/stage/_user_request_", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p, err := v.Verify(r, body, now())
		var e *sigv4.Error
		if errors.As(err, &e) {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, kindName[e.Kind]+"|"+e.Message)
			return
		}
		require.NoError(t, err)
		_, _ = io.WriteString(w, p.ARN)
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/restapis/abc/stage/_user_request_"
}

var kindName = map[sigv4.Kind]string{sigv4.MissingToken: "missing", sigv4.Incomplete: "incomplete", sigv4.UnknownKey: "unknown",
	sigv4.Mismatch: "mismatch", sigv4.Skewed: "skewed", sigv4.ExpiredToken: "expired"}

func signed(t *testing.T, url string, body []byte, creds aws.Credentials, region string, at time.Time) *http.Request {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", region, at))
	return req
}

// The answers, as AWS documents them for API Gateway with IAM
// authorization (https://repost.aws/knowledge-center/api-gateway-iam-sigv4-mismatch:
// unsigned → "Missing Authentication Token"; wrong access key → "The
// security token included in the request is invalid."; wrong secret → "The
// request signature we calculated does not match the signature you
// provided. Check your AWS Secret Access Key and signing method."), with
// the full sentence and the canonical string as API Gateway sends it
// (https://docs.aws.amazon.com/AlexaWebInfoService/latest/QUERY_QueryAuthenticationErrors.html
// lists the whole sentence and "Signature expired: YYYYMMDDTHHMMSSZ is now
// earlier than YYYYMMDDTHHMMSSZ"; API Gateway's window is 5 minutes).
func TestVerify(t *testing.T) {
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	url := server(t, func() time.Time { return now })
	body := []byte(`{"event_id":"e1","type":"signup"}`)
	long := aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}
	temp := aws.Credentials{AccessKeyID: session.AccessKeyID, SecretAccessKey: session.SecretAccessKey, SessionToken: session.SessionToken}
	for _, c := range []struct {
		name string
		req  func() *http.Request
		want string // the answer's start
	}{
		{"long-term key", func() *http.Request { return signed(t, url+"/events", body, long, "ap-northeast-1", now) }, "arn:aws:iam::000000000000:user/local"},
		{"session credentials", func() *http.Request {
			return signed(t, url+"/events", body, temp, "ap-northeast-1", now.Add(-4*time.Minute))
		}, session.ARN},
		{"path and query as signed", func() *http.Request {
			return signed(t, url+"/events%2Bx/a%20b?b=2&a=1&a=0", body, long, "ap-northeast-1", now)
		}, user.ARN},
		{"unsigned", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url+"/events", bytes.NewReader(body))
			return r
		}, "missing|Missing Authentication Token"},
		{"not SigV4", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url+"/events", bytes.NewReader(body))
			r.Header.Set("Authorization", "Bearer abc")
			return r
		}, "incomplete|Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"unknown access key", func() *http.Request {
			return signed(t, url+"/events", body, aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "x"}, "ap-northeast-1", now)
		}, "unknown|The security token included in the request is invalid."},
		{"session token left out", func() *http.Request {
			r := signed(t, url+"/events", body, temp, "ap-northeast-1", now)
			r.Header.Del("X-Amz-Security-Token")
			return r
		}, "unknown|The security token included in the request is invalid."},
		{"expired session", func() *http.Request {
			return signed(t, url+"/events", body, aws.Credentials{AccessKeyID: expired.AccessKeyID, SecretAccessKey: "old", SessionToken: "token-0"}, "ap-northeast-1", now)
		}, "expired|The security token included in the request is expired"},
		{"wrong secret", func() *http.Request {
			return signed(t, url+"/events", body, aws.Credentials{AccessKeyID: "local", SecretAccessKey: "wrong"}, "ap-northeast-1", now)
		}, "mismatch|The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/restapis/abc/stage/_user_request_/events\n\ncontent-length:33\ncontent-type:application/json\nhost:127.0.0.1:"},
		{"body changed after signing", func() *http.Request {
			r := signed(t, url+"/events", body, long, "ap-northeast-1", now)
			other := bytes.Replace(body, []byte("signup"), []byte("signin"), 1)
			r.Body = io.NopCloser(bytes.NewReader(other))
			return r
		}, "mismatch|The request signature we calculated"},
		// API Gateway's answer to a scope for another region, as callers
		// report it (https://zenn.dev/hiroga/articles/api-gateway-cross-account-trouble-shooting).
		{"another region", func() *http.Request { return signed(t, url+"/events", body, long, "us-east-1", now) }, "mismatch|Credential should be scoped to a valid region, not 'us-east-1'. "},
		{"another service", func() *http.Request {
			r, err := http.NewRequest(http.MethodPost, url+"/events", bytes.NewReader(body))
			require.NoError(t, err)
			sum := sha256.Sum256(body)
			require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), long, r, hex.EncodeToString(sum[:]), "lambda", "ap-northeast-1", now))
			return r
		}, "mismatch|Credential should be scoped to correct service: 'execute-api'. "},
		{"signed 6 minutes ago", func() *http.Request {
			return signed(t, url+"/events", body, long, "ap-northeast-1", now.Add(-6*time.Minute))
		},
			"skewed|Signature expired: 20261204T145400Z is now earlier than 20261204T145500Z (20261204T150000Z - 5 min.)"},
		{"signed 6 minutes ahead", func() *http.Request {
			return signed(t, url+"/events", body, long, "ap-northeast-1", now.Add(6*time.Minute))
		},
			"skewed|Signature not yet current: 20261204T150600Z is still later than 20261204T150500Z (20261204T150000Z + 5 min.)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(c.req())
			require.NoError(t, err)
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			assert.True(t, strings.HasPrefix(string(got), c.want), "got %q\nwant prefix %q", got, c.want)
		})
	}
}

// The mismatch answer ends with the string to sign, so a caller can compare
// it with its own, as AWS's answer lets it.
func TestMismatchStringToSign(t *testing.T) {
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	url := server(t, func() time.Time { return now })
	resp, err := http.DefaultClient.Do(signed(t, url+"/events", []byte(`{}`), aws.Credentials{AccessKeyID: "local", SecretAccessKey: "wrong"}, "ap-northeast-1", now))
	require.NoError(t, err)
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(got), "\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20261204T150000Z\n20261204/ap-northeast-1/execute-api/aws4_request\n")
	assert.True(t, strings.HasSuffix(string(got), "'\n"))
}
