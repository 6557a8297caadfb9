package logs_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/logs"
	"github.com/acme/request-dump/local/stacktest"
)

// TestKill9LosesNoAnsweredEvent kills a process serving the Logs API on a
// data directory while it takes PutLogEvents calls, then opens the
// directory again: every event of a call that was answered must be there,
// as every dump of a request the gateway answered 200 must be (a function's
// lines are appended the same way before its invocation returns).
func TestKill9LosesNoAnsweredEvent(t *testing.T) {
	dir := t.TempDir()
	cmd, addr := stacktest.Killable(t, dir)
	c := client("http://" + addr)
	ctx := context.Background()
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/aws/lambda/fn")})
	require.NoError(t, err)

	var mu sync.Mutex
	var answered []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 8 {
		stream := fmt.Sprint("env-", w)
		_, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/aws/lambda/fn"), LogStreamName: aws.String(stream)})
		require.NoError(t, err)
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				msg := fmt.Sprintf(`{"fields":{"event_id":"w%d-%d"}}`, w, i)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
					LogGroupName: aws.String("/aws/lambda/fn"), LogStreamName: aws.String(stream),
					LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(msg)}},
				}, func(o *cloudwatchlogs.Options) { o.RetryMaxAttempts = 1 })
				cancel()
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				answered = append(answered, msg)
				mu.Unlock()
			}
		})
	}
	// Kill once some events were answered, however slow the machine: a
	// fixed pause could end before any was.
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(answered) >= 80
	}, time.Minute, 5*time.Millisecond, "no PutLogEvents was answered")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	close(stop)
	wg.Wait()
	cmd.Wait()
	require.NotEmpty(t, answered)

	store, err := logs.NewStore(dir)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	c2, _ := serve(t, store)
	stored := map[string]bool{}
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c2, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/fn")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		for _, e := range page.Events {
			stored[aws.ToString(e.Message)] = true
		}
	}
	lost := 0
	for _, msg := range answered {
		if !stored[msg] {
			lost++
		}
	}
	assert.Zero(t, lost, "answered events lost to the kill, of %d", len(answered))
}

// TestMain serves a store for TestKill9LosesNoAnsweredEvent when this binary
// runs as the process it kills, and runs the tests otherwise.
func TestMain(m *testing.M) {
	stacktest.ServeKillable(func(dir string) (http.Handler, error) {
		store, err := logs.NewStore(dir)
		if err != nil {
			return nil, err
		}
		return logs.New(store, logs.WithRegion(region)), nil
	})
	os.Exit(m.Run())
}
