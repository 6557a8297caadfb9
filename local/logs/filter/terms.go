package filter

import "strings"

// termPattern is an unstructured pattern. Terms are matched as
// case-sensitive substrings: AWS documents that `ERROR` matches
// "Exiting with ERRORCODE: -1".
type termPattern struct {
	required []string
	optional []string // `?term`: at least one must occur; only in a pattern of ? terms
	excluded []string // `-term`: none may occur
}

func (t *termPattern) match(msg string) bool {
	for _, s := range t.required {
		if !strings.Contains(msg, s) {
			return false
		}
	}
	for _, s := range t.excluded {
		if strings.Contains(msg, s) {
			return false
		}
	}
	if len(t.optional) == 0 {
		return true
	}
	for _, s := range t.optional {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// parseTerms parses whitespace-separated terms. A term is a bare word or a
// double-quoted phrase (with \" and \\ escapes), optionally prefixed by `-`
// or `?`. A prefix standing alone applies to the next term, as in AWS's
// example `"ERROR" - "Exiting"`. AWS asks for quotes around terms with
// characters other than letters, digits and underscores; bare words with
// such characters are accepted here as the literal text, and only a stray
// double quote inside a bare word is an error.
func parseTerms(src string) (*termPattern, error) {
	t := &termPattern{}
	i := 0
	var prefix byte
	prefixAt := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i == len(src) {
			break
		}
		if prefix == 0 && (src[i] == '-' || src[i] == '?') {
			prefix, prefixAt = src[i], i
			i++
			continue
		}
		var term string
		if src[i] == '"' {
			s, next, err := readQuoted(src, i, len(src))
			if err != nil {
				return nil, err
			}
			// AWS documents `" "` as the pattern that matches everything.
			if strings.TrimSpace(s) == "" {
				s = ""
			}
			term, i = s, next
			if i < len(src) && !isSpace(src[i]) {
				return nil, errorf(src, i, "a quoted phrase must be followed by a space or the end of the pattern")
			}
		} else {
			start := i
			for i < len(src) && !isSpace(src[i]) {
				if src[i] == '"' {
					return nil, errorf(src, i, "double quote inside an unquoted term; quote the whole term instead")
				}
				i++
			}
			term = src[start:i]
		}
		switch prefix {
		case '-':
			t.excluded = append(t.excluded, term)
		case '?':
			t.optional = append(t.optional, term)
		default:
			t.required = append(t.required, term)
		}
		prefix = 0
	}
	if prefix != 0 {
		return nil, errorf(src, prefixAt, "%q must be followed by a term", string(prefix))
	}
	// AWS ignores every ? term of a pattern that has other terms: `?ERROR
	// ?ARGUMENTS REQUEST` matches "[INFO] REQUEST FAILED".
	if len(t.required) > 0 || len(t.excluded) > 0 {
		t.optional = nil
	}
	return t, nil
}

// readQuoted reads a double-quoted string starting at src[i] == '"', ending
// before end, and returns its content and the offset after the closing quote.
func readQuoted(src string, i, end int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < end; j++ {
		switch c := src[j]; c {
		case '"':
			return b.String(), j + 1, nil
		case '\\':
			if j+1 < end && (src[j+1] == '"' || src[j+1] == '\\') {
				j++
				b.WriteByte(src[j])
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errorf(src, i, "unterminated double quote")
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
