package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/local/stack"
	"github.com/acme/request-dump/local/stacktest"
)

// artifactBucket is the bucket every env's pointer names.
const artifactBucket = "acme-request-dump-artifacts"

func post(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, data
}

func filter(t *testing.T, endpoint, group, pattern string) []string {
	t.Helper()
	p := cloudwatchlogs.NewFilterLogEventsPaginator(stacktest.Logs(endpoint), &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(group),
		FilterPattern: aws.String(pattern),
	})
	var msgs []string
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		for _, e := range page.Events {
			msgs = append(msgs, aws.ToString(e.Message))
		}
	}
	return msgs
}

func TestRequestReachesTheFunctionAndItsDumpTheLogs(t *testing.T) {
	env := stacktest.Start(t)
	apiURL := env.Outputs["api_url"].String()
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/restapis/[a-z0-9]{10}/dev/_user_request_$`, apiURL)

	status, body := post(t, apiURL+"/events", `{"event_id":"stack-1","type":"signup","user":{"id":"u-1"}}`)
	require.Equal(t, http.StatusOK, status, string(body))
	var answer struct {
		RequestID    string `json:"request_id"`
		AWSRequestID string `json:"aws_request_id"`
	}
	require.NoError(t, json.Unmarshal(body, &answer))

	group := env.Outputs["log_group_name"].String()
	dumps := filter(t, env.URL, group, `{ $.fields.event_id = "stack-1" }`)
	require.Len(t, dumps, 1, "exactly one dump, visible when the response arrives")
	var dump struct {
		Msg          string         `json:"msg"`
		AWSRequestID string         `json:"aws_request_id"`
		APIRequestID string         `json:"api_request_id"`
		Fields       map[string]any `json:"fields"`
		Absent       []string       `json:"absent"`
	}
	require.NoError(t, json.Unmarshal([]byte(dumps[0]), &dump))
	assert.Equal(t, "request dump", dump.Msg)
	assert.Equal(t, answer.RequestID, dump.APIRequestID)
	assert.Equal(t, answer.AWSRequestID, dump.AWSRequestID)
	assert.Equal(t, "stack-1", dump.Fields["event_id"])
	assert.Equal(t, "signup", dump.Fields["type"])
	assert.Equal(t, "u-1", dump.Fields["user_id"])
	assert.Equal(t, "127.0.0.1", dump.Fields["source_ip"])
	assert.Equal(t, []string{"attributes"}, dump.Absent)

	// The env logs JSON, so the platform lines are platform.* records of the
	// same invocation, in the same stream.
	platform := filter(t, env.URL, group, `{ $.record.requestId = "`+answer.AWSRequestID+`" }`)
	require.Len(t, platform, 2)
	assert.Contains(t, platform[0], `"type":"platform.start"`)
	assert.Contains(t, platform[1], `"type":"platform.report"`)

	streams, err := stacktest.Logs(env.URL).DescribeLogStreams(context.Background(), &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group)})
	require.NoError(t, err)
	require.Len(t, streams.LogStreams, 1)
	assert.Regexp(t, `^\d{4}/\d{2}/\d{2}/\[1\][0-9a-f]{32}$`, aws.ToString(streams.LogStreams[0].LogStreamName), "the public stage invokes the live alias, on version 1")

	// The stage's access log, in the format the Terraform stage configures.
	access := filter(t, env.URL, "/aws/apigateway/request-dump-dev/access", `{ $.requestId = "`+answer.RequestID+`" }`)
	require.Len(t, access, 1)
	assert.Contains(t, access[0], `"status":"200"`)
}

func TestRejectedRequestsNeverReachTheFunction(t *testing.T) {
	env := stacktest.Start(t)
	apiURL := env.Outputs["api_url"].String()
	tests := []struct {
		name, method, path, body string
		status                   int
		message                  string
	}{
		{"missing type", http.MethodPost, "/events", `{"event_id":"bad-1"}`, 400, `"message": "Invalid request body"`},
		{"not JSON", http.MethodPost, "/events", `event_id=bad-2`, 400, `"message": "Invalid request body"`},
		{"unknown route", http.MethodPost, "/nope", `{"event_id":"bad-3","type":"t"}`, 403, `"message":"Missing Authentication Token"`},
		{"unknown method", http.MethodGet, "/events", ``, 403, `"message":"Missing Authentication Token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, apiURL+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Contains(t, string(data), tt.message)
		})
	}
	// A valid request after them is the fence: its dump is visible, theirs never were.
	status, body := post(t, apiURL+"/events", `{"event_id":"fence","type":"t"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	group := env.Outputs["log_group_name"].String()
	require.Len(t, filter(t, env.URL, group, `{ $.fields.event_id = "fence" }`), 1)
	assert.Empty(t, filter(t, env.URL, group, `{ $.fields.event_id = "bad*" }`))
	assert.Len(t, filter(t, env.URL, group, `"platform.start"`), 1, "only the fence invoked the function")
}

func devSpec(t *testing.T) stack.Spec {
	t.Helper()
	cfg, err := envconfig.Load("dev")
	require.NoError(t, err)
	spec, err := stack.SpecFor(cfg)
	require.NoError(t, err)
	return spec
}

func TestDeployRefusesWhatLambdaWouldNotRun(t *testing.T) {
	code := stacktest.FunctionZip(t)
	other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	require.NotEmpty(t, other, "this test knows amd64 and arm64 hosts")
	foreign, err := stacktest.FunctionZipFor(other)
	require.NoError(t, err)

	tests := []struct {
		name  string
		setup func(t *testing.T, url string) pointer.Pointer
		want  string
	}{
		{"object missing", func(t *testing.T, url string) pointer.Pointer {
			return pointer.New(artifactBucket, "dev", pointer.Sum(code))
		}, "is not in the local S3"},
		{"object has other bytes than the pointer says", func(t *testing.T, url string) pointer.Pointer {
			p := pointer.New(artifactBucket, "dev", pointer.Sum(code))
			_, err := stacktest.S3(url).PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String(p.Bucket), Key: aws.String(p.Key), Body: bytes.NewReader(append([]byte{}, foreign...)),
			})
			require.NoError(t, err)
			return p
		}, "but the pointer says"},
		{"key outside the env prefix", func(t *testing.T, url string) pointer.Pointer {
			p := stacktest.Upload(t, url, artifactBucket, "stg", code)
			return p
		}, "outside the dev/ prefix"},
		{"bootstrap for another architecture", func(t *testing.T, url string) pointer.Pointer {
			return stacktest.Upload(t, url, artifactBucket, "dev", foreign)
		}, "cannot execute it: build it for the host for the local run (scripts/build.sh --arch " + runtime.GOARCH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, url := stacktest.NewStack(t, "", artifactBucket)
			spec := devSpec(t)
			spec.Artifact = tt.setup(t, url)
			_, err := st.Deploy(context.Background(), spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestControlAPI(t *testing.T) {
	st, url := stacktest.NewStack(t, "", artifactBucket)
	client := &stack.Client{Endpoint: url, Token: st.Token()}
	ctx := context.Background()

	h, err := client.Health(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ready", h.Status)
	assert.Empty(t, h.Deployments)
	require.NoError(t, client.WaitReady(ctx, time.Millisecond))

	req, err := http.NewRequest("POST", url+"/_local/deploy", strings.NewReader(`{"env":"dev","bogus":1}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+st.Token())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(data), `unknown field \"bogus\"`)

	spec := devSpec(t)
	_, err = client.Deploy(ctx, spec)
	require.Error(t, err, "the artifact was never uploaded")
	assert.Contains(t, err.Error(), "upload it first")

	spec.Artifact = stacktest.Upload(t, url, spec.Artifact.Bucket, "dev", stacktest.FunctionZip(t))
	out, err := client.Deploy(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, "request-dump-dev", out["function_name"].String())
	h, err = client.Health(ctx)
	require.NoError(t, err)
	require.Len(t, h.Deployments, 1)
	assert.Equal(t, out["api_url"].String(), h.Deployments[0].APIURL)
	assert.Equal(t, out["candidate_api_url"].String(), h.Deployments[0].CandidateAPIURL)
	require.Len(t, h.Deployments[0].Versions, 1)
	assert.Equal(t, []string{"candidate", "live"}, h.Deployments[0].Versions[0].Aliases, "the first version: both aliases on it")

	resp, err = http.Get(url + "/restapis/nosuchapi0/dev/_user_request_/events")
	require.NoError(t, err)
	data, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, string(data), "request-dump-dev", "the answer lists what is deployed")
}

