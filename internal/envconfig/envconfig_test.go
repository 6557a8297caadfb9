package envconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/internal/repo"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := repo.Root()
	require.NoError(t, err)
	return root
}

func TestEveryEnvLoads(t *testing.T) {
	root := repoRoot(t)
	envs, err := Envs(root)
	require.NoError(t, err)
	require.Equal(t, []string{"dev", "prod", "stg"}, envs)

	for _, env := range envs {
		t.Run(env, func(t *testing.T) {
			cfg, err := Load(env)
			require.NoError(t, err)
			assert.Equal(t, "request-dump-"+env, cfg.Name)
			assert.Equal(t, env, cfg.Environment)
			assert.Equal(t, "ap-northeast-1", cfg.Region)
			assert.Equal(t, "acme-request-dump-artifacts", cfg.Artifact.Bucket)
			assert.True(t, strings.HasPrefix(cfg.Artifact.Key, env+"/"), cfg.Artifact.Key)
			assert.Equal(t, "arm64", cfg.Function.Architecture)
			assert.Equal(t, "body.event_id", cfg.Dump.Fields["event_id"], "smoke tests find the dump by event_id")
			assert.Equal(t, "body.type", cfg.Dump.Fields["type"])
			assert.Equal(t, "/aws/lambda/request-dump-"+env, cfg.LogGroupName())

			doc, err := apispec.Load(cfg.APIVars(cfg.Region, "000000000000"))
			require.NoError(t, err)
			integ := doc.Paths.Value("/events").Post.Extensions["x-amazon-apigateway-integration"].(map[string]any)
			assert.Contains(t, integ["uri"], ":function:request-dump-"+env+":${stageVariables.lambda_alias}/invocations", "the integration invokes the alias its stage names")
		})
	}
}

func TestDevMatchesArchitectureDoc(t *testing.T) {
	cfg, err := Load("dev")
	require.NoError(t, err)
	assert.Equal(t, Function{MemorySize: 128, Timeout: 10, Architecture: "arm64", LogLevel: "INFO"}, cfg.Function)
	assert.Equal(t, 14, cfg.LogRetentionDays)
	assert.Equal(t, map[string]string{
		"DUMP_FIELDS":          "attributes=body.attributes,event_id=body.event_id,source_ip=requestContext.identity.sourceIp,type=body.type,user_agent=headers.User-Agent,user_id=body.user.id",
		"DUMP_REDACT_KEYS":     "password,token,secret,authorization,cookie,api-key,api_key,apikey,x-api-key,x-amz-security-token,accesskey,access_key",
		"DUMP_MAX_VALUE_BYTES": "8192",
		"DUMP_MAX_EVENT_BYTES": "65536",
	}, cfg.FunctionEnvironment())
}

func TestUnknownEnvListsEnvs(t *testing.T) {
	_, err := Load("qa")
	require.Error(t, err)
	assert.Equal(t, `envconfig: unknown env "qa": envs/ has dev, prod, stg`, err.Error())
}

// newRoot makes a repository root in a temporary directory with the real
// service module and one env root whose main.tf is mainTF.
func newRoot(t *testing.T, env, mainTF string) string {
	t.Helper()
	real := repoRoot(t)
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "terraform"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(real, "terraform", "service"), filepath.Join(root, "terraform", "service")))
	dir := filepath.Join(root, "envs", env)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, name := range []string{"variables.tf", "outputs.tf", "versions.tf"} {
		src, err := os.ReadFile(filepath.Join(real, "envs", "dev", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(string(src), "dev", env)), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644))
	p := pointer.New("acme-request-dump-artifacts", env, pointer.Sum([]byte("zip")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, pointer.FileName), p.Marshal(), 0o644))
	return root
}

const minimalMain = `provider "aws" {
  region = "eu-west-1"
}

module "service" {
  source      = "../../terraform/service"
  name        = "request-dump-qa"
  environment = "qa"
  artifact    = var.artifact
  access      = { mode = "api_key" }
}
`

