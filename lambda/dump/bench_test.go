package dump

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"
)

// benchFields are the five fields both sides of the benchmark select.
var benchFields = []struct {
	name string
	path string
	walk []any // the same path for the naive side: string keys, int indexes
}{
	{"event_id", "body.event_id", []any{"event_id"}},
	{"type", "body.type", []any{"type"}},
	{"user_id", "body.user.id", []any{"user", "id"}},
	{"sku", "body.order.items[1].sku", []any{"order", "items", 1, "sku"}},
	{"trace_id", "body.meta.trace_id", []any{"meta", "trace_id"}},
}

// benchBodies returns the 1 KB sample body and a 256 KB one made from it
// by a long order history placed before the last selected field.
func benchBodies(tb testing.TB) map[string]string {
	b, err := os.ReadFile("testdata/bench/body-1kb.json")
	require.NoError(tb, err)
	small := string(b)
	var history strings.Builder
	for i := 0; history.Len() < 256<<10-len(small); i++ {
		if i > 0 {
			history.WriteString(",")
		}
		history.WriteString(`{"sku":"TSH-BLU-M","name":"T-shirt, blue, M","qty":2,"price":3200,"at":"2026-11-24T12:00:00Z"}`)
	}
	large := strings.Replace(small, `"gift": false`, `"gift": false, "history": [`+history.String()+`]`, 1)
	return map[string]string{"1KB": small, "256KB": large}
}

// naiveDump is the approach the dump is measured against: decode the whole
// body into map[string]any, pick the fields, and log them with slog.
func naiveDump(logger *slog.Logger, req *events.APIGatewayProxyRequest, awsID string) {
	var m map[string]any
	if err := json.Unmarshal([]byte(req.Body), &m); err != nil {
		return
	}
	fields := make(map[string]any, len(benchFields))
	for _, f := range benchFields {
		var v any = m
		for _, k := range f.walk {
			switch k := k.(type) {
			case string:
				obj, _ := v.(map[string]any)
				v = obj[k]
			case int:
				arr, _ := v.([]any)
				if k < len(arr) {
					v = arr[k]
				} else {
					v = nil
				}
			}
		}
		if v != nil {
			fields[f.name] = v
		}
	}
	logger.LogAttrs(context.Background(), slog.LevelInfo, Message,
		slog.String("aws_request_id", awsID),
		slog.String("api_request_id", req.RequestContext.RequestID),
		slog.Any("fields", fields))
}

// BenchmarkDump compares the dump with the naive approach on the same
// requests in one run: go test -run '^$' -bench Dump -benchmem ./lambda/dump
func BenchmarkDump(b *testing.B) {
	spec := make([]string, len(benchFields))
	for i, f := range benchFields {
		spec[i] = f.name + "=" + f.path
	}
	cfg, err := LoadConfig(env(map[string]string{EnvFields: strings.Join(spec, ",")}))
	require.NoError(b, err)
	d := New(cfg, WithOutput(io.Discard))
	naive := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx := context.Background()

	bodies := benchBodies(b)
	for _, size := range []string{"1KB", "256KB"} {
		req := &events.APIGatewayProxyRequest{
			Body:           bodies[size],
			RequestContext: events.APIGatewayProxyRequestContext{RequestID: "deef4878-7910-11e6-8f14-25afc3e9ae33"},
		}
		b.Run(size+"/dump", func(b *testing.B) {
			b.SetBytes(int64(len(req.Body)))
			b.ReportAllocs()
			for b.Loop() {
				d.dump(ctx, req, "8f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b")
			}
		})
		b.Run(size+"/naive", func(b *testing.B) {
			b.SetBytes(int64(len(req.Body)))
			b.ReportAllocs()
			for b.Loop() {
				naiveDump(naive, req, "8f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b")
			}
		})
	}
}

// env serves LoadConfig from a map, as os.LookupEnv would.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// BenchmarkLists compares writing a dump's absent or truncated list with
// encoding/json (what slog.JSONHandler does) and by hand, on the same
// list in one run: go test -run '^$' -bench Lists -benchmem ./lambda/dump
func BenchmarkLists(b *testing.B) {
	list := []string{"user_id", "attributes"}
	buf := make([]byte, 0, 256)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = appendMarshal(buf[:0], list)
		}
	})
	b.Run("by-hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = appendStrings(buf[:0], list)
		}
	})
}
