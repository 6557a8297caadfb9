// Package envconfig reads an environment's Terraform root (envs/<env>) the
// way Terraform does: the one `module "service"` block, with var.artifact
// taken from the env's artifact pointer, the module's optional-attribute
// defaults applied and its validation rules checked from
// terraform/service/variables.tf, and the AWS provider's region. The local
// stack deploys from the result, so it runs what Terraform would deploy.
package envconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/internal/repo"
)

// ModuleSource is the source every env root's module "service" must use.
const ModuleSource = "../../terraform/service"

// LogFormat is the function's logging_config log_format: Lambda sets
// AWS_LAMBDA_LOG_FORMAT to it.
const LogFormat = "JSON"

// Config is one environment's deployment, as Terraform would deploy it.
type Config struct {
	// Env is the env's directory name under envs/.
	Env string
	// Dir is the env root's directory.
	Dir string
	// Region is the AWS provider's region.
	Region string

	// Name is the function and API name (module input "name").
	Name string
	// Environment is the module input "environment".
	Environment string
	// Artifact is the function zip, from the env's artifact pointer.
	Artifact pointer.Pointer
	// Function is the module input "function", defaults applied.
	Function Function
	// Dump is the module input "dump", defaults applied.
	Dump Dump
	// API is the module input "api", defaults applied.
	API API
	// Access is the module input "access", defaults applied.
	Access Access
	// WAF is the module input "waf", defaults applied. The local stack
	// does not emulate AWS WAF; it reads the input so that the module's
	// validation rules apply locally too.
	WAF WAF
	// Rollout is the module input "rollout", defaults applied.
	Rollout Rollout
	// Alarms is the module input "alarms", defaults applied.
	Alarms Alarms
	// LogRetentionDays is the module input "log_retention_days".
	LogRetentionDays int
	// LogGroups is the module input "log_groups", defaults applied.
	LogGroups LogGroups
	// Tags is the module input "tags".
	Tags map[string]string
}

// Function is the module's "function" object.
type Function struct {
	MemorySize   int    `cty:"memory_size"`
	Timeout      int    `cty:"timeout"`
	Architecture string `cty:"architecture"`
	LogLevel     string `cty:"log_level"`
}

// Dump is the module's "dump" object: the function's dump settings.
type Dump struct {
	Fields        map[string]string `cty:"fields"`
	RedactKeys    []string          `cty:"redact_keys"`
	MaxValueBytes int               `cty:"max_value_bytes"`
	MaxEventBytes int               `cty:"max_event_bytes"`
}

// API is the module's "api" object: the REST API stage's settings.
type API struct {
	StageName            string  `cty:"stage_name"`
	ThrottlingRateLimit  float64 `cty:"throttling_rate_limit"`
	ThrottlingBurstLimit int     `cty:"throttling_burst_limit"`
	IntegrationTimeoutMs int     `cty:"integration_timeout_ms"`
	XRayTracing          bool    `cty:"xray_tracing"`
}

// Access is the module's "access" object: who may call POST /events.
type Access struct {
	// Mode is apispec.AccessNone, AccessAPIKey or AccessIAM.
	Mode string `cty:"mode"`
	// AllowNone is the env's explicit consent to Mode none.
	AllowNone bool `cty:"allow_none"`
	// APIKeys names the API keys the module creates (mode api_key).
	APIKeys []string `cty:"api_keys"`
	// UsagePlan bounds the keys' calls (mode api_key).
	UsagePlan UsagePlan `cty:"usage_plan"`
	// CallerPrincipals may assume the caller role (mode iam).
	CallerPrincipals []string `cty:"caller_principals"`
}

// UsagePlan is the access object's usage_plan: the throttle and quota
// every API key of the env shares.
type UsagePlan struct {
	// RateLimit is the steady-state requests per second per key.
	RateLimit float64 `cty:"rate_limit"`
	// BurstLimit is the token bucket's size per key.
	BurstLimit int `cty:"burst_limit"`
	// QuotaPerDay is how many requests a key may make per UTC day.
	QuotaPerDay int `cty:"quota_per_day"`
}

