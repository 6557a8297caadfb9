package gateway

import (
	"log/slog"
	"time"

	"github.com/acme/request-dump/local/logs"
)

// accessLog writes the stage's access log: one event per request, the
// stage's format rendered with the request's $context variables.
type accessLog struct {
	sink          LogSink
	group, stream string
	format        template
}

func (a *accessLog) write(ex *exchange) {
	msg := a.format.render(make([]byte, 0, 256), ex.lookup, true)
	if err := a.sink.Append(a.group, a.stream, logs.Event{Timestamp: time.Now(), Message: string(msg)}); err != nil {
		// The caller has its answer already; losing the line must not go unnoticed.
		slog.Error("gateway: access log event lost", "group", a.group, "stream", a.stream, "request_id", ex.requestID, "err", err)
	}
}

// latency is $context.responseLatency: the time since the request arrived.
func (ex *exchange) latency() time.Duration {
	return time.Since(ex.start)
}
