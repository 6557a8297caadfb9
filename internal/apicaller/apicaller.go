// Package apicaller calls the service's API with the credentials its access
// mode asks for (none, an API key from SSM Parameter Store, or a SigV4
// signature, as the caller role when there is one), as an http.RoundTripper:
// the smoke test, the demos and the local benchmark call through it.
package apicaller

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/acme/request-dump/internal/apispec"
)

// Caller is how a client of the API proves who it is: the
// credentials its access mode asks for, added to every request.
type Caller struct {
	// Transport sends a request with the credentials.
	Transport http.RoundTripper
	// Describe says what the credentials are, for reports (never their value).
	Describe string
	// Secret is the credential's value (the key, or the secret access
	// key), which no dump or log may carry.
	Secret string
}

// Access is what the env's outputs say about calling its API.
type Access struct {
	// Mode is none, api_key or iam (apispec.AccessNone, …).
	Mode string
	// APIKeyParameter is the SSM parameter holding the key to call with
	// (mode api_key).
	APIKeyParameter string
	// CallerRoleARN is the role to assume, when the principal of cfg's
	// credentials is not already that role (mode iam; optional).
	CallerRoleARN string
}

// New returns a caller of an API with access a, sending requests through
// base with the credentials a's mode needs: none; the API key read from SSM
// Parameter Store (WithDecryption); or a SigV4 signature for execute-api in
// cfg's region with cfg's credentials, as the caller role when a names one
// and they are not already that role. cfg also serves the SSM and STS calls.
func New(ctx context.Context, cfg aws.Config, a Access, base http.RoundTripper) (*Caller, error) {
	switch a.Mode {
	case apispec.AccessNone:
		return &Caller{Transport: base, Describe: "none: the API is open to anyone"}, nil
	case apispec.AccessAPIKey:
		out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(a.APIKeyParameter), WithDecryption: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("apicaller: reading the API key from SSM parameter %s: %w", a.APIKeyParameter, err)
		}
		key := aws.ToString(out.Parameter.Value)
		return &Caller{Transport: apiKeyTransport{base, key}, Describe: fmt.Sprintf("api_key: x-api-key from SSM %s (WithDecryption)", a.APIKeyParameter), Secret: key}, nil
	case apispec.AccessIAM:
		who := "the default credential chain"
		if a.CallerRoleARN != "" {
			id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return nil, fmt.Errorf("apicaller: GetCallerIdentity, to see whether to assume %s: %w", a.CallerRoleARN, err)
			}
			if !isSessionOf(aws.ToString(id.Arn), a.CallerRoleARN) {
				cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), a.CallerRoleARN, func(o *stscreds.AssumeRoleOptions) {
					o.RoleSessionName = "caller-" + time.Now().UTC().Format("20060102T150405Z")
				}))
				who = "role " + a.CallerRoleARN + " assumed from " + aws.ToString(id.Arn)
			} else {
				who = aws.ToString(id.Arn)
			}
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("apicaller: credentials to sign with (%s): %w", who, err)
		}
		return &Caller{Transport: &signingTransport{base: base, creds: cfg.Credentials, region: cfg.Region, signer: v4.NewSigner()},
			Describe: "iam: SigV4 as " + who, Secret: creds.SecretAccessKey}, nil
	}
	return nil, fmt.Errorf("apicaller: access mode %q: want none, api_key or iam", a.Mode)
}

// isSessionOf reports whether principal (arn:aws:sts::<account>:assumed-role/<role>/<session>)
// is a session of role (arn:aws:iam::<account>:role/<path/><role>).
func isSessionOf(principal, role string) bool {
	name := role[strings.LastIndex(role, "/")+1:]
	return strings.Contains(principal, ":assumed-role/"+name+"/")
}

// apiKeyTransport sends every request with its API key.
type apiKeyTransport struct {
	base http.RoundTripper
	key  string
}

func (t apiKeyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("x-api-key", t.key)
	return t.base.RoundTrip(r)
}

// signingTransport signs every request with SigV4 for execute-api.
type signingTransport struct {
	base   http.RoundTripper
	creds  aws.CredentialsProvider
	region string
	signer *v4.Signer
}

func (t *signingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	creds, err := t.creds.Retrieve(r.Context())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	if err := t.signer.SignHTTP(r.Context(), creds, r, hex.EncodeToString(sum[:]), "execute-api", t.region, time.Now()); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(r)
}
