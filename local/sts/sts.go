// Package sts is the local stack's AWS Security Token Service: AssumeRole
// of the roles a deployment registers (an env's <name>-caller role in iam
// mode) and GetCallerIdentity, in the Query protocol the SDKs speak, with
// every request's Signature Version 4 verified (local/sigv4). It is also
// the stack's credential store: the long-term local user and the
// temporary credentials AssumeRole issued, which the gateway's SigV4
// verification accepts.
//
// Not emulated: trust policies (any known principal may assume a
// registered role), session policies, tags, MFA, external ids, and the
// other actions.
package sts

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acme/request-dump/local/internal/requestid"
	"github.com/acme/request-dump/local/sigv4"
)

// The local stack's long-term credentials: what its scripts and clients
// sign with (AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local).
const (
	LocalAccessKeyID     = "local"
	LocalSecretAccessKey = "local"
	// LocalUserName is the IAM user those credentials belong to.
	LocalUserName = "local"
)

// Session durations AssumeRole accepts: 15 minutes (minDurationSeconds) to
// the role's maximum session duration, one hour by default (as for a role
// created without max_session_duration).
const (
	defaultDuration = time.Hour
	maxDuration     = time.Hour
)

// Service is the local STS.
type Service struct {
	region, account string
	verifier        *sigv4.Verifier
	now             func() time.Time

	mu       sync.RWMutex
	keys     map[string]sigv4.Principal // by access key id: the user and the sessions
	roles    map[string]string          // role name → role id (AROA…)
	sessions int
}

// Option configures New.
type Option func(*Service)

// WithClock makes the service read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns the STS of account in region, which knows the local user.
func New(region, account string, opts ...Option) *Service {
	s := &Service{region: region, account: account, now: time.Now, keys: map[string]sigv4.Principal{}, roles: map[string]string{}}
	for _, o := range opts {
		o(s)
	}
	userID := "AIDA" + stableID("user:"+LocalUserName, 17)
	s.keys[LocalAccessKeyID] = sigv4.Principal{
		AccessKeyID: LocalAccessKeyID, SecretAccessKey: LocalSecretAccessKey, AccountID: account,
		Caller: userID, ARN: "arn:aws:iam::" + account + ":user/" + LocalUserName,
	}
	s.verifier = sigv4.New(s, "sts", region)
	return s
}

// Lookup returns the principal of an access key id the stack issued;
// expired sessions too, which sigv4 refuses as expired.
func (s *Service) Lookup(accessKeyID string) (sigv4.Principal, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.keys[accessKeyID]
	return p, ok
}

// PutRole registers a role that AssumeRole may assume, and returns its ARN.
func (s *Service) PutRole(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[name] = "AROA" + stableID("role:"+name, 17)
	return s.RoleARN(name)
}

// RoleARN is the ARN of role name in the stack's account.
func (s *Service) RoleARN(name string) string {
	return "arn:aws:iam::" + s.account + ":role/" + name
}