// WAF is the module's "waf" object: the optional AWS WAF web ACL on the
// public stage.
type WAF struct {
	// Enabled turns the web ACL on.
	Enabled bool `cty:"enabled"`
	// RateLimit is how many requests one IP address may send in 5 minutes.
	RateLimit int `cty:"rate_limit"`
	// BlockedAlarmThreshold is how many blocked requests in 5 minutes fire
	// the alarm.
	BlockedAlarmThreshold int `cty:"blocked_alarm_threshold"`
}

// Rollout is the module's "rollout" object: how scripts/rollout.sh moves
// the live alias to a new version.
type Rollout struct {
	// Strategy is all_at_once, canary or linear.
	Strategy string `cty:"strategy"`
	// Percent is the canary's share, or each linear step, in percent.
	Percent int `cty:"percent"`
	// IntervalSeconds is how long each share runs.
	IntervalSeconds int `cty:"interval_seconds"`
}

// The rollout strategies of Rollout.Strategy.
const (
	AllAtOnce = "all_at_once"
	Canary    = "canary"
	Linear    = "linear"
)

// Alarms is the module's "alarms" object: the thresholds of the env's
// alarms and the subscriptions of their topic.
type Alarms struct {
	Errors              int     `cty:"errors"`
	Throttles           int     `cty:"throttles"`
	DurationPercent     float64 `cty:"duration_percent"`
	API5XX              int     `cty:"api_5xx"`
	LatencyP99Ms        int     `cty:"latency_p99_ms"`
	MissingDumpsPercent float64 `cty:"missing_dumps_percent"`
	Email               *string `cty:"email"`
	HTTPSEndpoint       *string `cty:"https_endpoint"`
}

// LogGroups is the module's "log_groups" object: the KMS key and
// skip_destroy of both log groups. They matter on AWS only: the local stack
// neither encrypts its log groups nor outlives them.
type LogGroups struct {
	KMSKeyID    *string `cty:"kms_key_id"`
	SkipDestroy bool    `cty:"skip_destroy"`
}

// Envs returns the envs under root/envs: the directories holding a main.tf.
func Envs(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "envs"))
	if err != nil {
		return nil, fmt.Errorf("envconfig: %w", err)
	}
	var envs []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, "envs", e.Name(), "main.tf")); e.IsDir() && err == nil {
			envs = append(envs, e.Name())
		}
	}
	sort.Strings(envs)
	return envs, nil
}

// Load reads env from the repository this process runs in.
func Load(env string) (*Config, error) {
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	return LoadRoot(root, env)
}

// LoadRoot reads envs/<env> of the repository at root.
func LoadRoot(root, env string) (*Config, error) {
	envs, err := Envs(root)
	if err != nil {
		return nil, err
	}
	found := false
	for _, e := range envs {
		found = found || e == env
	}
	if !found {
		return nil, fmt.Errorf("envconfig: unknown env %q: envs/ has %s", env, strings.Join(envs, ", "))
	}
	return LoadDir(filepath.Join(root, "envs", env), env)
}

var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "module", LabelNames: []string{"name"}},
	{Type: "provider", LabelNames: []string{"name"}},
}}

var providerSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "region"}}}

