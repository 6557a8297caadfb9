package apicaller

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The transports add what each mode asks for; the local stack's tests
// (smoke, stacktest) exercise them against the real gateway.
func TestTransports(t *testing.T) {
	var got http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		body, _ = io.ReadAll(r.Body)
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "ap-northeast-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "token")}

	none, err := New(context.Background(), cfg, Access{Mode: "none"}, http.DefaultTransport)
	require.NoError(t, err)
	iam, err := New(context.Background(), cfg, Access{Mode: "iam"}, http.DefaultTransport)
	require.NoError(t, err)
	assert.Equal(t, "secret", iam.Secret)
	key := &Caller{Transport: apiKeyTransport{http.DefaultTransport, "k-1"}}

	for _, c := range []struct {
		name  string
		c     *Caller
		check func(t *testing.T)
	}{
		{"none", none, func(t *testing.T) {
			assert.Empty(t, got.Get("Authorization"))
			assert.Empty(t, got.Get("X-Api-Key"))
		}},
		{"api_key", key, func(t *testing.T) { assert.Equal(t, "k-1", got.Get("X-Api-Key")) }},
		{"iam", iam, func(t *testing.T) {
			assert.Regexp(t, `^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/ap-northeast-1/execute-api/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$`, got.Get("Authorization"))
			assert.Equal(t, "token", got.Get("X-Amz-Security-Token"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := (&http.Client{Transport: c.c.Transport}).Post(srv.URL+"/events", "application/json", strings.NewReader(`{"a":1}`))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, `{"a":1}`, string(body), "the body still reaches the server")
			c.check(t)
		})
	}
}

func TestUnknownMode(t *testing.T) {
	_, err := New(context.Background(), aws.Config{}, Access{Mode: "cognito"}, http.DefaultTransport)
	assert.ErrorContains(t, err, `access mode "cognito": want none, api_key or iam`)
}

func TestIsSessionOf(t *testing.T) {
	role := "arn:aws:iam::000000000000:role/request-dump-stg-caller"
	assert.True(t, isSessionOf("arn:aws:sts::000000000000:assumed-role/request-dump-stg-caller/smoke", role))
	assert.False(t, isSessionOf("arn:aws:sts::000000000000:assumed-role/request-dump-stg-caller-old/smoke", role))
	assert.False(t, isSessionOf("arn:aws:iam::000000000000:user/local", role))
}
