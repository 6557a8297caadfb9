package versions_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/lambda"
	"github.com/acme/request-dump/local/lambda/versions"
	"github.com/acme/request-dump/local/logs"
	"github.com/acme/request-dump/local/stacktest"
)

const region, account = "ap-northeast-1", "000000000000"

// testZip is local/lambda's test function: "env" answers with its
// environment, "echo" with the payload.
var testZip []byte

func TestMain(m *testing.M) {
	var err error
	if testZip, err = stacktest.BuildZip("./local/lambda/testdata/testfn", ""); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

type sink struct{}

func (sink) Append(string, string, ...logs.Event) error { return nil }

// start serves a Service with one function, fn, whose $LATEST is code, and
// returns it with the real SDK client pointed at it.
func start(t *testing.T, opts ...versions.Option) (*versions.Service, *awslambda.Client) {
	t.Helper()
	svc := versions.New(sink{}, append([]versions.Option{versions.WithRegion(region), versions.WithAccount(account)}, opts...)...)
	t.Cleanup(func() { _ = svc.Close() })
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	require.NoError(t, svc.Update(spec(testZip, nil)))
	client := awslambda.New(awslambda.Options{
		Region:       region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	return svc, client
}

func spec(code []byte, env map[string]string) lambda.Spec {
	return lambda.Spec{FunctionName: "fn", Code: code, Timeout: 3 * time.Second, Region: region, Environment: env}
}

func sum(code []byte) string {
	s := sha256.Sum256(code)
	return base64.StdEncoding.EncodeToString(s[:])
}

// apiError asserts err is Lambda's error code with message.
func apiError(t *testing.T, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	require.True(t, errors.As(err, &ae), "want %s, got %v", code, err)
	assert.Equal(t, code, ae.ErrorCode())
	assert.Equal(t, message, ae.ErrorMessage())
}

func TestPublishVersionAndList(t *testing.T) {
	svc, client := start(t)
	ctx := context.Background()

	v1, err := client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("fn"), Description: aws.String("first")})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.ToString(v1.Version))
	assert.Equal(t, "arn:aws:lambda:ap-northeast-1:000000000000:function:fn:1", aws.ToString(v1.FunctionArn))
	assert.Equal(t, sum(testZip), aws.ToString(v1.CodeSha256), "CodeSha256 is the zip's base64 SHA-256: the artifact pointer's sha256")
	assert.Equal(t, types.StateActive, v1.State)

	again, err := client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("fn")})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.ToString(again.Version), "nothing changed since version 1: PublishVersion returns it")

	require.NoError(t, svc.Update(spec(testZip, map[string]string{"MODE": "b"})))
	_, err = client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("fn"), CodeSha256: aws.String(sum([]byte("other")))})
	apiError(t, err, "PreconditionFailedException", "CodeSHA256 ("+sum([]byte("other"))+") is different from current CodeSHA256 in $LATEST ("+sum(testZip)+"). Please try again with the CodeSHA256 in $LATEST.")
	v2, err := client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("fn")})
	require.NoError(t, err)
	assert.Equal(t, "2", aws.ToString(v2.Version), "a configuration change is a new version")

	list, err := client.ListVersionsByFunction(ctx, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("fn")})
	require.NoError(t, err)
	var got []string
	for _, v := range list.Versions {
		got = append(got, aws.ToString(v.Version))
	}
	assert.Equal(t, []string{"$LATEST", "1", "2"}, got)
	assert.Equal(t, "first", aws.ToString(list.Versions[1].Description))

	page, err := client.ListVersionsByFunction(ctx, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("fn"), MaxItems: aws.Int32(2)})
	require.NoError(t, err)
	assert.Len(t, page.Versions, 2)
	rest, err := client.ListVersionsByFunction(ctx, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("fn"), Marker: page.NextMarker})
	require.NoError(t, err)
	assert.Equal(t, "2", aws.ToString(rest.Versions[0].Version))
	assert.Nil(t, rest.NextMarker)

	cfg, err := client.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("fn"), Qualifier: aws.String("2")})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"MODE": "b"}, cfg.Environment.Variables)

	_, err = client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("nope")})
	apiError(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:ap-northeast-1:000000000000:function:nope")
	var nf *types.ResourceNotFoundException
	assert.ErrorAs(t, err, &nf, "the SDK's typed error")
}