func TestRestartKeepsObjectsLogsAndDeployments(t *testing.T) {
	dir := t.TempDir()
	env := stacktest.Start(t, stacktest.WithDataDir(dir))
	status, body := post(t, env.Outputs["api_url"].String()+"/events", `{"event_id":"before-restart","type":"t"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.NoError(t, env.Stack.Close())

	st, url := stacktest.NewStack(t, dir, artifactBucket)
	h, err := (&stack.Client{Endpoint: url, Token: st.Token()}).Health(context.Background())
	require.NoError(t, err)
	require.Len(t, h.Deployments, 1, "the deployment comes back")
	apiURL := h.Deployments[0].APIURL

	head, err := stacktest.S3(url).HeadObject(context.Background(), &s3.HeadObjectInput{
		Bucket: aws.String(env.Config.Artifact.Bucket), Key: aws.String(env.Config.Artifact.Key), ChecksumMode: "ENABLED",
	})
	require.NoError(t, err)
	assert.Equal(t, env.Config.Artifact.SHA256, aws.ToString(head.ChecksumSHA256))

	status, body = post(t, apiURL+"/events", `{"event_id":"after-restart","type":"t"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	group := "/aws/lambda/request-dump-dev"
	assert.Len(t, filter(t, url, group, `{ $.fields.event_id = "before-restart" }`), 1)
	assert.Len(t, filter(t, url, group, `{ $.fields.event_id = "after-restart" }`), 1)
}

func TestRedeployReplacesTheFunction(t *testing.T) {
	env := stacktest.Start(t)
	apiURL := env.Outputs["api_url"].String()

	spec := devSpec(t)
	spec.Artifact = env.Config.Artifact
	spec.Environment["DUMP_FIELDS"] = "event_id=body.event_id,kind=body.type"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := env.Stack.Deploy(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, env.Deployment.APIID, d.APIID, "api_url stays the same across deploys")

	status, body := post(t, apiURL+"/events", `{"event_id":"redeployed","type":"t"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	dumps := filter(t, env.URL, env.Outputs["log_group_name"].String(), `{ $.fields.event_id = "redeployed" }`)
	require.Len(t, dumps, 1)
	assert.Contains(t, dumps[0], `"kind":"t"`)
}

// A deploy with KeepLive does what `terraform apply` does: it publishes a
// version that only the candidate alias, and so the candidate stage,
// serves; the public stage stays on the live alias's version until the
// alias moves (what scripts/rollout.sh does, with the real SDK client).
func TestKeepLiveDeploysAsTerraformApplies(t *testing.T) {
	env := stacktest.Start(t)
	assert.Equal(t, "1", env.Deployment.Version)
	lambdaClient := stacktest.Lambda(env.URL)
	ctx := context.Background()

	spec := devSpec(t)
	spec.Artifact = env.Config.Artifact
	spec.Environment["DUMP_FIELDS"] = "event_id=body.event_id,kind=body.type"
	spec.KeepLive = true
	d, err := env.Stack.Deploy(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, "2", d.Version, "a configuration change publishes a version")
	outputs := d.Outputs(env.URL)
	assert.Equal(t, env.Outputs["api_url"].String(), outputs["api_url"].String())
	candidateURL := outputs["candidate_api_url"].String()
	assert.Regexp(t, `/restapis/[a-z0-9]{10}/candidate/_user_request_$`, candidateURL)

	dumped := func(url, id string) string {
		t.Helper()
		status, body := post(t, url+"/events", `{"event_id":"`+id+`","type":"t"}`)
		require.Equal(t, http.StatusOK, status, string(body))
		dumps := filter(t, env.URL, env.Outputs["log_group_name"].String(), `{ $.fields.event_id = "`+id+`" }`)
		require.Len(t, dumps, 1)
		return dumps[0]
	}
	assert.NotContains(t, dumped(env.Outputs["api_url"].String(), "public-1"), `"kind"`, "the public stage still serves version 1")
	assert.Contains(t, dumped(candidateURL, "candidate-1"), `"kind":"t"`, "the candidate stage serves version 2")

	live, err := lambdaClient.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("request-dump-dev"), Name: aws.String("live")})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.ToString(live.FunctionVersion))
	desc, err := env.Config.LiveDescription()
	require.NoError(t, err)
	assert.Equal(t, desc, aws.ToString(live.Description), "the description Terraform gives it")
	candidate, err := lambdaClient.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("request-dump-dev"), Name: aws.String("candidate")})
	require.NoError(t, err)
	assert.Equal(t, "2", aws.ToString(candidate.FunctionVersion))

	_, err = lambdaClient.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("request-dump-dev"), Name: aws.String("live"), FunctionVersion: aws.String("2"), RevisionId: live.RevisionId})
	require.NoError(t, err)
	assert.Contains(t, dumped(env.Outputs["api_url"].String(), "public-2"), `"kind":"t"`, "moving live moves the public stage")

	versions := env.Stack.Versions("request-dump-dev")
	require.Len(t, versions, 2)
	assert.EqualValues(t, 1, versions[0].Invocations, "version 1 served the first public request")
	assert.EqualValues(t, 2, versions[1].Invocations)
	assert.Equal(t, []string{"candidate", "live"}, versions[1].Aliases)

	alarms, err := stacktest.CloudWatch(env.URL).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("request-dump-dev/")})
	require.NoError(t, err)
	var names []string
	for _, a := range alarms.MetricAlarms {
		names = append(names, aws.ToString(a.AlarmName))
		assert.Equal(t, cwtypes.StateValueOk, a.StateValue, "%s: no errors, every request dumped", aws.ToString(a.AlarmName))
	}
	assert.Equal(t, []string{
		"request-dump-dev/api-5xx", "request-dump-dev/api-latency-p99", "request-dump-dev/function-duration",
		"request-dump-dev/function-errors", "request-dump-dev/function-throttles", "request-dump-dev/missing-dumps",
	}, names, "the alarms of terraform/service/alarms.tf")
}
