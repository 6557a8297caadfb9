package artifact

import (
	"context"
	"fmt"
	neturl "net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewClient returns an S3 client from the standard AWS configuration chain
// (environment, shared files, web identity from CI's OIDC role). A non-empty
// endpoint (the local stack, e.g. http://127.0.0.1:4566) becomes the base
// endpoint and turns on path-style addressing; region overrides AWS_REGION.
func NewClient(ctx context.Context, endpoint, region string) (*s3.Client, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no AWS region: set AWS_REGION (in CI configure-aws-credentials sets it) or pass --region")
	}
	if endpoint != "" {
		u, err := neturl.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("endpoint %q is not an http(s) URL, e.g. http://127.0.0.1:4566", endpoint)
		}
	}
	// Without credentials the SDK fails each call while it signs, and the
	// instance metadata lookup it falls back to can answer 403 Forbidden,
	// which would read as S3's 403 for a missing object; asking first
	// names the real cause.
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("no AWS credentials: %w. Set them in the environment or a profile (in CI configure-aws-credentials assumes the env's role; the local stack takes AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local)", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	}), nil
}
