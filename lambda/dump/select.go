package dump

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Reasons a body cannot be read, written as the line's body_error.
const (
	bodyEmpty     = "empty"
	bodyNotJSON   = "not JSON"
	bodyBadBase64 = "invalid base64"
	bodyTooDeep   = "nested deeper than 1000 levels"
)

// node is a place in the body that some field's path reaches. The nodes of
// all body fields form a tree, so one scan of the body finds every field.
type node struct {
	fields  []int // indexes of the fields whose paths end here
	under   []int // indexes of the fields here and below
	keys    []keyEdge
	indexes []indexEdge
}

type keyEdge struct {
	key string
	n   *node
}

type indexEdge struct {
	index int
	n     *node
}

// add puts field i with path steps into the tree under n.
func (n *node) add(steps []step, i int) {
	n.under = append(n.under, i)
	if len(steps) == 0 {
		n.fields = append(n.fields, i)
		return
	}
	s := steps[0]
	var next *node
	if s.isIndex {
		for _, e := range n.indexes {
			if e.index == s.index {
				next = e.n
			}
		}
		if next == nil {
			next = new(node)
			n.indexes = append(n.indexes, indexEdge{s.index, next})
		}
	} else {
		for _, e := range n.keys {
			if e.key == s.key {
				next = e.n
			}
		}
		if next == nil {
			next = new(node)
			n.keys = append(n.keys, keyEdge{s.key, next})
		}
	}
	next.add(steps[1:], i)
}

// needsJSON reports whether a field reads into the body, not just takes it whole.
func (n *node) needsJSON() bool {
	return n != nil && (len(n.keys) > 0 || len(n.indexes) > 0)
}

// key returns the child for the key token tok; escaped says whether its
// text may differ from its raw bytes.
func (n *node) key(tok string, escaped bool) *node {
	if n == nil || len(n.keys) == 0 {
		return nil
	}
	k := tok[1 : len(tok)-1]
	if escaped {
		k = decodeString(tok)
	}
	for _, e := range n.keys {
		if e.key == k {
			return e.n
		}
	}
	return nil
}

func (n *node) index(i int) *node {
	if n == nil {
		return nil
	}
	for _, e := range n.indexes {
		if e.index == i {
			return e.n
		}
	}
	return nil
}

// span is where a field's value lies in the body text.
type span struct {
	start, end int
	found      bool
}

// frame is an open object or array during the scan of a body.
type frame struct {
	n     *node // nil when no field is inside
	array bool
	count int // elements seen, in an array
}

// body is the request body, decoded and scanned once per request and only
// when a field needs it.
type body struct {
	text string
	err  string // why the body is not JSON
	// redacted tells that the body is not JSON and its text names a
	// redacted key: a key cannot be told from other text there, so the
	// whole body is dumped as "[REDACTED]".
	redacted bool
}

// scanBody checks the body and finds the spans of the fields in the tree
// at root. With duplicate keys the last one wins, as in encoding/json.
func (l *line) scanBody(b *body, req *events.APIGatewayProxyRequest, root *node) {
	b.text = req.Body
	if req.IsBase64Encoded {
		raw, err := base64.StdEncoding.DecodeString(b.text)
		if err != nil {
			b.err = bodyBadBase64
			return
		}
		b.text = string(raw)
	}
	if strings.Trim(b.text, " \t\r\n") == "" { // JSON's whitespace
		b.err = bodyEmpty
		return
	}
	clear(l.spans)
	sc := &l.scan
	sc.reset(b.text)
	frames := l.frames[:0]
	pending := root
	for {
		kind, start, end := sc.next()
		switch kind {
		case tokEOF, tokError, tokTooDeep:
			l.frames = frames[:0]
			if kind == tokError {
				b.err = bodyNotJSON
			} else if kind == tokTooDeep {
				b.err = bodyTooDeep
			}
			return
		case tokKey:
			pending = frames[len(frames)-1].n.key(b.text[start:end], sc.escaped)
			continue
		case tokObjectEnd, tokArrayEnd:
			if n := frames[len(frames)-1].n; n != nil {
				for _, i := range n.fields {
					l.spans[i].end = end
				}
			}
			frames = frames[:len(frames)-1]
			continue
		}
		n := pending
		if len(frames) > 0 && frames[len(frames)-1].array {
			top := &frames[len(frames)-1]
			n = top.n.index(top.count)
			top.count++
		}
		pending = nil
		if n != nil {
			for _, i := range n.under {
				l.spans[i] = span{}
			}
			for _, i := range n.fields {
				l.spans[i] = span{start: start, end: end, found: true}
			}
		}
		if kind == tokObjectBegin || kind == tokArrayBegin {
			frames = append(frames, frame{n: n, array: kind == tokArrayBegin})
		}
	}
}

type valueKind uint8

