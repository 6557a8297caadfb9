package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// The AWS extensions New reads.
const (
	extValidators       = "x-amazon-apigateway-request-validators"
	extValidator        = "x-amazon-apigateway-request-validator"
	extIntegration      = "x-amazon-apigateway-integration"
	extAnyMethod        = "x-amazon-apigateway-any-method"
	extGatewayResponses = "x-amazon-apigateway-gateway-responses"
	extBinaryMediaTypes = "x-amazon-apigateway-binary-media-types"
	extAuth             = "x-amazon-apigateway-auth"
	anyMethod           = "ANY"
)

type validatorSpec struct {
	ValidateRequestBody       bool `json:"validateRequestBody"`
	ValidateRequestParameters bool `json:"validateRequestParameters"`
}

type integrationSpec struct {
	Type            string `json:"type"`
	URI             string `json:"uri"`
	HTTPMethod      string `json:"httpMethod"`
	TimeoutInMillis scalar `json:"timeoutInMillis"`
}

type gatewayResponseSpec struct {
	StatusCode         scalar            `json:"statusCode"`
	ResponseParameters map[string]string `json:"responseParameters"`
	ResponseTemplates  map[string]string `json:"responseTemplates"`
}

// scalar is a number or string of an extension, kept as text: documents
// write statusCode "400" and timeoutInMillis 29000 either way.
type scalar string

func (s *scalar) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = scalar(str)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a number or a string, got %s", b)
	}
	*s = scalar(n)
	return nil
}

// compile turns the document into the gateway's routing tree and tables.
func compile(doc *openapi3.T, c *config) (*gateway, error) {
	g := &gateway{
		stage:          c.stage,
		apiKeys:        c.apiKeys,
		sigv4:          c.sigv4,
		deploymentID:   newDeploymentID(),
		stageVariables: c.stageVariables,
		apiID:          c.apiID,
		accountID:      c.accountID,
	}
	if g.apiID == "" {
		title := ""
		if doc.Info != nil {
			title = doc.Info.Title
		}
		g.apiID = APIID(title)
	}

	validators := map[string]validatorSpec{}
	if err := extension(doc.Extensions, extValidators, &validators); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	var defaultValidator string
	if err := extension(doc.Extensions, extValidator, &defaultValidator); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if _, ok := validators[defaultValidator]; defaultValidator != "" && !ok {
		return nil, fmt.Errorf("gateway: %s %q is not defined in %s", extValidator, defaultValidator, extValidators)
	}
	var binary []string
	if err := extension(doc.Extensions, extBinaryMediaTypes, &binary); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	for _, t := range binary {
		g.binaryMediaTypes = append(g.binaryMediaTypes, strings.ToLower(strings.TrimSpace(t)))
	}
	responses, err := compileGatewayResponses(doc.Extensions)
	if err != nil {
		return nil, err
	}
	g.responses = responses
	if a := c.accessLog; a != nil {
		g.accessLog = &accessLog{sink: a.sink, group: a.group, stream: a.stream, format: parseTemplate(a.format)}
	}

	g.root = &resource{path: "/", id: shortID("resource:/", 10)}
	if doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, fmt.Errorf("gateway: the document has no paths")
	}
	keys := doc.Paths.Keys()
	sort.Strings(keys)
	sc := specCompiler{doc: doc, cfg: c, validators: validators, defaultValidator: defaultValidator}
	for _, path := range keys {
		item := doc.Paths.Value(path)
		node, err := g.root.add(path)
		if err != nil {
			return nil, err
		}
		ops := item.Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, name := range methods {
			m, err := sc.method(node, item, strings.ToUpper(name), ops[name])
			if err != nil {
				return nil, err
			}
			node.methods[m.httpMethod] = m
		}
		if raw, ok := item.Extensions[extAnyMethod]; ok {
			op, err := sc.anyOperation(path, raw)
			if err != nil {
				return nil, err
			}
			m, err := sc.method(node, item, anyMethod, op)
			if err != nil {
				return nil, err
			}
			node.methods[anyMethod] = m
		}
	}
	for _, m := range g.allMethods() {
		if c.throttle != nil {
			m.bucket = newTokenBucket(c.throttle.rate, c.throttle.burst)
		}
	}
	return g, nil
}

type specCompiler struct {
	doc              *openapi3.T
	cfg              *config
	validators       map[string]validatorSpec
	defaultValidator string
}

