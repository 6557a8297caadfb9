package terraform

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/internal/repo"
)

// A validation case gives a variable an HCL value, as a caller would write
// it, and expects it accepted ("" want) or rejected with want in the error.
type validationCase struct {
	variable string
	value    string
	want     string
}

// checkValidations evaluates the variables' type constraints, defaults and
// validation rules of the module or root at rel twice: with envconfig,
// which the local stack deploys through, and with the pinned terraform
// itself (`terraform plan`, which checks the variables before it asks any
// provider), so that the two cannot drift apart.
func checkValidations(t *testing.T, rel string, cases []validationCase) {
	t.Helper()
	c := load(t, rel)
	vars, err := envconfig.LoadVariables(c.dir)
	require.NoError(t, err)
	planned := terraformVerdicts(t, c, cases)
	for i, tc := range cases {
		name := tc.variable + " = " + tc.value
		t.Run(strings.ReplaceAll(name, "/", "∕"), func(t *testing.T) {
			_, err := vars.Value(tc.variable, literal(t, tc.value))
			if tc.want == "" {
				assert.NoError(t, err)
				assert.Empty(t, planned[i], "terraform plan refuses what envconfig accepts")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, planned[i], tc.want, "terraform plan's message")
			// Terraform prints every rule a value fails: one mistake must
			// not also trip a rule about something else.
			assert.LessOrEqual(t, strings.Count(err.Error(), "(validation rule at "), 1, "one message for one mistake:\n%s", err)
			assert.LessOrEqual(t, strings.Count(planned[i], "This was checked by the validation rule"), 1, "terraform plan: one message for one mistake:\n%s", planned[i])
		})
	}
}

// terraformVerdicts runs the pinned terraform's plan once on all the
// cases, offline (a module of variables alone needs no provider and no
// init): case i is its variable's block copied under the name case_<i>,
// given the case's value in a tfvars file. It returns each case's error
// diagnostics, "" where Terraform accepted the value.
func terraformVerdicts(t *testing.T, c *config, cases []validationCase) []string {
	t.Helper()
	terraform, err := repo.Tool("terraform")
	require.NoError(t, err)
	declared := map[string]*hclsyntax.Block{}
	for _, b := range c.blocks("variable") {
		declared[b.Labels[0]] = b
	}
	var module, tfvars strings.Builder
	starts := make([]int, len(cases)) // the line of main.tf each case's block starts on
	line := 1
	for i, tc := range cases {
		b, ok := declared[tc.variable]
		require.True(t, ok, "%s declares no variable %q", c.dir, tc.variable)
		require.NotContains(t, tc.value, "\n", "a case's value is one line of the tfvars file")
		r := b.Range()
		name := fmt.Sprintf("case_%d", i)
		block := regexp.MustCompile(`\bvar\.`+regexp.QuoteMeta(tc.variable)+`\b`).
			ReplaceAllString(string(c.srcs[r.Filename][r.Start.Byte:r.End.Byte]), "var."+name)
		block = strings.Replace(block, `variable "`+tc.variable+`"`, `variable "`+name+`"`, 1)
		starts[i] = line
		module.WriteString(block + "\n\n")
		line += strings.Count(block, "\n") + 2
		fmt.Fprintf(&tfvars, "%s = %s\n", name, tc.value)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(module.String()), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cases.tfvars"), []byte(tfvars.String()), 0o644))
	cmd := exec.Command(terraform, "plan", "-json", "-input=false", "-lock=false", "-refresh=false", "-var-file=cases.tfvars")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null", "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_DATA_DIR="+filepath.Join(dir, ".terraform"))
	out, _ := cmd.Output() // it exits 1 when a case is refused; the diagnostics say which

	verdicts := make([]string, len(cases))
	for _, msg := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var m struct {
			Diagnostic *struct {
				Severity, Summary, Detail string
				Range                     *struct {
					Filename string
					Start    struct{ Line int }
				}
			}
		}
		require.NoError(t, json.Unmarshal([]byte(msg), &m), "terraform plan -json printed %q", msg)
		d := m.Diagnostic
		if d == nil || d.Severity != "error" {
			continue
		}
		require.NotNil(t, d.Range, "terraform plan: %s: %s", d.Summary, d.Detail)
		i := -1
		switch d.Range.Filename {
		case "cases.tfvars":
			i = d.Range.Start.Line - 1
		case "main.tf":
			i = sort.Search(len(starts), func(i int) bool { return starts[i] > d.Range.Start.Line }) - 1
		}
		require.True(t, i >= 0 && i < len(cases), "terraform plan: %s: %s (at %s:%d)", d.Summary, d.Detail, d.Range.Filename, d.Range.Start.Line)
		verdicts[i] += d.Summary + ": " + d.Detail + "\n"
	}
	return verdicts
}

