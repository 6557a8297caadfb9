package dump

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// lineHandler is a slog.Handler that writes each record as one JSON line,
// with the keys and value encodings of slog.JSONHandler, except that a
// *rawJSON value (the dump's fields, encoded and bounded already) is
// written as it is. slog.JSONHandler sends such a value through
// encoding/json's encoder and compactor, which took a third of a dump's
// time in BenchmarkDump. A []string (the absent and truncated lists) is
// encoded here too, to the same bytes; nothing else differs from it.
type lineHandler struct {
	out     *output
	level   slog.Leveler
	pre     []byte   // attrs and groups from WithAttrs and WithGroup, encoded
	open    int      // groups opened in pre
	pending []string // groups named by WithGroup and not opened yet
}

// output serialises the writes of a handler and of those derived from it,
// one Write per line.
type output struct {
	mu   sync.Mutex
	w    io.Writer
	bufs sync.Pool
}

func newLineHandler(w io.Writer, level slog.Leveler) *lineHandler {
	out := &output{w: w}
	out.bufs.New = func() any { return new([]byte) }
	return &lineHandler{out: out, level: level}
}

// Enabled reports whether level is at or above the handler's level.
func (h *lineHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// WithAttrs returns a handler that adds attrs to every line.
func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	// The leading space stands for the line before pre, which never ends
	// with an opening brace, so the first attr gets its comma.
	buf := append([]byte{' '}, h.pre...)
	buf = appendGroups(buf, h.pending)
	opened := len(buf)
	for _, a := range attrs {
		buf = appendAttr(buf, a)
	}
	if len(buf) == opened {
		return h
	}
	h2 := *h
	h2.pre = buf[1:]
	h2.open += len(h.pending)
	h2.pending = nil
	return &h2
}

// WithGroup returns a handler that puts later attrs in group name.
func (h *lineHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.pending = append(append([]string(nil), h.pending...), name)
	return &h2
}

// Handle writes r as one line.
func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	bp := h.out.bufs.Get().(*[]byte)
	defer h.out.bufs.Put(bp)
	buf := append((*bp)[:0], '{')
	if !r.Time.IsZero() {
		buf = append(buf, `"time":"`...)
		buf = r.Time.AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, `",`...)
	}
	buf = append(buf, `"level":`...)
	buf, _ = appendString(buf, r.Level.String(), maxInt)
	buf = append(buf, `,"msg":`...)
	buf, _ = appendString(buf, r.Message, maxInt)
	buf = append(buf, h.pre...)
	closing := h.open
	if r.NumAttrs() > 0 {
		mark := len(buf)
		buf = appendGroups(buf, h.pending)
		opened := len(buf)
		r.Attrs(func(a slog.Attr) bool {
			buf = appendAttr(buf, a)
			return true
		})
		if len(buf) == opened {
			buf = buf[:mark]
		} else {
			closing += len(h.pending)
		}
	}
	for range closing {
		buf = append(buf, '}')
	}
	buf = append(buf, "}\n"...)
	*bp = buf
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	_, err := h.out.w.Write(buf)
	return err
}

const maxInt = int(^uint(0) >> 1)

func appendGroups(buf []byte, names []string) []byte {
	for _, name := range names {
		buf = appendKey(buf, name)
		buf = append(buf, '{')
	}
	return buf
}

// appendKey appends `,"key":`, without the comma right after an opening brace.
func appendKey(buf []byte, key string) []byte {
	if len(buf) > 0 && buf[len(buf)-1] != '{' {
		buf = append(buf, ',')
	}
	buf, _ = appendString(buf, key, maxInt)
	return append(buf, ':')
}

// appendAttr appends a as slog.JSONHandler would: empty attrs and empty
// groups are left out, a group with an empty key is inlined.
func appendAttr(buf []byte, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return buf
	}
	if a.Value.Kind() != slog.KindGroup {
		buf = appendKey(buf, a.Key)
		return appendValue(buf, a.Value)
	}
	attrs := a.Value.Group()
	if a.Key == "" {
		for _, g := range attrs {
			buf = appendAttr(buf, g)
		}
		return buf
	}
	mark := len(buf)
	buf = appendKey(buf, a.Key)
	buf = append(buf, '{')
	opened := len(buf)
	for _, g := range attrs {
		buf = appendAttr(buf, g)
	}
	if len(buf) == opened {
		return buf[:mark]
	}
	return append(buf, '}')
}

func appendValue(buf []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		buf, _ = appendString(buf, v.String(), maxInt)
	case slog.KindInt64:
		buf = strconv.AppendInt(buf, v.Int64(), 10)
	case slog.KindUint64:
		buf = strconv.AppendUint(buf, v.Uint64(), 10)
	case slog.KindBool:
		buf = strconv.AppendBool(buf, v.Bool())
	case slog.KindDuration:
		buf = strconv.AppendInt(buf, int64(v.Duration()), 10)
	case slog.KindTime:
		buf = append(buf, '"')
		buf = v.Time().AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, '"')
	case slog.KindFloat64:
		buf = appendMarshal(buf, v.Float64())
	default:
		switch a := v.Any().(type) {
		case *rawJSON:
			buf = append(buf, a.b...)
		case []string:
			// The absent and truncated lists of a dump line: encoded here,
			// as encoding/json would, without its per-call allocations.
			buf = appendStrings(buf, a)
		case json.Marshaler:
			buf = appendMarshal(buf, a)
		case error:
			buf, _ = appendString(buf, a.Error(), maxInt)
		default:
			buf = appendMarshal(buf, a)
		}
	}
	return buf
}

// appendStrings appends list as a JSON array of strings; nil is null, as
// encoding/json writes it.
func appendStrings(buf []byte, list []string) []byte {
	if list == nil {
		return append(buf, "null"...)
	}
	buf = append(buf, '[')
	for i, s := range list {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf, _ = appendString(buf, s, maxInt)
	}
	return append(buf, ']')
}

// appendMarshal encodes v with encoding/json, without HTML escapes, and
// writes "!ERROR:…" instead when it cannot, as slog.JSONHandler does.
func appendMarshal(buf []byte, v any) []byte {
	var bb bytes.Buffer
	enc := json.NewEncoder(&bb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf, _ = appendString(buf, "!ERROR:"+err.Error(), maxInt)
		return buf
	}
	return append(buf, bytes.TrimSuffix(bb.Bytes(), []byte("\n"))...)
}
