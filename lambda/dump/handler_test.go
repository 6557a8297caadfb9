package dump

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLineHandlerConformance runs the standard library's handler checks.
func TestLineHandlerConformance(t *testing.T) {
	var buf bytes.Buffer
	h := newLineHandler(&buf, slog.LevelInfo)
	err := slogtest.TestHandler(h, func() []map[string]any {
		var lines []map[string]any
		for _, line := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
			var m map[string]any
			require.NoError(t, json.Unmarshal(line, &m), "line %s", line)
			lines = append(lines, m)
		}
		return lines
	})
	require.NoError(t, err)
}

// TestLineHandlerMatchesJSONHandler writes the same records with both
// handlers and expects the same bytes.
func TestLineHandlerMatchesJSONHandler(t *testing.T) {
	at := time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)
	type marshaler struct{ A string }
	tests := []struct {
		name  string
		attrs []slog.Attr
		with  func(slog.Handler) slog.Handler
	}{
		{name: "scalars", attrs: []slog.Attr{
			slog.String("s", "a\"b\\c\n<&>\u2028\xff"), slog.Int("i", -3), slog.Uint64("u", 7),
			slog.Bool("b", true), slog.Duration("d", time.Second), slog.Time("t", at),
			slog.Float64("f", 1.5), slog.Float64("big", 1e21),
		}},
		{name: "any values", attrs: []slog.Attr{
			slog.Any("list", []string{"a", "b"}), slog.Any("odd list", []string{"", "q\"<&>\u2028\xff"}),
			slog.Any("empty list", []string{}), slog.Any("nil list", []string(nil)), slog.Any("err", errors.New("boom")),
			slog.Any("m", marshaler{A: "x"}), slog.Any("nil", nil), slog.Any("ch", make(chan int)),
		}},
		{name: "groups", attrs: []slog.Attr{
			slog.Group("g", slog.Int("a", 1), slog.Group("h", slog.String("b", "c"))),
			slog.Group("empty"), slog.Group("", slog.Int("inline", 2)), {},
		}},
		{name: "with attrs and groups", attrs: []slog.Attr{slog.Int("x", 1)},
			with: func(h slog.Handler) slog.Handler {
				return h.WithAttrs([]slog.Attr{slog.String("svc", "dump")}).WithGroup("req").WithAttrs([]slog.Attr{slog.Int("n", 2)}).WithGroup("inner")
			}},
		{name: "group without attrs", attrs: nil,
			with: func(h slog.Handler) slog.Handler { return h.WithGroup("g") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, want bytes.Buffer
			hs := []slog.Handler{newLineHandler(&got, slog.LevelInfo), slog.NewJSONHandler(&want, nil)}
			for _, h := range hs {
				if tt.with != nil {
					h = tt.with(h)
				}
				r := slog.NewRecord(at, slog.LevelWarn, "hello", 0)
				r.AddAttrs(tt.attrs...)
				require.NoError(t, h.Handle(t.Context(), r))
			}
			assert.Equal(t, want.String(), got.String())
		})
	}
}