// LoadDir reads the env root in dir, whose artifact pointer must be for env.
func LoadDir(dir, env string) (*Config, error) {
	files, err := parseDir(dir)
	if err != nil {
		return nil, err
	}
	var module *hcl.Block
	var region string
	var diags hcl.Diagnostics
	for _, f := range files {
		content, _, d := f.Body.PartialContent(rootSchema)
		diags = append(diags, d...)
		for _, b := range content.Blocks {
			switch {
			case b.Type == "module" && b.Labels[0] == "service" && module == nil:
				module = b
			case b.Type == "module":
				diags = append(diags, errorAt(b.DefRange, "Unexpected module block", `An env root holds exactly one module block, module "service".`))
			case b.Labels[0] == "aws":
				r, d := providerRegion(b)
				diags = append(diags, d...)
				region = r
			}
		}
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("envconfig: %w", diags)
	}
	if module == nil {
		return nil, fmt.Errorf(`envconfig: %s has no module "service" block`, dir)
	}
	if region == "" {
		return nil, fmt.Errorf(`envconfig: %s has no provider "aws" block with a literal region`, dir)
	}

	rootVars, err := rootVariables(dir, env)
	if err != nil {
		return nil, err
	}
	args, err := moduleArguments(module)
	if err != nil {
		return nil, err
	}
	moduleVars, err := LoadVariables(filepath.Join(dir, ModuleSource))
	if err != nil {
		return nil, err
	}
	cfg := &Config{Env: env, Dir: dir, Region: region}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(rootVars)},
		Functions: apispec.Functions(),
	}
	values, err := cfg.decode(module, args, moduleVars, ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPreconditions(filepath.Join(dir, ModuleSource), values); err != nil {
		return nil, err
	}
	return cfg, nil
}

func providerRegion(b *hcl.Block) (string, hcl.Diagnostics) {
	content, _, diags := b.Body.PartialContent(providerSchema)
	attr, ok := content.Attributes["region"]
	if !ok || diags.HasErrors() {
		return "", diags
	}
	val, d := attr.Expr.Value(nil)
	if d.HasErrors() || val.Type() != cty.String || val.IsNull() {
		return "", append(diags, errorAt(attr.Expr.Range(), "Region is not a literal", `The provider "aws" region must be a literal string, e.g. "ap-northeast-1".`))
	}
	return val.AsString(), diags
}

// rootVariables returns the root's variables as Terraform sets them from
// the artifact pointer, the only tfvars file an env root may have.
func rootVariables(dir, env string) (map[string]cty.Value, error) {
	others, err := filepath.Glob(filepath.Join(dir, "*.tfvars*"))
	if err != nil {
		return nil, fmt.Errorf("envconfig: %w", err)
	}
	for _, p := range others {
		if filepath.Base(p) != pointer.FileName {
			return nil, fmt.Errorf("envconfig: %s: an env root's only tfvars file is %s; put settings in main.tf's module block as literals", p, pointer.FileName)
		}
	}
	ptr, err := pointer.Load(filepath.Join(dir, pointer.FileName), env)
	if err != nil {
		return nil, fmt.Errorf("envconfig: %w", err)
	}
	decls, err := LoadVariables(dir)
	if err != nil {
		return nil, err
	}
	given := map[string]cty.Value{"artifact": cty.ObjectVal(map[string]cty.Value{
		"bucket": cty.StringVal(ptr.Bucket),
		"key":    cty.StringVal(ptr.Key),
		"sha256": cty.StringVal(ptr.SHA256),
	})}
	values := map[string]cty.Value{}
	for _, name := range decls.Names() {
		arg, ok := given[name]
		if !ok {
			arg = cty.NilVal
		}
		val, err := decls.Value(name, arg)
		if err != nil {
			return nil, fmt.Errorf("envconfig: %s: %w", dir, err)
		}
		values[name] = val
	}
	if _, ok := values["artifact"]; !ok {
		return nil, fmt.Errorf(`envconfig: %s declares no variable "artifact" for the pointer in %s`, dir, pointer.FileName)
	}
	return values, nil
}