const (
	kindString  valueKind = iota // str is the text
	kindJSON                     // str is one JSON value
	kindHeaders                  // all headers, as one object
	kindGo                       // goValue is a value of the typed event
)

// value is a selected value before it is encoded.
type value struct {
	kind    valueKind
	str     string
	goValue reflect.Value
}

// lookup finds the field's value in the request; false means absent.
func lookup(f *field, i int, req *events.APIGatewayProxyRequest, b *body, spans []span) (value, bool) {
	p := &f.Path
	switch p.src {
	case srcBody:
		if b.err != "" {
			if len(p.steps) == 0 && b.err != bodyEmpty {
				if b.redacted {
					return value{kind: kindString, str: redactedText}, true
				}
				// The whole body of a non-JSON request is dumped as the text received.
				return value{kind: kindString, str: req.Body}, true
			}
			return value{}, false
		}
		sp := spans[i]
		return value{kind: kindJSON, str: b.text[sp.start:sp.end]}, sp.found
	case srcHeaders:
		if p.name == "" {
			return value{kind: kindHeaders}, len(req.Headers) > 0 || len(req.MultiValueHeaders) > 0
		}
		s, ok := header(req, p.name)
		return value{kind: kindString, str: s}, ok
	case srcQuery:
		s, ok := param(req.QueryStringParameters, req.MultiValueQueryStringParameters, p.name)
		return value{kind: kindString, str: s}, ok
	case srcPathParams:
		s, ok := req.PathParameters[p.name]
		return value{kind: kindString, str: s}, ok
	case srcStageVars:
		s, ok := req.StageVariables[p.name]
		return value{kind: kindString, str: s}, ok
	case srcContext:
		return contextValue(&req.RequestContext, &p.ctx)
	case srcMethod:
		return value{kind: kindString, str: req.HTTPMethod}, req.HTTPMethod != ""
	case srcPath:
		return value{kind: kindString, str: req.Path}, req.Path != ""
	case srcResource:
		return value{kind: kindString, str: req.Resource}, req.Resource != ""
	}
	return value{}, false
}

// header finds a header ignoring case: the single-value map first, which
// API Gateway fills with the last value of a repeated header, then the
// last value in the multi-value map.
func header(req *events.APIGatewayProxyRequest, name string) (string, bool) {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[len(vs)-1], true
		}
	}
	return "", false
}

// param finds a query string parameter by its exact name, the same way.
func param(single map[string]string, multi map[string][]string, name string) (string, bool) {
	if v, ok := single[name]; ok {
		return v, true
	}
	if vs := multi[name]; len(vs) > 0 {
		return vs[len(vs)-1], true
	}
	return "", false
}

// allHeaders returns the single-value headers or, when a request has only
// multi-value ones, the last value of each.
func allHeaders(req *events.APIGatewayProxyRequest) map[string]string {
	if len(req.Headers) > 0 {
		return req.Headers
	}
	h := make(map[string]string, len(req.MultiValueHeaders))
	for k, vs := range req.MultiValueHeaders {
		if len(vs) > 0 {
			h[k] = vs[len(vs)-1]
		}
	}
	return h
}

// contextValue follows a compiled requestContext path. Zero values count
// as absent: in the typed event a missing key and an empty one look alike.
func contextValue(rc *events.APIGatewayProxyRequestContext, c *ctxPath) (value, bool) {
	v := reflect.ValueOf(rc).Elem()
	for _, i := range c.fields {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	if len(c.dynamic) > 0 {
		if v.IsNil() {
			return value{}, false
		}
		x, ok := selectAny(v.Interface(), c.dynamic)
		switch t := x.(type) {
		case nil:
			return value{kind: kindJSON, str: "null"}, ok
		case string:
			return value{kind: kindString, str: t}, ok
		}
		return value{kind: kindGo, goValue: reflect.ValueOf(x)}, ok
	}
	if v.IsZero() {
		return value{}, false
	}
	if v.Kind() == reflect.String {
		return value{kind: kindString, str: v.String()}, true
	}
	return value{kind: kindGo, goValue: v}, true
}

// selectAny follows steps through decoded JSON (map[string]any, []any).
func selectAny(x any, steps []step) (any, bool) {
	for _, s := range steps {
		switch t := x.(type) {
		case map[string]any:
			if s.isIndex {
				return nil, false
			}
			v, ok := t[s.key]
			if !ok {
				return nil, false
			}
			x = v
		case []any:
			if !s.isIndex || s.index >= len(t) {
				return nil, false
			}
			x = t[s.index]
		default:
			return nil, false
		}
	}
	return x, true
}

// goJSON encodes a value of the typed event (a number, a nested struct, an
// authorizer map) so that it takes the same redacting path as the body.
func goJSON(v reflect.Value) (string, error) {
	b, err := json.Marshal(v.Interface())
	return string(b), err
}
