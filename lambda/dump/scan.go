package dump

import "unicode/utf8"

// The JSON scanner is written by hand. The dump must check that a body is
// JSON and pick several paths from it, and doing both in one pass is what
// makes it several times cheaper than decoding the body: gjson needs a
// separate validation pass plus one scan per path (about 3x the naive
// approach, measured), fastjson's parser accepts NaN and needs its own
// validation pass too, and encoding/json/jsontext is still an experiment.
// FuzzSelect checks this scanner against encoding/json.

// MaxDepth is the deepest nesting of a JSON body that is read; deeper
// bodies are reported as such. Real bodies nest a few levels.
const MaxDepth = 1000

type tokenKind uint8

const (
	tokError tokenKind = iota
	tokTooDeep
	tokEOF
	tokObjectBegin
	tokObjectEnd
	tokArrayBegin
	tokArrayEnd
	tokKey // an object key, with its quotes; the colon is consumed
	tokString
	tokNumber
	tokLiteral // true, false or null
)

// what the scanner expects next
const (
	needValue uint8 = iota
	needValueOrEnd
	needKey
	needKeyOrEnd
	needCommaOrEnd
	needEOF
)

// scanner splits JSON text into tokens and rejects anything RFC 8259 does
// not allow, as encoding/json does. It does not check UTF-8 (neither does
// encoding/json); encoding replaces invalid bytes.
type scanner struct {
	s     string
	i     int
	need  uint8
	stack []byte // open containers: '{' or '['
	// escaped tells whether the last string had escapes or non-ASCII
	// bytes, so its text may differ from its raw bytes.
	escaped bool
}

func (sc *scanner) reset(s string) {
	sc.s, sc.i, sc.need, sc.stack = s, 0, needValue, sc.stack[:0]
}

// next returns the next token as s[start:end].
func (sc *scanner) next() (kind tokenKind, start, end int) {
	s := sc.s
	for {
		for sc.i < len(s) && isSpace(s[sc.i]) {
			sc.i++
		}
		if sc.i == len(s) {
			if sc.need == needEOF {
				return tokEOF, sc.i, sc.i
			}
			return tokError, sc.i, sc.i
		}
		start = sc.i
		c := s[start]
		switch sc.need {
		case needEOF:
			return tokError, start, start
		case needCommaOrEnd:
			top := sc.stack[len(sc.stack)-1]
			switch {
			case c == ',':
				sc.i++
				if top == '{' {
					sc.need = needKey
				} else {
					sc.need = needValue
				}
				continue
			case c == '}' && top == '{':
				return sc.close(tokObjectEnd)
			case c == ']' && top == '[':
				return sc.close(tokArrayEnd)
			}
			return tokError, start, start
		case needKeyOrEnd, needKey:
			if c == '}' && sc.need == needKeyOrEnd {
				return sc.close(tokObjectEnd)
			}
			if c != '"' {
				return tokError, start, start
			}
			end = sc.scanString(start)
			if end < 0 {
				return tokError, start, start
			}
			sc.i = end
			for sc.i < len(s) && isSpace(s[sc.i]) {
				sc.i++
			}
			if sc.i == len(s) || s[sc.i] != ':' {
				return tokError, start, start
			}
			sc.i++
			sc.need = needValue
			return tokKey, start, end
		case needValueOrEnd:
			if c == ']' {
				return sc.close(tokArrayEnd)
			}
		}
		return sc.value(start)
	}
}

// value reads the value that starts at start.
func (sc *scanner) value(start int) (tokenKind, int, int) {
	s := sc.s
	var kind tokenKind
	end := -1
	switch c := s[start]; {
	case c == '{' || c == '[':
		if len(sc.stack) == MaxDepth {
			return tokTooDeep, start, start
		}
		sc.stack = append(sc.stack, c)
		sc.i = start + 1
		if c == '{' {
			sc.need = needKeyOrEnd
			return tokObjectBegin, start, sc.i
		}
		sc.need = needValueOrEnd
		return tokArrayBegin, start, sc.i
	case c == '"':
		kind, end = tokString, sc.scanString(start)
	case c == '-' || ('0' <= c && c <= '9'):
		kind, end = tokNumber, scanNumber(s, start)
	case c == 't':
		kind, end = tokLiteral, scanLiteral(s, start, "true")
	case c == 'f':
		kind, end = tokLiteral, scanLiteral(s, start, "false")
	case c == 'n':
		kind, end = tokLiteral, scanLiteral(s, start, "null")
	}
	if end < 0 {
		return tokError, start, start
	}
	sc.i = end
	sc.afterValue()
	return kind, start, end
}

func (sc *scanner) close(kind tokenKind) (tokenKind, int, int) {
	start := sc.i
	sc.i++
	sc.stack = sc.stack[:len(sc.stack)-1]
	sc.afterValue()
	return kind, start, sc.i
}

func (sc *scanner) afterValue() {
	if len(sc.stack) == 0 {
		sc.need = needEOF
	} else {
		sc.need = needCommaOrEnd
	}
}

// depth is the number of open containers.
func (sc *scanner) depth() int { return len(sc.stack) }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// plain marks the ASCII bytes a JSON string holds as they are.
var plain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString returns the end of the string token at start, or -1.
func (sc *scanner) scanString(start int) int {
	s := sc.s
	sc.escaped = false
	for i := start + 1; i < len(s); {
		for i+4 <= len(s) && plain[s[i]] && plain[s[i+1]] && plain[s[i+2]] && plain[s[i+3]] {
			i += 4
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c >= utf8.RuneSelf:
			sc.escaped = true
			i++
		case c == '"':
			return i + 1
		case c == '\\':
			sc.escaped = true
			if i+1 == len(s) {
				return -1
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) || !isHex(s[i+5]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default: // a control character
			return -1
		}
	}
	return -1
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// scanNumber returns the end of the number at start, or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(s string, i int) int {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i)
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

func scanLiteral(s string, i int, lit string) int {
	if len(s)-i < len(lit) || s[i:i+len(lit)] != lit {
		return -1
	}
	return i + len(lit)
}
