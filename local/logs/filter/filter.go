// Package filter parses and evaluates CloudWatch Logs filter patterns, the
// syntax FilterLogEvents, metric filters and subscription filters share:
//
//   - unstructured terms: `ERROR Exception` (all must occur), `"exact phrase"`,
//     `?ERROR ?WARN` (at least one; ignored beside other terms, as AWS
//     documents), `-DEBUG` (must not occur); an empty pattern, `""` or `" "`
//     matches every event;
//   - JSON: `{ $.a.b[0] = "x*" && ($.n >= 10 || $.f IS TRUE) }` with =, !=, <,
//     >, <=, >=, `*` wildcards at either end of a string, IS NULL, NOT EXISTS,
//     IS TRUE, IS FALSE, &&, || and parentheses; selectors with bracket
//     notation for a key with a period (`$.['cluster.name']`) and wildcard
//     selectors (`$.list[*].id`, `$.*`);
//   - space-delimited: `[ip, user, ..., status = 4* || status = 5*, bytes > 1000]`;
//   - regular expressions between percent signs, on their own (`%err[0-9]+%`)
//     or as a value in the two structured forms.
//
// No Go library implements this syntax (it exists only inside AWS), so it is
// written by hand here from the rules and examples in AWS's "Filter pattern
// syntax" documentation; the test cases in testdata/ are those examples.
// Where the documentation is silent, the choice made is stated on the
// function that makes it.
package filter

import (
	"fmt"
	"strings"
)

// Error reports a pattern the parser rejects, with the offset of the problem.
type Error struct {
	Pattern string
	Offset  int
	Reason  string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("invalid filter pattern %q: %s (at offset %d)", e.Pattern, e.Reason, e.Offset)
}

// maxRegexes is AWS's limit of regular expressions in one JSON or
// space-delimited pattern.
const maxRegexes = 2

// Pattern is a parsed filter pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	src   string
	terms *termPattern
	json  node
	// keys are the top-level members a JSON pattern's selectors start
	// from, nil when one of them may reach any (a wildcard first step):
	// Match decodes no others.
	keys  map[string]bool
	delim *delimPattern
	regex *value
}

// Parse parses a filter pattern. The returned error is an *Error.
func Parse(src string) (*Pattern, error) {
	p := &Pattern{src: src}
	t := strings.TrimSpace(src)
	lead := strings.Index(src, t)
	var err error
	switch {
	case t == "":
		p.terms = &termPattern{}
	case t[0] == '{':
		if p.json, err = parseJSON(src, lead); err == nil {
			p.keys = topKeys(p.json)
		}
	case t[0] == '[':
		p.delim, err = parseDelimited(src, lead)
	case len(t) >= 2 && t[0] == '%' && t[len(t)-1] == '%':
		p.regex, err = parseRegexValue(src, lead, t)
	default:
		p.terms, err = parseTerms(src)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// String returns the pattern as it was given to Parse.
func (p *Pattern) String() string { return p.src }

// MatchesAll reports whether the pattern matches every event (it is empty,
// or only `""`), so a caller can skip evaluating it.
func (p *Pattern) MatchesAll() bool {
	if p.terms == nil || len(p.terms.optional) > 0 || len(p.terms.excluded) > 0 {
		return false
	}
	for _, t := range p.terms.required {
		if t != "" {
			return false
		}
	}
	return true
}

// Match reports whether a log event's message matches the pattern.
func (p *Pattern) Match(message string) bool {
	switch {
	case p.terms != nil:
		return p.terms.match(message)
	case p.json != nil:
		doc, ok := decodeObject(message, p.keys)
		return ok && p.json.eval(doc)
	case p.delim != nil:
		return p.delim.match(message)
	default:
		return p.regex.re.MatchString(message)
	}
}

// IndexTerm returns a condition `selector = "text"` (no wildcard, no regular
// expression) that every event the pattern matches must satisfy, if the
// pattern has one: a caller can keep an index from Path.Text to events and
// evaluate the whole pattern only on the events the index returns.
func (p *Pattern) IndexTerm() (path *Path, text string, ok bool) {
	if p.json == nil {
		return nil, "", false
	}
	return indexTerm(p.json)
}

func errorf(src string, offset int, format string, args ...any) *Error {
	return &Error{Pattern: src, Offset: offset, Reason: fmt.Sprintf(format, args...)}
}