// ServeHTTP serves the Query protocol: a form POST with Action and Version.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.fail(w, http.StatusBadRequest, "Sender", "InvalidRequest", err.Error())
		return
	}
	caller, err := s.verifier.Verify(r, body, s.now())
	if err != nil {
		e := err.(*sigv4.Error)
		code := map[sigv4.Kind]string{sigv4.MissingToken: "MissingAuthenticationToken", sigv4.Incomplete: "IncompleteSignature",
			sigv4.UnknownKey: "InvalidClientTokenId", sigv4.Mismatch: "SignatureDoesNotMatch", sigv4.Skewed: "SignatureDoesNotMatch",
			sigv4.ExpiredToken: "ExpiredToken"}[e.Kind]
		s.fail(w, http.StatusForbidden, "Sender", code, e.Message)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || r.Method != http.MethodPost {
		s.fail(w, http.StatusBadRequest, "Sender", "InvalidRequest", "STS takes a form POST (application/x-www-form-urlencoded) with Action and Version")
		return
	}
	switch form.Get("Action") {
	case "AssumeRole":
		s.assumeRole(w, caller, form)
	case "GetCallerIdentity":
		s.write(w, getCallerIdentityResponse{Result: callerIdentity{Arn: caller.ARN, UserID: caller.Caller, Account: caller.AccountID}})
	default:
		s.fail(w, http.StatusBadRequest, "Sender", "InvalidAction", fmt.Sprintf("Could not find operation %s for version 2011-06-15 (the local STS serves AssumeRole and GetCallerIdentity)", form.Get("Action")))
	}
}

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]*$`)

// STS's model constraints on DurationSeconds.
const (
	minDurationSeconds = 900
	maxDurationSeconds = 43200
)

// validationError is STS's answer to a member that breaks its model's
// constraints.
func (s *Service) validationError(w http.ResponseWriter, value, member, constraint string) {
	s.fail(w, http.StatusBadRequest, "Sender", "ValidationError",
		fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, constraint))
}

func (s *Service) assumeRole(w http.ResponseWriter, caller sigv4.Principal, form url.Values) {
	arn, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	switch {
	case len(session) < 2:
		s.validationError(w, session, "roleSessionName", "have length greater than or equal to 2")
		return
	case len(session) > 64:
		s.validationError(w, session, "roleSessionName", "have length less than or equal to 64")
		return
	case !sessionNameRE.MatchString(session):
		s.validationError(w, session, "roleSessionName", `satisfy regular expression pattern: [\w+=,.@-]*`)
		return
	}
	duration := defaultDuration
	if v := form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			// The SDKs never send one; InvalidParameterValue is the Query
			// API's common error for a value of the wrong form.
			s.fail(w, http.StatusBadRequest, "Sender", "InvalidParameterValue", fmt.Sprintf("DurationSeconds %q is not an integer", v))
			return
		case n < minDurationSeconds:
			s.validationError(w, v, "durationSeconds", "have value greater than or equal to 900")
			return
		case n > maxDurationSeconds:
			s.validationError(w, v, "durationSeconds", "have value less than or equal to 43200")
			return
		}
		if duration = time.Duration(n) * time.Second; duration > maxDuration {
			s.fail(w, http.StatusBadRequest, "Sender", "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
			return
		}
	}
	name, _ := strings.CutPrefix(arn, "arn:aws:iam::"+s.account+":role/")
	s.mu.Lock()
	defer s.mu.Unlock()
	roleID, ok := s.roles[name]
	if !ok || name == arn {
		s.fail(w, http.StatusForbidden, "Sender", "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, arn))
		return
	}
	now := s.now()
	for id, p := range s.keys {
		if !p.Expires.IsZero() && now.After(p.Expires) {
			delete(s.keys, id)
		}
	}
	p := sigv4.Principal{
		AccessKeyID: "ASIA" + randomText(16, upperAlphabet), SecretAccessKey: randomText(40, secretAlphabet),
		SessionToken: base64.StdEncoding.EncodeToString(randomBytes(96)), Expires: now.Add(duration).Truncate(time.Second),
		AccountID: s.account, Caller: roleID + ":" + session,
		ARN: "arn:aws:sts::" + s.account + ":assumed-role/" + name + "/" + session,
	}
	s.keys[p.AccessKeyID] = p
	s.write(w, assumeRoleResponse{Result: assumeRoleResult{
		Credentials:     credentials{AccessKeyID: p.AccessKeyID, SecretAccessKey: p.SecretAccessKey, SessionToken: p.SessionToken, Expiration: p.Expires.UTC().Format(time.RFC3339)},
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: p.Caller, Arn: p.ARN},
	}})
}

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type assumeRoleResponse struct {
	XMLName  xml.Name         `xml:"AssumeRoleResponse"`
	Xmlns    string           `xml:"xmlns,attr"`
	Result   assumeRoleResult `xml:"AssumeRoleResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type assumeRoleResult struct {
	Credentials     credentials     `xml:"Credentials"`
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
}

type credentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type getCallerIdentityResponse struct {
	XMLName  xml.Name         `xml:"GetCallerIdentityResponse"`
	Xmlns    string           `xml:"xmlns,attr"`
	Result   callerIdentity   `xml:"GetCallerIdentityResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type callerIdentity struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     apiError `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type apiError struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func (s *Service) write(w http.ResponseWriter, v any) {
	id := requestid.New()
	switch r := v.(type) {
	case assumeRoleResponse:
		r.Xmlns, r.Metadata.RequestID = stsNamespace, id
		v = r
	case getCallerIdentityResponse:
		r.Xmlns, r.Metadata.RequestID = stsNamespace, id
		v = r
	}
	data, _ := xml.Marshal(v)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", id)
	_, _ = w.Write(append([]byte(xml.Header), data...))
}

func (s *Service) fail(w http.ResponseWriter, status int, typ, code, msg string) {
	id := requestid.New()
	data, _ := xml.Marshal(errorResponse{Xmlns: stsNamespace, Error: apiError{Type: typ, Code: code, Message: msg}, RequestID: id})
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", id)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

const (
	upperAlphabet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

func randomText(n int, alphabet string) string {
	b := randomBytes(n)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// stableID derives an id of n upper-case characters from s, the same for
// the same s, so that a role keeps its id across restarts.
func stableID(s string, n int) string {
	out := make([]byte, n)
	h := fnv.New64a()
	for i := range out {
		h.Write([]byte(s))
		h.Write([]byte{byte(i)})
		out[i] = upperAlphabet[h.Sum64()%uint64(len(upperAlphabet))]
	}
	return string(out)
}
