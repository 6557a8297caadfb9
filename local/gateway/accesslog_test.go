package gateway

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/logs"
)

// orderSink records the access log's events and whether two Appends ever
// overlapped.
type orderSink struct {
	busy       atomic.Bool
	overlapped atomic.Bool
	times      []time.Time
}

func (s *orderSink) Append(_, _ string, evs ...logs.Event) error {
	if !s.busy.CompareAndSwap(false, true) {
		s.overlapped.Store(true)
		return nil
	}
	defer s.busy.Store(false)
	time.Sleep(50 * time.Microsecond) // widen the window for an overlap
	for _, e := range evs {
		s.times = append(s.times, e.Timestamp)
	}
	return nil
}

// TestAccessLogEventsArriveInOrder: the requests of a stage, served at
// once, hand their access log events to the log store one at a time and in
// the order of their timestamps, so that the store appends each to the
// stream's end rather than inserting it (which copies the stream).
func TestAccessLogEventsArriveInOrder(t *testing.T) {
	sink := &orderSink{}
	fns := newFixtureFunctions()
	srv := serve(t, loadDoc(t, "api.yaml"), fns.option(),
		WithAccessLog(sink, "API-Gateway-Execution-Logs/test", "access", `$context.requestId`))
	const callers, each = 16, 10
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range each {
				do(t, srv, call{method: "GET", path: "/items/7"})
			}
		})
	}
	wg.Wait()
	assert.False(t, sink.overlapped.Load(), "two access log appends overlapped")
	require.Len(t, sink.times, callers*each)
	for i := 1; i < len(sink.times); i++ {
		assert.False(t, sink.times[i].Before(sink.times[i-1]), "event %d is older than the one before it", i)
	}
}
