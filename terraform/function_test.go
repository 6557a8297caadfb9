package terraform

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/lambda/dump"
)

// The module's validation rules must never accept a dump setting the
// function rejects at start-up: that would pass plan and apply, then fail
// every request. These tests hold the rules against the function's own
// parser (lambda/dump).

func serviceVariables(t *testing.T) envconfig.Variables {
	t.Helper()
	vars, err := envconfig.LoadVariables(load(t, "terraform/service").dir)
	require.NoError(t, err)
	return vars
}

func TestEveryEnvConfigLoadsInTheFunction(t *testing.T) {
	for _, env := range envNames(t) {
		t.Run(env, func(t *testing.T) {
			cfg, err := envconfig.Load(env)
			require.NoError(t, err)
			vars := cfg.FunctionEnvironment()
			for k, v := range cfg.LambdaEnvironment(cfg.Region) {
				vars[k] = v
			}
			got, err := dump.LoadConfig(func(name string) (string, bool) { v, ok := vars[name]; return v, ok })
			require.NoError(t, err)
			assert.Len(t, got.Fields, len(cfg.Dump.Fields))
			assert.Equal(t, cfg.Dump.MaxEventBytes, got.MaxEventBytes)
			assert.Equal(t, cfg.Dump.MaxValueBytes, got.MaxValueBytes)
		})
	}
}

// contextPaths lists requestContext paths by the event's JSON names, as
// the function resolves them.
func contextPaths(prefix string, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + "." + name
		out = append(out, path)
		ft := t.Field(i).Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, contextPaths(path, ft)...)
		}
	}
	return out
}

func TestFieldPathRuleIsNoLooserThanTheFunction(t *testing.T) {
	vars := serviceVariables(t)
	accepts := func(path string) bool {
		_, err := vars.Value("dump", cty.ObjectVal(map[string]cty.Value{
			"fields": cty.MapVal(map[string]cty.Value{"f": cty.StringVal(path)}),
		}))
		return err == nil
	}

	known := contextPaths("requestContext", reflect.TypeFor[events.APIGatewayProxyRequestContext]())
	require.Contains(t, known, "requestContext.identity.sourceIp")
	for _, path := range known {
		assert.True(t, accepts(path), "the rule rejects %s, a key of the event", path)
	}

	corpus := append(known,
		"body", "body.a", "body.a.b[0]", "body[0]", "body[999999]", "body[1000000]", "body[01]", "body[-1]", "body.", "body..a",
		"body.a b", "body.a,b", "body.a=b", "body.a]b", "body.a\x01", "body.ключ", "body[x]", "body[0", "Body.a",
		"headers", "headers.", "headers.X-Request-Id", "headers.a.b", "headers.a b", "headers.a:b",
		"queryStringParameters", "queryStringParameters.q", "queryStringParameters.a.b", "pathParameters.id", "stageVariables.v",
		"requestContext", "requestContext.", "requestContext.nope", "requestContext.stage.x", "requestContext.stage[0]",
		"requestContext.authorizer.claims", "requestContext.authorizer.list[3].x", "requestContext.identity.clientCert.validity.notAfter",
		"httpMethod", "httpMethod.x", "path", "path[0]", "resource", "cookies", "",
	)
	for _, path := range corpus {
		_, err := dump.ParsePath(path)
		if accepts(path) {
			assert.NoError(t, err, "the rule accepts %q but the function rejects it", path)
		}
	}
}

