// Package sigv4 verifies the AWS Signature Version 4 of requests to the
// local stack, as API Gateway does for a method with AWS_IAM authorization
// and STS does for every call: it recomputes the signature with
// aws-sdk-go-v2's own v4 signer, from the request as it arrived and the
// secret of the access key the request names, and compares.
//
// Only the Authorization header form is verified (not presigned query
// strings), and only headers the SDK's signer signs can be verified: a
// client that signs User-Agent, Expect or X-Amzn-Trace-Id (which the SDK
// leaves out) gets a signature mismatch here, not on AWS.
package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

// Principal is who holds an access key: what requestContext.identity and
// GetCallerIdentity say about a caller.
type Principal struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken is set for temporary credentials (from STS), which the
	// request must carry in X-Amz-Security-Token; Expires is when they end.
	SessionToken string
	Expires      time.Time
	// AccountID is the principal's account.
	AccountID string
	// Caller is the principal's id: AIDA… for a user, AROA…:<session> for
	// an assumed role ($context.identity.caller and .user).
	Caller string
	// ARN is the principal's ARN ($context.identity.userArn).
	ARN string
}

// Credentials finds the principal an access key id belongs to.
type Credentials interface {
	Lookup(accessKeyID string) (Principal, bool)
}

// Kind is why a request was refused; each is one of AWS's answers.
type Kind int

// The kinds of refusal, with AWS's error type (x-amzn-ErrorType).
const (
	// MissingToken: no Authorization header (MissingAuthenticationTokenException).
	MissingToken Kind = iota + 1
	// Incomplete: an Authorization header that is not a SigV4 one
	// (IncompleteSignatureException).
	Incomplete
	// UnknownKey: the access key id or the session token is not one the
	// stack issued (UnrecognizedClientException).
	UnknownKey
	// Mismatch: the signature is not the one the request's content gives
	// (InvalidSignatureException).
	Mismatch
	// Skewed: the signing time is more than MaxSkew from now
	// (InvalidSignatureException, "Signature expired").
	Skewed
	// ExpiredToken: the temporary credentials have expired
	// (ExpiredTokenException).
	ExpiredToken
)

// Error is a refused request: Message is AWS's wording for it.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return "sigv4: " + e.Message }