// optionalDefaults parses the optional(type, default) calls of a variable's
// type expression in variables.tf, independently of typeexpr.
func optionalDefaults(t *testing.T, variable string) map[string]cty.Value {
	t.Helper()
	path := filepath.Join(repoRoot(t), "terraform", "service", "variables.tf")
	f, diags := hclsyntax.ParseConfig(mustRead(t, path), path, hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
	for _, block := range f.Body.(*hclsyntax.Body).Blocks {
		if block.Type != "variable" || block.Labels[0] != variable {
			continue
		}
		obj := block.Body.Attributes["type"].Expr.(*hclsyntax.FunctionCallExpr).Args[0].(*hclsyntax.ObjectConsExpr)
		out := map[string]cty.Value{}
		for _, item := range obj.Items {
			call, ok := item.ValueExpr.(*hclsyntax.FunctionCallExpr)
			require.True(t, ok && call.Name == "optional" && len(call.Args) == 2, "%s.%s must be optional(type, default)", variable, hcl.ExprAsKeyword(item.KeyExpr))
			val, diags := call.Args[1].Value(nil)
			require.False(t, diags.HasErrors(), diags.Error())
			out[hcl.ExprAsKeyword(item.KeyExpr)] = val
		}
		return out
	}
	t.Fatalf("variables.tf has no variable %q", variable)
	return nil
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func TestOmittedSettingsTakeTheModuleDefaults(t *testing.T) {
	root := newRoot(t, "qa", minimalMain)
	cfg, err := LoadRoot(root, "qa")
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", cfg.Region)

	for variable, got := range map[string]any{"function": cfg.Function, "dump": cfg.Dump, "api": cfg.API} {
		t.Run(variable, func(t *testing.T) {
			ty, err := gocty.ImpliedType(got)
			require.NoError(t, err)
			val, err := gocty.ToCtyValue(got, ty)
			require.NoError(t, err)
			defaults := optionalDefaults(t, variable)
			require.Len(t, defaults, len(ty.AttributeTypes()), "envconfig.%T and variables.tf have different attributes", got)
			for name, want := range defaults {
				have := val.GetAttr(name)
				if want.Type().IsTupleType() || want.Type().IsObjectType() {
					assert.Equal(t, want.LengthInt(), have.LengthInt(), name)
					for it := want.ElementIterator(); it.Next(); {
						k, v := it.Element()
						assert.True(t, v.Equals(have.Index(k)).True(), "%s[%#v]", name, k)
					}
					continue
				}
				assert.True(t, want.Equals(have).True(), "%s.%s: variables.tf says %#v, envconfig has %#v", variable, name, want, have)
			}
		})
	}
	assert.Equal(t, Access{Mode: "api_key", APIKeys: []string{"smoke"}, UsagePlan: UsagePlan{RateLimit: 50, BurstLimit: 100, QuotaPerDay: 100000}, CallerPrincipals: []string{}}, cfg.Access)
	assert.Equal(t, 30, cfg.LogRetentionDays)
	assert.Equal(t, LogGroups{}, cfg.LogGroups, "no KMS key, destroyed with the env")
	// The function's own defaults (docs/architecture.md) are the module's.
	assert.Equal(t, map[string]string{
		"DUMP_FIELDS":          "event_id=body.event_id,type=body.type",
		"DUMP_REDACT_KEYS":     "password,token,secret,authorization,cookie,api-key,api_key,apikey,x-api-key,x-amz-security-token,accesskey,access_key",
		"DUMP_MAX_VALUE_BYTES": "8192",
		"DUMP_MAX_EVENT_BYTES": "65536",
	}, cfg.FunctionEnvironment())
}

// moduleResource returns the body of a resource of the service module.
func moduleResource(t *testing.T, typ, name string) *hclsyntax.Body {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "terraform", "service")
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	require.NoError(t, err)
	for _, p := range paths {
		f, diags := hclsyntax.ParseConfig(mustRead(t, p), p, hcl.InitialPos)
		require.False(t, diags.HasErrors(), diags.Error())
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if b.Type == "resource" && b.Labels[0] == typ && b.Labels[1] == name {
				return b.Body
			}
		}
	}
	t.Fatalf("terraform/service has no resource %s.%s", typ, name)
	return nil
}