// moduleArguments evaluates the module block's arguments: literals, and
// references to the root's variables only.
func moduleArguments(module *hcl.Block) (map[string]*hcl.Attribute, error) {
	attrs, diags := module.Body.JustAttributes()
	if diags.HasErrors() {
		return nil, fmt.Errorf("envconfig: %w", diags)
	}
	src, ok := attrs["source"]
	if !ok {
		return nil, fmt.Errorf(`envconfig: %s: module "service" has no source`, module.DefRange)
	}
	val, d := src.Expr.Value(nil)
	if d.HasErrors() || val.Type() != cty.String || val.AsString() != ModuleSource {
		return nil, fmt.Errorf(`envconfig: %s: module "service" source must be %q`, src.Expr.Range(), ModuleSource)
	}
	delete(attrs, "source")
	for name, attr := range attrs {
		switch name {
		case "count", "for_each", "providers", "depends_on", "version":
			return nil, fmt.Errorf(`envconfig: %s: module "service" must not set %s: the local stack deploys exactly one instance from the module's inputs`, attr.NameRange, name)
		}
		for _, tr := range attr.Expr.Variables() {
			if tr.RootName() != "var" {
				return nil, fmt.Errorf(`envconfig: %s: module "service" argument %s refers to %s: env roots pass literals and var.artifact only`, tr.SourceRange(), name, tr.RootName())
			}
		}
	}
	return attrs, nil
}

// decode sets c from the module call's arguments and returns every module
// variable's value, defaults applied, as the module sees them.
func (c *Config) decode(module *hcl.Block, args map[string]*hcl.Attribute, vars Variables, ctx *hcl.EvalContext) (map[string]cty.Value, error) {
	values := map[string]cty.Value{}
	targets := map[string]any{
		"name":               &c.Name,
		"environment":        &c.Environment,
		"artifact":           &c.Artifact,
		"function":           &c.Function,
		"dump":               &c.Dump,
		"api":                &c.API,
		"access":             &c.Access,
		"waf":                &c.WAF,
		"rollout":            &c.Rollout,
		"alarms":             &c.Alarms,
		"log_retention_days": &c.LogRetentionDays,
		"log_groups":         &c.LogGroups,
		"tags":               &c.Tags,
	}
	for _, name := range vars.Names() {
		if _, ok := targets[name]; !ok {
			return nil, fmt.Errorf("envconfig: the service module declares variable %q (%s) that envconfig does not read; add it to envconfig.Config", name, vars[name].DeclRange)
		}
	}
	for name, attr := range args {
		if _, ok := vars[name]; !ok {
			return nil, fmt.Errorf("envconfig: %s: unsupported argument %q: the service module declares %s", attr.NameRange, name, strings.Join(vars.Names(), ", "))
		}
	}
	for name, target := range targets {
		if _, ok := vars[name]; !ok {
			return nil, fmt.Errorf("envconfig: the service module no longer declares variable %q; update envconfig.Config", name)
		}
		given := cty.NilVal
		if attr, ok := args[name]; ok {
			val, diags := attr.Expr.Value(ctx)
			if diags.HasErrors() {
				return nil, fmt.Errorf("envconfig: %w", diags)
			}
			given = val
		}
		if err := unknownAttributes(vars[name].Type, given); err != nil {
			return nil, fmt.Errorf("envconfig: %s: module \"service\" argument %s: %w", args[name].Expr.Range(), name, err)
		}
		val, err := vars.Value(name, given)
		values[name] = val
		if err != nil {
			where := module.DefRange
			if attr, ok := args[name]; ok {
				where = attr.Expr.Range()
			}
			return nil, fmt.Errorf("envconfig: %s: module \"service\" argument %s: %w", where, name, err)
		}
		if name == "artifact" {
			err = decodeArtifact(val, &c.Artifact)
		} else {
			err = gocty.FromCtyValue(val, target)
		}
		if err != nil {
			return nil, fmt.Errorf("envconfig: module input %s: %w", name, err)
		}
	}
	if err := c.Artifact.Validate(c.Environment); err != nil {
		return nil, fmt.Errorf("envconfig: %s: artifact: %w", module.DefRange, err)
	}
	return values, nil
}

// unknownAttributes rejects attributes an object argument has but its
// object type lacks. Terraform drops them silently, so a misspelt setting
// (memory = 256) would quietly mean the default; say so instead.
func unknownAttributes(ty cty.Type, given cty.Value) error {
	if given == cty.NilVal || given.IsNull() || !given.IsKnown() || !ty.IsObjectType() || !given.Type().IsObjectType() {
		return nil
	}
	for name := range given.Type().AttributeTypes() {
		if !ty.HasAttribute(name) {
			var known []string
			for k := range ty.AttributeTypes() {
				known = append(known, k)
			}
			sort.Strings(known)
			return fmt.Errorf("attribute %q is not one the module declares (%s); Terraform would silently ignore it", name, strings.Join(known, ", "))
		}
	}
	return nil
}

