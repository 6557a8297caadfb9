package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acme/request-dump/local/apikeys"
	"github.com/acme/request-dump/local/sigv4"
)

// The OpenAPI security the gateway serves, as API Gateway imports it: an
// apiKey scheme named x-api-key in the header (api_key_required, the key
// read from the header as x-amazon-apigateway-api-key-source HEADER says,
// its default) and an apiKey scheme with x-amazon-apigateway-authtype
// awsSigv4 (AWS_IAM authorization). Everything else (Lambda and Cognito
// authorizers, keys from an authorizer, alternative requirements) is
// refused by New.
const (
	extAPIKeySource = "x-amazon-apigateway-api-key-source"
	extAuthType     = "x-amazon-apigateway-authtype"
	extAuthorizer   = "x-amazon-apigateway-authorizer"
	apiKeyHeader    = "x-api-key"
)

// WithAPIKeys serves the methods that require an API key: a request needs
// a key of a usage plan of keys that covers this stage, within the plan's
// throttle and quota.
func WithAPIKeys(keys *apikeys.Service) Option {
	return func(c *config) { c.apiKeys = keys }
}

// WithSigV4 serves the methods with AWS_IAM authorization: a request needs
// a Signature Version 4 that v verifies.
func WithSigV4(v *sigv4.Verifier) Option {
	return func(c *config) { c.sigv4 = v }
}

// authRequirement is what a method asks of its callers.
type authRequirement struct {
	apiKey, iam bool
}

// The answers to callers the method's security refuses, as AWS gives them
// (access_test.go cites AWS's documentation for each).
var (
	errInvalidAPIKey      = gatewayError{"INVALID_API_KEY", 403, 403, "ForbiddenException", "Forbidden", false}
	errQuotaExceeded      = gatewayError{"QUOTA_EXCEEDED", 429, 429, "LimitExceededException", "Limit Exceeded", false}
	errIncompleteSig      = gatewayError{"INVALID_SIGNATURE", 403, 403, "IncompleteSignatureException", "", false}
	errUnrecognizedClient = gatewayError{"INVALID_SIGNATURE", 403, 403, "UnrecognizedClientException", "", false}
	errInvalidSignature   = gatewayError{"INVALID_SIGNATURE", 403, 403, "InvalidSignatureException", "", false}
	errExpiredToken       = gatewayError{"EXPIRED_TOKEN", 403, 403, "ExpiredTokenException", "", false}
)

// security compiles a method's security requirements: the operation's, or
// the document's when the operation says nothing.
func (sc *specCompiler) security(op *openapi3.Operation, where string) (*authRequirement, error) {
	if _, ok := op.Extensions[extAuth]; ok {
		return nil, fmt.Errorf("gateway: %s: %s is not served by the local gateway; declare the security with securitySchemes (apiKey x-api-key, or %s awsSigv4)", where, extAuth, extAuthType)
	}
	reqs := sc.doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	switch {
	case len(reqs) == 0:
		return nil, nil
	case len(reqs) > 1:
		return nil, fmt.Errorf("gateway: %s: %d alternative security requirements: API Gateway applies one (list every scheme in one requirement object)", where, len(reqs))
	}
	names := make([]string, 0, len(reqs[0]))
	for name := range reqs[0] {
		names = append(names, name)
	}
	sort.Strings(names)
	a := &authRequirement{}
	for _, name := range names {
		var scheme *openapi3.SecurityScheme
		if sc.doc.Components != nil && sc.doc.Components.SecuritySchemes[name] != nil {
			scheme = sc.doc.Components.SecuritySchemes[name].Value
		}
		if scheme == nil {
			return nil, fmt.Errorf("gateway: %s: security scheme %q is not in components.securitySchemes", where, name)
		}
		authType, _ := scheme.Extensions[extAuthType].(string)
		_, authorizer := scheme.Extensions[extAuthorizer]
		switch {
		case authorizer || (authType != "" && !strings.EqualFold(authType, "awsSigv4")):
			return nil, fmt.Errorf("gateway: %s: security scheme %q is an authorizer (%s %q); the local gateway serves API keys (apiKey x-api-key in header) and IAM (%s awsSigv4) only", where, name, extAuthType, authType, extAuthType)
		case scheme.Type != "apiKey" || scheme.In != "header":
			return nil, fmt.Errorf("gateway: %s: security scheme %q is %s in %s; API Gateway imports apiKey schemes in the header only", where, name, scheme.Type, scheme.In)
		case authType != "":
			if sc.cfg.sigv4 == nil {
				return nil, fmt.Errorf("gateway: %s: security scheme %q asks for AWS_IAM authorization: pass WithSigV4 with the stack's credentials", where, name)
			}
			a.iam = true
		case strings.EqualFold(scheme.Name, apiKeyHeader):
			var source string
			if err := extension(sc.doc.Extensions, extAPIKeySource, &source); err != nil {
				return nil, fmt.Errorf("gateway: %w", err)
			}
			if source != "" && !strings.EqualFold(source, "HEADER") {
				return nil, fmt.Errorf("gateway: %s %q: the local gateway reads API keys from the x-api-key header only (HEADER), not from an authorizer", extAPIKeySource, source)
			}
			if sc.cfg.apiKeys == nil {
				return nil, fmt.Errorf("gateway: %s: security scheme %q requires an API key: pass WithAPIKeys with the stage's usage plans", where, name)
			}
			a.apiKey = true
		default:
			return nil, fmt.Errorf("gateway: %s: security scheme %q is an API key named %q; API Gateway takes API keys from the x-api-key header only", where, name, scheme.Name)
		}
	}
	return a, nil
}

