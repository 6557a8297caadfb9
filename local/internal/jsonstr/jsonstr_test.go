package jsonstr_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/internal/jsonstr"
)

func marshal(t testing.TB, s string) string {
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}

func TestAppendIsJSONMarshal(t *testing.T) {
	for name, s := range map[string]string{
		"empty":               "",
		"plain":               "request dump",
		"quotes and escapes":  `a "quoted" \ back\slash`,
		"short escapes":       "\b\f\n\r\t",
		"control characters":  "\x00\x01\x1f\x7f",
		"HTML":                "<script>a && b</script>",
		"multi-byte":          "héllo, 世界, 🎉",
		"line separators":     "a\u2028b\u2029c",
		"invalid UTF-8":       "a\xffb\xc3(c\xed\xa0\x80",
		"truncated rune":      "end\xe4\xb8",
		"escape at the start": "\"x",
		"escape at the end":   "x\n",
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, marshal(t, s), string(jsonstr.Append(nil, s)))
		})
	}
}

func TestAppendKeepsWhatIsThere(t *testing.T) {
	assert.Equal(t, `{"a":"b\n"`, string(jsonstr.Append([]byte(`{"a":`), "b\n")))
}

func FuzzAppendIsJSONMarshal(f *testing.F) {
	for _, s := range []string{"", "plain", "<&>", "\u2028", "\xff", "\x00\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(jsonstr.Append(nil, s)), marshal(t, s); got != want {
			t.Fatalf("Append(%q) = %s, json.Marshal: %s", s, got, want)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	s := `{"event_id":"bench-1","type":"bench","user":{"id":"u-1"},"attributes":{"password":"x"}}`
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = jsonstr.Append(buf[:0], s)
	}
}
