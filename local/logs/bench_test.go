package logs_test

import (
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/logs"
)

// BenchmarkAppend appends one invocation's four lines (START, dump, END,
// REPORT) per call from parallel goroutines, one stream each, as the
// Lambda pool does. Run with -cpu 2 for the 2-core target. disk writes each
// call to the file before it returns; disk-fsync also syncs it.
func BenchmarkAppend(b *testing.B) {
	for _, tc := range []struct {
		name string
		dir  func() string
		opts []logs.StoreOption
	}{
		{"memory", func() string { return "" }, nil},
		{"disk", b.TempDir, nil},
		{"disk-fsync", b.TempDir, []logs.StoreOption{logs.WithFsync()}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			store, err := logs.NewStore(tc.dir(), tc.opts...)
			require.NoError(b, err)
			defer func() { require.NoError(b, store.Close()) }()
			var streams atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				stream := fmt.Sprintf("2026/11/24/[$LATEST]%032d", streams.Add(1))
				i := 0
				for pb.Next() {
					i++
					if err := store.Append("/aws/lambda/bench", stream, invocation(b, stream+fmt.Sprint(i), time.Now())...); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invocations/s")
		})
	}
}

// loaded is a store holding 50,000 invocations (200,000 events) in 32
// streams, served over HTTP, shared by the FilterLogEvents benchmarks.
var loaded struct {
	once   sync.Once
	client *cloudwatchlogs.Client
	ids    []string
}

const loadedGroup = "/aws/lambda/bench-filter"

func load(b *testing.B) {
	loaded.once.Do(func() {
		store, err := logs.NewStore("")
		require.NoError(b, err)
		start := time.Now().Add(-time.Hour)
		for i := range 50_000 {
			id := fmt.Sprintf("id-%06d", i)
			loaded.ids = append(loaded.ids, id)
			require.NoError(b, store.Append(loadedGroup, fmt.Sprintf("env-%02d", i%32), invocation(b, id, start.Add(time.Duration(i)*time.Millisecond))...))
		}
		// The server lives as long as the benchmark binary: the next
		// benchmark reuses it.
		loaded.client = client(httptest.NewServer(logs.New(store)).URL)
	})
}

// BenchmarkFilterByEventID looks up one dump by event_id, the smoke test's
// query, through the SDK client over HTTP. The first lookup builds the
// event_id index; its time is reported as index-build-ms.
func BenchmarkFilterByEventID(b *testing.B) {
	load(b)
	c := ctx(b)
	lookup := func(id string) {
		out, err := loaded.client.FilterLogEvents(c, &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName:  aws.String(loadedGroup),
			FilterPattern: aws.String(`{ $.fields.event_id = "` + id + `" }`),
		})
		if err != nil || len(out.Events) != 1 {
			b.Fatalf("lookup %s: %d events, %v", id, len(out.Events), err)
		}
	}
	t0 := time.Now()
	lookup(loaded.ids[0])
	build := time.Since(t0)
	b.ResetTimer()
	for b.Loop() {
		lookup(loaded.ids[rand.IntN(len(loaded.ids))])
	}
	b.ReportMetric(float64(build.Milliseconds()), "index-build-ms")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkFilterScanAll pages through every dump with
// { $.fields.event_id = * } and limit 10,000, the other way to verify all
// ids; one op is a full scan of 200,000 events.
func BenchmarkFilterScanAll(b *testing.B) {
	load(b)
	c := ctx(b)
	for b.Loop() {
		n, pages := 0, 0
		p := cloudwatchlogs.NewFilterLogEventsPaginator(loaded.client, &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName:  aws.String(loadedGroup),
			FilterPattern: aws.String(`{ $.fields.event_id = * }`),
			Limit:         aws.Int32(10_000),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(c)
			require.NoError(b, err)
			n += len(out.Events)
			pages++
		}
		if n != len(loaded.ids) {
			b.Fatalf("scan found %d dumps, want %d", n, len(loaded.ids))
		}
		b.ReportMetric(float64(pages), "pages")
	}
}