// moduleVar is the module's var object for cfg, built from the Go struct
// (not from the HCL evaluation envconfig does).
func moduleVar(t *testing.T, cfg *Config) cty.Value {
	t.Helper()
	attrs := map[string]cty.Value{"name": cty.StringVal(cfg.Name)}
	for name, v := range map[string]any{"function": cfg.Function, "dump": cfg.Dump, "api": cfg.API} {
		ty, err := gocty.ImpliedType(v)
		require.NoError(t, err)
		attrs[name], err = gocty.ToCtyValue(v, ty)
		require.NoError(t, err)
	}
	return cty.ObjectVal(attrs)
}

func evalIn(t *testing.T, expr hcl.Expression, vars map[string]cty.Value) cty.Value {
	t.Helper()
	val, diags := expr.Value(&hcl.EvalContext{Variables: vars, Functions: apispec.Functions()})
	require.False(t, diags.HasErrors(), diags.Error())
	return val
}

func TestFunctionEnvironmentIsTerraforms(t *testing.T) {
	lambda := moduleResource(t, "aws_lambda_function", "this")
	var variables hcl.Expression
	for _, b := range lambda.Blocks {
		if b.Type == "environment" {
			variables = b.Body.Attributes["variables"].Expr
		}
	}
	require.NotNil(t, variables, "aws_lambda_function.this has an environment block")

	cases := map[string]*Config{}
	for _, env := range []string{"dev", "stg", "prod"} {
		cfg, err := Load(env)
		require.NoError(t, err)
		cases[env] = cfg
	}
	tricky := *cases["dev"]
	tricky.Dump = Dump{
		// Upper case sorts before lower case and '_' between them, in
		// Terraform's sort() as in Go's.
		Fields:        map[string]string{"b": "headers.B", "B": "body.b[0]", "a_b": "path", "ab": "requestContext.requestId"},
		RedactKeys:    []string{"Token", "x-api-key"},
		MaxValueBytes: 100,
		MaxEventBytes: 1048550,
	}
	cases["tricky"] = &tricky

	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			got := evalIn(t, variables, map[string]cty.Value{"var": moduleVar(t, cfg)})
			want := map[string]string{}
			for k, v := range got.AsValueMap() {
				want[k] = v.AsString()
			}
			assert.Equal(t, want, cfg.FunctionEnvironment())
		})
	}
}

func TestNamesAreTerraforms(t *testing.T) {
	cfg, err := Load("stg")
	require.NoError(t, err)
	vars := map[string]cty.Value{"var": moduleVar(t, cfg)}

	role := moduleResource(t, "aws_iam_role", "api_gateway")
	assert.Equal(t, cfg.APIGatewayRoleName(), evalIn(t, role.Attributes["name"].Expr, vars).AsString())

	fn := moduleResource(t, "aws_lambda_function", "this")
	assert.Equal(t, cfg.Name, evalIn(t, fn.Attributes["function_name"].Expr, vars).AsString())
	var logging *hclsyntax.Body
	for _, b := range fn.Blocks {
		if b.Type == "logging_config" {
			logging = b.Body
		}
	}
	require.NotNil(t, logging)
	assert.Equal(t, LogFormat, evalIn(t, logging.Attributes["log_format"].Expr, nil).AsString())

	group := moduleResource(t, "aws_cloudwatch_log_group", "this")
	traversal, ok := group.Attributes["name"].Expr.(*hclsyntax.ScopeTraversalExpr)
	require.True(t, ok)
	assert.Equal(t, "local.log_group_name", string(traversal.Range().SliceBytes(mustRead(t, traversal.Range().Filename))))
	main := filepath.Join(repoRoot(t), "terraform", "service", "main.tf")
	f, diags := hclsyntax.ParseConfig(mustRead(t, main), main, hcl.InitialPos)
	require.False(t, diags.HasErrors())
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "locals" {
			if a, ok := b.Body.Attributes["log_group_name"]; ok {
				assert.Equal(t, cfg.LogGroupName(), evalIn(t, a.Expr, vars).AsString())
				return
			}
		}
	}
	t.Fatal("terraform/service/main.tf has no local.log_group_name")
}

