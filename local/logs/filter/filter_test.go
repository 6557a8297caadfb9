package filter_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/logs/filter"
)

// examples are the patterns and log events of AWS's filter pattern
// documentation, with the outcome the documentation gives.
type examples struct {
	Messages map[string]string `json:"messages"`
	Cases    []struct {
		Source  string   `json:"source"`
		Pattern string   `json:"pattern"`
		Match   []string `json:"match"`
		NoMatch []string `json:"nomatch"`
	} `json:"cases"`
	Invalid []struct {
		Pattern string `json:"pattern"`
		Reason  string `json:"reason"`
	} `json:"invalid"`
}

func loadExamples(t *testing.T) examples {
	t.Helper()
	raw, err := os.ReadFile("testdata/aws_examples.json")
	require.NoError(t, err)
	var ex examples
	require.NoError(t, json.Unmarshal(raw, &ex))
	require.NotEmpty(t, ex.Cases)
	return ex
}

func TestAWSExamples(t *testing.T) {
	ex := loadExamples(t)
	for _, c := range ex.Cases {
		t.Run(c.Source+"/"+c.Pattern, func(t *testing.T) {
			require.NotEmpty(t, len(c.Match)+len(c.NoMatch), "a case must check something")
			p, err := filter.Parse(c.Pattern)
			require.NoError(t, err)
			for _, name := range c.Match {
				msg, ok := ex.Messages[name]
				require.True(t, ok, "unknown message %q", name)
				assert.True(t, p.Match(msg), "%s should match %q", c.Pattern, msg)
			}
			for _, name := range c.NoMatch {
				msg, ok := ex.Messages[name]
				require.True(t, ok, "unknown message %q", name)
				assert.False(t, p.Match(msg), "%s should not match %q", c.Pattern, msg)
			}
		})
	}
}

func TestInvalidPatterns(t *testing.T) {
	ex := loadExamples(t)
	require.NotEmpty(t, ex.Invalid)
	for _, c := range ex.Invalid {
		t.Run(c.Pattern, func(t *testing.T) {
			p, err := filter.Parse(c.Pattern)
			require.Error(t, err, "parsed as %#v", p)
			var fe *filter.Error
			require.True(t, errors.As(err, &fe))
			assert.Contains(t, fe.Reason, c.Reason)
			assert.Equal(t, c.Pattern, fe.Pattern)
			assert.GreaterOrEqual(t, fe.Offset, 0)
			assert.LessOrEqual(t, fe.Offset, len(c.Pattern))
		})
	}
}

func TestMatchesAll(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		all     bool
	}{
		{"", true},
		{"   ", true},
		{`""`, true},
		{`"" ""`, true},
		{`" "`, true},
		{"ERROR", false},
		{`-""`, false},
		{"{ $.a = * }", false},
		{"[a]", false},
		{"%a%", false},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := filter.Parse(tc.pattern)
			require.NoError(t, err)
			assert.Equal(t, tc.all, p.MatchesAll())
			assert.Equal(t, tc.pattern, p.String())
		})
	}
}

func TestIndexTerm(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		path    string
		text    string
		ok      bool
	}{
		{`{ $.fields.event_id = "e-1" }`, "$.fields.event_id", "e-1", true},
		{`{ $.fields.event_id = e-1 }`, "$.fields.event_id", "e-1", true},
		{`{ $.level = "INFO" && $.fields.type = "signup" }`, "$.level", "INFO", true},
		{`{ $.n > 1 && ($.a[0] = "x") }`, "$.a[0]", "x", true},
		{`{ $.fields.event_id = * }`, "", "", false},
		{`{ $.fields.event_id = "e-*" }`, "", "", false},
		{`{ $.fields.event_id != "e-1" }`, "", "", false},
		{`{ $.a = "x" || $.b = "y" }`, "", "", false},
		{`{ $.n = 1 }`, "", "", false},
		{`{ $.a = %x% }`, "", "", false},
		{`{ $.['cluster.name'] = "c" }`, "$.['cluster.name']", "c", true},
		{`{ $.users[*].email = "x" }`, "", "", false},
		{`{ $.* = "x" && $.a = "y" }`, "$.a", "y", true},
		{`e-1`, "", "", false},
		{`[a = x]`, "", "", false},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := filter.Parse(tc.pattern)
			require.NoError(t, err)
			path, text, ok := p.IndexTerm()
			require.Equal(t, tc.ok, ok)
			if ok {
				assert.Equal(t, tc.path, path.String())
				assert.Equal(t, tc.text, text)
			}
		})
	}
}

// TestPathText checks that the index key agrees with the pattern: an event
// the pattern matches has the pattern's text at the selector.
func TestPathText(t *testing.T) {
	p, err := filter.Parse(`{ $.fields.event_id = "200" }`)
	require.NoError(t, err)
	path, text, ok := p.IndexTerm()
	require.True(t, ok)
	for _, tc := range []struct {
		msg   string
		text  string
		ok    bool
		match bool
	}{
		{`{"fields":{"event_id":"200"}}`, "200", true, true},
		{`{"fields":{"event_id":200}}`, "200", true, true},
		{`{"fields":{"event_id":"201"}}`, "201", true, false},
		{`{"fields":{"event_id":true}}`, "true", true, false},
		{`{"fields":{"event_id":null}}`, "", false, false},
		{`{"fields":{"event_id":["200"]}}`, "", false, false},
		{`{"fields":{}}`, "", false, false},
		{`{"fields":"200"}`, "", false, false},
		{`{"fields":{"event_id":"200"}} trailing`, "", false, false},
		{`not json`, "", false, false},
		{`["200"]`, "", false, false},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			got, ok := path.Text(tc.msg)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.text, got)
			assert.Equal(t, tc.match, p.Match(tc.msg))
			if tc.match {
				assert.Equal(t, text, got)
			}
		})
	}
}

func BenchmarkMatchJSON(b *testing.B) {
	p, err := filter.Parse(`{ $.fields.event_id = "e-1" }`)
	require.NoError(b, err)
	msg := `{"time":"2026-11-24T12:00:00.123456789Z","level":"INFO","msg":"request dump","aws_request_id":"8f5c2c1e-1111-2222-3333-444455556666","api_request_id":"c0ffee00-aaaa-bbbb-cccc-ddddeeeeffff","fields":{"event_id":"e-1","type":"signup"}}`
	b.ReportAllocs()
	for b.Loop() {
		if !p.Match(msg) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatchTerms(b *testing.B) {
	p, err := filter.Parse(`?ERROR ?WARN -DEBUG "request dump"`)
	require.NoError(b, err)
	msg := `{"time":"2026-11-24T12:00:00.123456789Z","level":"WARN","msg":"request dump","fields":{"event_id":"e-1"}}`
	b.ReportAllocs()
	for b.Loop() {
		if !p.Match(msg) {
			b.Fatal("no match")
		}
	}
}