// AWS's messages (checked against AWS's documentation; see sigv4_test.go).
const (
	msgMissingToken = "Missing Authentication Token"
	msgUnknownKey   = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
	msgMismatch     = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// MaxSkew is how far the signing time may be from the verifier's clock:
// API Gateway's "- 5 min." in its Signature expired answer.
const MaxSkew = 5 * time.Minute

const (
	algorithm  = "AWS4-HMAC-SHA256"
	timeFormat = "20060102T150405Z"
)

// Verifier checks the signatures of requests to one service in one region.
type Verifier struct {
	creds           Credentials
	service, region string
	signer          *v4.Signer
}

// New returns a verifier of requests signed for service (execute-api, sts)
// in region with credentials creds knows.
func New(creds Credentials, service, region string) *Verifier {
	return &Verifier{creds: creds, service: service, region: region, signer: v4.NewSigner()}
}

// Verify checks r's signature at time now; body is r's body, which r no
// longer holds. It returns the principal that signed, or an *Error.
func (v *Verifier) Verify(r *http.Request, body []byte, now time.Time) (Principal, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return Principal{}, &Error{MissingToken, msgMissingToken}
	}
	sig, err := parseAuthorization(auth, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return Principal{}, err
	}
	// A scope for another region or service would only mismatch below; AWS
	// says which part of the scope is wrong instead.
	switch {
	case sig.region != v.region:
		return Principal{}, &Error{Mismatch, fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", sig.region)}
	case sig.service != v.service:
		return Principal{}, &Error{Mismatch, fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", v.service)}
	}
	p, ok := v.creds.Lookup(sig.accessKeyID)
	if !ok || subtle.ConstantTimeCompare([]byte(p.SessionToken), []byte(r.Header.Get("X-Amz-Security-Token"))) != 1 {
		return Principal{}, &Error{UnknownKey, msgUnknownKey}
	}
	if !p.Expires.IsZero() && !now.Before(p.Expires) {
		return Principal{}, &Error{ExpiredToken, msgExpiredToken}
	}
	if err := checkSkew(sig.signed, now); err != nil {
		return Principal{}, err
	}
	want, canonical, stringToSign, err := v.sign(r, body, sig, p, false)
	if err != nil {
		return Principal{}, &Error{Incomplete, err.Error()}
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig.signature)) != 1 {
		_, canonical, stringToSign, _ = v.sign(r, body, sig, p, true)
		return Principal{}, &Error{Mismatch, mismatchMessage(canonical, stringToSign)}
	}
	return p, nil
}

// mismatchMessage is API Gateway's answer to a wrong signature: the
// sentence, then the canonical request and the string to sign it computed,
// which the caller compares with its own.
func mismatchMessage(canonical, stringToSign string) string {
	return msgMismatch + "\n\nThe Canonical String for this request should have been\n'" + canonical +
		"'\n\nThe String-to-Sign should have been\n'" + stringToSign + "'\n"
}

func checkSkew(signed, now time.Time) error {
	f := func(t time.Time) string { return t.UTC().Format(timeFormat) }
	switch {
	case signed.Before(now.Add(-MaxSkew)):
		return &Error{Skewed, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)", f(signed), f(now.Add(-MaxSkew)), f(now))}
	case signed.After(now.Add(MaxSkew)):
		return &Error{Skewed, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)", f(signed), f(now.Add(MaxSkew)), f(now))}
	}
	return nil
}

// authorization is a parsed SigV4 Authorization header.
type authorization struct {
	accessKeyID string
	// region and service are the credential scope's.
	region, service string
	signedHeaders   []string
	signature       string
	signed          time.Time
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=AKID/20260101/
// region/service/aws4_request, SignedHeaders=a;b, Signature=hex". The SDK's
// signer writes this header but has no parser for it, hence this one.
func parseAuthorization(h, amzDate string) (authorization, error) {
	var a authorization
	var missing []string
	rest, ok := strings.CutPrefix(h, algorithm+" ")
	var credential, signedHeaders string
	if ok {
		for _, part := range strings.Split(rest, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch k {
			case "Credential":
				credential = val
			case "SignedHeaders":
				signedHeaders = val
			case "Signature":
				a.signature = val
			}
		}
	}
	if credential == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if a.signature == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if signedHeaders == "" {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	t, err := time.Parse(timeFormat, amzDate)
	if err != nil {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		// AWS appends the header's value; it is left out here, as the
		// message goes to the access log.
		return a, &Error{Incomplete, strings.Join(missing, " ")}
	}
	// Credential is <key id>/<date>/<region>/<service>/aws4_request.
	scope := strings.Split(credential, "/")
	a.accessKeyID = scope[0]
	if len(scope) == 5 {
		a.region, a.service = scope[2], scope[3]
	}
	a.signedHeaders = strings.Split(signedHeaders, ";")
	a.signed = t
	return a, nil
}

// sign recomputes the request's signature as its client's SDK computed it:
// the same method, path, query and signed headers, signed with the
// principal's secret at the request's signing time. With explain it
// returns the canonical request and the string to sign too, from the
// signer's own log of them.
func (v *Verifier) sign(r *http.Request, body []byte, a authorization, p Principal, explain bool) (signature, canonical, stringToSign string, err error) {
	// r's URL may have lost a prefix on its way here (http.StripPrefix);
	// RequestURI is the path the client signed.
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil || r.RequestURI == "" {
		u = r.URL
	}
	req := &http.Request{Method: r.Method, URL: &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}, Host: r.Host, Header: make(http.Header, len(a.signedHeaders))}
	for _, name := range a.signedHeaders {
		switch name {
		case "host", "x-amz-date":
		case "content-length":
			req.ContentLength, _ = strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
			if req.ContentLength == 0 {
				req.ContentLength = r.ContentLength
			}
		default:
			if vs := r.Header.Values(name); len(vs) > 0 {
				req.Header[http.CanonicalHeaderKey(name)] = vs
			}
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: p.AccessKeyID, SecretAccessKey: p.SecretAccessKey}
	var log capture
	err = v.signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), v.service, v.region, a.signed, func(o *v4.SignerOptions) {
		o.DisableSessionToken = true // the token, when signed, is among the copied headers
		if explain {
			o.LogSigning, o.Logger = true, &log
		}
	})
	if err != nil {
		return "", "", "", err
	}
	_, signature, _ = strings.Cut(req.Header.Get("Authorization"), "Signature=")
	return signature, log.canonical, log.stringToSign, nil
}

// capture takes the canonical request and string to sign from the signer's
// LogSigning output, the only place the SDK gives them out.
type capture struct{ canonical, stringToSign string }

func (c *capture) Logf(_ logging.Classification, format string, args ...any) {
	if len(args) >= 2 {
		c.canonical, _ = args[0].(string)
		c.stringToSign, _ = args[1].(string)
	}
}