func hclString(s string) string { return `"` + s + `"` }

// tagCases holds the tags variable every module has to AWS's tag rules.
var tagCases = []validationCase{
	{"tags", `{}`, ""},
	{"tags", `{team = "payments", "cost-center" = "12 34", "owner:email" = "a+b@example.com", "チーム" = "決済", empty = ""}`, ""},
	{"tags", `{"` + strings.Repeat("k", 128) + `" = "` + strings.Repeat("v", 256) + `"}`, ""},
	{"tags", `{"aws:team" = "payments"}`, "no key may start with aws:"},
	{"tags", `{"AWS:Team" = "payments"}`, "no key may start with aws:"},
	{"tags", `{"" = "payments"}`, "Each tag key must be 1-128 characters"},
	{"tags", `{"` + strings.Repeat("k", 129) + `" = "x"}`, "Each tag key must be 1-128 characters"},
	{"tags", `{team = "` + strings.Repeat("v", 257) + `"}`, "each value at most 256"},
	{"tags", `{"team#1" = "payments"}`, "letters, digits, spaces and _ . : / = + - @ only"},
	{"tags", `{team = "pay;ments"}`, "letters, digits, spaces and _ . : / = + - @ only"},
}

func pointerHCL(p pointer.Pointer) string {
	return `{bucket = "` + p.Bucket + `", key = "` + p.Key + `", sha256 = "` + p.SHA256 + `"}`
}

