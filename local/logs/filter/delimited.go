package filter

import "strings"

// delimPattern is a space-delimited pattern such as
// [ip, user, ..., status = 4* && status != 403, bytes > 1000].
type delimPattern struct {
	slots []slot
}

// slot is one comma-separated element: an ellipsis, which stands for any
// number of fields, or a field (named, or unnamed when the element is
// empty) with optional conditions. Conditions
// may name any field of the pattern (AWS's `status_code = 4* && bytes > 1000`).
type slot struct {
	ellipsis bool
	name     string
	expr     dnode
}

// dnode is a condition expression over named fields.
type dnode interface {
	eval(fields map[string]string) bool
}

type dand struct{ l, r dnode }
type dor struct{ l, r dnode }

func (n *dand) eval(f map[string]string) bool { return n.l.eval(f) && n.r.eval(f) }
func (n *dor) eval(f map[string]string) bool  { return n.l.eval(f) || n.r.eval(f) }

// dcond compares a field with a value: numbers compare numerically when
// the field is a number (and fail otherwise), strings with wildcards or a
// regular expression.
type dcond struct {
	name string
	op   op
	val  *value
}

func (c *dcond) eval(f map[string]string) bool {
	s := f[c.name]
	if c.val.numeric {
		n, ok := parseNumber(s)
		return ok && compareNumber(c.op, n, c.val.num)
	}
	m := c.val.matchText(s)
	if c.op == opNe {
		return !m
	}
	return m
}

type delimParser struct {
	src     string
	i       int
	end     int
	regexes int
}

func parseDelimited(src string, lead int) (*delimPattern, error) {
	t := strings.TrimRight(src, " \t\r\n")
	if !strings.HasSuffix(t, "]") || len(t)-lead < 2 {
		return nil, errorf(src, len(t), "a space-delimited pattern must end with ]")
	}
	p := &delimParser{src: src, i: lead + 1, end: len(t) - 1}
	d := &delimPattern{}
	names := map[string]bool{}
	var refs []*dcond
	p.skip()
	if p.i == p.end {
		return nil, errorf(src, p.i, "empty space-delimited pattern; name the fields, e.g. [ip, user, status]")
	}
	for {
		p.skip()
		s, err := p.slot(&refs)
		if err != nil {
			return nil, err
		}
		if !s.ellipsis && s.name != "" {
			if names[s.name] {
				return nil, errorf(src, p.i, "field name %q is used twice", s.name)
			}
			names[s.name] = true
		}
		d.slots = append(d.slots, s)
		p.skip()
		if p.i == p.end {
			break
		}
		if p.src[p.i] != ',' {
			return nil, errorf(src, p.i, "expected ',' between fields")
		}
		p.i++
	}
	for _, r := range refs {
		if !names[r.name] {
			return nil, errorf(src, lead, "condition on %q, which is not a field of the pattern", r.name)
		}
	}
	return d, nil
}

func (p *delimParser) skip() {
	for p.i < p.end && isSpace(p.src[p.i]) {
		p.i++
	}
}

// slot parses one element. An empty element is an unnamed field: AWS's
// example [..., request=*.html*, status_code=4*,] ends with one, and its
// extracted fields show that it stands for the last field ($7).
func (p *delimParser) slot(refs *[]*dcond) (slot, error) {
	if p.i == p.end || p.src[p.i] == ',' {
		return slot{}, nil
	}
	if p.i+3 <= p.end && p.src[p.i:p.i+3] == "..." {
		p.i += 3
		return slot{ellipsis: true}, nil
	}
	name, err := p.name()
	if err != nil {
		return slot{}, err
	}
	p.skip()
	if p.i == p.end || p.src[p.i] == ',' {
		return slot{name: name}, nil
	}
	first, err := p.condAfterName(name, refs)
	if err != nil {
		return slot{}, err
	}
	expr, err := p.orRest(first, refs)
	if err != nil {
		return slot{}, err
	}
	return slot{name: name, expr: expr}, nil
}