func TestLambdaEnvironment(t *testing.T) {
	cfg, err := Load("dev")
	require.NoError(t, err)
	env := cfg.LambdaEnvironment("ap-northeast-1")
	assert.Equal(t, "/aws/lambda/request-dump-dev", env["AWS_LAMBDA_LOG_GROUP_NAME"])
	assert.Equal(t, "JSON", env["AWS_LAMBDA_LOG_FORMAT"])
	assert.Equal(t, "INFO", env["AWS_LAMBDA_LOG_LEVEL"])
	assert.Equal(t, "128", env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
	assert.Equal(t, "10", env["AWS_LAMBDA_FUNCTION_TIMEOUT"])
}

func TestLoadRejects(t *testing.T) {
	devMain := string(mustRead(t, filepath.Join(repoRoot(t), "envs", "dev", "main.tf")))
	edit := func(old, new string) string {
		require.Contains(t, devMain, old)
		return strings.Replace(devMain, old, new, 1)
	}
	// line is the number of the first line of envs/dev/main.tf holding
	// text, and at says "main.tf:<that line + below>", so that the expected
	// positions follow edits of the file.
	line := func(text string) int {
		before, _, ok := strings.Cut(devMain, text)
		require.True(t, ok, "envs/dev/main.tf has no %q", text)
		return strings.Count(before, "\n") + 1
	}
	at := func(text string, below int) string { return "main.tf:" + strconv.Itoa(line(text)+below) }
	tests := []struct {
		name   string
		mainTF string
		setup  func(t *testing.T, dir string)
		want   []string
	}{
		{
			name:   "syntax error names file and line",
			mainTF: edit("memory_size  = 128", "memory_size  = = 128"),
			want:   []string{at("memory_size  = 128", 0)},
		},
		{
			name:   "memory below Lambda's minimum",
			mainTF: edit("memory_size  = 128", "memory_size  = 64"),
			want:   []string{at("function = {", 0), "function.memory_size must be a whole number of MB from 128 to 10240"},
		},
		{
			name:   "timeout beyond API Gateway's",
			mainTF: edit("timeout      = 10", "timeout      = 60"),
			want:   []string{"function.timeout must be a whole number of seconds from 1 to 29"},
		},
		{
			name:   "bad dump path",
			mainTF: edit(`type       = "body.type"`, `type       = "cookies.session"`),
			want:   []string{"Each dump.fields path must be body"},
		},
		{
			name:   "comma in dump path",
			mainTF: edit(`type       = "body.type"`, `type       = "body.a,b"`),
			want:   []string{"Each dump.fields path must be body"},
		},
		{
			name:   "bad dump name",
			mainTF: edit(`type       = "body.type"`, `"event type" = "body.type"`),
			want:   []string{"Each dump.fields name must be"},
		},
		{
			name:   "retention not a CloudWatch value",
			mainTF: edit("log_retention_days = 14", "log_retention_days = 10"),
			want:   []string{"log_retention_days must be one of CloudWatch Logs' values"},
		},
		{
			name:   "wrong type",
			mainTF: edit("memory_size  = 128", `memory_size  = "big"`),
			want:   []string{`invalid value for variable "function"`, "memory_size", "a number is required"},
		},
		{
			name:   "misspelt attribute",
			mainTF: edit("memory_size  = 128", "memory       = 256"),
			want:   []string{at("function = {", 0), `attribute "memory" is not one the module declares (architecture, log_level, memory_size, timeout)`},
		},
		{
			name:   "unknown argument",
			mainTF: edit("log_retention_days = 14", "log_retention_days = 14\n  retention = 1"),
			want:   []string{`unsupported argument "retention"`, at("log_retention_days = 14", 1)},
		},
		{
			name:   "non-literal argument",
			mainTF: edit(`name        = "request-dump-dev"`, `name        = local.name`),
			want:   []string{"refers to local", "literals and var.artifact only"},
		},
		{
			name:   "count on the module",
			mainTF: edit(`source = "../../terraform/service"`, "source = \"../../terraform/service\"\n  count  = 2"),
			want:   []string{"must not set count"},
		},
		{
			name:   "other module source",
			mainTF: edit(`source = "../../terraform/service"`, `source = "../../terraform/other"`),
			want:   []string{`source must be "../../terraform/service"`},
		},
		{
			name:   "no region",
			mainTF: edit(`region              = "ap-northeast-1"`+"\n", ""),
			want:   []string{`no provider "aws" block with a literal region`},
		},
		{
			name:   "environment does not match the pointer's prefix",
			mainTF: edit("environment = \"dev\"\n  artifact", "environment = \"stg\"\n  artifact"),
			want:   []string{`key "dev/`, "outside the stg/ prefix"},
		},
		{
			name:   "pointer from another env",
			mainTF: devMain,
			setup: func(t *testing.T, dir string) {
				p := pointer.New("acme-request-dump-artifacts", "stg", pointer.Sum([]byte("zip")))
				require.NoError(t, os.WriteFile(filepath.Join(dir, pointer.FileName), p.Marshal(), 0o644))
			},
			want: []string{"artifact.auto.tfvars.json", "outside the dev/ prefix"},
		},
		{
			name:   "hex sha256 in the pointer",
			mainTF: devMain,
			setup: func(t *testing.T, dir string) {
				d := pointer.Sum([]byte("zip"))
				p := pointer.Pointer{Bucket: "acme-request-dump-artifacts", Key: pointer.Key("dev", d), SHA256: strings.TrimSuffix(strings.TrimPrefix(pointer.Key("dev", d), "dev/"), ".zip")}
				require.NoError(t, os.WriteFile(filepath.Join(dir, pointer.FileName), p.Marshal(), 0o644))
			},
			want: []string{"is hex"},
		},
		{
			name:   "pointer with a case-variant twin of a key",
			mainTF: devMain,
			setup: func(t *testing.T, dir string) {
				p := pointer.New("acme-request-dump-artifacts", "dev", pointer.Sum([]byte("zip")))
				other := pointer.Key("dev", pointer.Sum([]byte("another zip")))
				data := strings.Replace(string(p.Marshal()), `"key":`, `"KEY": "`+other+`", "key":`, 1)
				require.NoError(t, os.WriteFile(filepath.Join(dir, pointer.FileName), []byte(data), 0o644))
			},
			want: []string{"artifact.auto.tfvars.json", `key "KEY" in "artifact" is not "key"`, "scripts/set-pointer.sh"},
		},
		{
			name:   "extra tfvars",
			mainTF: devMain,
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "dump.auto.tfvars"), []byte("x = 1\n"), 0o644))
			},
			want: []string{"dump.auto.tfvars", "only tfvars file is artifact.auto.tfvars.json"},
		},
		{
			name:   "root variable rule",
			mainTF: devMain,
			setup: func(t *testing.T, dir string) {
				path := filepath.Join(dir, "variables.tf")
				src := strings.Replace(string(mustRead(t, path)), `"^dev/`, `"^prod/`, 1)
				require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
			},
			want: []string{"variables.tf:", `invalid value for variable "artifact"`, `must be "dev/<sha256 hex of the zip>.zip"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, "dev", tt.mainTF)
			if tt.setup != nil {
				tt.setup(t, filepath.Join(root, "envs", "dev"))
			}
			_, err := LoadRoot(root, "dev")
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

// TestModulePreconditionsOnInputsRefuseTheEnv: a precondition of the module
// that reads only input variables fails the load as it fails a plan, with
// the module's own message; one that holds lets the env load.
func TestModulePreconditionsOnInputsRefuseTheEnv(t *testing.T) {
	for _, tc := range []struct {
		name, env, extra, want string
	}{
		{name: "open dev", env: "dev", extra: `access = { mode = "none", allow_none = true }`},
		{name: "open stg", env: "stg", extra: `access = { mode = "none", allow_none = true }`,
			want: `resource aws_api_gateway_stage.this (api.tf): The access.mode "none" would leave POST /events of stg open to anyone on the internet`},
		{name: "function outlives the integration", env: "dev", extra: "access = { mode = \"api_key\" }\n  function = { timeout = 20 }\n  api = { integration_timeout_ms = 10000 }",
			want: "The function.timeout (20 s) is longer than api.integration_timeout_ms (10000 ms)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			main := fmt.Sprintf("provider \"aws\" {\n  region = \"eu-west-1\"\n}\n\nmodule \"service\" {\n  source      = \"../../terraform/service\"\n  name        = \"request-dump-%s\"\n  environment = %q\n  artifact    = var.artifact\n  %s\n}\n", tc.env, tc.env, tc.extra)
			_, err := LoadRoot(newRoot(t, tc.env, main), tc.env)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
