package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// gatewayError is an answer API Gateway makes itself instead of the
// integration's, and what it looks like when nothing is customized.
type gatewayError struct {
	responseType string // the gateway response type that customizes it
	status       int    // the status AWS answers with
	// typeStatus is the type's documented default status, which applies
	// when the type is customized without a statusCode. It differs from
	// status for a Lambda invocation failure: 500 by default, 504 once
	// INTEGRATION_FAILURE is customized.
	typeStatus int
	errorType  string // x-amzn-ErrorType
	message    string // $context.error.message, unless the request sets one
	// spaced is true for the answers whose default body AWS writes as
	// {"message": "…"} rather than {"message":"…"}.
	spaced bool
}

// The default bodies as reported from AWS: {"message":"Missing
// Authentication Token"} unspaced (optiv/Go365#4), {"message": "Endpoint
// request timed out"} spaced with 504 (ks888/LambStatus#36,
// aws/context-ontology-accelerator#185), and a result whose body is an
// object logged as "Malformed Lambda proxy response" and answered 502
// (vincentsarago/lambda-proxy#59). The x-amzn-ErrorType of 413 and 504 is
// unverified (local/README.md).
var (
	errMissingToken    = gatewayError{"MISSING_AUTHENTICATION_TOKEN", 403, 403, "MissingAuthenticationTokenException", "Missing Authentication Token", false}
	errThrottled       = gatewayError{"THROTTLED", 429, 429, "TooManyRequestsException", "Too Many Requests", false}
	errBadParameters   = gatewayError{"BAD_REQUEST_PARAMETERS", 400, 400, "BadRequestException", "", true}
	errBadBody         = gatewayError{"BAD_REQUEST_BODY", 400, 400, "BadRequestException", "Invalid request body", true}
	errRequestTooLarge = gatewayError{"REQUEST_TOO_LARGE", 413, 413, "BadRequestException", "Request Too Long", true}
	errFunction        = gatewayError{"DEFAULT_5XX", 502, 502, "InternalServerErrorException", "Internal server error", true}
	// errFunctionError is a function's error (unhandled, or a response over
	// Lambda's 6 MB): AWS's access log has INTEGRATION_FAILURE for it, with
	// 502 and "Lambda Customer Function Error:…" as the integration error.
	errFunctionError      = gatewayError{"INTEGRATION_FAILURE", 502, 504, "InternalServerErrorException", "Internal server error", true}
	errIntegrationFailure = gatewayError{"INTEGRATION_FAILURE", 500, 504, "InternalServerErrorException", "Internal server error", true}
	errTimeout            = gatewayError{"INTEGRATION_TIMEOUT", 504, 504, "InternalServerErrorException", "Endpoint request timed out", true}
	errConfiguration      = gatewayError{"API_CONFIGURATION_ERROR", 500, 500, "InternalServerErrorException", "Internal server error", true}
)

// responseTypes are the gateway response types API Gateway accepts.
var responseTypes = map[string]bool{
	"ACCESS_DENIED": true, "API_CONFIGURATION_ERROR": true, "AUTHORIZER_CONFIGURATION_ERROR": true,
	"AUTHORIZER_FAILURE": true, "BAD_REQUEST_PARAMETERS": true, "BAD_REQUEST_BODY": true,
	"DEFAULT_4XX": true, "DEFAULT_5XX": true, "EXPIRED_TOKEN": true, "INTEGRATION_FAILURE": true,
	"INTEGRATION_TIMEOUT": true, "INVALID_API_KEY": true, "INVALID_SIGNATURE": true,
	"MISSING_AUTHENTICATION_TOKEN": true, "QUOTA_EXCEEDED": true, "REQUEST_TOO_LARGE": true,
	"RESOURCE_NOT_FOUND": true, "THROTTLED": true, "UNAUTHORIZED": true,
	"UNSUPPORTED_MEDIA_TYPE": true, "WAF_FILTERED": true,
}

// gatewayResponse is a compiled x-amazon-apigateway-gateway-responses entry.
type gatewayResponse struct {
	status    int // 0: not set
	headers   []headerMapping
	templates map[string]template // by content type
	// types lists the template content types, sorted, for a stable choice.
	types []string
}

// headerMapping is one gatewayresponse.header.<name> response parameter.
type headerMapping struct {
	name string
	// literal is the value of a 'quoted' mapping; otherwise source names
	// what to read: method.request.header.X, context.X, stageVariables.X, …
	literal string
	source  string
}

// defaultTemplate is the body of a customized response that sets no template.
var defaultTemplate = parseTemplate(`{"message":$context.error.messageString}`)