func TestAliasesAndTheirErrors(t *testing.T) {
	svc, client := start(t)
	ctx := context.Background()
	_, err := svc.Publish("fn", "")
	require.NoError(t, err)
	require.NoError(t, svc.Update(spec(testZip, map[string]string{"MODE": "b"})))
	_, err = svc.Publish("fn", "")
	require.NoError(t, err)

	live, err := client.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live"), FunctionVersion: aws.String("1"), Description: aws.String("public")})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:lambda:ap-northeast-1:000000000000:function:fn:live", aws.ToString(live.AliasArn))
	assert.Nil(t, live.RoutingConfig)
	assert.NotEmpty(t, aws.ToString(live.RevisionId))

	_, err = client.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live"), FunctionVersion: aws.String("2")})
	apiError(t, err, "ResourceConflictException", "Alias already exists: arn:aws:lambda:ap-northeast-1:000000000000:function:fn:live")
	var conflict *types.ResourceConflictException
	assert.ErrorAs(t, err, &conflict)

	shifted, err := client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{
		FunctionName: aws.String("fn"), Name: aws.String("live"), RevisionId: live.RevisionId,
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.1}},
	})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.ToString(shifted.FunctionVersion))
	assert.Equal(t, map[string]float64{"2": 0.1}, shifted.RoutingConfig.AdditionalVersionWeights)
	assert.Equal(t, "public", aws.ToString(shifted.Description), "fields not given stay")
	got, err := client.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live")})
	require.NoError(t, err)
	assert.Equal(t, shifted.RevisionId, got.RevisionId)
	assert.Equal(t, shifted.RoutingConfig.AdditionalVersionWeights, got.RoutingConfig.AdditionalVersionWeights)

	_, err = client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live"), RevisionId: live.RevisionId, Description: aws.String("x")})
	apiError(t, err, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to retrieve the latest Revision Id")

	weights := func(w map[string]float64) error {
		_, err := client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live"),
			RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: w}})
		return err
	}
	apiError(t, weights(map[string]float64{"2": 1.5}), "ValidationException",
		"1 validation error detected: Value '{2=1.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]")
	apiError(t, weights(map[string]float64{"2": -0.1}), "ValidationException",
		"1 validation error detected: Value '{2=-0.1}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]")
	apiError(t, weights(map[string]float64{"1": 0.1}), "InvalidParameterValueException",
		"The additional version 1 is the alias's own version: an alias routes to two different versions")
	apiError(t, weights(map[string]float64{"2": 0.1, "3": 0.1}), "InvalidParameterValueException",
		"Number of additional version weights cannot be greater than 1; got 2")
	apiError(t, weights(map[string]float64{"9": 0.1}), "ResourceNotFoundException", "Function not found: arn:aws:lambda:ap-northeast-1:000000000000:function:fn:9")
	var invalid *types.InvalidParameterValueException
	assert.ErrorAs(t, weights(map[string]float64{"1": 0.1}), &invalid, "the SDK's typed error")

	cleared, err := client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live"), FunctionVersion: aws.String("2"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}})
	require.NoError(t, err)
	assert.Equal(t, "2", aws.ToString(cleared.FunctionVersion))
	assert.Nil(t, cleared.RoutingConfig, "an empty AdditionalVersionWeights removes the routing config")

	_, err = client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live"), FunctionVersion: aws.String("$LATEST"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"1": 0.5}}})
	apiError(t, err, "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version")

	_, err = client.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("fn"), Name: aws.String("canary")})
	apiError(t, err, "ResourceNotFoundException", "Alias not found: arn:aws:lambda:ap-northeast-1:000000000000:function:fn:canary")
	_, err = client.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("123"), FunctionVersion: aws.String("1")})
	apiError(t, err, "ValidationException", "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")
	_, err = client.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("huge"), FunctionVersion: aws.String("1"),
		Description: aws.String(strings.Repeat("d", 1<<20))})
	apiError(t, err, "RequestEntityTooLargeException", "the request body is over 1048576 bytes, far beyond what this operation takes")
	_, err = client.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("old"), FunctionVersion: aws.String("5")})
	apiError(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:ap-northeast-1:000000000000:function:fn:5")

	_, err = client.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("candidate"), FunctionVersion: aws.String("1")})
	require.NoError(t, err)
	list, err := client.ListAliases(ctx, &awslambda.ListAliasesInput{FunctionName: aws.String("arn:aws:lambda:ap-northeast-1:000000000000:function:fn")})
	require.NoError(t, err)
	require.Len(t, list.Aliases, 2)
	assert.Equal(t, "candidate", aws.ToString(list.Aliases[0].Name))
	on2, err := client.ListAliases(ctx, &awslambda.ListAliasesInput{FunctionName: aws.String("fn"), FunctionVersion: aws.String("2")})
	require.NoError(t, err)
	require.Len(t, on2.Aliases, 1)
	assert.Equal(t, "live", aws.ToString(on2.Aliases[0].Name))

	_, err = client.DeleteAlias(ctx, &awslambda.DeleteAliasInput{FunctionName: aws.String("fn"), Name: aws.String("candidate")})
	require.NoError(t, err)
	_, err = client.DeleteAlias(ctx, &awslambda.DeleteAliasInput{FunctionName: aws.String("fn"), Name: aws.String("candidate")})
	apiError(t, err, "ResourceNotFoundException", "Alias not found: arn:aws:lambda:ap-northeast-1:000000000000:function:fn:candidate")
}