func TestServiceValidations(t *testing.T) {
	good := pointer.New("acme-request-dump-artifacts", "stg", pointer.Sum([]byte("zip")))
	hexSum := strings.TrimSuffix(strings.TrimPrefix(good.Key, "stg/"), ".zip")
	edit := func(f func(*pointer.Pointer)) string {
		p := good
		f(&p)
		return pointerHCL(p)
	}
	field := func(path string) string { return `{fields = {f = "` + path + `"}}` }

	cases := []validationCase{
		{"name", hclString("request-dump-dev"), ""},
		{"name", hclString("Request_Dump"), "The name must be 3-40 characters"},
		{"name", hclString("rd"), "The name must be 3-40 characters"},
		{"name", hclString("request-dump-"), "not end with '-'"},
		{"name", hclString(strings.Repeat("a", 41)), "3-40 characters"},

		{"environment", hclString("dev"), ""},
		{"environment", hclString("sandbox1"), ""},
		{"environment", hclString("Dev"), "The environment must be 2-16 characters"},
		{"environment", hclString("dev-1"), "The environment must be"},

		{"artifact", pointerHCL(good), ""},
		{"artifact", edit(func(p *pointer.Pointer) { p.Bucket = "Bad_Bucket" }), "artifact.bucket must be an S3 bucket name"},
		{"artifact", edit(func(p *pointer.Pointer) { p.Key = "stg/latest.zip" }), `artifact.key must be the content address`},
		{"artifact", edit(func(p *pointer.Pointer) { p.Key = "stg/" + strings.ToUpper(hexSum) + ".zip" }), "artifact.key must be the content address"},
		{"artifact", edit(func(p *pointer.Pointer) { p.Key = hexSum + ".zip" }), "artifact.key must be the content address"},
		{"artifact", edit(func(p *pointer.Pointer) { p.SHA256 = hexSum }), "a 64-character hex digest is the wrong encoding"},
		{"artifact", edit(func(p *pointer.Pointer) { p.SHA256 = strings.TrimSuffix(good.SHA256, "=") }), "44 characters ending in '='"},
		{"artifact", edit(func(p *pointer.Pointer) {
			p.SHA256 = strings.NewReplacer("+", "-", "/", "_").Replace(good.SHA256[:42]) + "-="
		}), "artifact.sha256 must be the base64"},
		{"artifact", `{bucket = "b-b-b", key = "k"}`, `attribute "sha256" is required`},
		{"artifact", edit(func(p *pointer.Pointer) {
			p.SHA256 = pointer.New(p.Bucket, "stg", pointer.Sum([]byte("other zip"))).SHA256
		}),
			"artifact.key and artifact.sha256 name different zips"},

		{"function", `{}`, ""},
		{"function", `{memory_size = 10240, timeout = 29, architecture = "x86_64", log_level = "DEBUG"}`, ""},
		{"function", `{memory_size = 64}`, "function.memory_size must be a whole number of MB from 128 to 10240"},
		{"function", `{memory_size = 128.5}`, "function.memory_size must be a whole number"},
		{"function", `{memory_size = 20000}`, "from 128 to 10240"},
		{"function", `{memory_size = "big"}`, "a number is required"},
		{"function", `{timeout = 0}`, "function.timeout must be a whole number of seconds from 1 to 29"},
		{"function", `{timeout = 30}`, "API Gateway's integration timeout caps it"},
		{"function", `{timeout = 2.5}`, "function.timeout must be a whole number"},
		{"function", `{architecture = "amd64"}`, `function.architecture must be "arm64"`},
		{"function", `{log_level = "info"}`, "function.log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL"},

		{"dump", `{}`, ""},
		{"dump", `{fields = {}}`, "dump.fields must name 1 to 50 fields"},
		{"dump", `{fields = {"1st" = "body"}}`, "Each dump.fields name must be 1-64 characters"},
		{"dump", `{fields = {"event-id" = "body.event_id"}}`, "Each dump.fields name must be"},
		{"dump", `{redact_keys = ["pass,word"]}`, "Each dump.redact_keys entry"},
		{"dump", `{redact_keys = []}`, ""},
		{"dump", `{max_value_bytes = 8}`, "dump.max_value_bytes must be a whole number from 16 up to dump.max_event_bytes"},
		{"dump", `{max_value_bytes = 70000}`, "up to dump.max_event_bytes"},
		{"dump", `{max_value_bytes = 70000, max_event_bytes = 262118}`, ""},
		{"dump", `{max_event_bytes = 262119}`, "Lambda delivers a longer line as several CloudWatch Logs events"},
		{"dump", `{max_event_bytes = 1048550}`, "Lambda delivers a longer line as several CloudWatch Logs events"},
		{"dump", `{max_event_bytes = 4137, max_value_bytes = 100}`, "from 4096 plus, per field, 9 bytes and twice its name's length"},
		{"dump", `{max_event_bytes = 4138, max_value_bytes = 100}`, ""},
		{"dump", `{redact_keys = ["pass word"]}`, "printable ASCII characters without spaces"},
		{"dump", `{redact_keys = ["pässword"]}`, "printable ASCII"},
	}
	for _, path := range []string{
		"body", "body.event_id", "body.user.id", "body.items[0].sku", "body[2]", "body.a[0][1]",
		"headers", "headers.User-Agent", "headers.x-request-id",
		"queryStringParameters.q", "pathParameters.id", "stageVariables.alias",
		"requestContext.identity.sourceIp", "requestContext.requestId", "requestContext.stage", "requestContext.identity",
		"requestContext.authorizer", "requestContext.authorizer.claims.sub", "requestContext.authorizer.groups[0]",
		"requestContext.identity.clientCert.validity.notAfter", "body.ключ", "body.a-b.c_d",
		"httpMethod", "path", "resource",
	} {
		cases = append(cases, validationCase{"dump", field(path), ""})
	}
	for _, path := range []string{
		"", "Body.x", "cookies.session", "body.", "body..a", "body.a b", "body.a,b", "body.a=b", "body[x]",
		"headers.", "headers.a.b", "queryStringParameters", "pathParameters.", "requestContext", "requestContext.",
		"httpMethod.x", "resource.path", "requestContext.foo", "requestContext.identity.foo", "requestContext.stage.x",
		"body[01]", "body[1000000]", "body.a\tb", "headers.User Agent",
	} {
		cases = append(cases, validationCase{"dump", field(path), "Each dump.fields path must be body"})
	}
	cases = append(cases,
		validationCase{"api", `{}`, ""},
		validationCase{"api", `{stage_name = "dev", throttling_rate_limit = 0.5, throttling_burst_limit = 1, integration_timeout_ms = 50, xray_tracing = true}`, ""},
		validationCase{"api", `{stage_name = "dev-1"}`, "api.stage_name must be 1-128 characters"},
		validationCase{"api", `{throttling_rate_limit = 0}`, "api.throttling_rate_limit must be more than 0"},
		validationCase{"api", `{throttling_burst_limit = 0}`, "api.throttling_burst_limit must be a whole number"},
		validationCase{"api", `{throttling_burst_limit = 1.5}`, "api.throttling_burst_limit must be a whole number"},
		validationCase{"api", `{integration_timeout_ms = 30000}`, "api.integration_timeout_ms must be a whole number of milliseconds from 50 to 29000"},
		validationCase{"api", `{integration_timeout_ms = 49}`, "from 50 to 29000"},

		validationCase{"api", `{stage_name = "candidate"}`, `api.stage_name must not be "candidate"`},
	)
	cases = append(cases, rolloutValidationCases...)
	cases = append(cases,
		validationCase{"alarms", `{}`, ""},
		validationCase{"alarms", `{errors = 0, throttles = 3, api_5xx = 100000, duration_percent = 100, latency_p99_ms = 29000, missing_dumps_percent = 0}`, ""},
		validationCase{"alarms", `{errors = -1}`, "alarms.errors, alarms.throttles and alarms.api_5xx must be whole numbers from 0 to 100000"},
		validationCase{"alarms", `{api_5xx = 1.5}`, "must be whole numbers from 0 to 100000"},
		validationCase{"alarms", `{duration_percent = 0}`, "alarms.duration_percent must be from 1 to 100"},
		validationCase{"alarms", `{duration_percent = 120}`, "alarms.duration_percent must be from 1 to 100"},
		validationCase{"alarms", `{latency_p99_ms = 0}`, "alarms.latency_p99_ms must be a whole number of milliseconds from 1 to 29000"},
		validationCase{"alarms", `{missing_dumps_percent = 100}`, "alarms.missing_dumps_percent must be from 0"},
		validationCase{"alarms", `{email = "oncall@example.com", https_endpoint = "https://hooks.example.com/alarms"}`, ""},
		validationCase{"alarms", `{email = "oncall"}`, "alarms.email must be an email address"},
		validationCase{"alarms", `{https_endpoint = "http://hooks.example.com/alarms"}`, "alarms.https_endpoint must be an https:// URL"},

		validationCase{"log_groups", "{}", ""},
		validationCase{"log_groups", `{kms_key_id = "arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", skip_destroy = true}`, ""},
		validationCase{"log_groups", `{kms_key_id = "arn:aws:kms:ap-northeast-1:123456789012:alias/logs"}`, "log_groups.kms_key_id must be a KMS key ARN"},
		validationCase{"log_groups", `{kms_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"}`, "log_groups.kms_key_id must be a KMS key ARN"},
		validationCase{"log_retention_days", "14", ""},
		validationCase{"log_retention_days", "3653", ""},
		validationCase{"log_retention_days", "0", "log_retention_days must be one of CloudWatch Logs' values"},
		validationCase{"log_retention_days", "10", "must be one of CloudWatch Logs' values"},
		validationCase{"log_retention_days", "4000", "must be one of CloudWatch Logs' values"},
	)
	checkValidations(t, "terraform/service", append(cases, tagCases...))
}

