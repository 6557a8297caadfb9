package dump

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzSelect feeds bodies and body paths to the dump and checks it against
// encoding/json: the same bodies are JSON, the same value is found (after
// the same redaction), and the line is always one valid JSON line within
// its bounds. The seed corpus is in testdata/fuzz/FuzzSelect; `make test`
// runs it and `make fuzz` explores further.
func FuzzSelect(f *testing.F) {
	for _, seed := range []struct{ body, path string }{
		{`{"event_id":"e-1","type":"signup"}`, ".event_id"},
		{`{"a":{"b":[1,{"c":"d"}]}}`, ".a.b[1].c"},
		{`{"a":{"Secret":1,"x":[{"my_secret":{"y":2}}]}}`, ".a"},
		{`[1,2,[3,{"k":null}]]`, "[2][1]"},
		{`{"a":1,"a":{"b":2}}`, ".a.b"},
		{`{"\u0061":"\ud800"}`, ".a"},
		{"{\"a\":\"\xff\"}", ".a"},
		{` "text" `, ""},
		{`not json`, ""},
		{`{"a":-0.5e+10}`, ".a"},
		{`{"a":01}`, ".a"},
		{`{"a" 1}`, ".a"},
		{`[[[[[[[[[[]]]]]]]]]]`, "[0][0]"},
		{`{"secret":"s","a":1`, ""},
		{`{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, ""},
	} {
		f.Add(seed.body, seed.path)
	}
	f.Fuzz(func(t *testing.T, body, path string) {
		p, err := ParsePath("body" + path)
		if err != nil || p.src != srcBody {
			return
		}
		checkSelect(t, body, p, MaxEventBytesLimit, MaxEventBytesLimit)
		checkSelect(t, body, p, MinValueBytes+len(body)%64, minEventBytes([]Field{{Name: "v", Path: p}})+len(path)%256)
	})
}

func checkSelect(t *testing.T, body string, p Path, maxValue, maxEvent int) {
	cfg := Config{
		Fields:        []Field{{Name: "v", Path: p}, {Name: "w", Path: p}},
		RedactKeys:    []string{"secret"},
		MaxValueBytes: min(maxValue, maxEvent),
		MaxEventBytes: max(maxEvent, minEventBytes([]Field{{Name: "v", Path: p}, {Name: "w", Path: p}})),
	}
	var out bytes.Buffer
	d := New(cfg, WithOutput(&out))
	d.dump(t.Context(), &events.APIGatewayProxyRequest{Body: body}, "id")

	line := out.Bytes()
	require.Equal(t, 1, bytes.Count(line, []byte("\n")), "one line: %q", line)
	require.True(t, json.Valid(line), "valid JSON: %q", line)
	require.LessOrEqual(t, len(line), cfg.MaxEventBytes)
	var got struct {
		Fields    map[string]json.RawMessage `json:"fields"`
		Truncated []string                   `json:"truncated"`
		BodyError string                     `json:"body_error"`
	}
	require.NoError(t, json.Unmarshal(line, &got))
	for _, raw := range got.Fields {
		require.LessOrEqual(t, len(raw), cfg.MaxValueBytes, "value within DUMP_MAX_VALUE_BYTES")
	}
	raw, found := got.Fields["v"]
	cut := len(got.Truncated) > 0

	switch {
	case strings.Trim(body, " \t\r\n") == "":
		assert.False(t, found)
		if len(p.steps) > 0 {
			assert.Equal(t, bodyEmpty, got.BodyError)
		}
	case !json.Valid([]byte(body)) || jsonDepth(body) > MaxDepth:
		if len(p.steps) > 0 {
			assert.False(t, found, "nothing is read from a body that is not JSON")
			assert.Contains(t, []string{bodyNotJSON, bodyTooDeep}, got.BodyError)
			break
		}
		require.True(t, found, "the whole body is kept as text")
		if !cut {
			kept := decodeAny(t, raw)
			switch {
			case leaks(body, "secret"):
				assert.Equal(t, "[REDACTED]", kept, "a body that names a key, even encoded, is redacted whole")
			case strings.ContainsAny(body, `%\`):
				// Partly decodable text may name the key once decoded.
				assert.Contains(t, []string{string([]rune(body)), "[REDACTED]"}, kept)
			default:
				assert.Equal(t, string([]rune(body)), kept, "the whole body as text when it names no key")
			}
		}
	default:
		assert.Empty(t, got.BodyError)
		want, ok := oracle(t, body, p.steps)
		require.Equal(t, ok, found, "found by encoding/json as well")
		if ok && !cut {
			assert.Equal(t, want, decodeAny(t, raw))
		}
	}
}

// oracle selects with encoding/json and redacts like the dump.
func oracle(t *testing.T, body string, steps []step) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	redact := false
	for _, s := range steps {
		switch x := v.(type) {
		case map[string]any:
			if s.isIndex {
				return nil, false
			}
			var ok bool
			if v, ok = x[s.key]; !ok {
				return nil, false
			}
			redact = redact || containsFold(s.key, "secret")
		case []any:
			if !s.isIndex || s.index >= len(x) {
				return nil, false
			}
			v = x[s.index]
		default:
			return nil, false
		}
	}
	if redact {
		return "[REDACTED]", true
	}
	return redactAny(v), true
}

func redactAny(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if containsFold(k, "secret") {
				x[k] = "[REDACTED]"
			} else {
				x[k] = redactAny(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = redactAny(e)
		}
	}
	return v
}

func decodeAny(t *testing.T, raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}

// jsonDepth is the deepest nesting of valid JSON.
func jsonDepth(s string) int {
	depth, deepest := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			for i++; s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ']', '}':
			depth--
		}
	}
	return deepest
}

// leaks reports whether body names key as it is or decoded by the standard
// library: as a URL query, as a URL path, or as the text of a JSON string.
func leaks(body, key string) bool {
	texts := []string{body}
	if d, err := url.QueryUnescape(body); err == nil {
		texts = append(texts, d)
	}
	if d, err := url.PathUnescape(body); err == nil {
		texts = append(texts, d)
	}
	var d string
	if json.Unmarshal([]byte(`"`+body+`"`), &d) == nil {
		texts = append(texts, d)
	}
	for _, t := range texts {
		if containsFold(t, key) {
			return true
		}
	}
	return false
}
