package filter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkPartialDecode holds decodeObject with keys to the whole decode:
// the same verdict, and the same value for each key asked for.
func checkPartialDecode(t *testing.T, message string, keys map[string]bool) {
	full, fullOK := decodeAll(message)
	part, ok := decodeObject(message, keys)
	require.Equal(t, fullOK, ok, "verdict on %q", message)
	if !ok {
		return
	}
	for k := range keys {
		want, inFull := full[k]
		got, inPart := part[k]
		require.Equal(t, inFull, inPart, "key %q of %q", k, message)
		require.Equal(t, want, got, "key %q of %q", k, message)
	}
	for k := range part {
		assert.True(t, keys[k], "decoded %q, which was not asked for", k)
	}
}

func TestPartialDecodeIsWholeDecode(t *testing.T) {
	keys := map[string]bool{"msg": true, "n": true, "o": true, "é": true}
	for _, m := range []string{
		`{"time":"2026-12-04T15:04:05Z","level":"INFO","msg":"request dump","fields":{"msg":"inner"}}`,
		` { "msg" : "a" , "n" : -1.5e3 , "o" : { "x" : [1, "}", {"y": null}] } } `,
		`{"msg":"first","msg":"last"}`,
		`{"m\u0073g":"escaped key","n":true}`,
		`{"msg":"esc\"aped \\ \u00e9\n"}`,
		`{"msg":"bad \xff utf-8"}`,
		`{"é":false,"other":[]}`,
		`{}`, `{"msg":1}x`, `{"msg":}`, `[1]`, `"msg"`, ``, `   `, `{"msg":"a"`,
		`{"a":[[[]]],"msg":null,"n":0}`,
	} {
		checkPartialDecode(t, m, keys)
	}
}

func FuzzPartialDecodeIsWholeDecode(f *testing.F) {
	f.Add(`{"msg":"request dump","n":1,"o":{"msg":2}}`)
	f.Add(`{"m\u0073g":[1,{"}":"]"}],"n":"\ud800"}`)
	f.Fuzz(func(t *testing.T, message string) {
		checkPartialDecode(t, message, map[string]bool{"msg": true, "n": true, "o": true})
	})
}

func TestTopKeys(t *testing.T) {
	for src, want := range map[string]map[string]bool{
		`{ $.msg = "request dump" }`:                       {"msg": true},
		`{ ($.a.b = 1) && ($.c[0] = "x" || $.d IS NULL) }`: {"a": true, "c": true, "d": true},
		`{ $.* = "x" }`:                                    nil,
		`{ $.a = 1 || $.*.b = 2 }`:                         nil,
	} {
		p, err := Parse(src)
		require.NoError(t, err, src)
		assert.Equal(t, want, p.keys, src)
	}
}

// BenchmarkMatchDumpLine: the metric filter of terraform/service on a dump
// line, decoding only the members its selector reads, and (for
// comparison) decoding the whole line as Match did before.
func BenchmarkMatchDumpLine(b *testing.B) {
	p, err := Parse(`{ $.msg = "request dump" }`)
	require.NoError(b, err)
	line := `{"time":"2026-12-04T15:04:05.123456789Z","level":"INFO","msg":"request dump","aws_request_id":"c6af9ac6-7b61-41a4-9c2d-7e3b5f0a1d2e","api_request_id":"0f3c8a9e-1b2c-4d5e-8f90-a1b2c3d4e5f6","fields":{"event_id":"bench-1","type":"bench","user":{"id":"u-1"}}}`
	b.Run("selected members", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !p.Match(line) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("whole line", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			doc, ok := decodeAll(line)
			if !ok || !p.json.eval(doc) {
				b.Fatal("no match")
			}
		}
	})
}