func compileGatewayResponses(exts map[string]any) (map[string]*gatewayResponse, error) {
	specs := map[string]gatewayResponseSpec{}
	if err := extension(exts, extGatewayResponses, &specs); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	out := make(map[string]*gatewayResponse, len(specs))
	for typ, spec := range specs {
		where := extGatewayResponses + " " + typ
		if !responseTypes[typ] {
			return nil, fmt.Errorf("gateway: %s: not a gateway response type", where)
		}
		gr := &gatewayResponse{}
		if spec.StatusCode != "" {
			code, err := strconv.Atoi(string(spec.StatusCode))
			if err != nil || code < 100 || code > 599 {
				return nil, fmt.Errorf("gateway: %s: statusCode %q: want an HTTP status code", where, spec.StatusCode)
			}
			gr.status = code
		}
		names := make([]string, 0, len(spec.ResponseParameters))
		for k := range spec.ResponseParameters {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			hm, err := compileHeaderMapping(k, spec.ResponseParameters[k])
			if err != nil {
				return nil, fmt.Errorf("gateway: %s: %w", where, err)
			}
			gr.headers = append(gr.headers, hm)
		}
		if len(spec.ResponseTemplates) > 0 {
			gr.templates = make(map[string]template, len(spec.ResponseTemplates))
			for ct, body := range spec.ResponseTemplates {
				gr.templates[strings.ToLower(ct)] = parseTemplate(body)
				gr.types = append(gr.types, strings.ToLower(ct))
			}
			sort.Strings(gr.types)
		}
		out[typ] = gr
	}
	return out, nil
}

func compileHeaderMapping(key, value string) (headerMapping, error) {
	name, ok := strings.CutPrefix(key, "gatewayresponse.header.")
	if !ok || name == "" {
		return headerMapping{}, fmt.Errorf("responseParameters key %q: want gatewayresponse.header.<name>", key)
	}
	v := strings.TrimSpace(value)
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return headerMapping{name: name, literal: v[1 : len(v)-1]}, nil
	}
	for _, prefix := range []string{"method.request.header.", "method.request.querystring.", "method.request.path.", "context.", "stageVariables."} {
		if rest, ok := strings.CutPrefix(v, prefix); ok && rest != "" {
			return headerMapping{name: name, source: v}, nil
		}
	}
	return headerMapping{}, fmt.Errorf("responseParameters %q value %q: want a 'quoted literal', method.request.header|querystring|path.<name>, context.<name> or stageVariables.<name>", key, value)
}

// reject answers with a gateway response of kind e. message replaces the
// kind's message when not empty; validation is
// $context.error.validationErrorString.
func (g *gateway) reject(w http.ResponseWriter, ex *exchange, e gatewayError, message, validation string) {
	if message == "" {
		message = e.message
	}
	ex.errorMessage, ex.responseType, ex.validation = message, e.responseType, validation

	family := "DEFAULT_4XX"
	if e.status >= 500 {
		family = "DEFAULT_5XX"
	}
	own, fam := g.responses[e.responseType], g.responses[family]
	chosen := own
	if chosen == nil {
		chosen = fam
	}
	status := e.status
	switch {
	case own != nil && own.status != 0:
		status = own.status
	case fam != nil && fam.status != 0:
		status = fam.status
	case own != nil:
		status = e.typeStatus
	}

	h := w.Header()
	var body []byte
	contentType := "application/json"
	switch {
	case chosen == nil:
		sep := ":"
		if e.spaced {
			sep = ": "
		}
		quoted, _ := json.Marshal(message)
		body = append(append([]byte(`{"message"`+sep), quoted...), '}')
	default:
		for _, hm := range chosen.headers {
			if v, ok := ex.headerValue(hm); ok {
				h[http.CanonicalHeaderKey(hm.name)] = []string{v}
			}
		}
		t := defaultTemplate
		if len(chosen.templates) > 0 {
			contentType = chosen.pickTemplate(ex.r.Header.Get("Accept"))
			t = chosen.templates[contentType]
		}
		body = t.render(nil, ex.lookup, false)
	}
	h["Content-Type"] = []string{contentType}
	ex.setIDHeaders(h)
	setAWSHeader(h, "x-amzn-ErrorType", e.errorType)
	ex.write(w, status, body)
}

// pickTemplate chooses the template for a caller accepting accept: the
// first accepted type that has one, else application/json, else the first.
func (gr *gatewayResponse) pickTemplate(accept string) string {
	for _, item := range strings.Split(accept, ",") {
		mediaType, _, _ := strings.Cut(item, ";")
		mediaType = strings.ToLower(strings.TrimSpace(mediaType))
		if _, ok := gr.templates[mediaType]; ok {
			return mediaType
		}
	}
	if _, ok := gr.templates["application/json"]; ok {
		return "application/json"
	}
	return gr.types[0]
}

// headerValue resolves a response parameter mapping for this request.
func (ex *exchange) headerValue(hm headerMapping) (string, bool) {
	if hm.source == "" {
		return hm.literal, true
	}
	if name, ok := strings.CutPrefix(hm.source, "method.request.header."); ok {
		v := ex.r.Header.Get(name)
		return v, v != ""
	}
	if name, ok := strings.CutPrefix(hm.source, "method.request.querystring."); ok {
		v := parseQuery(ex.r.URL.RawQuery).Get(name)
		return v, v != ""
	}
	if name, ok := strings.CutPrefix(hm.source, "method.request.path."); ok {
		v := ex.pathParam(name)
		return v, v != ""
	}
	v, ok := ex.lookup(hm.source)
	return v, ok && v != ""
}
