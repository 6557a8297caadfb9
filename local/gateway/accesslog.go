package gateway

import (
	"log/slog"
	"sync"
	"time"

	"github.com/acme/request-dump/local/logs"
)

// accessLog writes the stage's access log: one event per request, the
// stage's format rendered with the request's $context variables.
type accessLog struct {
	sink          LogSink
	group, stream string
	format        template

	// mu puts the events into the stream in the order of their
	// timestamps, taken under it: the requests of a stage all log to one
	// stream, and an event older than the stream's last (two requests
	// racing between their clocks and the store) made the store copy the
	// whole stream to insert it, a copy that grew with the stream (1 % of
	// the stack's CPU after 20,000 requests on a loaded machine).
	mu   sync.Mutex
	last time.Time
}

func (a *accessLog) write(ex *exchange) {
	msg := string(a.format.render(make([]byte, 0, 256), ex.lookup, true))
	a.mu.Lock()
	at := time.Now()
	if at.Before(a.last) {
		at = a.last // the wall clock stepped back
	}
	a.last = at
	err := a.sink.Append(a.group, a.stream, logs.Event{Timestamp: at, Message: msg})
	a.mu.Unlock()
	if err != nil {
		// The caller has its answer already; losing the line must not go unnoticed.
		slog.Error("gateway: access log event lost", "group", a.group, "stream", a.stream, "request_id", ex.requestID, "err", err)
	}
}

// latency is $context.responseLatency: the time since the request arrived.
func (ex *exchange) latency() time.Duration {
	return time.Since(ex.start)
}