// method compiles one operation of a resource.
func (sc *specCompiler) method(node *resource, item *openapi3.PathItem, httpMethod string, op *openapi3.Operation) (*method, error) {
	where := httpMethod + " " + node.path
	auth, err := sc.security(op, where)
	if err != nil {
		return nil, err
	}
	m := &method{resource: node, httpMethod: httpMethod, operationName: op.OperationID, auth: auth}

	var integ integrationSpec
	if _, ok := op.Extensions[extIntegration]; !ok {
		return nil, fmt.Errorf("gateway: %s: no %s; every method needs one, as on AWS", where, extIntegration)
	}
	if err := extension(op.Extensions, extIntegration, &integ); err != nil {
		return nil, fmt.Errorf("gateway: %s: %w", where, err)
	}
	if !strings.EqualFold(integ.Type, "aws_proxy") {
		return nil, fmt.Errorf("gateway: %s: integration type %q is not served by the local gateway; use aws_proxy (Lambda proxy integration)", where, integ.Type)
	}
	if integ.HTTPMethod != "" && !strings.EqualFold(integ.HTTPMethod, http.MethodPost) {
		return nil, fmt.Errorf("gateway: %s: integration httpMethod %q: Lambda is invoked with POST", where, integ.HTTPMethod)
	}
	uri, err := substituteStageVariables(integ.URI, sc.cfg.stage, sc.cfg.stageVariables)
	if err != nil {
		return nil, fmt.Errorf("gateway: %s: %w", where, err)
	}
	name, qualifier, err := functionName(uri)
	if err != nil {
		return nil, fmt.Errorf("gateway: %s: %w", where, err)
	}
	// A provider keyed name:qualifier serves that alias or version only;
	// one keyed by the bare name serves the function whatever the qualifier.
	fn, ok := sc.cfg.functions[name+":"+qualifier]
	if ok && qualifier != "" {
		name += ":" + qualifier
	} else {
		fn, ok = sc.cfg.functions[name]
	}
	if !ok || fn == nil {
		known := make([]string, 0, len(sc.cfg.functions))
		for k := range sc.cfg.functions {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("gateway: %s: the integration calls function %q, which WithFunctions does not provide (provided: %v)", where, name, known)
	}
	m.fn, m.functionName = fn, name
	m.timeout = defaultTimeout
	if integ.TimeoutInMillis != "" {
		ms, err := strconv.ParseInt(string(integ.TimeoutInMillis), 10, 64)
		if err != nil || ms < 50 {
			return nil, fmt.Errorf("gateway: %s: integration timeoutInMillis %q: want a whole number of milliseconds, at least 50", where, integ.TimeoutInMillis)
		}
		m.timeout = time.Duration(ms) * time.Millisecond
	}

	validatorName := sc.defaultValidator
	if _, ok := op.Extensions[extValidator]; ok {
		if err := extension(op.Extensions, extValidator, &validatorName); err != nil {
			return nil, fmt.Errorf("gateway: %s: %w", where, err)
		}
	}
	var v validatorSpec
	if validatorName != "" {
		if v, ok = sc.validators[validatorName]; !ok {
			return nil, fmt.Errorf("gateway: %s: request validator %q is not defined in %s", where, validatorName, extValidators)
		}
	}
	if v.ValidateRequestParameters {
		m.required, err = requiredParameters(item.Parameters, op.Parameters)
		if err != nil {
			return nil, fmt.Errorf("gateway: %s: %w", where, err)
		}
	}
	if v.ValidateRequestBody && op.RequestBody != nil {
		if op.RequestBody.Value == nil {
			return nil, fmt.Errorf("gateway: %s: requestBody %q is not resolved", where, op.RequestBody.Ref)
		}
		for mediaType, content := range op.RequestBody.Value.Content {
			if content == nil || content.Schema == nil {
				continue
			}
			if content.Schema.Value == nil {
				return nil, fmt.Errorf("gateway: %s: model %q of %s is not resolved", where, content.Schema.Ref, mediaType)
			}
			if m.models == nil {
				m.models = map[string]*openapi3.Schema{}
			}
			m.models[strings.ToLower(mediaType)] = content.Schema.Value
		}
	}
	return m, nil
}

// requiredParameters lists the parameters AWS requires for a method: the
// path item's, overridden by the operation's of the same name and place.
func requiredParameters(lists ...openapi3.Parameters) ([]parameter, error) {
	var out []parameter
	for _, list := range lists {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				return nil, fmt.Errorf("parameter %q is not resolved", ref.Ref)
			}
			p := ref.Value
			switch p.In {
			case openapi3.ParameterInPath, openapi3.ParameterInQuery, openapi3.ParameterInHeader:
			default:
				continue
			}
			out = slices.DeleteFunc(out, func(q parameter) bool { return q.in == p.In && q.name == p.Name })
			if p.Required || p.In == openapi3.ParameterInPath {
				out = append(out, parameter{in: p.In, name: p.Name})
			}
		}
	}
	return out, nil
}

// anyOperation decodes the operation of x-amazon-apigateway-any-method,
// which kin-openapi leaves as raw extension data, and resolves its
// references against the document's components.
func (sc *specCompiler) anyOperation(path string, raw any) (*openapi3.Operation, error) {
	where := anyMethod + " " + path
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("gateway: %s: %s: %w", where, extAnyMethod, err)
	}
	op := openapi3.NewOperation()
	if err := op.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("gateway: %s: %s is not an operation: %w", where, extAnyMethod, err)
	}
	r := refResolver{components: sc.doc.Components, seen: map[*openapi3.Schema]bool{}}
	if err := r.operation(op); err != nil {
		return nil, fmt.Errorf("gateway: %s: %w", where, err)
	}
	return op, nil
}