func decodeArtifact(val cty.Value, p *pointer.Pointer) error {
	var raw struct {
		Bucket string `cty:"bucket"`
		Key    string `cty:"key"`
		SHA256 string `cty:"sha256"`
	}
	if err := gocty.FromCtyValue(val, &raw); err != nil {
		return err
	}
	*p = pointer.Pointer{Bucket: raw.Bucket, Key: raw.Key, SHA256: raw.SHA256}
	return nil
}

// LogGroupName is the function's log group, /aws/lambda/<name>.
func (c *Config) LogGroupName() string { return "/aws/lambda/" + c.Name }

// APIGatewayRoleName is the name of the role API Gateway assumes to invoke
// the function.
func (c *Config) APIGatewayRoleName() string { return c.Name + "-api-gateway" }

// FunctionARN is the function's ARN in region and account.
func (c *Config) FunctionARN(region, accountID string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, accountID, c.Name)
}

// The aliases and stages the service module creates (aliases.tf, api.tf):
// the public stage invokes the live alias, the candidate stage the
// candidate alias, each through the stage variable AliasStageVariable that
// qualifies the integration's function ARN.
const (
	LiveAlias          = "live"
	CandidateAlias     = "candidate"
	CandidateStage     = "candidate"
	AliasStageVariable = "lambda_alias"
)

// AlarmPrefix starts the name of every alarm of the env: "<name>/".
func (c *Config) AlarmPrefix() string { return c.Name + "/" }

// APIVars returns the OpenAPI template's variables as Terraform sets them
// for this env in region and account (the local stack uses account
// 000000000000).
func (c *Config) APIVars(region, accountID string) apispec.Vars {
	return apispec.Vars{
		Title:          c.Name,
		InvokeARN:      fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s:${stageVariables.%s}/invocations", region, c.FunctionARN(region, accountID), AliasStageVariable),
		CredentialsARN: fmt.Sprintf("arn:aws:iam::%s:role/%s", accountID, c.APIGatewayRoleName()),
		TimeoutMillis:  c.API.IntegrationTimeoutMs,
		AccessMode:     c.Access.Mode,
	}
}

// FunctionEnvironment returns the function's environment variables exactly
// as the service module's `environment { variables = ... }` sets them.
func (c *Config) FunctionEnvironment() map[string]string {
	names := make([]string, 0, len(c.Dump.Fields))
	for name := range c.Dump.Fields {
		names = append(names, name)
	}
	sort.Strings(names)
	fields := make([]string, len(names))
	for i, name := range names {
		fields[i] = name + "=" + c.Dump.Fields[name]
	}
	return map[string]string{
		"DUMP_FIELDS":          strings.Join(fields, ","),
		"DUMP_REDACT_KEYS":     strings.Join(c.Dump.RedactKeys, ","),
		"DUMP_MAX_VALUE_BYTES": strconv.Itoa(c.Dump.MaxValueBytes),
		"DUMP_MAX_EVENT_BYTES": strconv.Itoa(c.Dump.MaxEventBytes),
	}
}

// LambdaEnvironment returns the variables Lambda itself sets in the
// function's environment from its configuration, in region: what a local
// runtime must set next to FunctionEnvironment.
func (c *Config) LambdaEnvironment(region string) map[string]string {
	return map[string]string{
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"AWS_LAMBDA_FUNCTION_NAME":        c.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(c.Function.MemorySize),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(c.Function.Timeout),
		"AWS_LAMBDA_LOG_GROUP_NAME":       c.LogGroupName(),
		"AWS_LAMBDA_LOG_FORMAT":           LogFormat,
		"AWS_LAMBDA_LOG_LEVEL":            c.Function.LogLevel,
	}
}
