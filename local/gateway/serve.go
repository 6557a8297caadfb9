package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"golang.org/x/sync/semaphore"

	"github.com/acme/request-dump/local/apikeys"
	"github.com/acme/request-dump/local/internal/rawheader"
	"github.com/acme/request-dump/local/internal/requestid"
	"github.com/acme/request-dump/local/sigv4"
)

// gateway serves one stage of a compiled API.
type gateway struct {
	stage            string
	deploymentID     string
	stageVariables   map[string]string
	apiID, accountID string
	root             *resource
	binaryMediaTypes []string
	responses        map[string]*gatewayResponse
	accessLog        *accessLog
	apiKeys          *apikeys.Service
	sigv4            *sigv4.Verifier
}

// exchange is one request going through the gateway: what the event,
// gateway responses and the access log are made of.
type exchange struct {
	g     *gateway
	r     *http.Request
	start time.Time

	requestID, extendedRequestID, traceID string
	lambdaRequestID                       string

	path       string // the resource path requested, decoded
	method     *method
	pathParams []pathParam
	query      url.Values

	status       int
	responseLen  int
	integration  integrationOutcome
	errorMessage string
	responseType string
	validation   string // $context.error.validationErrorString
	identity     callerIdentity
}

type integrationOutcome struct {
	called  bool
	latency time.Duration
	status  int    // what Lambda answered: 200, or the error status
	err     string // $context.integration.error
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ex := &exchange{g: g, r: r, start: time.Now()}
	ex.requestID = requestid.New()
	ex.extendedRequestID = newExtendedID()
	ex.traceID = newTraceID(ex.start)
	ex.path = requestPath(r)
	g.serve(w, ex)
	if g.accessLog != nil {
		g.accessLog.write(ex)
	}
}

func (g *gateway) serve(w http.ResponseWriter, ex *exchange) {
	r := ex.r
	if r.ContentLength > maxRequestBytes {
		g.writeTooLong(w, ex)
		return
	}
	segs := splitPath(ex.path)
	var params [4]pathParam
	ps := params[:0]
	ex.method = g.root.match(segs, r.Method, &ps)
	if ex.method == nil {
		g.reject(w, ex, errMissingToken, "", "")
		return
	}
	// Path parameters, like path, keep the client's percent-encoding.
	ex.pathParams = ps
	m := ex.method
	if m.bucket != nil && !m.bucket.allow(ex.start) {
		g.reject(w, ex, errThrottled, "", "")
		return
	}
	body, release, err := readBody(r)
	defer release()
	if errors.Is(err, context.Canceled) {
		return // the caller went away while waiting for its turn
	}
	if err != nil {
		g.writeIncomplete(w, ex, err)
		return
	}
	if len(body) > maxRequestBytes {
		g.writeTooLong(w, ex)
		return
	}
	if m.auth != nil && !g.authorize(w, ex, body) {
		return
	}
	ex.query = parseQuery(r.URL.RawQuery)

	if len(m.required) > 0 {
		if missing := ex.missingParameters(); len(missing) > 0 {
			msg := "Missing required request parameters: [" + strings.Join(missing, ", ") + "]"
			g.reject(w, ex, errBadParameters, msg, msg)
			return
		}
	}
	if m.models != nil {
		if schema := m.model(r.Header.Get("Content-Type")); schema != nil {
			if detail := validateBody(schema, body); detail != "" {
				g.reject(w, ex, errBadBody, "", detail)
				return
			}
		}
	}

	event := ex.event(body)
	payload := event.appendJSON(make([]byte, 0, eventSize(body)))
	if len(payload) > maxInvokeBytes {
		g.reject(w, ex, errRequestTooLarge, "", "")
		return
	}
	g.invoke(w, ex, payload)
}

// Large bodies cost far more memory than their size while the gateway
// works on them: validation decodes the JSON into Go values (about 16
// times the body's size for one of many small members), and the event
// holds it again. Twenty-four 10 MB bodies at once took 4 GB. So bodies
// over largeBody share a budget of largeBodyBudget bytes in this process,
// and wait for their turn; smaller ones go straight through. Two at a time
// is also all a 2-core machine works on at once.
const (
	largeBody       = 1 << 20
	largeBodyBudget = 2 * maxRequestBytes
)

var largeBodies = semaphore.NewWeighted(largeBodyBudget)

