// Package jsontop reads the top-level members of a JSON object without
// decoding their values: a log line's level, or the few members a metric
// filter's selectors read, out of every line a function logs.
//
// Written by hand because encoding/json decodes a whole document (into
// maps, or into a struct after checking it all) and json.Decoder's tokens
// cost an allocation each; the local stack looks at several lines per
// request, and decoding them whole was 8 % of its CPU under load.
package jsontop

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Members calls fn with the key and the raw JSON text of each top-level
// member of the JSON object s, in order, until fn returns false. It
// reports false, calling fn never, when s is not exactly one valid JSON
// object (white space around it aside).
func Members(s string, fn func(key, value string) bool) bool {
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '{' || !json.Valid([]byte(s)) {
		return false
	}
	for i = skipSpace(s, i+1); s[i] != '}'; i = skipSpace(s, i) {
		if s[i] == ',' {
			i = skipSpace(s, i+1)
		}
		end := stringEnd(s, i)
		key, _ := Unquote(s[i:end])
		i = skipSpace(s, skipSpace(s, end)+1) // past the ':'
		valueEnd := skipValue(s, i)
		if !fn(key, s[i:valueEnd]) {
			break
		}
		i = valueEnd
	}
	return true
}

// Unquote returns the text of a valid JSON string token as encoding/json
// decodes it, and false for any other token. It needs no decoder when the
// string has no escapes and is valid UTF-8 (the decoder replaces invalid
// bytes with U+FFFD).
func Unquote(tok string) (string, bool) {
	if len(tok) < 2 || tok[0] != '"' {
		return "", false
	}
	s := tok[1 : len(tok)-1]
	if !strings.Contains(s, `\`) && utf8.ValidString(s) {
		return s, true
	}
	var out string
	if json.Unmarshal([]byte(tok), &out) != nil {
		return "", false
	}
	return out, true
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just after the valid JSON string at s[i].
func stringEnd(s string, i int) int {
	for i++; s[i] != '"'; i++ {
		if s[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// skipValue returns the index just after the valid JSON value at s[i].
func skipValue(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '"':
			i = stringEnd(s, i) - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return i // the end of the enclosing object
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		if depth == 0 && (s[i] == '"' || s[i] == '}' || s[i] == ']') {
			return i + 1
		}
	}
	return i
}