// rolloutValidationCases are the rollout settings the plan must accept or
// refuse; the local stack (internal/envconfig) must refuse the same ones
// with the same messages (TestLocalStackRefusesWhatThePlanRefuses).
var rolloutValidationCases = []validationCase{
	{"rollout", `{}`, ""},
	{"rollout", `{strategy = "all_at_once"}`, ""},
	{"rollout", `{strategy = "canary", percent = 1, interval_seconds = 1}`, ""},
	{"rollout", `{strategy = "canary", percent = 99, interval_seconds = 3600}`, ""},
	{"rollout", `{strategy = "linear", percent = 10, interval_seconds = 400}`, ""},
	{"rollout", `{strategy = "blue_green"}`, "The rollout.strategy must be all_at_once, canary or linear."},
	{"rollout", `{percent = 0}`, "The rollout.percent must be a whole number from 1 to 99"},
	{"rollout", `{percent = 100}`, "The rollout.percent must be a whole number from 1 to 99"},
	{"rollout", `{percent = 12.5}`, "The rollout.percent must be a whole number from 1 to 99"},
	{"rollout", `{interval_seconds = 0}`, "The rollout.interval_seconds must be a whole number of seconds from 1 to 3600"},
	{"rollout", `{interval_seconds = -5}`, "The rollout.interval_seconds must be a whole number of seconds from 1 to 3600"},
	{"rollout", `{interval_seconds = 3601}`, "The rollout.interval_seconds must be a whole number of seconds from 1 to 3600"},
	{"rollout", `{strategy = "linear", percent = 10, interval_seconds = 401}`, "A linear rollout must finish within 3600 seconds"},
	{"rollout", `{strategy = "linear", percent = 0}`, "The rollout.percent must be a whole number from 1 to 99"},
	{"rollout", `{strategy = "linear", percent = 0.5}`, "The rollout.percent must be a whole number from 1 to 99"},
	{"rollout", `{strategy = "linear", percent = 10, interval_seconds = 5000}`, "The rollout.interval_seconds must be a whole number of seconds from 1 to 3600"},
	{"rollout", `{strategy = "linear", percent = 99, interval_seconds = 3600}`, ""},
}