// readBody reads a request's body, up to one byte more than API Gateway's
// limit, into a buffer of the declared size, after the body has got its
// share of the budget for large ones. The caller calls release when it is
// done with the body, whatever the error.
func readBody(r *http.Request) (body []byte, release func(), err error) {
	release = func() {}
	size := r.ContentLength
	if size > maxRequestBytes {
		size = maxRequestBytes + 1
	}
	var head []byte
	if size < 0 {
		// No declared length (chunked): read what a small body is, and
		// take a share for the most a large one can be.
		if head, err = io.ReadAll(io.LimitReader(r.Body, largeBody+1)); err != nil || len(head) <= largeBody {
			return head, release, err
		}
		size = maxRequestBytes + 1
	}
	if size > largeBody {
		if err := largeBodies.Acquire(r.Context(), size); err != nil {
			return nil, release, err
		}
		release = func() { largeBodies.Release(size) }
	}
	buf := bytes.NewBuffer(make([]byte, 0, int(size)+bytes.MinRead))
	buf.Write(head)
	_, err = buf.ReadFrom(io.LimitReader(r.Body, maxRequestBytes+1-int64(len(head))))
	return buf.Bytes(), release, err
}

// invoke calls the function and maps its result to the response.
func (g *gateway) invoke(w http.ResponseWriter, ex *exchange, payload []byte) {
	m := ex.method
	ex.lambdaRequestID = requestid.New()
	// A caller hanging up does not stop a Lambda invocation on AWS.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ex.r.Context()), m.timeout)
	began := time.Now()
	res, err := m.fn.Invoke(ctx, ex.lambdaRequestID, payload)
	timedOut := ctx.Err() == context.DeadlineExceeded
	cancel()
	ex.integration = integrationOutcome{called: true, latency: time.Since(began), status: http.StatusOK}

	switch {
	case timedOut:
		ex.integration.err = "Endpoint request timed out"
		g.reject(w, ex, errTimeout, "", "")
		return
	case errors.Is(err, ErrRequestTooLarge):
		ex.integration.status, ex.integration.err = http.StatusRequestEntityTooLarge, err.Error()
		g.reject(w, ex, errRequestTooLarge, "", "")
		return
	case errors.Is(err, ErrInvokeRejected):
		ex.integration.status, ex.integration.err = http.StatusTooManyRequests, err.Error()
		g.reject(w, ex, errIntegrationFailure, "", "")
		return
	case err != nil:
		ex.integration.err = err.Error()
		g.reject(w, ex, errFunction, "", "")
		return
	case res.FunctionError:
		ex.integration.err = "Lambda function error"
		g.reject(w, ex, errFunctionError, "", "")
		return
	}

	out, ok := parseResult(res.Payload)
	if !ok {
		ex.integration.err = "Malformed Lambda proxy response"
		g.reject(w, ex, errFunction, "", "")
		return
	}
	body := []byte(out.body)
	if out.base64 && g.decodesResponse(ex.r.Header.Values("Accept")) {
		decoded, err := base64.StdEncoding.DecodeString(out.body)
		if err != nil {
			ex.integration.err = "Unable to base64 decode the body"
			g.reject(w, ex, errConfiguration, "", "")
			return
		}
		body = decoded
	}
	h := w.Header()
	out.writeHeaders(h)
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = []string{"application/json"}
	}
	ex.setIDHeaders(h)
	setAWSHeader(h, "X-Amzn-Trace-Id", ex.traceID)
	ex.write(w, out.status, body)
}

// model returns the schema a request body of contentType must match, if
// any: the model of its media type, else the $default model. A request
// without Content-Type is taken as application/json, as API Gateway does.
func (m *method) model(contentType string) *openapi3.Schema {
	mt := "application/json"
	if contentType != "" {
		mt = mediaType(contentType)
	}
	if s := m.models[mt]; s != nil {
		return s
	}
	return m.models["$default"]
}

// missingParameters lists the required parameters the request lacks or
// leaves blank, in document order.
func (ex *exchange) missingParameters() []string {
	var missing []string
	for _, p := range ex.method.required {
		var v string
		switch p.in {
		case "query":
			v = ex.query.Get(p.name)
		case "header":
			v = ex.r.Header.Get(p.name)
			if strings.EqualFold(p.name, "Host") {
				v = ex.r.Host
			}
		case "path":
			v = ex.pathParam(p.name)
		}
		if strings.TrimSpace(v) == "" {
			missing = append(missing, p.name)
		}
	}
	return missing
}

func (ex *exchange) pathParam(name string) string {
	for _, p := range ex.pathParams {
		if p.name == name {
			return p.value
		}
	}
	return ""
}