func (p *delimParser) name() (string, error) {
	start := p.i
	for p.i < p.end && (isKeyChar(p.src[p.i]) || p.src[p.i] == '$' || p.src[p.i] == '.') {
		p.i++
	}
	if p.i == start {
		return "", errorf(p.src, p.i, "expected a field name")
	}
	return p.src[start:p.i], nil
}

func (p *delimParser) condAfterName(name string, refs *[]*dcond) (dnode, error) {
	p.skip()
	at := p.i
	o, next, ok := readOp(p.src, p.i, p.end)
	if !ok {
		return nil, errorf(p.src, p.i, "expected an operator (=, !=, <, >, <=, >=) after field %q", name)
	}
	p.i = next
	p.skip()
	v, next, err := parseValue(p.src, p.i, p.end, ",&|", &p.regexes)
	if err != nil {
		return nil, err
	}
	p.i = next
	if o != opEq && o != opNe && !v.numeric {
		return nil, errorf(p.src, at, "operator %s needs a number, not %q", opNames[o], v.text)
	}
	c := &dcond{name: name, op: o, val: v}
	*refs = append(*refs, c)
	return c, nil
}

func (p *delimParser) cond(refs *[]*dcond) (dnode, error) {
	p.skip()
	name, err := p.name()
	if err != nil {
		return nil, err
	}
	return p.condAfterName(name, refs)
}

func (p *delimParser) peek(s string) bool {
	p.skip()
	return p.i+len(s) <= p.end && p.src[p.i:p.i+len(s)] == s
}

// orRest parses the rest of `a && b || c` given its first condition; &&
// binds tighter than ||.
func (p *delimParser) orRest(first dnode, refs *[]*dcond) (dnode, error) {
	l, err := p.andRest(first, refs)
	if err != nil {
		return nil, err
	}
	for p.peek("||") {
		p.i += 2
		c, err := p.cond(refs)
		if err != nil {
			return nil, err
		}
		r, err := p.andRest(c, refs)
		if err != nil {
			return nil, err
		}
		l = &dor{l, r}
	}
	return l, nil
}

func (p *delimParser) andRest(l dnode, refs *[]*dcond) (dnode, error) {
	for p.peek("&&") {
		p.i += 2
		r, err := p.cond(refs)
		if err != nil {
			return nil, err
		}
		l = &dand{l, r}
	}
	return l, nil
}

// fields splits a message the way AWS does for space-delimited patterns:
// runs of spaces separate fields, and text between [ and ] or between
// double quotes is one field (without the brackets or quotes).
func fields(msg string) []string {
	var out []string
	i := 0
	for {
		for i < len(msg) && isSpace(msg[i]) {
			i++
		}
		if i == len(msg) {
			return out
		}
		switch msg[i] {
		case '[', '"':
			closer := byte(']')
			if msg[i] == '"' {
				closer = '"'
			}
			end := strings.IndexByte(msg[i+1:], closer)
			if end < 0 {
				out = append(out, msg[i+1:])
				return out
			}
			out = append(out, msg[i+1:i+1+end])
			i += end + 2
		default:
			start := i
			for i < len(msg) && !isSpace(msg[i]) {
				i++
			}
			out = append(out, msg[start:i])
		}
	}
}

func (d *delimPattern) match(msg string) bool {
	return d.align(0, fields(msg), map[string]string{})
}

// align assigns fields to slots, trying every split an ellipsis allows, and
// evaluates the conditions once every slot has its field.
func (d *delimPattern) align(k int, fs []string, bound map[string]string) bool {
	if k == len(d.slots) {
		if len(fs) != 0 {
			return false
		}
		for _, s := range d.slots {
			if s.expr != nil && !s.expr.eval(bound) {
				return false
			}
		}
		return true
	}
	s := d.slots[k]
	if s.ellipsis {
		for skip := 0; skip <= len(fs); skip++ {
			if d.align(k+1, fs[skip:], bound) {
				return true
			}
		}
		return false
	}
	if len(fs) == 0 {
		return false
	}
	if s.name != "" {
		bound[s.name] = fs[0]
	}
	return d.align(k+1, fs[1:], bound)
}
