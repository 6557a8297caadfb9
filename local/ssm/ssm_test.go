package ssm_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
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

// Bad input is refused with a ValidationException saying what is wrong, as
// AWS's API reference states the limits: a name in a hierarchy starts with
// / and is at most 15 levels deep (PutParameter), a Standard parameter's
// value is at most 4 KB, GetParameters takes 1 to 10 names, and every call
// needs a name
// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html,
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html).
func TestRefusesBadInput(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	names := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "/a/p" + strings.Repeat("x", i)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"hierarchy without leading slash", func() error {
			_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("a/b"), Type: types.ParameterTypeString, Value: aws.String("v")})
			return err
		}, `"a/b" must be a fully qualified name`},
		{"hierarchy 16 levels deep", func() error {
			_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(strings.Repeat("/a", 16)), Type: types.ParameterTypeString, Value: aws.String("v")})
			return err
		}, "at most 15 levels"},
		{"value over 4 KB", func() error {
			_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a/big"), Type: types.ParameterTypeString, Value: aws.String(strings.Repeat("v", 4097))})
			return err
		}, "at most 4096 characters"},
		{"body over 1 MiB", func() error {
			_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a/huge"), Type: types.ParameterTypeString, Value: aws.String(strings.Repeat("v", 1<<20))})
			return err
		}, "the request body is over 1048576 bytes"},
		{"GetParameter without a name", func() error {
			_, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("")})
			return err
		}, "Value null at 'name'"},
		{"DeleteParameter without a name", func() error {
			_, err := c.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("")})
			return err
		}, "Value null at 'name'"},
		{"GetParameters with no names", func() error {
			_, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{}})
			return err
		}, "between 1 and 10 (got 0 names): name at least one parameter"},
		{"GetParameters with 11 names", func() error {
			_, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: names(11)})
			return err
		}, "between 1 and 10 (got 11 names): ask for the others in another call"},
		{"GetParameters with an empty name", func() error {
			_, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"/a/b", ""}})
			return err
		}, "Value null at 'names.2.member'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var invalid smithy.APIError
			require.True(t, errors.As(err, &invalid), "%v", err)
			assert.Equal(t, "ValidationException", invalid.ErrorCode())
			assert.Contains(t, invalid.ErrorMessage(), tc.want)
		})
	}

	many, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: names(10)})
	require.NoError(t, err, "10 names is the most, and allowed")
	assert.Len(t, many.InvalidParameters, 10)
	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a/max"), Type: types.ParameterTypeString, Value: aws.String(strings.Repeat("v", 4096))})
	assert.NoError(t, err, "a 4096-character value is allowed")
	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("plain"), Type: types.ParameterTypeString, Value: aws.String("v")})
	assert.NoError(t, err, "a name outside any hierarchy needs no leading slash")
}