// event builds the Lambda proxy integration's input.
func (ex *exchange) event(body []byte) proxyEvent {
	r, g, m := ex.r, ex.g, ex.method
	headers, multi := ex.requestHeaders()
	e := proxyEvent{
		Resource:          m.resource.path,
		Path:              ex.path,
		HTTPMethod:        r.Method,
		Headers:           headers,
		MultiValueHeaders: multi,
		StageVariables:    nonEmpty(g.stageVariables),
		RequestContext: proxyContext{
			AccountID:         g.accountID,
			APIID:             g.apiID,
			DeploymentID:      g.deploymentID,
			DomainName:        ex.domainName(),
			DomainPrefix:      ex.domainPrefix(),
			ExtendedRequestID: ex.extendedRequestID,
			HTTPMethod:        r.Method,
			Identity: proxyIdentity{
				SourceIP:  ex.sourceIP(),
				UserAgent: r.UserAgent(),
			},
			OperationName:    m.operationName,
			Path:             ex.contextPath(),
			Protocol:         r.Proto,
			RequestID:        ex.requestID,
			RequestTime:      ex.start.UTC().Format(clfTime),
			RequestTimeEpoch: ex.start.UnixMilli(),
			ResourceID:       m.resource.id,
			ResourcePath:     m.resource.path,
			Stage:            g.stage,
		},
	}
	ex.identity.fill(&e.RequestContext.Identity)
	if len(ex.query) > 0 {
		e.QueryStringParameters = make(map[string]string, len(ex.query))
		e.MultiValueQueryStringParameters = make(map[string][]string, len(ex.query))
		for k, vs := range ex.query {
			e.QueryStringParameters[k] = vs[len(vs)-1]
			e.MultiValueQueryStringParameters[k] = vs
		}
	}
	if len(ex.pathParams) > 0 {
		e.PathParameters = make(map[string]string, len(ex.pathParams))
		for _, p := range ex.pathParams {
			e.PathParameters[p.name] = p.value
		}
	}
	if len(body) > 0 {
		s := string(body)
		if g.isBinary(r.Header.Get("Content-Type")) {
			s = base64.StdEncoding.EncodeToString(body)
			e.IsBase64Encoded = true
		}
		e.Body = &s
	}
	return e
}

// requestPath is the resource path requested, as the client encoded it
// (API Gateway passes %2B as %2B), with leading slashes taken as one.
func requestPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if strings.HasPrefix(p, "//") {
		p = "/" + strings.TrimLeft(p, "/")
	}
	if p == "" {
		p = "/"
	}
	return p
}

// contextPath is $context.path (requestContext.path): the stage and the
// path as the client sent it. Unlike path, it keeps the extra slashes of a
// path that starts with "//": AWS recorded /stage//hardcoded beside the path
// /hardcoded (LocalStack's test_lambda_aws_proxy_integration snapshot,
// invocation-hardcoded and invocation-payload-with-prepended-slash).
func (ex *exchange) contextPath() string {
	p := ex.r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	return "/" + ex.g.stage + p
}

// clfTime is the Common Log Format time of $context.requestTime.
const clfTime = "02/Jan/2006:15:04:05 -0700"

// requestHeaders returns the request's headers as the event carries them:
// under the names the client sent (rawheader) but for the few CloudFront
// capitalises, without those API Gateway drops, the last value of each in
// headers and all of them in multiValueHeaders, with the headers API
// Gateway adds on the way in.
func (ex *exchange) requestHeaders() (map[string]string, map[string][]string) {
	r := ex.r
	spelling := rawheader.Spelling(r)
	headers := make(map[string]string, len(r.Header)+5)
	multi := make(map[string][]string, len(r.Header)+5)
	for k, vs := range r.Header {
		if len(vs) == 0 || droppedRequestHeaders[k] {
			continue
		}
		name := k
		if raw, ok := spelling[k]; ok && !capitalisedRequestHeaders[k] {
			name = raw
		}
		headers[name] = vs[len(vs)-1]
		multi[name] = vs
	}
	set := func(k, v string) {
		if raw, ok := spelling[k]; ok && raw != k {
			delete(headers, raw)
			delete(multi, raw)
		}
		headers[k] = v
		multi[k] = []string{v}
	}
	set("Host", r.Host)
	ip := ex.sourceIP()
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		set("X-Forwarded-For", strings.Join(xff, ", ")+", "+ip)
	} else {
		set("X-Forwarded-For", ip)
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	set("X-Forwarded-Proto", proto)
	set("X-Forwarded-Port", ex.port(proto))
	set("X-Amzn-Trace-Id", ex.traceID)
	return headers, multi
}

func (ex *exchange) sourceIP() string {
	host, _, err := net.SplitHostPort(ex.r.RemoteAddr)
	if err != nil {
		return ex.r.RemoteAddr
	}
	return host
}

// port is the port the caller connected to, as it named it in Host.
func (ex *exchange) port(proto string) string {
	if _, p, err := net.SplitHostPort(ex.r.Host); err == nil && p != "" {
		return p
	}
	if proto == "https" {
		return "443"
	}
	return "80"
}

func (ex *exchange) domainName() string {
	return ex.r.Host
}

func (ex *exchange) domainPrefix() string {
	host := ex.r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	prefix, _, _ := strings.Cut(host, ".")
	return prefix
}

