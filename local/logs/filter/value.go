package filter

import (
	"regexp"
	"strconv"
	"strings"
)

// op is a comparison operator.
type op int

const (
	opEq op = iota
	opNe
	opLt
	opGt
	opLe
	opGe
)

var opNames = map[op]string{opEq: "=", opNe: "!=", opLt: "<", opGt: ">", opLe: "<=", opGe: ">="}

// readOp reads a comparison operator at src[i], returning ok false if there
// is none.
func readOp(src string, i, end int) (op, int, bool) {
	two := ""
	if i+2 <= end {
		two = src[i : i+2]
	}
	switch two {
	case "!=":
		return opNe, i + 2, true
	case "<=":
		return opLe, i + 2, true
	case ">=":
		return opGe, i + 2, true
	}
	if i < end {
		switch src[i] {
		case '=':
			return opEq, i + 1, true
		case '<':
			return opLt, i + 1, true
		case '>':
			return opGt, i + 1, true
		}
	}
	return 0, i, false
}

// value is the right-hand side of a comparison: a number, a string with
// optional `*` at either end, or a regular expression.
type value struct {
	numeric bool
	num     float64
	text    string // the string without its wildcards
	prefix  bool   // a leading `*`: anything may come before text
	suffix  bool   // a trailing `*`: anything may come after text
	re      *regexp.Regexp
}

// exact reports whether the value only matches the text itself.
func (v *value) exact() bool { return !v.numeric && v.re == nil && !v.prefix && !v.suffix }

// parseValue reads a value at src[i], before end: "quoted", %regex% or a
// bare word that ends at whitespace or any byte in stops. A bare word that is a number
// (optional sign, decimals, exponent) is numeric; quoted text never is.
func parseValue(src string, i, end int, stops string, regexes *int) (*value, int, error) {
	if i >= end || isSpace(src[i]) || strings.IndexByte(stops, src[i]) >= 0 {
		return nil, i, errorf(src, i, "missing value after the operator")
	}
	switch src[i] {
	case '"':
		s, next, err := readQuoted(src, i, end)
		if err != nil {
			return nil, i, err
		}
		return wildcard(s), next, nil
	case '%':
		close := strings.IndexByte(src[i+1:end], '%')
		if close < 0 {
			return nil, i, errorf(src, i, "unterminated regular expression (a %% without its closing %%)")
		}
		*regexes++
		if *regexes > maxRegexes {
			return nil, i, errorf(src, i, "at most %d regular expressions are allowed in one pattern", maxRegexes)
		}
		close += i + 1
		v, err := compileRegex(src, i+1, src[i+1:close])
		return v, close + 1, err
	}
	start := i
	for i < end && !isSpace(src[i]) && strings.IndexByte(stops, src[i]) < 0 {
		if src[i] == '"' {
			return nil, i, errorf(src, i, "double quote inside an unquoted value; quote the whole value instead")
		}
		i++
	}
	word := src[start:i]
	if n, ok := parseNumber(word); ok {
		return &value{numeric: true, num: n, text: word}, i, nil
	}
	return wildcard(word), i, nil
}

// wildcard makes a string value. AWS documents that `*` matches any text
// before or after a term (`*Event`, `Event*`) while one in the middle
// (`Ev*ent`) is the literal character.
func wildcard(s string) *value {
	v := &value{text: s}
	if strings.HasPrefix(v.text, "*") {
		v.prefix, v.text = true, strings.TrimLeft(v.text, "*")
	}
	if strings.HasSuffix(v.text, "*") {
		v.suffix, v.text = true, strings.TrimRight(v.text, "*")
	}
	return v
}

// parseNumber accepts AWS's numbers: an integer or decimal with an optional
// sign, optionally followed by e and an integer exponent.
func parseNumber(s string) (float64, bool) {
	if s == "" || strings.ContainsAny(s, "xXpP_") || strings.EqualFold(s, "inf") ||
		strings.EqualFold(s, "+inf") || strings.EqualFold(s, "-inf") || strings.EqualFold(s, "nan") ||
		strings.EqualFold(s, "infinity") || strings.EqualFold(s, "+infinity") || strings.EqualFold(s, "-infinity") {
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil
}

// regexAllowed holds the characters AWS accepts in a regular expression:
// letters, digits, the symbols _ # = @ / ; , - : and the operators
// ^ $ ? [ ] { } | \ * + . (no parentheses, no multi-byte characters).
func regexAllowed(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte(`_#=@/;,-:^$?[]{}|\*+.`, c) >= 0
}

func compileRegex(src string, at int, expr string) (*value, error) {
	if expr == "" {
		return nil, errorf(src, at, "empty regular expression")
	}
	for k := 0; k < len(expr); k++ {
		if !regexAllowed(expr[k]) {
			return nil, errorf(src, at+k, "character %q is not allowed in a regular expression (AWS allows letters, digits, _#=@/;,-: and the operators ^$?[]{}|\\*+.)", expr[k])
		}
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, errorf(src, at, "bad regular expression: %v", err)
	}
	return &value{re: re, text: expr}, nil
}

func parseRegexValue(src string, lead int, t string) (*value, error) {
	return compileRegex(src, lead+1, t[1:len(t)-1])
}

// matchText applies a string or regular-expression value to text.
func (v *value) matchText(s string) bool {
	switch {
	case v.re != nil:
		return v.re.MatchString(s)
	case v.prefix && v.suffix:
		return strings.Contains(s, v.text)
	case v.prefix:
		return strings.HasSuffix(s, v.text)
	case v.suffix:
		return strings.HasPrefix(s, v.text)
	default:
		return s == v.text
	}
}

// compareNumber applies a numeric comparison.
func compareNumber(o op, x, y float64) bool {
	switch o {
	case opEq:
		return x == y
	case opNe:
		return x != y
	case opLt:
		return x < y
	case opGt:
		return x > y
	case opLe:
		return x <= y
	default:
		return x >= y
	}
}
