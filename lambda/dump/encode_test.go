package dump

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	inputs := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `-0.0e-0`, `1E+2`, `true`, `false`, `null`, ` {"a" : [ 1 , "b" , { } ] } `,
		`{"a":"\u00e9\ud83d\ude00\/"}`, "\"caf\xc3\xa9\xff\"",
		``, ` `, `{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,"a":1}`, `{"a" 1}`, `{1:2}`,
		`01`, `1.`, `.1`, `1e`, `1e+`, `-`, `+1`, `0x1`, `NaN`, `Infinity`, `tru`, `nulll`, `"a`, `"\x"`, `"\u12"`, `"\u12g4"`,
		"\"\x00\"", "\"\x1f\"", "\"\t\"", `"\'"`, `{"a":1}{}`, `[] []`, "\v1", "1\f", `[1 2]`, `{"a":1 "b":2}`,
	}
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			var sc scanner
			sc.reset(in)
			var kind tokenKind
			for kind = tokObjectBegin; kind != tokEOF && kind != tokError; kind, _, _ = sc.next() {
			}
			assert.Equal(t, json.Valid([]byte(in)), kind == tokEOF)
		})
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		limit   int
		want    string
		wantCut bool
	}{
		{"plain", "abc", 100, `"abc"`, false},
		{"exact fit", "abc", 5, `"abc"`, false},
		{"one short", "abc", 4, `"ab"`, true},
		{"escapes", "\"\\\n\r\t\x01\x1f", 100, `"\"\\\n\r\t\u0001\u001f"`, false},
		{"no HTML escapes", "<&>", 100, `"<&>"`, false},
		{"line separators", "\u2028\u2029", 100, `"\u2028\u2029"`, false},
		{"invalid UTF-8", "a\xffb\xc3", 100, `"a\ufffdb\ufffd"`, false},
		{"cut before a multi-byte character", "aé", 4, `"a"`, true},
		{"cut before an escape", "a\n", 4, `"a"`, true},
		{"room for nothing", "abc", 2, `""`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := appendString(nil, tt.in, tt.limit)
			assert.Equal(t, tt.want, string(got))
			assert.Equal(t, tt.wantCut, cut)
			assert.LessOrEqual(t, len(got), max(tt.limit, 2))
			assert.LessOrEqual(t, len(got), stringBound(tt.in))
			require.True(t, json.Valid(got))
		})
	}
}

func TestRedactorMatch(t *testing.T) {
	r := redactor{"password", "token", "secret", "authorization", "cookie"}
	for key, want := range map[string]bool{
		"password": true, "PASSWORD": true, "new_Password": true, "access_token": true, "X-CSRF-Token": true,
		"client_secret": true, "Proxy-Authorization": true, "Set-Cookie": true,
		"pass": false, "user": false, "tok": false, "": false, "pässword": false,
	} {
		assert.Equal(t, want, r.match(key), key)
	}
}

func TestAppendRaw(t *testing.T) {
	r := redactor{"secret"}
	tests := []struct {
		name, in, want string
		limit          int
		whole          bool
	}{
		{"compacts", " { \"a\" : [ 1 , true , null ] } ", `{"a":[1,true,null]}`, 100, true},
		{"redacts nested values of any type", `{"a":{"Secret":{"x":[1,{"y":2}]},"b":[{"my_secret":[1,2]},"ok"]},"c":1}`,
			`{"a":{"Secret":"[REDACTED]","b":[{"my_secret":"[REDACTED]"},"ok"]},"c":1}`, 100, true},
		{"redacts escaped keys", `{"s\u0065cret":1}`, `{"s\u0065cret":"[REDACTED]"}`, 100, true},
		{"re-encodes invalid UTF-8", "[\"\xff\"]", "[\"\ufffd\"]", 100, true},
		{"reports what does not fit", `[1,2,3,4,5,6,7,8,9]`, `[1,2,3,4`, 7, false},
		{"reports text that is not JSON", `[1,`, `[1`, 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sc scanner
			got, whole := r.appendRaw(nil, &sc, tt.in, tt.limit)
			assert.Equal(t, tt.whole, whole)
			if whole {
				assert.Equal(t, tt.want, string(got))
			} else {
				assert.True(t, strings.HasPrefix(string(got), tt.want), "%s", got)
			}
		})
	}
}

func TestFairCap(t *testing.T) {
	tests := []struct {
		sizes []int
		avail int
		want  int
	}{
		{[]int{10, 20, 30}, 60, maxInt},
		{[]int{10, 1000, 1000}, 410, 200},
		{[]int{1000, 10, 1000}, 30, 10},
		{[]int{5, 5}, 4, 2},
	}
	for _, tt := range tests {
		got := fairCap(append([]int(nil), tt.sizes...), tt.avail)
		assert.Equal(t, tt.want, got, "%v in %d", tt.sizes, tt.avail)
		total := 0
		for _, s := range tt.sizes {
			total += min(s, got)
		}
		assert.LessOrEqual(t, total, tt.avail)
	}
}