// isBinary reports whether a request body of contentType reaches the
// function base64-encoded: its media type is one of the API's binary media
// types.
func (g *gateway) isBinary(contentType string) bool {
	if len(g.binaryMediaTypes) == 0 {
		return false
	}
	return g.binaryMatch(mediaType(contentType))
}

// binaryMatch reports whether mediaType is one of the API's binary media
// types, which may use a wildcard: */* covers every media type (and none),
// image/* every image type.
func (g *gateway) binaryMatch(mediaType string) bool {
	for _, t := range g.binaryMediaTypes {
		switch {
		case t == "*/*":
			return true
		case mediaType == "":
		case t == mediaType:
			return true
		case strings.HasSuffix(t, "/*") && strings.HasPrefix(mediaType, t[:len(t)-1]):
			return true
		}
	}
	return false
}

// decodesResponse reports whether a proxy result marked isBase64Encoded is
// sent to the caller as binary: when the first media type of the caller's
// Accept is a binary media type (AWS looks at no other), or those include
// */*. Otherwise the caller gets the base64 text.
func (g *gateway) decodesResponse(accept []string) bool {
	if len(g.binaryMediaTypes) == 0 {
		return false
	}
	first := ""
	if len(accept) > 0 {
		first, _, _ = strings.Cut(accept[0], ",")
	}
	return g.binaryMatch(mediaType(first))
}

// mediaType is the media type of a Content-Type value or an Accept item,
// in lower case and without its parameters.
func mediaType(s string) string {
	t, _, _ := strings.Cut(s, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

// remapped are the headers of a proxy result API Gateway does not pass as
// they are: they describe the connection or the message API Gateway sends,
// so it renames the function's to x-amzn-Remapped-<name>.
var remapped = map[string]bool{
	"Connection": true, "Content-Length": true, "Date": true, "Server": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Www-Authenticate": true,
}

func responseHeaderName(k string) string {
	c := http.CanonicalHeaderKey(k)
	if remapped[c] {
		return "X-Amzn-Remapped-" + c
	}
	return c
}

func (ex *exchange) setIDHeaders(h http.Header) {
	setAWSHeader(h, "x-amzn-RequestId", ex.requestID)
	setAWSHeader(h, "x-amz-apigw-id", ex.extendedRequestID)
}

// setAWSHeader sets a header under the exact name AWS sends, replacing any
// value a function set under another spelling of it.
func setAWSHeader(h http.Header, name, value string) {
	delete(h, http.CanonicalHeaderKey(name))
	h[name] = []string{value}
}

// write sends the response and records what the access log reports.
func (ex *exchange) write(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	n, _ := w.Write(body)
	ex.status, ex.responseLen = status, n
}

// writeTooLong answers a request over API Gateway's 10 MB payload limit the
// way AWS does: before any of the API's processing, in plain text, with no
// request id, and with no gateway response applied.
func (g *gateway) writeTooLong(w http.ResponseWriter, ex *exchange) {
	// AWS sends this odd media type verbatim.
	w.Header()["Content-Type"] = []string{"text; charset=utf-8"}
	ex.errorMessage = "HTTP content length exceeded 10485760 bytes."
	ex.write(w, http.StatusRequestEntityTooLarge, []byte(ex.errorMessage))
}

// writeIncomplete answers a request whose body ended before its framing
// said it would (shorter than its Content-Length, a chunked body cut off or
// malformed): the caller may still read an answer, and must not take the
// silence for a success. API Gateway's front end never passes such a
// request on, so no gateway response applies.
func (g *gateway) writeIncomplete(w http.ResponseWriter, ex *exchange, err error) {
	w.Header()["Content-Type"] = []string{"application/json"}
	ex.errorMessage = "The request body is incomplete: " + err.Error()
	msg, _ := json.Marshal(map[string]string{"message": ex.errorMessage})
	w.Header()["Connection"] = []string{"close"}
	ex.write(w, http.StatusBadRequest, msg)
}

func splitPath(escaped string) []string {
	p := strings.TrimPrefix(escaped, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// newDeploymentID returns an id shaped like a deployment's
// (requestContext.deploymentId): six characters of a-z and 0-9. Each New is
// a deployment of its own.
func newDeploymentID() string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [6]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b[:])
}

// newExtendedID returns an id shaped like API Gateway's extendedRequestId
// (x-amz-apigw-id), e.g. TWegAcC4EowCHnA=.
func newExtendedID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// newTraceID returns an X-Ray trace id: Root=1-<epoch seconds, hex>-<96 random bits, hex>.
func newTraceID(t time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	var buf bytes.Buffer
	buf.Grow(40)
	buf.WriteString("Root=1-")
	buf.WriteString(strconv.FormatInt(t.Unix(), 16))
	buf.WriteByte('-')
	buf.WriteString(hex.EncodeToString(b[:]))
	return buf.String()
}