// The rule that the key's hex digest and the sha256 are one SHA-256 does
// base64 by arithmetic: it must agree with Go's encoding for every digest,
// including the edge bytes, and reject any pointer that mixes two.
func TestArtifactKeyAndChecksumAgree(t *testing.T) {
	vars, err := envconfig.LoadVariables(load(t, "terraform/service").dir)
	require.NoError(t, err)
	var digests [][sha256.Size]byte
	for _, b := range []byte{0x00, 0xff, 0x80, 0x3f} {
		var d [sha256.Size]byte
		for i := range d {
			d[i] = b
		}
		digests = append(digests, d)
	}
	for i := 0; i < 100; i++ {
		digests = append(digests, pointer.Sum([]byte(fmt.Sprint(i))))
	}
	for i, d := range digests {
		p := pointer.New("acme-request-dump-artifacts", "dev", d)
		_, err := vars.Value("artifact", literal(t, pointerHCL(p)))
		require.NoError(t, err, "digest %x", d)

		mixed := p
		mixed.SHA256 = pointer.New(p.Bucket, "dev", digests[(i+1)%len(digests)]).SHA256
		_, err = vars.Value("artifact", literal(t, pointerHCL(mixed)))
		require.ErrorContains(t, err, "name different zips", "key %s with sha256 %s", mixed.Key, mixed.SHA256)
	}
}

