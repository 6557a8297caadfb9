package jsontop_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/internal/jsontop"
)

// checkMembers holds Members to encoding/json: the same verdict on s, and
// the same value for every key (the last of duplicates).
func checkMembers(t *testing.T, s string) {
	var want map[string]json.RawMessage
	wantOK := json.Unmarshal([]byte(s), &want) == nil && want != nil
	got := map[string]any{}
	ok := jsontop.Members(s, func(key, value string) bool {
		var v any
		require.NoError(t, json.Unmarshal([]byte(value), &v), "member %q of %q: %q", key, s, value)
		got[key] = v
		return true
	})
	require.Equal(t, wantOK, ok, "verdict on %q", s)
	if !ok {
		return
	}
	require.Len(t, got, len(want), "members of %q", s)
	for k, raw := range want {
		var v any
		require.NoError(t, json.Unmarshal(raw, &v))
		assert.Equal(t, v, got[k], "member %q of %q", k, s)
	}
}

func TestMembersAreEncodingJSONs(t *testing.T) {
	for _, s := range []string{
		`{"time":"2026-12-04T15:04:05Z","level":"INFO","msg":"request dump","fields":{"msg":"inner"}}`,
		` { "msg" : "a" , "n" : -1.5e3 , "o" : { "x" : [1, "}", {"y": null}] } } `,
		`{"msg":"first","msg":"last"}`,
		`{"m\u0073g":"escaped key","n":true}`,
		`{"msg":"esc\"aped \\ \u00e9\n"}`,
		`{"a":[[[]]],"msg":null,"n":0,"e":{}}`,
		`{}`, `{"msg":1}x`, `{"msg":}`, `[1]`, `"msg"`, ``, `   `, `{"msg":"a"`, `null`,
	} {
		checkMembers(t, s)
	}
}

func TestMembersStopsWhenAsked(t *testing.T) {
	var keys []string
	assert.True(t, jsontop.Members(`{"a":1,"b":2,"c":3}`, func(key, _ string) bool {
		keys = append(keys, key)
		return key != "b"
	}))
	assert.Equal(t, []string{"a", "b"}, keys)
}

func TestUnquoteIsEncodingJSONs(t *testing.T) {
	for _, tok := range []string{`"plain"`, `"esc\"aped\n"`, `"\u00e9"`, "\"bad \xff\"", `""`} {
		var want string
		require.NoError(t, json.Unmarshal([]byte(tok), &want))
		got, ok := jsontop.Unquote(tok)
		assert.True(t, ok)
		assert.Equal(t, want, got, tok)
	}
	for _, tok := range []string{`1`, `null`, `{}`, `x`} {
		_, ok := jsontop.Unquote(tok)
		assert.False(t, ok, tok)
	}
}

func FuzzMembersAreEncodingJSONs(f *testing.F) {
	f.Add(`{"msg":"request dump","n":1,"o":{"msg":2}}`)
	f.Add(`{"m\u0073g":[1,{"}":"]"}],"n":"\ud800"}`)
	f.Fuzz(checkMembers)
}
