package cloudwatch

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Metric math, the part alarms here use: numbers, query ids, + - * /,
// parentheses and FILL(expression, number). Written by hand: no Go library
// implements CloudWatch's metric math. As in CloudWatch, an operation on a
// missing value, or a division by zero, gives no data point; FILL turns a
// missing value into its number.

type node interface {
	eval(lookup func(id string) (float64, bool)) (float64, bool)
	refs(acc []string) []string
}

type number float64

func (n number) eval(func(string) (float64, bool)) (float64, bool) { return float64(n), true }
func (n number) refs(acc []string) []string                        { return acc }

type ref string

func (r ref) eval(lookup func(string) (float64, bool)) (float64, bool) { return lookup(string(r)) }
func (r ref) refs(acc []string) []string                               { return append(acc, string(r)) }

type binary struct {
	op   byte
	l, r node
}

func (b binary) eval(lookup func(string) (float64, bool)) (float64, bool) {
	l, ok := b.l.eval(lookup)
	if !ok {
		return 0, false
	}
	r, ok := b.r.eval(lookup)
	if !ok {
		return 0, false
	}
	switch b.op {
	case '+':
		return l + r, true
	case '-':
		return l - r, true
	case '*':
		return l * r, true
	default:
		if r == 0 {
			return 0, false
		}
		return l / r, true
	}
}

func (b binary) refs(acc []string) []string { return b.r.refs(b.l.refs(acc)) }

type fill struct {
	x     node
	value float64
}

func (f fill) eval(lookup func(string) (float64, bool)) (float64, bool) {
	if v, ok := f.x.eval(lookup); ok {
		return v, true
	}
	return f.value, true
}

func (f fill) refs(acc []string) []string { return f.x.refs(acc) }

// parseExpression parses a metric math expression.
func parseExpression(src string) (node, error) {
	p := &parser{src: src}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.src) {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	return n, nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("expression %q at %d: %s (the local CloudWatch evaluates numbers, ids, + - * /, parentheses and FILL)", p.src, p.pos+1, fmt.Sprintf(format, args...))
}

func (p *parser) space() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

func (p *parser) peek() byte {
	p.space()
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) expr() (node, error) {
	l, err := p.term()
	for err == nil && (p.peek() == '+' || p.peek() == '-') {
		op := p.src[p.pos]
		p.pos++
		var r node
		if r, err = p.term(); err == nil {
			l = binary{op, l, r}
		}
	}
	return l, err
}

func (p *parser) term() (node, error) {
	l, err := p.unary()
	for err == nil && (p.peek() == '*' || p.peek() == '/') {
		op := p.src[p.pos]
		p.pos++
		var r node
		if r, err = p.unary(); err == nil {
			l = binary{op, l, r}
		}
	}
	return l, err
}

func (p *parser) unary() (node, error) {
	if p.peek() == '-' {
		p.pos++
		x, err := p.unary()
		return binary{'-', number(0), x}, err
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	c := p.peek()
	switch {
	case c == '(':
		p.pos++
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, p.errorf("missing )")
		}
		p.pos++
		return n, nil
	case c >= '0' && c <= '9' || c == '.':
		start := p.pos
		for p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9' || p.src[p.pos] == '.') {
			p.pos++
		}
		v, err := strconv.ParseFloat(p.src[start:p.pos], 64)
		if err != nil {
			return nil, p.errorf("bad number %q", p.src[start:p.pos])
		}
		return number(v), nil
	case unicode.IsLetter(rune(c)):
		start := p.pos
		for p.pos < len(p.src) && (unicode.IsLetter(rune(p.src[p.pos])) || unicode.IsDigit(rune(p.src[p.pos])) || p.src[p.pos] == '_') {
			p.pos++
		}
		word := p.src[start:p.pos]
		if p.peek() != '(' {
			return ref(word), nil
		}
		if strings.ToUpper(word) != "FILL" {
			return nil, p.errorf("function %s is not evaluated locally", word)
		}
		p.pos++
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.peek() != ',' {
			return nil, p.errorf("FILL takes an expression and a number")
		}
		p.pos++
		v, err := p.unary()
		if err != nil {
			return nil, err
		}
		value, ok := v.eval(func(string) (float64, bool) { return 0, false })
		if !ok || len(v.refs(nil)) > 0 {
			return nil, p.errorf("FILL's second argument must be a number")
		}
		if p.peek() != ')' {
			return nil, p.errorf("missing ) after FILL's arguments")
		}
		p.pos++
		return fill{x, value}, nil
	}
	return nil, p.errorf("unexpected %q", string(c))
}
