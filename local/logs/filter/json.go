package filter

import (
	"encoding/json"
	"io"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/request-dump/local/internal/jsontop"
)

// node is a JSON pattern expression.
type node interface {
	eval(doc map[string]any) bool
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }

func (n *andNode) eval(doc map[string]any) bool { return n.l.eval(doc) && n.r.eval(doc) }
func (n *orNode) eval(doc map[string]any) bool  { return n.l.eval(doc) || n.r.eval(doc) }

// check is what a condition tests besides a comparison.
type check int

const (
	checkCompare check = iota
	checkNull
	checkNotExists
	checkTrue
	checkFalse
)

// cond is one condition on a selector.
type cond struct {
	path  *Path
	check check
	op    op
	val   *value
}

// eval follows AWS's rules: a selector that points at an object or an
// array, or at nothing, makes every comparison false (`!=` included);
// numeric comparisons apply to JSON numbers only; string values (with
// wildcards or a regular expression) apply to strings and to the JSON text
// of numbers and booleans, so `{ $.latency = * }` matches a number as in
// AWS's metric filter example. A selector with a wildcard (`[*]`, `.*`)
// selects several values: the condition holds when it holds for one of
// them, and NOT EXISTS when none exists (AWS does not say; this is how a
// wildcard reads everywhere else in the syntax).
func (c *cond) eval(doc map[string]any) bool {
	if c.check == checkNotExists {
		return !c.path.visit(doc, func(any) bool { return true })
	}
	return c.path.visit(doc, c.test)
}

// test applies the condition to one selected value.
func (c *cond) test(v any) bool {
	switch c.check {
	case checkNull:
		return v == nil
	case checkTrue, checkFalse:
		b, ok := v.(bool)
		return ok && b == (c.check == checkTrue)
	}
	if c.val.numeric {
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && compareNumber(c.op, f, c.val.num)
	}
	s, ok := scalarText(v)
	if !ok {
		return false
	}
	m := c.val.matchText(s)
	if c.op == opNe {
		return !m
	}
	return m
}

// scalarText is the text a string value is compared with.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// Path is a JSON selector such as $.users[0].email, $.['cluster.name'] or
// $.users[*].email.
type Path struct {
	src   string
	steps []step
}

type step struct {
	key   string
	index int // used when key is "" and wild is 0
	// wild is '.' for .* (every field of an object) and '[' for [*] (every
	// element of an array).
	wild byte
}

// String returns the selector as written.
func (p *Path) String() string { return p.src }

// hasWildcard reports whether a step is a wildcard, so that the selector
// may select several values.
func (p *Path) hasWildcard() bool { return slices.ContainsFunc(p.steps, step.isWildcard) }

func (s step) isWildcard() bool { return s.wild != 0 }

// children are the values a wildcard step goes through: an object's
// fields for .*, an array's elements for [*], none in anything else.
func children(cur any, wild byte) iter.Seq[any] {
	if wild == '.' {
		obj, _ := cur.(map[string]any)
		return maps.Values(obj)
	}
	arr, _ := cur.([]any)
	return slices.Values(arr)
}

// visit calls fn with each value the selector points at in doc, until fn
// returns true, and reports whether it did.
func (p *Path) visit(doc map[string]any, fn func(any) bool) bool {
	return visitSteps(doc, p.steps, fn)
}

func visitSteps(cur any, steps []step, fn func(any) bool) bool {
	for i, s := range steps {
		switch {
		case s.isWildcard():
			for v := range children(cur, s.wild) {
				if visitSteps(v, steps[i+1:], fn) {
					return true
				}
			}
			return false
		case s.key != "":
			obj, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			if cur, ok = obj[s.key]; !ok {
				return false
			}
		default:
			arr, ok := cur.([]any)
			if !ok || s.index >= len(arr) {
				return false
			}
			cur = arr[s.index]
		}
	}
	return fn(cur)
}

// Text returns the text at the selector in a JSON message: a string, or the
// JSON text of a number or a boolean. ok is false when the message is not a
// JSON object, the selector has a wildcard or points at nothing, null, an
// object or an array.
func (p *Path) Text(message string) (string, bool) {
	var keys map[string]bool
	if len(p.steps) > 0 && p.steps[0].key != "" {
		keys = map[string]bool{p.steps[0].key: true}
	}
	doc, ok := decodeObject(message, keys)
	if !ok || p.hasWildcard() {
		return "", false
	}
	var text string
	found := p.visit(doc, func(v any) bool {
		text, ok = scalarText(v)
		return true
	})
	return text, found && ok
}