func TestInvokeByQualifier(t *testing.T) {
	svc, client := start(t)
	ctx := context.Background()
	_, err := svc.Publish("fn", "")
	require.NoError(t, err)
	require.NoError(t, svc.Update(spec(testZip, map[string]string{"MODE": "b"})))
	_, err = svc.Publish("fn", "")
	require.NoError(t, err)
	_, err = svc.CreateAlias("fn", "live", "1", "", nil)
	require.NoError(t, err)

	env := func(qualifier *string) (map[string]string, string) {
		t.Helper()
		out, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn"), Qualifier: qualifier, Payload: []byte(`{"action":"env"}`)})
		require.NoError(t, err)
		require.Nil(t, out.FunctionError)
		var vars map[string]string
		require.NoError(t, json.Unmarshal(out.Payload, &vars))
		return vars, aws.ToString(out.ExecutedVersion)
	}
	vars, executed := env(aws.String("live"))
	assert.Equal(t, "1", executed)
	assert.Equal(t, "1", vars["AWS_LAMBDA_FUNCTION_VERSION"], "each version runs in its own execution environments")
	assert.Empty(t, vars["MODE"])
	vars, executed = env(aws.String("2"))
	assert.Equal(t, "2", executed)
	assert.Equal(t, "b", vars["MODE"])
	_, executed = env(nil)
	assert.Equal(t, "$LATEST", executed)

	out, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn:live"), Payload: []byte(`{"action":"echo","text":"q"}`)})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.ToString(out.ExecutedVersion), "a qualified function name")
	assert.JSONEq(t, `{"action":"echo","text":"q"}`, string(out.Payload))

	_, err = client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn"), Qualifier: aws.String("canary")})
	apiError(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:ap-northeast-1:000000000000:function:fn:canary")
	_, err = client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn:live"), Qualifier: aws.String("2")})
	apiError(t, err, "InvalidParameterValueException", "The derived qualifier from the function name (live) does not match the specified qualifier (2).")

	failed, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn"), Qualifier: aws.String("live"), Payload: []byte(`{"action":"error"}`)})
	require.NoError(t, err)
	assert.Equal(t, "Unhandled", aws.ToString(failed.FunctionError))

	// A payload that is not JSON is refused before any function runs, as
	// Lambda's Invoke reference documents InvalidRequestContentException
	// ("The request body could not be parsed as JSON"):
	// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
	before := svc.Stats("fn")[0].Invocations
	_, err = client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn"), Qualifier: aws.String("live"), Payload: []byte(`{"action":`)})
	apiError(t, err, "InvalidRequestContentException", `Could not parse request body into json: the payload is not a JSON document; send JSON, e.g. {} or "text"`)
	assert.Equal(t, before, svc.Stats("fn")[0].Invocations, "a refused payload invokes nothing")

	dry, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn"), Qualifier: aws.String("live"), InvocationType: types.InvocationTypeDryRun})
	require.NoError(t, err)
	assert.EqualValues(t, 204, dry.StatusCode)

	stats := svc.Stats("fn")
	require.Len(t, stats, 2)
	assert.EqualValues(t, 3, stats[0].Invocations, "version 1: live twice, fn:live once")
	assert.EqualValues(t, 1, stats[0].Errors)
	assert.Equal(t, []string{"live"}, stats[0].Aliases)
}

// An alias with an additional version weight sends each invocation to that
// version with probability weight: with a fixed draw sequence the split is
// exact, and the observer sees the version that ran.
func TestWeightedAliasSplitsByItsWeight(t *testing.T) {
	var mu sync.Mutex
	draws := 0
	var executed []string
	svc, client := start(t,
		versions.WithRandom(func() float64 { draws++; return float64(draws%10) / 10 }),
		versions.WithObserver(func(inv versions.Invocation) {
			mu.Lock()
			defer mu.Unlock()
			executed = append(executed, inv.Qualifier+"→"+inv.ExecutedVersion)
		}))
	ctx := context.Background()
	_, err := svc.Publish("fn", "")
	require.NoError(t, err)
	require.NoError(t, svc.Update(spec(testZip, map[string]string{"MODE": "b"})))
	_, err = svc.Publish("fn", "")
	require.NoError(t, err)
	_, err = svc.CreateAlias("fn", "live", "1", "", map[string]float64{"2": 0.2})
	require.NoError(t, err)

	counts := map[string]int{}
	for range 50 {
		out, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn"), Qualifier: aws.String("live"), Payload: []byte(`{"action":"echo"}`)})
		require.NoError(t, err)
		counts[aws.ToString(out.ExecutedVersion)]++
	}
	assert.Equal(t, map[string]int{"1": 40, "2": 10}, counts, "draws 0.0 and 0.1 of every ten are under 0.2")
	mu.Lock()
	assert.Len(t, executed, 50)
	assert.Positive(t, svc.Stats("fn")[0].Environments, "version 1 stays warm while an alias routes to it")
	assert.Equal(t, "live→2", executed[0], "the observer sees the alias and the version that ran")
	mu.Unlock()

	// Once nothing routes to version 1 and it is not the newest, its
	// execution environments stop.
	_, err = svc.UpdateAlias("fn", "live", versions.AliasUpdate{FunctionVersion: aws.String("2"), Weights: map[string]float64{}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return svc.Stats("fn")[0].Environments == 0 }, 10*time.Second, 20*time.Millisecond)
	assert.Positive(t, svc.Stats("fn")[1].Environments)
	out, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn"), Qualifier: aws.String("1"), Payload: []byte(`{"action":"echo"}`)})
	require.NoError(t, err, "a stopped version starts again when invoked by number")
	assert.Equal(t, "1", aws.ToString(out.ExecutedVersion))
}
