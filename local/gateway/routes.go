package gateway

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// resource is one API Gateway resource: a node of the path tree.
type resource struct {
	path string // the resource path, e.g. /items/{id}
	id   string // $context.resourceId

	static map[string]*resource
	param  *resource // the {name} child
	greedy *resource // the {name+} child
	// name is the parameter a {name} or {name+} resource binds.
	name string

	methods map[string]*method // by HTTP method; "ANY" for x-amazon-apigateway-any-method
}

// method is one method of a resource and everything needed to serve it.
type method struct {
	resource      *resource
	httpMethod    string // as declared: GET, POST, …, or ANY
	operationName string

	required []parameter                 // checked when the validator validates parameters
	models   map[string]*openapi3.Schema // by lower-case media type; set when the validator validates bodies

	fn           Function
	functionName string
	timeout      time.Duration
	bucket       *tokenBucket
	auth         *authRequirement // nil: anyone may call
}

type parameter struct {
	in, name string
}

// add returns the resource for an OpenAPI path, creating it and its parents.
func (n *resource) add(path string) (*resource, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("gateway: path %q: must start with /", path)
	}
	segs := strings.Split(strings.TrimSuffix(path[1:], "/"), "/")
	if path == "/" {
		segs = nil
	}
	cur := n
	for i, seg := range segs {
		at := "/" + strings.Join(segs[:i+1], "/")
		var next **resource
		var name string
		switch {
		case seg == "":
			return nil, fmt.Errorf("gateway: path %q: empty segment", path)
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}"):
			if i != len(segs)-1 {
				return nil, fmt.Errorf("gateway: path %q: a greedy {%s} must be the last segment", path, seg[1:len(seg)-1])
			}
			next, name = &cur.greedy, seg[1:len(seg)-2]
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			next, name = &cur.param, seg[1:len(seg)-1]
		case strings.ContainsAny(seg, "{}"):
			return nil, fmt.Errorf("gateway: path %q: segment %q: a parameter must be a whole segment", path, seg)
		default:
			if cur.static == nil {
				cur.static = map[string]*resource{}
			}
			child := cur.static[seg]
			if child == nil {
				child = &resource{path: at, id: shortID("resource:"+at, 6)}
				cur.static[seg] = child
			}
			cur = child
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("gateway: path %q: unnamed parameter", path)
		}
		if *next != nil && (*next).name != name {
			return nil, fmt.Errorf("gateway: paths %q and %q: one resource cannot be both {%s} and {%s}, as on AWS", (*next).path, at, (*next).name, name)
		}
		if *next == nil {
			*next = &resource{path: at, id: shortID("resource:"+at, 6), name: name}
		}
		cur = *next
	}
	if cur.methods == nil {
		cur.methods = map[string]*method{}
	}
	return cur, nil
}

// match finds the method that serves httpMethod on the path segments: the
// most specific resource declaring the method (or ANY), trying a literal
// segment, then a {name} segment, then a {name+} resource, and moving on to
// the next candidate when a resource lacks the method. It appends the bound
// path parameters to params.
func (n *resource) match(segs []string, httpMethod string, params *[]pathParam) *method {
	if len(segs) == 0 {
		return n.methodFor(httpMethod)
	}
	seg := segs[0]
	if c := n.static[seg]; c != nil {
		if m := c.match(segs[1:], httpMethod, params); m != nil {
			return m
		}
	}
	if n.param != nil && seg != "" {
		mark := len(*params)
		*params = append(*params, pathParam{n.param.name, seg})
		if m := n.param.match(segs[1:], httpMethod, params); m != nil {
			return m
		}
		*params = (*params)[:mark]
	}
	// A greedy parameter keeps an empty segment inside it: AWS recorded
	// /proxy-value//double-slash as {proxy+} = proxy-value//double-slash
	// (LocalStack's test_lambda_aws_proxy_integration snapshot). One that
	// would start with a slash is not matched (AWS unverified).
	if n.greedy != nil && seg != "" {
		if m := n.greedy.methodFor(httpMethod); m != nil {
			*params = append(*params, pathParam{n.greedy.name, strings.Join(segs, "/")})
			return m
		}
	}
	return nil
}

func (n *resource) methodFor(httpMethod string) *method {
	if m := n.methods[httpMethod]; m != nil {
		return m
	}
	return n.methods[anyMethod]
}

type pathParam struct {
	name, value string
}

// allMethods lists every method of the tree in a stable order.
func (g *gateway) allMethods() []*method {
	var out []*method
	var walk func(n *resource)
	walk = func(n *resource) {
		if n == nil {
			return
		}
		keys := make([]string, 0, len(n.methods))
		for k := range n.methods {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, n.methods[k])
		}
		statics := make([]string, 0, len(n.static))
		for k := range n.static {
			statics = append(statics, k)
		}
		sort.Strings(statics)
		for _, k := range statics {
			walk(n.static[k])
		}
		walk(n.param)
		walk(n.greedy)
	}
	walk(g.root)
	return out
}
