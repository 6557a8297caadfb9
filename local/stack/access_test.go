package stack_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/apicaller"
	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/local/stack"
	"github.com/acme/request-dump/local/stacktest"
)

func awsConfig(endpoint string) aws.Config {
	return aws.Config{Region: stack.DefaultRegion, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), HTTPClient: sdkhttp.New()}
}

func apiKey(t *testing.T, endpoint, parameter string) string {
	t.Helper()
	out, err := ssm.NewFromConfig(awsConfig(endpoint)).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(parameter), WithDecryption: aws.Bool(true)})
	require.NoError(t, err)
	return aws.ToString(out.Parameter.Value)
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestAPIKeyAccess deploys stg (access mode api_key) as make local-up does:
// its smoke key is in the stack's Parameter Store under the name the
// outputs give, callers need it on both stages, a request without it
// never reaches the function, and the key survives a redeploy and a
// restart.
func TestAPIKeyAccess(t *testing.T) {
	dir := t.TempDir()
	env := stacktest.Start(t, stacktest.WithEnv("stg"), stacktest.WithDataDir(dir))
	out := env.Outputs
	assert.Equal(t, "api_key", out["access_mode"].String())
	assert.Equal(t, map[string]string{"smoke": "/request-dump-stg/api-keys/smoke"}, out["api_key_parameters"].Value)
	assert.Regexp(t, `^[a-z0-9]{6}$`, out["usage_plan_id"].String())
	for _, name := range []string{"caller_role_arn", "web_acl_arn"} {
		assert.Nil(t, out[name].Value, name)
	}
	data, err := json.Marshal(out)
	require.NoError(t, err)
	key := apiKey(t, env.URL, "/request-dump-stg/api-keys/smoke")
	assert.Regexp(t, `^[A-Za-z0-9]{40}$`, key)
	assert.NotContains(t, string(data), key, "the outputs name the parameter, never the value")

	events := func(url, id, key string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, url+"/events", bytes.NewReader([]byte(`{"event_id":"`+id+`","type":"t"}`)))
		require.NoError(t, err)
		if key != "" {
			req.Header.Set("x-api-key", key)
		}
		return send(t, req)
	}
	for _, url := range []string{out["api_url"].String(), out["candidate_api_url"].String()} {
		status, body := events(url, "no-key", "")
		assert.Equal(t, http.StatusForbidden, status)
		assert.JSONEq(t, `{"message":"Forbidden"}`, body)
		status, body = events(url, "with-key", key)
		assert.Equal(t, http.StatusOK, status, body)
	}
	group := env.Deployment.LogGroupName()
	assert.Len(t, filter(t, env.URL, group, `{ $.fields.event_id = "with-key" }`), 2)
	assert.Empty(t, filter(t, env.URL, group, `{ $.fields.event_id = "no-key" }`))

	env.Apply(t, nil, nil)
	assert.Equal(t, key, apiKey(t, env.URL, "/request-dump-stg/api-keys/smoke"), "a redeploy keeps the key")
	status, _ := events(out["api_url"].String(), "after-redeploy", key)
	assert.Equal(t, http.StatusOK, status)

	require.NoError(t, env.Stack.Close())
	_, url := stacktest.NewStack(t, dir, artifactBucket)
	assert.Equal(t, key, apiKey(t, url, "/request-dump-stg/api-keys/smoke"), "a restart keeps the key")
	apiURL := url + "/restapis/" + env.Deployment.APIID + "/stg/_user_request_"
	status, body := events(apiURL, "after-restart", key)
	assert.Equal(t, http.StatusOK, status, body)
	status, _ = events(apiURL, "after-restart-no-key", "")
	assert.Equal(t, http.StatusForbidden, status)
}

