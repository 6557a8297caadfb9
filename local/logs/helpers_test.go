package logs_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/local/logs"
)

const region = "ap-northeast-1"

// serve starts the API over store on 127.0.0.1:0 and returns the real SDK
// client pointed at it, and the server's URL.
func serve(t testing.TB, store *logs.Store) (*cloudwatchlogs.Client, string) {
	t.Helper()
	srv := httptest.NewServer(logs.New(store, logs.WithRegion(region), logs.WithAccount("123456789012")))
	t.Cleanup(srv.Close)
	return client(srv.URL), srv.URL
}

// client is the SDK client for the API at url, with the SDK's default
// retryer and the repository's HTTP client (internal/sdkhttp).
func client(url string) *cloudwatchlogs.Client {
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: sdkhttp.New()}
	return cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) })
}

// newStore opens an in-memory store closed at the end of the test.
func newStore(t testing.TB) *logs.Store {
	t.Helper()
	s, err := logs.NewStore("")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// invocationLines are the lines of testdata/invocation.txt.
var invocationLines = sync.OnceValues(func() ([]string, error) {
	raw, err := os.ReadFile("testdata/invocation.txt")
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n"), err
})

// invocation is the output of one Lambda invocation (START, the dump line,
// END, REPORT) from testdata, for the given event_id, stamped at ts.
func invocation(t testing.TB, eventID string, ts time.Time) []logs.Event {
	t.Helper()
	lines, err := invocationLines()
	require.NoError(t, err)
	require.Len(t, lines, 4)
	out := make([]logs.Event, len(lines))
	for i, l := range lines {
		out[i] = logs.Event{Timestamp: ts, Message: strings.ReplaceAll(l, "EVENT_ID", eventID)}
	}
	return out
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// requireAPIError checks that err decodes into the SDK's typed error T and
// that its message contains want.
func requireAPIError[T interface {
	error
	ErrorMessage() string
}](t *testing.T, err error, want string) {
	t.Helper()
	require.Error(t, err)
	var typed T
	require.True(t, errors.As(err, &typed), "error %v is not a %T", err, typed)
	require.Contains(t, typed.ErrorMessage(), want)
}

type (
	notFound      = *types.ResourceNotFoundException
	alreadyExists = *types.ResourceAlreadyExistsException
	invalidParam  = *types.InvalidParameterException
)
