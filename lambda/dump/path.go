package dump

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

type source uint8

const (
	srcBody source = iota
	srcHeaders
	srcQuery
	srcPathParams
	srcStageVars
	srcContext
	srcMethod
	srcPath
	srcResource
)

// sourceNames are the first segments of a path, by their JSON names in
// events.APIGatewayProxyRequest, in the order error messages list them.
var sourceNames = []struct {
	name string
	src  source
}{
	{"body", srcBody},
	{"headers", srcHeaders},
	{"queryStringParameters", srcQuery},
	{"pathParameters", srcPathParams},
	{"stageVariables", srcStageVars},
	{"requestContext", srcContext},
	{"httpMethod", srcMethod},
	{"path", srcPath},
	{"resource", srcResource},
}

// maxIndex bounds an array index in a path; larger ones are surely typos.
const maxIndex = 1_000_000

// Path names a place in an events.APIGatewayProxyRequest, written with the
// event's JSON names: body, body.a.b[0], headers, headers.<Name>,
// queryStringParameters.<name>, pathParameters.<name>,
// stageVariables.<name>, requestContext.<key>.<key>…, httpMethod, path,
// resource.
type Path struct {
	text  string
	src   source
	name  string // parameter or header name; "" for all headers
	steps []step // into the body or the request context
	ctx   ctxPath
}

// step is one .key or [index] of a body or request context path.
type step struct {
	key     string
	index   int
	isIndex bool
}

// String returns the path as it was written.
func (p Path) String() string { return p.text }

// keys returns the key names along the path that redaction looks at.
func (p Path) keys() []string {
	if p.name != "" {
		return []string{p.name}
	}
	var keys []string
	for _, s := range p.steps {
		if !s.isIndex {
			keys = append(keys, s.key)
		}
	}
	return keys
}

// defaultName is the output name of a field given by its path alone.
func (p Path) defaultName() string {
	if p.name != "" {
		return p.name
	}
	for i := len(p.steps) - 1; i >= 0; i-- {
		if !p.steps[i].isIndex {
			return p.steps[i].key
		}
	}
	return p.text
}

// ParsePath parses one path; the error says what is wrong and what is wanted.
func ParsePath(text string) (Path, error) {
	if text == "" {
		return Path{}, fmt.Errorf("empty path (want e.g. body.event_id or headers.User-Agent)")
	}
	head := text
	if i := strings.IndexAny(text, ".["); i >= 0 {
		head = text[:i]
	}
	p := Path{text: text}
	known := false
	for _, s := range sourceNames {
		if s.name == head {
			p.src, known = s.src, true
		}
	}
	if !known {
		names := make([]string, len(sourceNames))
		for i, s := range sourceNames {
			names[i] = s.name
		}
		return Path{}, fmt.Errorf("unknown source %q (want %s)", head, strings.Join(names, ", "))
	}
	rest := text[len(head):]

	var err error
	switch p.src {
	case srcBody:
		p.steps, err = parseSteps(rest, len(head))
	case srcContext:
		if rest == "" {
			return Path{}, fmt.Errorf("requestContext needs a key, e.g. requestContext.identity.sourceIp")
		}
		if p.steps, err = parseSteps(rest, len(head)); err == nil {
			p.ctx, err = compileContext(p.steps)
		}
	case srcHeaders, srcQuery, srcPathParams, srcStageVars:
		switch {
		case rest == "" && p.src == srcHeaders:
			// all headers
		case rest == "" || rest == ".":
			return Path{}, fmt.Errorf("%s needs a name, e.g. %s.name", head, head)
		case rest[0] != '.':
			return Path{}, fmt.Errorf("%s is a map of strings: want %s.name, not %s", head, head, rest)
		default:
			p.name = rest[1:]
			err = checkName(head, p.name)
		}
	case srcMethod, srcPath, srcResource:
		if rest != "" {
			return Path{}, fmt.Errorf("%s is a string: it has no %q", head, rest)
		}
	}
	if err != nil {
		return Path{}, err
	}
	return p, nil
}

// parseSteps parses a sequence of .key and [index]; offset is where s starts
// in the whole path, for the byte positions in errors.
func parseSteps(s string, offset int) ([]step, error) {
	var steps []step
	for i := 0; i < len(s); {
		at := offset + i + 1
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				if s[j] == ']' {
					return nil, fmt.Errorf("unexpected ] at byte %d (want .key or [index])", offset+j+1)
				}
				if s[j] < ' ' || s[j] == 0x7f {
					return nil, fmt.Errorf("control character at byte %d", offset+j+1)
				}
				j++
			}
			key := s[i+1 : j]
			if key == "" {
				return nil, fmt.Errorf("empty key at byte %d (want .key)", at)
			}
			steps = append(steps, step{key: key})
			i = j
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("[ at byte %d is not closed (want [index])", at)
			}
			digits := s[i+1 : i+end]
			n, err := strconv.Atoi(digits)
			if err != nil || n < 0 || n > maxIndex || digits != strconv.Itoa(n) {
				return nil, fmt.Errorf("index %q at byte %d is not a whole number 0..%d without sign or leading zeros", digits, at, maxIndex)
			}
			steps = append(steps, step{index: n, isIndex: true})
			i += end + 1
		default:
			return nil, fmt.Errorf("unexpected %q at byte %d (want .key or [index])", s[i], at)
		}
	}
	return steps, nil
}

// checkName checks a header or parameter name. Header names are RFC 9110
// tokens; other names may hold anything but control characters.
func checkName(source, name string) error {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < ' ' || c == 0x7f {
			return fmt.Errorf("control character in %s name %q", source, name)
		}
		if source == "headers" && !isTokenChar(c) {
			return fmt.Errorf("header name %q has %q, which a header name cannot hold", name, c)
		}
	}
	return nil
}

func isTokenChar(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ctxPath is a requestContext path resolved against the event's Go types at
// init, so a misspelt key fails then rather than dumping nothing forever.
type ctxPath struct {
	fields  []int  // struct field indexes, each after dereferencing pointers
	dynamic []step // steps into a free-form map (the authorizer context)
}

var contextType = reflect.TypeFor[events.APIGatewayProxyRequestContext]()

func compileContext(steps []step) (ctxPath, error) {
	var c ctxPath
	t := contextType
	where := "requestContext"
	for k, s := range steps {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t.Kind() == reflect.Struct:
			if s.isIndex {
				return ctxPath{}, fmt.Errorf("%s is an object: want .key, not [%d]", where, s.index)
			}
			i, names := jsonField(t, s.key)
			if i < 0 {
				return ctxPath{}, fmt.Errorf("unknown key %q in %s (want %s)", s.key, where, strings.Join(names, ", "))
			}
			c.fields = append(c.fields, i)
			t = t.Field(i).Type
		case t.Kind() == reflect.Interface || (t.Kind() == reflect.Map && t.Key().Kind() == reflect.String):
			c.dynamic = steps[k:]
			return c, nil
		default:
			return ctxPath{}, fmt.Errorf("%s is of kind %s, not an object: it has no %s", where, t.Kind(), stepText(s))
		}
		where += stepText(s)
	}
	return c, nil
}

func stepText(s step) string {
	if s.isIndex {
		return "[" + strconv.Itoa(s.index) + "]"
	}
	return "." + s.key
}

// jsonField finds the field of struct type t whose JSON name is key; when
// there is none it returns -1 and the JSON names there are.
func jsonField(t reflect.Type, key string) (int, []string) {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return i, nil
		}
		names = append(names, name)
	}
	return -1, names
}