func TestEventBytesRuleIsNoLooserThanTheFunction(t *testing.T) {
	vars := serviceVariables(t)
	for _, n := range []int{1, 2, 10, 50} {
		for _, nameLen := range []int{1, 8, 64} {
			t.Run(fmt.Sprintf("%d fields named with %d bytes", n, nameLen), func(t *testing.T) {
				fields := map[string]cty.Value{}
				var dumpFields []string
				for i := 0; i < n; i++ {
					name := fmt.Sprintf("f%0*d", nameLen-1, i)
					if nameLen == 1 {
						name = string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[i])
					}
					fields[name] = cty.StringVal("body.x")
					dumpFields = append(dumpFields, name+"=body.x")
				}
				value := func(maxEvent int) error {
					_, err := vars.Value("dump", cty.ObjectVal(map[string]cty.Value{
						"fields":          cty.MapVal(fields),
						"max_value_bytes": cty.NumberIntVal(16),
						"max_event_bytes": cty.NumberIntVal(int64(maxEvent)),
					}))
					return err
				}
				// The smallest max_event_bytes the rule accepts...
				lo, hi := 1, dump.MaxEventBytesLimit
				require.NoError(t, value(hi))
				for lo < hi {
					mid := (lo + hi) / 2
					if value(mid) == nil {
						hi = mid
					} else {
						lo = mid + 1
					}
				}
				// ...must be enough for the function.
				env := map[string]string{
					"DUMP_FIELDS":          strings.Join(dumpFields, ","),
					"DUMP_MAX_VALUE_BYTES": "16",
					"DUMP_MAX_EVENT_BYTES": fmt.Sprint(lo),
				}
				_, err := dump.LoadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
				assert.NoError(t, err, "the rule accepts max_event_bytes %d, the function does not", lo)
			})
		}
	}
}

// TestEventBytesRuleEndsAtLambdasLogLine: Lambda delivers a function's
// output line as one CloudWatch Logs event only up to 256 KB (a longer one
// is split into plain-text events no JSON filter pattern matches), though
// PutLogEvents takes events of up to 1 MB. The rule and the function stop
// at the same size, dump.MaxEventBytesLimit, which is within that line.
func TestEventBytesRuleEndsAtLambdasLogLine(t *testing.T) {
	vars := serviceVariables(t)
	value := func(maxEvent int) error {
		_, err := vars.Value("dump", cty.ObjectVal(map[string]cty.Value{"max_event_bytes": cty.NumberIntVal(int64(maxEvent))}))
		return err
	}
	load := func(maxEvent int) error {
		_, err := dump.LoadConfig(func(k string) (string, bool) {
			return fmt.Sprint(maxEvent), k == dump.EnvMaxEventBytes
		})
		return err
	}
	assert.LessOrEqual(t, dump.MaxEventBytesLimit, 256<<10-26, "within Lambda's 256 KB line, less CloudWatch's 26 bytes per event")
	assert.NoError(t, value(dump.MaxEventBytesLimit))
	assert.NoError(t, load(dump.MaxEventBytesLimit))
	assert.ErrorContains(t, value(dump.MaxEventBytesLimit+1), "Lambda")
	assert.ErrorContains(t, load(dump.MaxEventBytesLimit+1), "Lambda")
}

func TestRedactKeyRuleIsNoLooserThanTheFunction(t *testing.T) {
	vars := serviceVariables(t)
	for _, key := range []string{"password", "X-Api-Key", "a", strings.Repeat("k", 128), "pass word", "pässword", "a\tb", "~!@#$%^&*()", ""} {
		_, ruleErr := vars.Value("dump", cty.ObjectVal(map[string]cty.Value{
			"redact_keys": cty.ListVal([]cty.Value{cty.StringVal(key)}),
		}))
		if ruleErr == nil {
			_, err := dump.ParseRedactKeys(key)
			assert.NoError(t, err, "the rule accepts redact key %q, the function does not", key)
		}
	}
}

// credentialKeys are the key names issue 11 requires every env to redact:
// where API keys, AWS credentials and bearer tokens travel in headers,
// query strings and bodies.
var credentialKeys = []string{"api-key", "apikey", "x-api-key", "authorization", "x-amz-security-token", "accesskey"}

// TestRedactKeysAgree: the function's default, the module's default and
// every env's list redact the credential keys, and the two defaults are
// the same list.
func TestRedactKeysAgree(t *testing.T) {
	fn, err := dump.ParseRedactKeys(dump.DefaultRedactKeys)
	require.NoError(t, err)
	val, err := serviceVariables(t).Value("dump", cty.EmptyObjectVal)
	require.NoError(t, err)
	var module []string
	for _, k := range val.GetAttr("redact_keys").AsValueSlice() {
		module = append(module, k.AsString())
	}
	assert.Equal(t, fn, module, "the function's default and the module's")
	assert.Subset(t, fn, credentialKeys)
	for _, env := range envNames(t) {
		cfg, err := envconfig.Load(env)
		require.NoError(t, err)
		assert.Subset(t, cfg.Dump.RedactKeys, fn, "%s redacts at least the defaults", env)
	}
}
