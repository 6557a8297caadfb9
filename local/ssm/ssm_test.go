package ssm_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/local/ssm"
)

func start(t *testing.T, file string) (*ssm.Store, *awsssm.Client) {
	store, err := ssm.NewStore("ap-northeast-1", "000000000000", file)
	require.NoError(t, err)
	srv := httptest.NewServer(store)
	t.Cleanup(srv.Close)
	return store, awsssm.New(awsssm.Options{Region: "ap-northeast-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), HTTPClient: sdkhttp.New()})
}

// A SecureString put with the SDK's client reads back with WithDecryption
// as it was put, and without it as something else (the ciphertext on AWS).
func TestSecureString(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	name := "/request-dump-stg/api-keys/smoke"
	put, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(name), Type: types.ParameterTypeSecureString, Value: aws.String("k-123")})
	require.NoError(t, err)
	assert.Equal(t, int64(1), put.Version)

	got, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "k-123", aws.ToString(got.Parameter.Value))
	assert.Equal(t, types.ParameterTypeSecureString, got.Parameter.Type)
	assert.Equal(t, "arn:aws:ssm:ap-northeast-1:000000000000:parameter/request-dump-stg/api-keys/smoke", aws.ToString(got.Parameter.ARN))

	sealed, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(name)})
	require.NoError(t, err)
	assert.NotContains(t, aws.ToString(sealed.Parameter.Value), "k-123")

	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(name), Value: aws.String("k-456"), Overwrite: aws.Bool(true)})
	require.NoError(t, err)
	got, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "k-456", aws.ToString(got.Parameter.Value))
	assert.Equal(t, int64(2), got.Parameter.Version)
	assert.Equal(t, types.ParameterTypeSecureString, got.Parameter.Type, "an overwrite without Type keeps the type")
}

// The refusals, typed as the SDK decodes them.
func TestErrors(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a/b"), Type: types.ParameterTypeString, Value: aws.String("v")})
	require.NoError(t, err)

	_, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/a/missing")})
	var notFound *types.ParameterNotFound
	assert.True(t, errors.As(err, &notFound), "%v", err)

	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a/b"), Type: types.ParameterTypeString, Value: aws.String("w")})
	var exists *types.ParameterAlreadyExists
	assert.True(t, errors.As(err, &exists), "%v", err)

	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a/new"), Value: aws.String("w")})
	assert.ErrorContains(t, err, "A parameter type is required")

	many, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"/a/b", "/a/missing"}})
	require.NoError(t, err)
	assert.Len(t, many.Parameters, 1)
	assert.Equal(t, []string{"/a/missing"}, many.InvalidParameters)

	_, err = c.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("/a/b")})
	require.NoError(t, err)
	_, err = c.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("/a/b")})
	assert.True(t, errors.As(err, &notFound), "%v", err)
}

// With a file, the parameters outlive the store.
func TestPersisted(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ssm.json")
	store, _ := start(t, file)
	_, err := store.Put("/x/y", ssm.SecureString, "secret", false)
	require.NoError(t, err)
	again, err := ssm.NewStore("ap-northeast-1", "000000000000", file)
	require.NoError(t, err)
	p, ok := again.Get("/x/y")
	require.True(t, ok)
	assert.Equal(t, "secret", p.Value)
}
