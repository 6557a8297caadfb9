package lambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/local/lambda"
	"github.com/acme/request-dump/local/logs"
)

// TestRequestDumpFunction runs the repository's own function (./lambda)
// under the pool, writing to the local CloudWatch Logs store, and reads the
// dump back through the Logs API with the filter pattern the smoke tests
// use, in both of Lambda's log formats.
func TestRequestDumpFunction(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	require.NoError(t, goBuild(filepath.Join(root, "lambda"), bootstrap))
	code, err := zipOf(map[string]string{"bootstrap": bootstrap})
	require.NoError(t, err)

	for _, format := range []string{"JSON", "Text"} {
		t.Run(format, func(t *testing.T) {
			store, err := logs.NewStore("")
			require.NoError(t, err)
			t.Cleanup(func() { store.Close() })
			srv := httptest.NewServer(logs.New(store))
			t.Cleanup(srv.Close)
			client := cloudwatchlogs.New(cloudwatchlogs.Options{
				Region:       "ap-northeast-1",
				BaseEndpoint: aws.String(srv.URL),
				Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""),
			})

			f, err := lambda.New(lambda.Spec{
				FunctionName: "request-dump-test",
				Code:         code,
				Timeout:      10 * time.Second,
				LogFormat:    format,
				Region:       "ap-northeast-1",
			}, store)
			require.NoError(t, err)
			t.Cleanup(func() { f.Close() })

			eventID := "e-" + strings.ToLower(format)
			payload, err := json.Marshal(events.APIGatewayProxyRequest{
				Resource: "/events", Path: "/events", HTTPMethod: "POST",
				Headers: map[string]string{"Content-Type": "application/json"},
				Body:    fmt.Sprintf(`{"event_id":%q,"type":"signup"}`, eventID),
				RequestContext: events.APIGatewayProxyRequestContext{
					RequestID: "api-" + eventID, Stage: "dev", ResourcePath: "/events", HTTPMethod: "POST",
				},
			})
			require.NoError(t, err)
			res, err := f.Invoke(context.Background(), "lambda-"+eventID, payload)
			require.NoError(t, err)
			require.Empty(t, res.FunctionError, string(res.Payload))
			var resp events.APIGatewayProxyResponse
			require.NoError(t, json.Unmarshal(res.Payload, &resp))
			assert.Equal(t, 200, resp.StatusCode)
			assert.Contains(t, resp.Body, "lambda-"+eventID)

			out, err := client.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{
				LogGroupName:  aws.String("/aws/lambda/request-dump-test"),
				FilterPattern: aws.String(fmt.Sprintf(`{ $.fields.event_id = %q }`, eventID)),
			})
			require.NoError(t, err)
			require.Len(t, out.Events, 1, "exactly one dump event")
			assert.Equal(t, res.LogStream, aws.ToString(out.Events[0].LogStreamName))
			var dump struct {
				Level        string
				Msg          string
				AWSRequestID string `json:"aws_request_id"`
			}
			require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.Events[0].Message)), &dump))
			assert.Equal(t, "lambda-"+eventID, dump.AWSRequestID)

			all, err := client.GetLogEvents(context.Background(), &cloudwatchlogs.GetLogEventsInput{
				LogGroupName: aws.String("/aws/lambda/request-dump-test"), LogStreamName: aws.String(res.LogStream), StartFromHead: aws.Bool(true),
			})
			require.NoError(t, err)
			var msgs []string
			for _, e := range all.Events {
				msgs = append(msgs, aws.ToString(e.Message))
			}
			require.Len(t, msgs, map[string]int{"JSON": 3, "Text": 4}[format], "%q", msgs)
			if format == "Text" {
				assert.Regexp(t, startRE, msgs[0])
				assert.Regexp(t, endRE, msgs[2])
				assert.Regexp(t, reportRE, msgs[3])
			} else {
				assert.Contains(t, msgs[0], `"type":"platform.start"`)
				assert.Contains(t, msgs[2], `"type":"platform.report"`)
			}
		})
	}
}

func TestCloseRemovesTheUnpackedCode(t *testing.T) {
	// The pool unpacks code in a private directory and removes it on Close.
	dir := t.TempDir()
	f, err := lambda.New(lambda.Spec{FunctionName: "tidy", Code: testZip}, newSink(), lambda.WithWorkDir(dir))
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	_, err = f.Invoke(context.Background(), "t", []byte(`{}`))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}