// A caller's null (often a conditional's "else null") means "not set":
// the default, or for a required input Terraform's own "required" error,
// never a validation rule failing on a null attribute. Only inputs whose
// null has a meaning of its own accept it.
func TestNullMeansNotSet(t *testing.T) {
	nullMeans := map[string]bool{
		"terraform/artifacts/kms_key_arn":         true, // SSE-S3
		"terraform/github-oidc/oidc_provider_arn": true, // create the provider
	}
	for _, rel := range modules {
		vars, err := envconfig.LoadVariables(load(t, rel).dir)
		require.NoError(t, err)
		for _, name := range vars.Names() {
			t.Run(rel+"/"+name, func(t *testing.T) {
				v := vars[name]
				got, err := vars.Value(name, cty.NullVal(v.Type))
				switch {
				case nullMeans[rel+"/"+name]:
					require.NoError(t, err)
					assert.True(t, got.IsNull())
				case v.Default == cty.NilVal:
					assert.ErrorContains(t, err, "required variable may not be set to null")
				default:
					require.NoError(t, err)
					want, err := vars.Value(name, cty.NilVal)
					require.NoError(t, err)
					assert.True(t, want.RawEquals(got), "null gives the default")
				}
			})
		}
	}
}

func TestServiceDefaults(t *testing.T) {
	vars, err := envconfig.LoadVariables(load(t, "terraform/service").dir)
	require.NoError(t, err)
	for name, want := range map[string]string{
		"function":           `{memory_size = 128, timeout = 10, architecture = "arm64", log_level = "INFO"}`,
		"dump":               `{fields = {event_id = "body.event_id", type = "body.type"}, redact_keys = ["password", "token", "secret", "authorization", "cookie", "api-key", "api_key", "apikey", "x-api-key", "x-amz-security-token", "accesskey", "access_key"], max_value_bytes = 8192, max_event_bytes = 65536}`,
		"api":                `{stage_name = "v1", throttling_rate_limit = 50, throttling_burst_limit = 100, integration_timeout_ms = 29000, xray_tracing = false}`,
		"rollout":            `{strategy = "canary", percent = 10, interval_seconds = 300}`,
		"alarms":             `{errors = 0, throttles = 0, duration_percent = 80, api_5xx = 0, latency_p99_ms = 2000, missing_dumps_percent = 1, email = null, https_endpoint = null}`,
		"log_retention_days": `30`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := vars.Value(name, cty.NilVal)
			require.NoError(t, err)
			wantVal, err := vars.Value(name, literal(t, want))
			require.NoError(t, err)
			assert.True(t, wantVal.RawEquals(got), "default of %s: got %#v", name, got)
		})
	}
	for _, required := range []string{"name", "environment", "artifact"} {
		_, err := vars.Value(required, cty.NilVal)
		assert.ErrorContains(t, err, "no value for required variable")
	}
}

func TestEnvRootValidations(t *testing.T) {
	for _, env := range envNames(t) {
		own := pointer.New("acme-request-dump-artifacts", env, pointer.Sum([]byte("zip")))
		other := "dev"
		if env == "dev" {
			other = "stg"
		}
		foreign := pointer.New("acme-request-dump-artifacts", other, pointer.Sum([]byte("zip")))
		hexSum := strings.TrimSuffix(strings.TrimPrefix(own.Key, env+"/"), ".zip")
		bad := own
		bad.SHA256 = hexSum
		t.Run(env, func(t *testing.T) {
			checkValidations(t, "envs/"+env, []validationCase{
				{"artifact", pointerHCL(own), ""},
				{"artifact", pointerHCL(foreign), `The artifact.key must be "` + env + `/<sha256 hex of the zip>.zip": ` + env + ` deploys only objects under its own prefix`},
				{"artifact", pointerHCL(bad), "artifact.sha256 must be the base64"},
				// A pointer file with "artifact": null is a missing pointer,
				// not a length() error on null.
				{"artifact", "null", "required variable may not be set to null"},
			})
		})
	}
}

