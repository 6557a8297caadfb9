package lambda_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/acme/request-dump/local/lambda"
	"github.com/acme/request-dump/local/logs"
)

// benchPayload is about the size of an API Gateway proxy event; the
// function logs one line for it, as the dump function does.
var benchPayload = []byte(`{"action":"lines","lines":1,"text":"{\"level\":\"INFO\",\"msg\":\"request dump\",\"fields\":{\"event_id\":\"e-1\",\"type\":\"signup\"}}","resource":"/events","path":"/events","httpMethod":"POST","headers":{"Content-Type":"application/json","Host":"127.0.0.1:4566","User-Agent":"bench"},"requestContext":{"accountId":"000000000000","resourceId":"abc123","stage":"dev","requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","identity":{"sourceIp":"127.0.0.1"},"resourcePath":"/events","httpMethod":"POST","apiId":"local"},"body":"{\"event_id\":\"e-1\",\"type\":\"signup\"}","isBase64Encoded":false}`)

// discard is a LogSink that only counts, to measure this package alone.
type discard struct {
	mu     sync.Mutex
	events int
}

func (d *discard) Append(_, _ string, events ...logs.Event) error {
	d.mu.Lock()
	d.events += len(events)
	d.mu.Unlock()
	return nil
}

func benchFunction(b *testing.B, sink lambda.LogSink, maxConcurrency int) *lambda.Function {
	b.Helper()
	f, err := lambda.New(lambda.Spec{FunctionName: "bench", Bootstrap: testBootstrap, MaxConcurrency: maxConcurrency}, sink)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	// Start every environment before the clock starts.
	var wg sync.WaitGroup
	for range maxConcurrency {
		wg.Go(func() {
			if _, err := f.Invoke(context.Background(), "", benchPayload); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	return f
}

// latencies records per-invocation times and reports their percentiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	slices.Sort(l.d)
	if len(l.d) == 0 {
		return
	}
	at := func(p float64) float64 { return float64(l.d[int(p*float64(len(l.d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "req/s")
}

func benchInvoke(b *testing.B, sink lambda.LogSink, envs, callers int) {
	f := benchFunction(b, sink, envs)
	var lat latencies
	var wg sync.WaitGroup
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	b.ResetTimer()
	began := time.Now()
	for range callers {
		wg.Go(func() {
			for range work {
				t := time.Now()
				res, err := f.Invoke(context.Background(), "", benchPayload)
				if err != nil || res.FunctionError != "" {
					b.Errorf("invoke: %v %s", err, res.Payload)
					return
				}
				lat.add(time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	lat.report(b, elapsed)
}

// BenchmarkInvokeWarm is one caller on one warm environment: the latency
// of a single invocation, logs included.
func BenchmarkInvokeWarm(b *testing.B) { benchInvoke(b, &discard{}, 1, 1) }

// BenchmarkInvokeParallel keeps every environment of the default pool busy.
func BenchmarkInvokeParallel(b *testing.B) {
	benchInvoke(b, &discard{}, lambda.DefaultMaxConcurrency, 2*lambda.DefaultMaxConcurrency)
}

// BenchmarkInvokeParallelLogsStore is BenchmarkInvokeParallel writing to
// the local CloudWatch Logs store.
func BenchmarkInvokeParallelLogsStore(b *testing.B) {
	store, err := logs.NewStore("")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	benchInvoke(b, store, lambda.DefaultMaxConcurrency, 2*lambda.DefaultMaxConcurrency)
}

// BenchmarkPoolSize runs as many callers as environments, for pool sizes
// around DefaultMaxConcurrency.
func BenchmarkPoolSize(b *testing.B) {
	for _, n := range []int{2, 3, 4, 6, 8} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchInvoke(b, &discard{}, n, n) })
	}
}
