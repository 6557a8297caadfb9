package stack_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/local/stacktest"
)

// TestCredentialsAreNeverWritten sends credentials the ways callers send
// them (an API key in a header and in the query string, AWS credentials
// and tokens in a JSON body) to dev, deployed with fields that dump all
// headers, those query parameters and the whole body, and its own
// redaction keys: no credential may reach CloudWatch Logs.
func TestCredentialsAreNeverWritten(t *testing.T) {
	env := stacktest.Start(t, stacktest.WithConfig(func(cfg *envconfig.Config) {
		cfg.Dump.Fields = map[string]string{
			"event_id": "body.event_id",
			"headers":  "headers",
			"q1":       "queryStringParameters.api_key",
			"q2":       "queryStringParameters.apiKey",
			"q3":       "queryStringParameters.AccessKey",
			"body":     "body",
		}
	}))
	secrets := []string{"hdr-x-api-key-1", "hdr-amz-token-2", "qs-api-key-3", "qs-apikey-4", "qs-access-5", "body-apikey-6", "body-accesskey-7", "body-token-8", "hdr-auth-9"}
	body := `{"event_id":"creds-1","type":"t","attributes":{"apiKey":"body-apikey-6","aws":{"AccessKeyId":"body-accesskey-7","X-Amz-Security-Token":"body-token-8"}}}`
	req, err := http.NewRequest("POST", env.Outputs["api_url"].String()+"/events?api_key=qs-api-key-3&apiKey=qs-apikey-4&AccessKey=qs-access-5", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", "hdr-x-api-key-1")
	req.Header.Set("X-Amz-Security-Token", "hdr-amz-token-2")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=hdr-auth-9")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	dumps := filter(t, env.URL, env.Outputs["log_group_name"].String(), `{ $.fields.event_id = "creds-1" }`)
	require.Len(t, dumps, 1)
	assert.Contains(t, dumps[0], `"q1":"[REDACTED]"`)
	// Every line the function wrote, not only the dump.
	out, err := stacktest.Logs(env.URL).FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(env.Outputs["log_group_name"].String())})
	require.NoError(t, err)
	require.NotEmpty(t, out.Events)
	for _, e := range out.Events {
		for _, s := range secrets {
			assert.NotContains(t, aws.ToString(e.Message), s)
		}
	}
}

// TestHeaderNamesReachTheFunctionAsSent: API Gateway passes a caller's
// header names as sent (recorded from AWS, local/gateway/fidelity_test.go);
// a function reading event.Headers["x-tenant"] must find it locally too.
func TestHeaderNamesReachTheFunctionAsSent(t *testing.T) {
	env := stacktest.Start(t, stacktest.WithConfig(func(cfg *envconfig.Config) {
		cfg.Dump.Fields = map[string]string{"event_id": "body.event_id", "headers": "headers"}
	}))
	req, err := http.NewRequest("POST", env.Outputs["api_url"].String()+"/events", strings.NewReader(`{"event_id":"case-1","type":"t"}`))
	require.NoError(t, err)
	req.Header["content-type"] = []string{"application/json"}
	req.Header["x-tenant"] = []string{"t1"}
	req.Header["tEsT-HEADeR"] = []string{"aValUE"}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	dumps := filter(t, env.URL, env.Outputs["log_group_name"].String(), `{ $.fields.event_id = "case-1" }`)
	require.Len(t, dumps, 1)
	assert.Contains(t, dumps[0], `"tEsT-HEADeR":"aValUE"`)
	assert.Contains(t, dumps[0], `"x-tenant":"t1"`)
	assert.Contains(t, dumps[0], `"content-type":"application/json"`)
}