func TestArtifactsValidations(t *testing.T) {
	checkValidations(t, "terraform/artifacts", append([]validationCase{
		{"bucket_name", hclString("acme-request-dump-artifacts"), ""},
		{"bucket_name", hclString("Acme"), "bucket_name must be an S3 bucket name"},
		{"bucket_name", hclString("a..b"), "bucket_name must be an S3 bucket name"},
		{"bucket_name", hclString("192.168.0.1"), "not an IP address"},
		{"environments", `["dev", "stg", "prod"]`, ""},
		{"environments", `["dev", "dev"]`, "environments must be distinct env names"},
		{"environments", `[]`, "environments must be distinct env names"},
		{"environments", `["Prod"]`, "environments must be distinct env names"},
		{"retention", `{}`, ""},
		{"retention", `{current_days = {}}`, ""},
		{"retention", `{noncurrent_days = 0}`, "Every retention period must be a whole number of days, at least 1"},
		{"retention", `{current_days = {dev = 1.5}}`, "Every retention period must be a whole number"},
		{"kms_key_arn", "null", ""},
		{"kms_key_arn", hclString("arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"), ""},
		{"kms_key_arn", hclString("alias/artifacts"), "kms_key_arn must be a KMS key ARN"},
	}, tagCases...))
}

func TestAtlantisRolesValidations(t *testing.T) {
	checkValidations(t, "terraform/atlantis-roles", append([]validationCase{
		{"server_role_name", hclString("atlantis"), ""},
		{"server_role_name", hclString("atlantis server"), "server_role_name must be an IAM role name"},
		{"server_role_name", hclString(strings.Repeat("a", 65)), "server_role_name must be an IAM role name"},
		{"artifact_bucket", hclString("acme-request-dump-artifacts"), ""},
		{"artifact_bucket", hclString("s3://acme"), "artifact_bucket must be an S3 bucket name"},
		{"state", `{bucket = "acme-request-dump-tfstate", lock_table = "acme-request-dump-tflock"}`, ""},
		{"state", `{bucket = "Acme_State", lock_table = "acme-request-dump-tflock"}`, "The state must name an S3 bucket"},
		{"state", `{bucket = "acme-request-dump-tfstate", lock_table = "tl"}`, "and a DynamoDB table (3-255"},
		{"state", `{bucket = "acme-request-dump-tfstate"}`, `attribute "lock_table" is required`},
		{"environments", `{dev = {service_name = "request-dump-dev", state_key = "request-dump/dev/terraform.tfstate"}}`, ""},
		{"environments", `{}`, "Each environments key must be an env name"},
		{"environments", `{Dev = {service_name = "request-dump-dev", state_key = "k"}}`, "Each environments key must be an env name"},
		{"environments", `{dev = {service_name = "Request_Dump", state_key = "k"}}`, "with the service_name terraform/service takes"},
		{"environments", `{dev = {service_name = "request-dump-dev", state_key = ""}}`, "and the backend's state_key"},
		{"environments", `{dev = {service_name = "request-dump-dev", state_key = "/request-dump/dev/terraform.tfstate"}}`, "and the backend's state_key"},
		{"role_name_prefix", hclString("request-dump-atlantis-"), ""},
		{"role_name_prefix", hclString(""), "role_name_prefix must be 1-40 characters"},
		{"role_name_prefix", hclString("bad prefix"), "role_name_prefix must be 1-40 characters"},
		{"role_name_prefix", hclString(strings.Repeat("a", 41)), "role_name_prefix must be 1-40 characters"},
	}, tagCases...))
}