// decodeObject decodes a message that is exactly one JSON object: all of
// it when keys is nil, else only the top-level members named in keys (what
// the selectors can reach), which is what a metric filter needs of every
// line the function logs. Decoding whole lines into maps was most of the
// filters' cost (5 % of the local stack's CPU under load).
func decodeObject(message string, keys map[string]bool) (map[string]any, bool) {
	if keys == nil {
		return decodeAll(message)
	}
	doc := make(map[string]any, len(keys))
	var err error
	ok := jsontop.Members(message, func(key, value string) bool {
		if !keys[key] {
			return true
		}
		// The last of duplicate keys wins, as in encoding/json.
		doc[key], err = decodeValue(value)
		return err == nil
	})
	return doc, ok && err == nil
}

func decodeAll(message string) (map[string]any, bool) {
	i := 0
	for i < len(message) && isSpace(message[i]) {
		i++
	}
	if i == len(message) || message[i] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(message))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return doc, true
}

// decodeValue decodes one valid JSON value as decodeAll would.
func decodeValue(raw string) (any, error) {
	if s, ok := jsontop.Unquote(raw); ok {
		return s, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// topKeys returns the top-level members the selectors of a JSON pattern
// start from, or nil when one may start anywhere ($.*).
func topKeys(n node) map[string]bool {
	keys := map[string]bool{}
	var walk func(node) bool
	walk = func(n node) bool {
		switch n := n.(type) {
		case *andNode:
			return walk(n.l) && walk(n.r)
		case *orNode:
			return walk(n.l) && walk(n.r)
		case *cond:
			if len(n.path.steps) == 0 || n.path.steps[0].key == "" {
				return false
			}
			keys[n.path.steps[0].key] = true
			return true
		}
		return false
	}
	if !walk(n) {
		return nil
	}
	return keys
}

// jsonParser is a recursive-descent parser over the text between the braces.
type jsonParser struct {
	src       string
	i         int
	end       int
	regexes   int
	wildcards int
}

// maxWildcards is AWS's limit of wildcard selectors in one JSON pattern.
const maxWildcards = 3

func parseJSON(src string, lead int) (node, error) {
	t := strings.TrimRight(src, " \t\r\n")
	if !strings.HasSuffix(t, "}") || len(t)-lead < 2 {
		return nil, errorf(src, len(t), "a JSON pattern must end with }")
	}
	p := &jsonParser{src: src, i: lead + 1, end: len(t) - 1}
	p.skip()
	if p.i == p.end {
		return nil, errorf(src, p.i, "empty JSON pattern; write a condition such as { $.level = \"ERROR\" }")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i != p.end {
		return nil, errorf(src, p.i, "unexpected %q; conditions are joined with && or ||", p.src[p.i:p.end])
	}
	return n, nil
}

func (p *jsonParser) skip() {
	for p.i < p.end && isSpace(p.src[p.i]) {
		p.i++
	}
}

func (p *jsonParser) peek(s string) bool {
	return p.i+len(s) <= p.end && p.src[p.i:p.i+len(s)] == s
}

func (p *jsonParser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		p.skip()
		if !p.peek("||") {
			return l, nil
		}
		p.i += 2
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &orNode{l, r}
	}
}

func (p *jsonParser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		p.skip()
		if !p.peek("&&") {
			return l, nil
		}
		p.i += 2
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &andNode{l, r}
	}
}

func (p *jsonParser) unary() (node, error) {
	p.skip()
	if p.i == p.end {
		return nil, errorf(p.src, p.i, "missing condition")
	}
	if p.src[p.i] == '(' {
		open := p.i
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		p.skip()
		if p.i == p.end || p.src[p.i] != ')' {
			return nil, errorf(p.src, open, "unbalanced parenthesis")
		}
		p.i++
		return n, nil
	}
	return p.cond()
}

func (p *jsonParser) cond() (node, error) {
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	p.skip()
	if kw := p.keyword(); kw != "" {
		switch kw {
		case "IS":
			p.skip()
			switch arg := p.keyword(); arg {
			case "NULL":
				return &cond{path: path, check: checkNull}, nil
			case "TRUE":
				return &cond{path: path, check: checkTrue}, nil
			case "FALSE":
				return &cond{path: path, check: checkFalse}, nil
			default:
				return nil, errorf(p.src, p.i, "IS must be followed by NULL, TRUE or FALSE")
			}
		case "NOT":
			p.skip()
			if p.keyword() != "EXISTS" {
				return nil, errorf(p.src, p.i, "NOT must be followed by EXISTS")
			}
			return &cond{path: path, check: checkNotExists}, nil
		}
		return nil, errorf(p.src, p.i-len(kw), "unknown keyword %q after %s", kw, path.src)
	}
	at := p.i
	o, next, ok := readOp(p.src, p.i, p.end)
	if !ok {
		return nil, errorf(p.src, p.i, "expected an operator (=, !=, <, >, <=, >=, IS, NOT EXISTS) after %s", path.src)
	}
	p.i = next
	p.skip()
	v, next, err := parseValue(p.src, p.i, p.end, "()&|", &p.regexes)
	if err != nil {
		return nil, err
	}
	p.i = next
	if o != opEq && o != opNe && !v.numeric {
		return nil, errorf(p.src, at, "operator %s needs a number, not %q", opNames[o], v.text)
	}
	return &cond{path: path, op: o, val: v}, nil
}

// keyword reads an upper- or lower-case word of letters, or returns "".
func (p *jsonParser) keyword() string {
	start := p.i
	for p.i < p.end && (p.src[p.i] >= 'A' && p.src[p.i] <= 'Z' || p.src[p.i] >= 'a' && p.src[p.i] <= 'z') {
		p.i++
	}
	return strings.ToUpper(p.src[start:p.i])
}

// path reads a selector: $ followed by .name (letters, digits, - and _),
// .['name'] (any name, for one with a period), [index], or a wildcard,
// .* or [*], as AWS documents. A selector may hold one wildcard, a pattern
// three.
func (p *jsonParser) path() (*Path, error) {
	start := p.i
	if p.i == p.end || p.src[p.i] != '$' {
		return nil, errorf(p.src, p.i, "a JSON condition must start with a selector such as $.field")
	}
	p.i++
	path := &Path{}
	for p.i < p.end {
		at := p.i
		switch {
		case p.peek(".*"):
			p.i += 2
			path.steps = append(path.steps, step{wild: '.'})
		case p.peek(".['"):
			p.i += 3
			ks := p.i
			for p.i < p.end && p.src[p.i] != '\'' {
				p.i++
			}
			if p.i == ks || !p.peek("']") {
				return nil, errorf(p.src, at, "bracket notation must be .['name'] with a name that is not empty")
			}
			path.steps = append(path.steps, step{key: p.src[ks:p.i]})
			p.i += 2
		case p.src[p.i] == '.':
			p.i++
			ks := p.i
			for p.i < p.end && isKeyChar(p.src[p.i]) {
				p.i++
			}
			if p.i == ks {
				return nil, errorf(p.src, ks, "missing property name after '.' in selector")
			}
			path.steps = append(path.steps, step{key: p.src[ks:p.i]})
		case p.src[p.i] == '[':
			if len(path.steps) == 0 {
				return nil, errorf(p.src, at, "an array index must follow a property ($.name[0])")
			}
			if p.peek("[*]") {
				p.i += 3
				path.steps = append(path.steps, step{wild: '['})
				break
			}
			p.i++
			ds := p.i
			for p.i < p.end && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
				p.i++
			}
			if p.i == ds || p.i == p.end || p.src[p.i] != ']' {
				return nil, errorf(p.src, ds, "array index must be [digits] or [*]")
			}
			n, err := strconv.Atoi(p.src[ds:p.i])
			if err != nil {
				return nil, errorf(p.src, ds, "array index too large")
			}
			p.i++
			path.steps = append(path.steps, step{index: n})
		default:
			return p.endPath(path, start)
		}
		if n := len(path.steps); path.steps[n-1].isWildcard() {
			if slices.ContainsFunc(path.steps[:n-1], step.isWildcard) {
				return nil, errorf(p.src, at, "a selector may hold only one wildcard selector")
			}
			p.wildcards++
			if p.wildcards > maxWildcards {
				return nil, errorf(p.src, at, "at most %d wildcard selectors are allowed in one pattern", maxWildcards)
			}
		}
	}
	return p.endPath(path, start)
}

func (p *jsonParser) endPath(path *Path, start int) (*Path, error) {
	if len(path.steps) == 0 {
		return nil, errorf(p.src, p.i, "a selector must continue with .name after $")
	}
	path.src = p.src[start:p.i]
	return path, nil
}

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// indexTerm finds an exact string equality every match must satisfy: the
// condition itself, or one under a chain of &&.
func indexTerm(n node) (*Path, string, bool) {
	switch x := n.(type) {
	case *cond:
		if x.check == checkCompare && x.op == opEq && x.val.exact() && !x.path.hasWildcard() {
			return x.path, x.val.text, true
		}
	case *andNode:
		if p, t, ok := indexTerm(x.l); ok {
			return p, t, true
		}
		return indexTerm(x.r)
	}
	return nil, "", false
}
