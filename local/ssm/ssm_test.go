package ssm_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	require.True(t, errors.As(err, &exists), "%v", err)
	assert.Equal(t, "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.", exists.ErrorMessage())

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
		{"GetParameter of a hierarchy without leading slash", func() error {
			_, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("a/b")})
			return err
		}, `"a/b" must be a fully qualified name`},
		{"GetParameter of a name with a character names cannot have", func() error {
			_, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/a/support@example.com")})
			return err
		}, "use letters, digits and .-_/"},
		{"a space inside a name", func() error {
			_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a/b c"), Type: types.ParameterTypeString, Value: aws.String("v")})
			return err
		}, "use letters, digits and .-_/"},
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
		{"GetParameters with a space inside a name", func() error {
			_, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"/a/b", " /a/b c "}})
			return err
		}, `"/a/b c": a name cannot contain spaces`},
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

	// PutParameter's documented error for a hierarchy deeper than 15 levels.
	_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(strings.Repeat("/a", 16)), Type: types.ParameterTypeString, Value: aws.String("v")})
	var tooDeep *types.HierarchyLevelLimitExceededException
	require.True(t, errors.As(err, &tooDeep), "%v", err)
	assert.Contains(t, tooDeep.ErrorMessage(), "A hierarchy can have a maximum of 15 levels")
	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(strings.Repeat("/a", 15)), Type: types.ParameterTypeString, Value: aws.String("v")})
	require.NoError(t, err, "15 levels is the most, and allowed")

	many, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: names(10)})
	require.NoError(t, err, "10 names is the most, and allowed")
	assert.Len(t, many.InvalidParameters, 10)
	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a/max"), Type: types.ParameterTypeString, Value: aws.String(strings.Repeat("v", 4096))})
	assert.NoError(t, err, "a 4096-character value is allowed")
	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("plain"), Type: types.ParameterTypeString, Value: aws.String("v")})
	assert.NoError(t, err, "a name outside any hierarchy needs no leading slash")
}

// Names as Parameter Store reads them: a root parameter's leading slash does
// not make another parameter ("/TestParam1" and "TestParam1" are not
// unique, in the user guide's name constraints:
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html);
// spaces around a name are removed and spaces inside it refused (the API
// reference of PutParameter, GetParameter and GetParameters); reads under
// /aws/ are lookups, not refused names (public parameters live there).
func TestNames(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	put := func(name, value string, overwrite bool) error {
		_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(name), Type: types.ParameterTypeString, Value: aws.String(value), Overwrite: aws.Bool(overwrite)})
		return err
	}
	value := func(t *testing.T, name string) string {
		t.Helper()
		out, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(name)})
		require.NoError(t, err)
		return aws.ToString(out.Parameter.Value)
	}
	require.NoError(t, put("/root", "v1", false))
	require.NoError(t, put(" /a/b ", "v2", false))

	for _, tc := range []struct{ name, read, want string }{
		{"root read without its slash", "root", "v1"},
		{"root read with its slash", "/root", "v1"},
		{"spaces around a name removed on put and get", "  /a/b ", "v2"},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, value(t, tc.read)) })
	}

	var exists *types.ParameterAlreadyExists
	require.True(t, errors.As(put("root", "v3", false), &exists), "root and /root are one parameter")
	require.NoError(t, put("root", "v3", true))
	assert.Equal(t, "v3", value(t, "/root"))

	_, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/aws/service/global-infrastructure/regions/ap-northeast-1")})
	var notFound *types.ParameterNotFound
	assert.True(t, errors.As(err, &notFound), "a read under /aws/ is a lookup: %v", err)

	_, err = c.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("root")})
	require.NoError(t, err)
	_, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/root")})
	assert.True(t, errors.As(err, &notFound), "%v", err)
}

// GetParameters lists what it found in alphabetical order, whatever the
// order of the names asked for (the API reference of GetParameters).
func TestGetParametersOrder(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	for _, name := range []string{"/o/b", "/o/c", "/o/a"} {
		_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(name), Type: types.ParameterTypeString, Value: aws.String("v")})
		require.NoError(t, err)
	}
	out, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"/o/c", "/o/z", "/o/a", "/o/b", "/o/y"}})
	require.NoError(t, err)
	got := make([]string, len(out.Parameters))
	for i, p := range out.Parameters {
		got[i] = aws.ToString(p.Name)
	}
	assert.Equal(t, []string{"/o/a", "/o/b", "/o/c"}, got)
	assert.Equal(t, []string{"/o/y", "/o/z"}, out.InvalidParameters)
}

// A file written when "/r" and "r" were two parameters loads as one: the
// one written last.
func TestLoadsBothSpellingsOfARootName(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ssm.json")
	older, newer := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	data, err := json.Marshal(map[string]ssm.Parameter{
		"/r": {Name: "/r", Type: ssm.String, Value: "newer", Version: 1, LastModifiedDate: newer},
		"r":  {Name: "r", Type: ssm.String, Value: "older", Version: 3, LastModifiedDate: older},
	})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, data, 0o600))
	store, err := ssm.NewStore("ap-northeast-1", "000000000000", file)
	require.NoError(t, err)
	for _, name := range []string{"r", "/r"} {
		p, ok := store.Get(name)
		require.True(t, ok, name)
		assert.Equal(t, "newer", p.Value, name)
	}
}
