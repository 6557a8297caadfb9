package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/acme/request-dump/local/internal/jsonstr"
)

// proxyEvent is the Lambda proxy integration's input as API Gateway sends
// it. It has the JSON names of events.APIGatewayProxyRequest, which a Go
// function decodes it into, but keeps what that type cannot say: a body of
// null and isBase64Encoded false for a request without a body, and every
// identity key, null when unknown (as recorded from AWS; fidelity_test.go).
type proxyEvent struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  proxyContext        `json:"requestContext"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

type proxyContext struct {
	AccountID         string        `json:"accountId"`
	APIID             string        `json:"apiId"`
	DeploymentID      string        `json:"deploymentId"`
	DomainName        string        `json:"domainName"`
	DomainPrefix      string        `json:"domainPrefix"`
	ExtendedRequestID string        `json:"extendedRequestId"`
	HTTPMethod        string        `json:"httpMethod"`
	Identity          proxyIdentity `json:"identity"`
	OperationName     string        `json:"operationName,omitempty"`
	Path              string        `json:"path"`
	Protocol          string        `json:"protocol"`
	RequestID         string        `json:"requestId"`
	RequestTime       string        `json:"requestTime"`
	RequestTimeEpoch  int64         `json:"requestTimeEpoch"`
	ResourceID        string        `json:"resourceId"`
	ResourcePath      string        `json:"resourcePath"`
	Stage             string        `json:"stage"`
}

// proxyIdentity is requestContext.identity: what is not known is null;
// apiKey and apiKeyId are there only for a method that requires a key.
type proxyIdentity struct {
	AccessKey                     *string `json:"accessKey"`
	AccountID                     *string `json:"accountId"`
	APIKey                        *string `json:"apiKey,omitempty"`
	APIKeyID                      *string `json:"apiKeyId,omitempty"`
	Caller                        *string `json:"caller"`
	CognitoAuthenticationProvider *string `json:"cognitoAuthenticationProvider"`
	CognitoAuthenticationType     *string `json:"cognitoAuthenticationType"`
	CognitoIdentityID             *string `json:"cognitoIdentityId"`
	CognitoIdentityPoolID         *string `json:"cognitoIdentityPoolId"`
	PrincipalOrgID                *string `json:"principalOrgId"`
	SourceIP                      string  `json:"sourceIp"`
	User                          *string `json:"user"`
	UserAgent                     string  `json:"userAgent"`
	UserArn                       *string `json:"userArn"`
}

// droppedRequestHeaders are the request headers API Gateway does not pass
// to an integration: they describe the connection or the message framing.
var droppedRequestHeaders = map[string]bool{
	"Connection": true, "Content-Length": true, "Content-Md5": true, "Expect": true,
	"Max-Forwards": true, "Proxy-Authenticate": true, "Server": true, "Te": true,
	"Transfer-Encoding": true, "Trailer": true, "Upgrade": true, "Www-Authenticate": true,
}

// capitalisedRequestHeaders reach the event under their canonical names
// whatever the client's spelling, as CloudFront, in front of API Gateway,
// forwards them.
var capitalisedRequestHeaders = map[string]bool{"Authorization": true, "User-Agent": true}

// proxyResult is a function's result, as API Gateway reads it.
type proxyResult struct {
	status int
	body   string
	base64 bool
	in     resultJSON
}

// parseResult reads a proxy result the way API Gateway does: a JSON object
// with no key but statusCode, headers, multiValueHeaders, body and
// isBase64Encoded (spelt exactly), none of them required; statusCode a
// number or a numeric string from 200 to 599 (200 when absent); header
// values strings or booleans (sent as true or false), or null (sent empty;
// AWS unverified).
// Anything else is a malformed result.
// Both header maps go out as one list per name, a pair in both once.
func parseResult(payload []byte) (proxyResult, bool) {
	res := proxyResult{status: http.StatusOK}
	if json.Unmarshal(payload, &res.in) != nil || !knownKeys(payload) {
		return proxyResult{}, false
	}
	res.body, res.base64 = res.in.Body, res.in.IsBase64Encoded
	if res.in.StatusCode.set {
		res.status = res.in.StatusCode.n
	}
	// A 1xx cannot be a final answer: net/http would send it as an
	// informational response and then a 200 with the body. What API
	// Gateway does with one is unverified; here it is a malformed result.
	if res.status < 200 || res.status > 599 {
		return proxyResult{}, false
	}
	return res, true
}

// writeHeaders adds the result's headers to h: one list per name from both
// maps, a pair that is in both once.
func (res *proxyResult) writeHeaders(h http.Header) {
	for name, v := range res.in.Headers {
		h[responseHeaderName(name)] = []string{string(v)}
	}
	for name, vs := range res.in.MultiValueHeaders {
		k := responseHeaderName(name)
		values := make([]string, 0, len(vs)+1)
		if solo := h[k]; len(solo) == 1 && !containsText(vs, solo[0]) {
			values = append(values, solo[0])
		}
		for _, v := range vs {
			values = append(values, string(v))
		}
		h[k] = values
	}
}

// resultJSON is a proxy result as JSON. encoding/json matches keys ignoring
// case, which API Gateway does not: knownKeys checks the spelling.
type resultJSON struct {
	StatusCode        statusValue             `json:"statusCode"`
	Headers           map[string]headerText   `json:"headers"`
	MultiValueHeaders map[string][]headerText `json:"multiValueHeaders"`
	Body              string                  `json:"body"`
	IsBase64Encoded   bool                    `json:"isBase64Encoded"`
}

// statusValue is a statusCode: a whole number, or a string of one.
type statusValue struct {
	n   int
	set bool
}

func (s *statusValue) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 1 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	n, err := strconv.Atoi(string(b))
	s.n, s.set = n, err == nil
	return err
}

// headerText is a header value: a string, or a boolean sent as its name.
type headerText string

func (h *headerText) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "true":
		*h = "true"
		return nil
	case string(b) == "false":
		*h = "false"
		return nil
	case len(b) > 1 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0:
		// A plain string, the usual value: no decoder needed.
		*h = headerText(b[1 : len(b)-1])
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*h = headerText(s)
	return nil
}

func containsText(list []headerText, s string) bool {
	for _, x := range list {
		if string(x) == s {
			return true
		}
	}
	return false
}

// knownKeys reports whether the valid JSON payload is an object whose keys
// are all proxy result keys, spelt exactly. A scan of the top level by
// hand: json.Decoder's tokens cost an allocation each, on every request.
func knownKeys(p []byte) bool {
	i := skipSpace(p, 0)
	if i == len(p) || p[i] != '{' {
		return false
	}
	for i = skipSpace(p, i+1); p[i] != '}'; i = skipSpace(p, i) {
		if p[i] == ',' {
			i = skipSpace(p, i+1)
		}
		end := stringEnd(p, i)
		if !knownKey(p[i:end]) {
			return false
		}
		i = skipValue(p, skipSpace(p, end)+1) // past the ':'
	}
	return true
}

// knownKey reports whether the string token tok is a proxy result key.
func knownKey(tok []byte) bool {
	if bytes.IndexByte(tok, '\\') >= 0 {
		var key string
		_ = json.Unmarshal(tok, &key)
		tok = []byte(`"` + key + `"`)
	}
	switch string(tok[1 : len(tok)-1]) { // no allocation: only compared
	case "statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded":
		return true
	}
	return false
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just after the string that starts at p[i].
func stringEnd(p []byte, i int) int {
	for i++; p[i] != '"'; i++ {
		if p[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// skipValue returns the index just after the value at or after p[i].
func skipValue(p []byte, i int) int {
	i = skipSpace(p, i)
	depth := 0
	for ; i < len(p); i++ {
		switch p[i] {
		case '"':
			i = stringEnd(p, i) - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		}
		if depth == 0 && (p[i] == '"' || p[i] == '}' || p[i] == ']') {
			return i + 1
		}
	}
	return i
}

// appendJSON appends the event to dst as JSON, byte for byte as
// json.Marshal writes it (map keys sorted; event_test.go holds the two
// equal). Written out because json.Marshal's reflection over the event
// and its maps was 5 % of the stack's CPU under load.
func (e *proxyEvent) appendJSON(dst []byte) []byte {
	dst = appendMember(dst, `{"resource":`, e.Resource)
	dst = appendMember(dst, `,"path":`, e.Path)
	dst = appendMember(dst, `,"httpMethod":`, e.HTTPMethod)
	dst = append(dst, `,"headers":`...)
	dst = appendMap(dst, e.Headers, jsonstr.Append)
	dst = append(dst, `,"multiValueHeaders":`...)
	dst = appendMap(dst, e.MultiValueHeaders, appendStrings)
	dst = append(dst, `,"queryStringParameters":`...)
	dst = appendMap(dst, e.QueryStringParameters, jsonstr.Append)
	dst = append(dst, `,"multiValueQueryStringParameters":`...)
	dst = appendMap(dst, e.MultiValueQueryStringParameters, appendStrings)
	dst = append(dst, `,"pathParameters":`...)
	dst = appendMap(dst, e.PathParameters, jsonstr.Append)
	dst = append(dst, `,"stageVariables":`...)
	dst = appendMap(dst, e.StageVariables, jsonstr.Append)
	dst = append(dst, `,"requestContext":`...)
	dst = e.RequestContext.appendJSON(dst)
	dst = appendOptional(dst, `,"body":`, e.Body)
	dst = append(dst, `,"isBase64Encoded":`...)
	dst = strconv.AppendBool(dst, e.IsBase64Encoded)
	return append(dst, '}')
}

func (c *proxyContext) appendJSON(dst []byte) []byte {
	dst = appendMember(dst, `{"accountId":`, c.AccountID)
	dst = appendMember(dst, `,"apiId":`, c.APIID)
	dst = appendMember(dst, `,"deploymentId":`, c.DeploymentID)
	dst = appendMember(dst, `,"domainName":`, c.DomainName)
	dst = appendMember(dst, `,"domainPrefix":`, c.DomainPrefix)
	dst = appendMember(dst, `,"extendedRequestId":`, c.ExtendedRequestID)
	dst = appendMember(dst, `,"httpMethod":`, c.HTTPMethod)
	dst = append(dst, `,"identity":`...)
	dst = c.Identity.appendJSON(dst)
	if c.OperationName != "" {
		dst = appendMember(dst, `,"operationName":`, c.OperationName)
	}
	dst = appendMember(dst, `,"path":`, c.Path)
	dst = appendMember(dst, `,"protocol":`, c.Protocol)
	dst = appendMember(dst, `,"requestId":`, c.RequestID)
	dst = appendMember(dst, `,"requestTime":`, c.RequestTime)
	dst = append(dst, `,"requestTimeEpoch":`...)
	dst = strconv.AppendInt(dst, c.RequestTimeEpoch, 10)
	dst = appendMember(dst, `,"resourceId":`, c.ResourceID)
	dst = appendMember(dst, `,"resourcePath":`, c.ResourcePath)
	dst = appendMember(dst, `,"stage":`, c.Stage)
	return append(dst, '}')
}

func (id *proxyIdentity) appendJSON(dst []byte) []byte {
	dst = appendOptional(dst, `{"accessKey":`, id.AccessKey)
	dst = appendOptional(dst, `,"accountId":`, id.AccountID)
	// apiKey and apiKeyId are omitted unless an API key was checked
	// (omitempty in proxyIdentity).
	if id.APIKey != nil {
		dst = appendMember(dst, `,"apiKey":`, *id.APIKey)
	}
	if id.APIKeyID != nil {
		dst = appendMember(dst, `,"apiKeyId":`, *id.APIKeyID)
	}
	dst = appendOptional(dst, `,"caller":`, id.Caller)
	dst = appendOptional(dst, `,"cognitoAuthenticationProvider":`, id.CognitoAuthenticationProvider)
	dst = appendOptional(dst, `,"cognitoAuthenticationType":`, id.CognitoAuthenticationType)
	dst = appendOptional(dst, `,"cognitoIdentityId":`, id.CognitoIdentityID)
	dst = appendOptional(dst, `,"cognitoIdentityPoolId":`, id.CognitoIdentityPoolID)
	dst = appendOptional(dst, `,"principalOrgId":`, id.PrincipalOrgID)
	dst = appendMember(dst, `,"sourceIp":`, id.SourceIP)
	dst = appendOptional(dst, `,"user":`, id.User)
	dst = appendMember(dst, `,"userAgent":`, id.UserAgent)
	dst = appendOptional(dst, `,"userArn":`, id.UserArn)
	return append(dst, '}')
}

// appendMember appends key (the member's name in quotes, with the { or ,
// before it and the : after it) and value as a JSON string.
func appendMember(dst []byte, key, value string) []byte {
	return jsonstr.Append(append(dst, key...), value)
}

// appendOptional appends key as appendMember does and s as a JSON string,
// or null when s is nil.
func appendOptional(dst []byte, key string, s *string) []byte {
	dst = append(dst, key...)
	if s == nil {
		return append(dst, "null"...)
	}
	return jsonstr.Append(dst, *s)
}

// appendMap appends m as a JSON object with sorted keys (json.Marshal's
// order), each value appended by value, or null for a nil map.
func appendMap[V any](dst []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonstr.Append(dst, k)
		dst = append(dst, ':')
		dst = value(dst, m[k])
	}
	return append(dst, '}')
}

// appendStrings appends vs as a JSON array of strings, or null.
func appendStrings(dst []byte, vs []string) []byte {
	if vs == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonstr.Append(dst, v)
	}
	return append(dst, ']')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// eventSize is a first guess at the size of the event of a request with
// body: the body, which grows by its escapes (a JSON body's quotes) or
// base64, and the rest, mostly headers.
func eventSize(body []byte) int {
	return len(body)*3/2 + 2048
}
