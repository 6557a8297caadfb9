package dump

import (
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// redactedText replaces the value of a redacted key; redactedValue is it
// encoded.
const (
	redactedText  = "[REDACTED]"
	redactedValue = `"` + redactedText + `"`
)

// appendString appends s as a JSON string of at most limit bytes, quotes
// included, and reports whether s had to be cut. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does. Written by hand because the cap applies to
// the escaped text, which no library's escaper can stop at.
func appendString(dst []byte, s string, limit int) ([]byte, bool) {
	room := limit - 2
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && c >= ' ' && c != '"' && c != '\\' {
			if room < 1 {
				return append(dst, '"'), true
			}
			dst = append(dst, c)
			room--
			i++
			continue
		}
		var piece string
		size := 1
		switch {
		case c == '"':
			piece = `\"`
		case c == '\\':
			piece = `\\`
		case c == '\n':
			piece = `\n`
		case c == '\r':
			piece = `\r`
		case c == '\t':
			piece = `\t`
		case c < ' ':
			piece = `\u00` + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&0xf])
		default:
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				piece = `\ufffd`
			case r == '\u2028':
				piece = `\u2028`
			case r == '\u2029':
				piece = `\u2029`
			default:
				piece = s[i : i+size]
			}
		}
		if len(piece) > room {
			return append(dst, '"'), true
		}
		dst = append(dst, piece...)
		room -= len(piece)
		i += size
	}
	return append(dst, '"'), false
}

// stringBound is an upper bound of the bytes appendString or slog write for
// s: escapes take at most 6 bytes per input byte.
func stringBound(s string) int {
	n := 2
	for i := 0; i < len(s); i++ {
		n += int(escapedSize[s[i]])
	}
	return n
}

// escapedSize is the most bytes a byte of a string can take in JSON.
var escapedSize = func() (t [256]uint8) {
	for c := range t {
		t[c] = 1
		if c < ' ' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			t[c] = 6
		}
	}
	return t
}()

// redactor decides which keys have their values replaced.
type redactor []string

// match reports whether key contains one of the redacted names, ignoring
// ASCII case. Substrings, not whole keys, so that access_token,
// client_secret, X-Auth-Token and Set-Cookie are caught by the defaults.
func (r redactor) match(key string) bool {
	for _, name := range r {
		if containsFold(key, name) {
			return true
		}
	}
	return false
}

// maxDecodeRounds bounds how many times matchText decodes a text.
const maxDecodeRounds = 4

// matchText reports whether a body that is not read as JSON names a
// redacted key anywhere: as it is, or decoded. A key in such text may be
// spelt with JSON escapes ("pass\u0077ord" in a truncated or too deep JSON
// body) or percent-encoding ("pass%77ord=" in a form), or one inside the
// other, so the text is decoded both ways in turn until it no longer
// changes. Written by hand because net/url and encoding/json refuse the
// whole text at its first malformed escape, and a text that is not JSON
// may have many; each decoder here leaves those as they are.
func (r redactor) matchText(s string) bool {
	for range maxDecodeRounds {
		if r.match(s) {
			return true
		}
		d := unescapeJSON(unescapePercent(s))
		if d == s {
			return false
		}
		s = d
	}
	return r.match(s)
}

// unescapePercent replaces each %XX with the byte it encodes.
func unescapePercent(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := []byte(s[:i])
	for ; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescapeJSON replaces JSON's backslash escapes with what they encode.
func unescapeJSON(s string) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	b := []byte(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			continue
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			b, i = append(b, e), i+1
		case 'b':
			b, i = append(b, '\b'), i+1
		case 'f':
			b, i = append(b, '\f'), i+1
		case 'n':
			b, i = append(b, '\n'), i+1
		case 'r':
			b, i = append(b, '\r'), i+1
		case 't':
			b, i = append(b, '\t'), i+1
		case 'u':
			if r, ok := hex4(s, i+2); ok {
				if utf16.IsSurrogate(r) {
					if r2, ok := hex4(s, i+8); ok && i+7 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							b, i = utf8.AppendRune(b, d), i+11
							continue
						}
					}
				}
				b, i = utf8.AppendRune(b, r), i+5
				continue
			}
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// hex4 reads the four hex digits of a \u escape at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		v, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

func (r redactor) matchAny(keys []string) bool {
	for _, k := range keys {
		if r.match(k) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains lower, which is lower-case ASCII,
// ignoring ASCII case in s.
func containsFold(s, lower string) bool {
	n := len(lower)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(s); i++ {
		if toLower(s[i]) != lower[0] {
			continue
		}
		j := 1
		for j < n && toLower(s[i+j]) == lower[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

func toLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// appendRaw appends raw, one JSON value, compacted and with the values of
// redacted keys replaced, and reports whether all of it fit in limit bytes.
// It stops soon after passing limit, and on text that is not JSON; the
// caller then falls back to a cut string.
func (r redactor) appendRaw(dst []byte, sc *scanner, raw string, limit int) ([]byte, bool) {
	start := len(dst)
	sc.reset(raw)
	comma := false
	for len(dst)-start <= limit {
		kind, ts, te := sc.next()
		tok := raw[ts:te]
		switch kind {
		case tokEOF:
			return dst, len(dst)-start <= limit
		case tokError, tokTooDeep:
			return dst, false
		case tokObjectEnd, tokArrayEnd:
			dst = append(dst, tok...)
			comma = true
			continue
		}
		if comma {
			dst = append(dst, ',')
		}
		switch kind {
		case tokKey:
			dst = appendStringToken(dst, tok)
			dst = append(dst, ':')
			comma = false
			if r.match(decodeString(tok)) {
				dst = append(dst, redactedValue...)
				if !skipValue(sc) {
					return dst, false
				}
				comma = true
			}
		case tokObjectBegin, tokArrayBegin:
			dst = append(dst, tok...)
			comma = false
		case tokString:
			dst = appendStringToken(dst, tok)
			comma = true
		default: // numbers and literals are compact already
			dst = append(dst, tok...)
			comma = true
		}
	}
	return dst, false
}

// skipValue consumes the value that comes next.
func skipValue(sc *scanner) bool {
	depth := sc.depth()
	for {
		kind, _, _ := sc.next()
		switch kind {
		case tokError, tokTooDeep, tokEOF:
			return false
		case tokObjectBegin, tokArrayBegin, tokKey:
			continue
		}
		if sc.depth() == depth {
			return true
		}
	}
}

// appendStringToken appends a string token as it is when it is valid UTF-8
// and re-encoded otherwise.
func appendStringToken(dst []byte, tok string) []byte {
	if utf8.ValidString(tok) {
		return append(dst, tok...)
	}
	s := decodeString(tok)
	dst, _ = appendString(dst, s, stringBound(s))
	return dst
}

// decodeString returns the text of a string token. Tokens without escapes
// are sliced; others go through encoding/json, which also turns invalid
// UTF-8 and lone surrogates into U+FFFD.
func decodeString(tok string) string {
	inner := tok[1 : len(tok)-1]
	if strings.IndexByte(inner, '\\') < 0 && utf8.ValidString(inner) {
		return inner
	}
	var s string
	if err := json.Unmarshal([]byte(tok), &s); err != nil {
		return inner
	}
	return s
}
