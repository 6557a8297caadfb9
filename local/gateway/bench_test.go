package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/local/internal/rawheader"
	"github.com/acme/request-dump/local/logs"
)

// benchFunction answers at once, as a warm function would minus its own time.
type benchFunction struct{}

var benchResult = Result{Payload: []byte(`{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"request_id\":\"r\",\"aws_request_id\":\"a\"}"}`)}

func (benchFunction) Invoke(context.Context, string, []byte) (Result, error) { return benchResult, nil }

func benchHandler(b *testing.B, opts ...Option) http.Handler {
	b.Helper()
	doc, err := apispec.Load(deployedVars)
	require.NoError(b, err)
	h, err := New(doc, append([]Option{WithStage("dev"), WithFunctions(map[string]Function{"request-dump-dev": benchFunction{}})}, opts...)...)
	require.NoError(b, err)
	return h
}

// BenchmarkPostEvent is the gateway's own cost for an accepted POST /events
// of the deployed API: routing, body validation, the event, the result.
func BenchmarkPostEvent(b *testing.B) {
	h := benchHandler(b, WithThrottle(1e12, 1<<30), WithAccessLog(discardSink{}, "g", "s", deployedAccessLogFormat(b)))
	benchPost(b, h, readTestdata(b, "event-body.json"), 200)
}

// BenchmarkRejectBody is a POST /events the model refuses.
func BenchmarkRejectBody(b *testing.B) {
	benchPost(b, benchHandler(b), []byte(`{"event_id":"e-1","user":{"email":"not an address"}}`), 400)
}

// benchPost serves POST /events with body through h in parallel, each
// answer with status want.
func benchPost(b *testing.B, h http.Handler, body []byte, want int) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/events", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != want {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkPostEventLoopback adds the HTTP round trip over 127.0.0.1 with
// keep-alive connections, as the local stack serves callers: through
// rawheader's connection reader, which keeps the callers' header names.
func BenchmarkPostEventLoopback(b *testing.B) {
	srv := httptest.NewUnstartedServer(benchHandler(b))
	srv.Listener = rawheader.Wrap(srv.Config, srv.Listener)
	srv.Start()
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	body := readTestdata(b, "event-body.json")
	var mu sync.Mutex
	var latencies []time.Duration
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			start := time.Now()
			resp, err := client.Post(srv.URL+"/events", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		b.ReportMetric(float64(latencies[n/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(latencies[n*99/100].Microseconds()), "p99-µs")
	}
}

type discardSink struct{}

func (discardSink) Append(string, string, ...logs.Event) error { return nil }