func TestGitHubOIDCValidations(t *testing.T) {
	checkValidations(t, "terraform/github-oidc", append([]validationCase{
		{"repository", hclString("acme/request-dump"), ""},
		{"repository", hclString("acme"), "repository must be OWNER/REPO"},
		{"repository", hclString("https://github.com/acme/request-dump"), "repository must be OWNER/REPO"},
		{"artifact_bucket", hclString("acme-request-dump-artifacts"), ""},
		{"artifact_bucket", hclString("s3://acme"), "artifact_bucket must be an S3 bucket name"},
		{"environments", `{dev = {}, stg = {read_prefixes = ["dev"]}, prod = {read_prefixes = ["stg"], log_group_names = ["/aws/lambda/request-dump-prod"]}}`, ""},
		{"environments", `{}`, "environments keys must be env names"},
		{"environments", `{Dev = {}}`, "environments keys must be env names"},
		{"environments", `{stg = {read_prefixes = ["dev"]}}`, "each read_prefixes entry must be another env of the map"},
		{"environments", `{dev = {read_prefixes = ["dev"]}}`, "each read_prefixes entry must be another env"},
		{"environments", `{dev = {log_group_names = ["bad name"]}}`, "Each log_group_names entry must be a CloudWatch log group name"},
		{"environments", `{stg = {smoke_key_parameters = ["/request-dump-stg/api-keys/smoke"]}}`, ""},
		{"environments", `{stg = {smoke_key_parameters = ["request-dump-stg/api-keys/smoke"]}}`, "Each smoke_key_parameters entry must be the SSM parameter of an API key"},
		{"environments", `{stg = {smoke_key_parameters = ["/request-dump-stg/api-keys/*"]}}`, "Each smoke_key_parameters entry"},
		{"oidc_provider_arn", "null", ""},
		{"oidc_provider_arn", hclString("arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"), ""},
		{"oidc_provider_arn", hclString("arn:aws:iam::123456789012:oidc-provider/example.com"), "oidc_provider_arn must be"},
		{"role_name_prefix", hclString("request-dump-deploy-"), ""},
		{"role_name_prefix", hclString("bad prefix"), "role_name_prefix must be"},
		{"max_session_duration", "3600", ""},
		{"max_session_duration", "43200", ""},
		{"max_session_duration", "900", "max_session_duration must be a whole number of seconds from 3600"},
		{"max_session_duration", "43201", "to 43200 (12 hours)"},
		{"max_session_duration", "3600.5", "max_session_duration must be a whole number"},
	}, tagCases...))
}

// TestEnvRootsReadThePointerStrictly reads pointer files as Terraform reads
// an env's artifact.auto.tfvars.json (HCL's JSON parser, then the root's
// variable), beside internal/pointer: both accept the files the scripts
// write and refuse a case-variant twin of a key, which encoding/json and
// Terraform's object type would otherwise each resolve their own way.
func TestEnvRootsReadThePointerStrictly(t *testing.T) {
	own := pointer.New("acme-request-dump-artifacts", "dev", pointer.Sum([]byte("zip")))
	other := pointer.New("acme-request-dump-artifacts", "dev", pointer.Sum([]byte("another zip")))
	twin := func(k, v string) string {
		return strings.Replace(string(own.Marshal()), `"`+strings.ToLower(k)+`":`, `"`+k+`": "`+v+`", "`+strings.ToLower(k)+`":`, 1)
	}
	vars, err := envconfig.LoadVariables(load(t, "envs/dev").dir)
	require.NoError(t, err)
	tests := []struct {
		name, file, want string
	}{
		{"as the scripts write it", string(own.Marshal()), ""},
		{"KEY beside key", twin("KEY", other.Key), "exactly the keys bucket, key and sha256"},
		{"SHA256 beside sha256", twin("SHA256", other.SHA256), "exactly the keys bucket, key and sha256"},
		{"an unknown key", strings.Replace(string(own.Marshal()), `"bucket":`, `"region": "us-east-1", "bucket":`, 1), "exactly the keys bucket, key and sha256"},
		{"a key twice", twin("key", other.Key), "Duplicate object attribute"},
		{"no sha256", `{"artifact": {"bucket": "` + own.Bucket + `", "key": "` + own.Key + `"}}`, "exactly the keys bucket, key and sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, goErr := pointer.Parse([]byte(tt.file))
			f, diags := hcljson.Parse([]byte(tt.file), pointer.FileName)
			require.False(t, diags.HasErrors(), diags.Error())
			attrs, diags := f.Body.JustAttributes()
			require.False(t, diags.HasErrors(), diags.Error())
			val, diags := attrs["artifact"].Expr.Value(nil)
			var tfErr error = diags
			if !diags.HasErrors() {
				_, tfErr = vars.Value("artifact", val)
			}
			if tt.want == "" {
				assert.NoError(t, tfErr, "Terraform")
				assert.NoError(t, goErr, "internal/pointer")
				return
			}
			require.Error(t, tfErr, "Terraform")
			assert.Contains(t, tfErr.Error(), tt.want)
			assert.Error(t, goErr, "internal/pointer refuses it too")
		})
	}
}
