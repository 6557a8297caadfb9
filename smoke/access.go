package smoke

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
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/sdkhttp"
)

// SmokeKey is the API key the smoke test and the rollout gate call with:
// the module always creates it in mode api_key.
const SmokeKey = "smoke"

// Caller is how a client of the target's API proves who it is: the
// credentials its access mode asks for, added to every request.
type Caller struct {
	// Transport sends a request with the credentials.
	Transport http.RoundTripper
	// Describe says what the credentials are, for reports (never their value).
	Describe string
	// secret is the credential's value, which no dump may carry.
	secret string
}

// NewCaller returns a caller of target's API sending requests through base
// with the credentials target's access mode needs: none; the smoke API key,
// read from SSM Parameter Store (WithDecryption); or a SigV4 signature with
// the default credential chain (the local user on the local stack), as the
// caller role when the outputs name one and the chain's principal is not
// already that role.
func NewCaller(ctx context.Context, target Target, base http.RoundTripper) (*Caller, error) {
	switch target.AccessMode {
	case apispec.AccessNone:
		return &Caller{Transport: base, Describe: "none: the API is open to anyone"}, nil
	case apispec.AccessAPIKey:
		cfg, err := target.awsConfig(ctx, base)
		if err != nil {
			return nil, err
		}
		out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(target.APIKeyParameter), WithDecryption: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("smoke: reading the %s API key from SSM parameter %s: %w", SmokeKey, target.APIKeyParameter, err)
		}
		key := aws.ToString(out.Parameter.Value)
		return &Caller{Transport: apiKeyTransport{base, key}, Describe: fmt.Sprintf("api_key: x-api-key %q from SSM %s (WithDecryption)", SmokeKey, target.APIKeyParameter), secret: key}, nil
	case apispec.AccessIAM:
		cfg, err := target.awsConfig(ctx, base)
		if err != nil {
			return nil, err
		}
		who := "the default credential chain"
		if target.CallerRoleARN != "" {
			id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return nil, fmt.Errorf("smoke: GetCallerIdentity, to see whether to assume %s: %w", target.CallerRoleARN, err)
			}
			if !isSessionOf(aws.ToString(id.Arn), target.CallerRoleARN) {
				cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), target.CallerRoleARN, func(o *stscreds.AssumeRoleOptions) {
					o.RoleSessionName = "smoke-" + time.Now().UTC().Format("20060102T150405Z")
				}))
				who = "role " + target.CallerRoleARN + " assumed from " + aws.ToString(id.Arn)
			} else {
				who = aws.ToString(id.Arn)
			}
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("smoke: credentials to sign with (%s): %w", who, err)
		}
		return &Caller{Transport: &signingTransport{base: base, creds: cfg.Credentials, region: target.Region, signer: v4.NewSigner()},
			Describe: "iam: SigV4 as " + who, secret: creds.SecretAccessKey}, nil
	}
	return nil, fmt.Errorf("smoke: access mode %q: want none, api_key or iam", target.AccessMode)
}

// isSessionOf reports whether principal (arn:aws:sts::<account>:assumed-role/<role>/<session>)
// is a session of role (arn:aws:iam::<account>:role/<path/><role>).
func isSessionOf(principal, role string) bool {
	name := role[strings.LastIndex(role, "/")+1:]
	return strings.Contains(principal, ":assumed-role/"+name+"/")
}

// awsConfig is the AWS configuration of the target's SDK clients: the
// default chain on AWS; the local stack's endpoint and user locally.
func (t Target) awsConfig(ctx context.Context, base http.RoundTripper) (aws.Config, error) {
	if !t.Local() {
		cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(t.Region), config.WithHTTPClient(sdkhttp.New()))
		if err != nil {
			return aws.Config{}, fmt.Errorf("smoke: AWS configuration: %w", err)
		}
		return cfg, nil
	}
	return aws.Config{
		Region:       t.Region,
		BaseEndpoint: aws.String(t.EndpointURL),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   sdkhttp.Wrap(&http.Client{Timeout: requestTimeout, Transport: base}),
	}, nil
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