// callerIdentity is who a request proved to be: requestContext.identity.
type callerIdentity struct {
	apiKey, apiKeyID string
	principal        *sigv4.Principal
}

// authorize checks the request against its method's requirement, as API
// Gateway does before anything reaches the integration: the signature
// first, then the API key and its usage plan. It answers and reports false
// when the request is refused.
func (g *gateway) authorize(w http.ResponseWriter, ex *exchange, body []byte) bool {
	a := ex.method.auth
	if a.iam {
		p, err := g.sigv4.Verify(ex.r, body, ex.start)
		if err != nil {
			var e *sigv4.Error
			kind := errInvalidSignature
			if errors.As(err, &e) {
				kind = map[sigv4.Kind]gatewayError{
					sigv4.MissingToken: errMissingToken, sigv4.Incomplete: errIncompleteSig,
					sigv4.UnknownKey: errUnrecognizedClient, sigv4.Mismatch: errInvalidSignature,
					sigv4.Skewed: errInvalidSignature, sigv4.ExpiredToken: errExpiredToken,
				}[e.Kind]
			}
			msg := ""
			if e != nil {
				msg = e.Message
			}
			g.reject(w, ex, kind, msg, "")
			// The access log keeps the sentence: the canonical request that
			// follows it in a mismatch's answer has line breaks, which a
			// JSON access log format would carry unescaped.
			ex.errorMessage, _, _ = strings.Cut(ex.errorMessage, "\n")
			return false
		}
		ex.identity.principal = &p
	}
	if a.apiKey {
		value := ex.r.Header.Get(apiKeyHeader)
		k, err := g.apiKeys.Check(g.apiID, g.stage, value)
		switch {
		case errors.Is(err, apikeys.ErrThrottled):
			g.reject(w, ex, errThrottled, "", "")
			return false
		case errors.Is(err, apikeys.ErrQuotaExceeded):
			g.reject(w, ex, errQuotaExceeded, "", "")
			return false
		case err != nil:
			g.reject(w, ex, errInvalidAPIKey, "", "")
			return false
		}
		ex.identity.apiKey, ex.identity.apiKeyID = value, k.ID
	}
	return true
}

// fill sets the identity keys AWS documents for a caller with an API key
// (apiKey, apiKeyId) or a SigV4 signature (accessKey, accountId, caller,
// user, userArn).
func (id *callerIdentity) fill(out *proxyIdentity) {
	if id.apiKeyID != "" {
		out.APIKey, out.APIKeyID = &id.apiKey, &id.apiKeyID
	}
	if p := id.principal; p != nil {
		out.AccessKey, out.AccountID, out.Caller, out.User, out.UserArn = &p.AccessKeyID, &p.AccountID, &p.Caller, &p.Caller, &p.ARN
	}
}