// refResolver resolves local component references ("#/components/…") in an
// operation kin-openapi's loader did not see.
type refResolver struct {
	components *openapi3.Components
	seen       map[*openapi3.Schema]bool
}

func (r *refResolver) operation(op *openapi3.Operation) error {
	for _, p := range op.Parameters {
		if err := r.parameter(p); err != nil {
			return err
		}
	}
	if rb := op.RequestBody; rb != nil {
		if rb.Value == nil {
			name, ok := strings.CutPrefix(rb.Ref, "#/components/requestBodies/")
			if !ok || r.components == nil || r.components.RequestBodies[name] == nil {
				return fmt.Errorf("requestBody $ref %q: not a request body of this document", rb.Ref)
			}
			rb.Value = r.components.RequestBodies[name].Value
		}
		for _, mt := range rb.Value.Content {
			if mt != nil {
				if err := r.schema(mt.Schema); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (r *refResolver) parameter(p *openapi3.ParameterRef) error {
	if p.Value == nil {
		name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
		if !ok || r.components == nil || r.components.Parameters[name] == nil {
			return fmt.Errorf("parameter $ref %q: not a parameter of this document", p.Ref)
		}
		p.Value = r.components.Parameters[name].Value
	}
	return r.schema(p.Value.Schema)
}

func (r *refResolver) schema(s *openapi3.SchemaRef) error {
	if s == nil {
		return nil
	}
	if s.Value == nil {
		name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
		if !ok || r.components == nil || r.components.Schemas[name] == nil {
			return fmt.Errorf("schema $ref %q: not a schema of this document", s.Ref)
		}
		// The loader resolved the components' own references.
		s.Value = r.components.Schemas[name].Value
		return nil
	}
	v := s.Value
	if r.seen[v] {
		return nil
	}
	r.seen[v] = true
	var children []*openapi3.SchemaRef
	for _, p := range v.Properties {
		children = append(children, p)
	}
	children = append(children, v.Items, v.Not, v.AdditionalProperties.Schema)
	children = append(children, v.AllOf...)
	children = append(children, v.AnyOf...)
	children = append(children, v.OneOf...)
	for _, c := range children {
		if err := r.schema(c); err != nil {
			return err
		}
	}
	return nil
}

var stageVariableRE = regexp.MustCompile(`\$\{stageVariables\.([^}]*)\}`)

// substituteStageVariables resolves ${stageVariables.<name>} in an
// integration uri with the stage's variables, as API Gateway does when it
// calls the integration. The stage's variables are fixed when New is
// called, so an unset one is refused here rather than answered 500 later.
func substituteStageVariables(uri, stage string, vars map[string]string) (string, error) {
	var missing []string
	out := stageVariableRE.ReplaceAllStringFunc(uri, func(m string) string {
		name := stageVariableRE.FindStringSubmatch(m)[1]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("integration uri %q names stage variable %s, which stage %s does not set (WithStageVariables)", uri, strings.Join(missing, ", "), stage)
	}
	return out, nil
}

// functionName returns the function and the qualifier (alias or version,
// "" when none) a Lambda invoke ARN names:
// arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations.
func functionName(uri string) (name, qualifier string, err error) {
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	bad := fmt.Errorf("integration uri %q: want a Lambda invoke ARN, arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations", uri)
	_, rest, ok := strings.Cut(uri, ":lambda:path"+prefix)
	if !ok || !strings.HasPrefix(uri, "arn:") {
		return "", "", bad
	}
	fnARN, ok := strings.CutSuffix(rest, suffix)
	if !ok {
		return "", "", bad
	}
	// arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
	parts := strings.Split(fnARN, ":")
	if len(parts) < 7 || len(parts) > 8 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" || parts[6] == "" {
		return "", "", bad
	}
	if len(parts) == 8 {
		if parts[7] == "" {
			return "", "", bad
		}
		qualifier = parts[7]
	}
	return parts[6], qualifier, nil
}

// extension decodes doc extension key into dst, leaving dst as it is when
// the extension is absent.
func extension(exts map[string]any, key string, dst any) error {
	raw, ok := exts[key]
	if !ok {
		return nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// APIID is the REST API id New gives an API titled title when WithAPIID is
// not used: 10 of a-z0-9, like AWS's, and always the same for the same
// title, so that invoke URLs survive restarts and redeploys.
func APIID(title string) string { return shortID("api:"+title, 10) }

// shortID derives a stable lower-case id of n characters from s, shaped like
// the ids API Gateway assigns.
func shortID(s string, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	h := fnv.New64a()
	h.Write([]byte(s))
	v := h.Sum64()
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
		if v == 0 {
			h.Write([]byte{byte(i)})
			v = h.Sum64()
		}
	}
	return string(out)
}