// TestIAMAccess deploys an env in access mode iam: the caller role is
// assumed through the stack's STS with the SDK's client, and requests
// signed with its session credentials get through; unsigned ones do not.
func TestIAMAccess(t *testing.T) {
	env := stacktest.Start(t, stacktest.WithEnv("stg"), stacktest.WithConfig(func(cfg *envconfig.Config) { cfg.Access.Mode = "iam" }))
	out := env.Outputs
	assert.Equal(t, "iam", out["access_mode"].String())
	role := out["caller_role_arn"].String()
	assert.Equal(t, "arn:aws:iam::000000000000:role/request-dump-stg-caller", role)
	assert.Equal(t, map[string]string{}, out["api_key_parameters"].Value)
	assert.Nil(t, out["usage_plan_id"].Value)

	ctx := context.Background()
	assumed, err := sts.NewFromConfig(awsConfig(env.URL)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("test")})
	require.NoError(t, err)
	c := assumed.Credentials
	creds := aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
	who, err := sts.NewFromConfig(aws.Config{Region: stack.DefaultRegion, BaseEndpoint: aws.String(env.URL), HTTPClient: sdkhttp.New(),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sts::000000000000:assumed-role/request-dump-stg-caller/test", aws.ToString(who.Arn))

	body := []byte(`{"event_id":"signed","type":"t"}`)
	req, err := http.NewRequest(http.MethodPost, out["api_url"].String()+"/events", bytes.NewReader(body))
	require.NoError(t, err)
	sum := sha256.Sum256(body)
	require.NoError(t, v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", stack.DefaultRegion, time.Now()))
	status, answer := send(t, req)
	assert.Equal(t, http.StatusOK, status, answer)

	req, err = http.NewRequest(http.MethodPost, out["api_url"].String()+"/events", bytes.NewReader([]byte(`{"event_id":"unsigned","type":"t"}`)))
	require.NoError(t, err)
	status, answer = send(t, req)
	assert.Equal(t, http.StatusForbidden, status)
	assert.JSONEq(t, `{"message":"Missing Authentication Token"}`, answer)
	group := env.Deployment.LogGroupName()
	assert.Len(t, filter(t, env.URL, group, `{ $.fields.event_id = "signed" }`), 1)
	assert.Empty(t, filter(t, env.URL, group, `{ $.fields.event_id = "unsigned" }`))
}

// TestOutputsAccess: the outputs name the same access whether they come
// from a deployment or from JSON (the control API, terraform output).
func TestOutputsAccess(t *testing.T) {
	deployed := stack.Outputs{
		"access_mode":        {Type: "string", Value: "api_key"},
		"api_key_parameters": {Type: []string{"map", "string"}, Value: map[string]string{"smoke": "/request-dump-dev/api-keys/smoke"}},
		"caller_role_arn":    {Type: "string", Value: nil},
	}
	data, err := json.Marshal(deployed)
	require.NoError(t, err)
	var decoded stack.Outputs
	require.NoError(t, json.Unmarshal(data, &decoded))
	iam := stack.Outputs{
		"access_mode":     {Type: "string", Value: "iam"},
		"caller_role_arn": {Type: "string", Value: "arn:aws:iam::000000000000:role/request-dump-dev-caller"},
	}
	for _, tc := range []struct {
		name    string
		outputs stack.Outputs
		key     string
		want    apicaller.Access
	}{
		{"deployed", deployed, "smoke", apicaller.Access{Mode: "api_key", APIKeyParameter: "/request-dump-dev/api-keys/smoke"}},
		{"from JSON", decoded, "smoke", apicaller.Access{Mode: "api_key", APIKeyParameter: "/request-dump-dev/api-keys/smoke"}},
		{"a key the env does not have", decoded, "partner", apicaller.Access{Mode: "api_key"}},
		{"iam", iam, "smoke", apicaller.Access{Mode: "iam", CallerRoleARN: "arn:aws:iam::000000000000:role/request-dump-dev-caller"}},
		{"no outputs", stack.Outputs{}, "smoke", apicaller.Access{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.outputs.Access(tc.key))
		})
	}
}
