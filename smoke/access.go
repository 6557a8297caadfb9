package smoke

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/acme/request-dump/internal/apicaller"
	"github.com/acme/request-dump/internal/sdkhttp"
)

// SmokeKey is the API key the smoke test and the rollout gate call with:
// the module always creates it in mode api_key.
const SmokeKey = "smoke"

// NewCaller returns a caller of target's API sending requests through base
// with the credentials target's access mode needs (package apicaller): the
// smoke key in mode api_key; in mode iam the default credential chain on
// AWS, the local user on the local stack, as the caller role when the
// outputs name one.
func NewCaller(ctx context.Context, target Target, base http.RoundTripper) (*apicaller.Caller, error) {
	cfg, err := target.awsConfig(ctx, base)
	if err != nil {
		return nil, err
	}
	return apicaller.New(ctx, cfg, apicaller.Access{Mode: target.AccessMode, APIKeyParameter: target.APIKeyParameter, CallerRoleARN: target.CallerRoleARN}, base)
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
