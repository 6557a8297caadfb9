package stack

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/local/cloudwatch"
	"github.com/acme/request-dump/local/gateway"
	"github.com/acme/request-dump/local/lambda"
	"github.com/acme/request-dump/local/lambda/versions"
)

// Spec is one env's deployment onto the local stack: what Terraform's
// service module creates, with every value resolved. SpecFor builds it from
// an env root; it travels as JSON to the control API.
type Spec struct {
	Env    string `json:"env"`
	Name   string `json:"name"`
	Region string `json:"region"`
	// Artifact names the function zip in the local S3.
	Artifact pointer.Pointer `json:"artifact"`
	// Architecture is the env's Lambda architecture; the zip may be built
	// for this machine instead (see Deploy).
	Architecture     string            `json:"architecture"`
	MemorySize       int               `json:"memory_size"`
	Timeout          int               `json:"timeout"`
	LogFormat        string            `json:"log_format"`
	LogLevel         string            `json:"log_level"`
	Environment      map[string]string `json:"environment"`
	LogRetentionDays int               `json:"log_retention_days"`
	// Stage and the rest configure the REST API's stage.
	Stage                string  `json:"stage"`
	ThrottlingRateLimit  float64 `json:"throttling_rate_limit"`
	ThrottlingBurstLimit int     `json:"throttling_burst_limit"`
	AccessLogGroup       string  `json:"access_log_group"`
	AccessLogFormat      string  `json:"access_log_format"`
	// OpenAPI is the REST API's body: the rendered OpenAPI template.
	OpenAPI string `json:"openapi"`
	// LiveDescription and CandidateDescription are the descriptions
	// Terraform gives the live and candidate aliases.
	LiveDescription      string `json:"live_description"`
	CandidateDescription string `json:"candidate_description"`
	// Alarms are the env's CloudWatch alarms and MetricFilters the metric
	// filters they read, as terraform/service/alarms.tf defines them.
	Alarms        []cloudwatch.MetricAlarm  `json:"alarms"`
	MetricFilters []cloudwatch.MetricFilter `json:"metric_filters"`
	// Access is the env's access setting: who may call the API.
	Access SpecAccess `json:"access"`
	// KeepLive deploys as `terraform apply` does: the version it publishes
	// goes to the candidate alias (the candidate stage) only, and the live
	// alias, which the public stage serves, stays where it is until
	// scripts/rollout.sh moves it. Without it the live alias moves to the
	// new version too, which is what a local edit-and-try loop wants.
	KeepLive bool `json:"keep_live"`
}

// SpecFor resolves an env, as internal/envconfig read it from envs/<env>,
// into a Spec: the OpenAPI template rendered with the variables Terraform
// passes, the function's environment as the module sets it.
func SpecFor(cfg *envconfig.Config) (Spec, error) {
	template := filepath.Join(cfg.Dir, envconfig.ModuleSource, filepath.Base(apispec.TemplateFile))
	doc, err := apispec.RenderFile(template, cfg.APIVars(cfg.Region, AccountID))
	if err != nil {
		return Spec{}, err
	}
	group, format, err := cfg.AccessLog()
	if err != nil {
		return Spec{}, err
	}
	liveDescription, err := cfg.LiveDescription()
	if err != nil {
		return Spec{}, err
	}
	candidateDescription, err := cfg.CandidateDescription()
	if err != nil {
		return Spec{}, err
	}
	topic := fmt.Sprintf("arn:aws:sns:%s:%s:%s-alarms", cfg.Region, AccountID, cfg.Name)
	return Spec{
		Env:                  cfg.Env,
		Name:                 cfg.Name,
		Region:               cfg.Region,
		Artifact:             cfg.Artifact,
		Architecture:         cfg.Function.Architecture,
		MemorySize:           cfg.Function.MemorySize,
		Timeout:              cfg.Function.Timeout,
		LogFormat:            envconfig.LogFormat,
		LogLevel:             cfg.Function.LogLevel,
		Environment:          cfg.FunctionEnvironment(),
		LogRetentionDays:     cfg.LogRetentionDays,
		Stage:                cfg.API.StageName,
		ThrottlingRateLimit:  cfg.API.ThrottlingRateLimit,
		ThrottlingBurstLimit: cfg.API.ThrottlingBurstLimit,
		AccessLogGroup:       group,
		AccessLogFormat:      format,
		OpenAPI:              string(doc),
		LiveDescription:      liveDescription,
		CandidateDescription: candidateDescription,
		Alarms:               alarmsFor(cfg, topic),
		MetricFilters:        metricFilters(cfg),
		Access:               specAccess(cfg.Access),
	}, nil
}

// Deployment is a deployed env.
type Deployment struct {
	// APIID is the REST API's id, derived from the name so that it, and
	// api_url, stay the same across deploys and restarts.
	APIID string
	Spec  Spec
	// Version is the function version the deploy published (or found
	// unchanged), which the candidate alias names.
	Version string
	access  accessDeployment
}

// APIURL is the stage's invoke URL on the edge endpoint at baseURL.
func (d *Deployment) APIURL(baseURL string) string {
	return baseURL + "/restapis/" + d.APIID + "/" + d.Spec.Stage + "/_user_request_"
}

// CandidateAPIURL is the candidate stage's invoke URL, which serves the
// candidate alias.
func (d *Deployment) CandidateAPIURL(baseURL string) string {
	return baseURL + "/restapis/" + d.APIID + "/" + envconfig.CandidateStage + "/_user_request_"
}

// LogGroupName is the function's log group.
func (d *Deployment) LogGroupName() string { return "/aws/lambda/" + d.Spec.Name }

// Outputs returns the env's outputs in the shape of `terraform output
// -json`, with endpoint_url added for clients of the local stack.
func (d *Deployment) Outputs(baseURL string) Outputs {
	out := Outputs{
		"api_url":           stringOutput(d.APIURL(baseURL)),
		"candidate_api_url": stringOutput(d.CandidateAPIURL(baseURL)),
		"function_name":     stringOutput(d.Spec.Name),
		"log_group_name":    stringOutput(d.LogGroupName()),
		"artifact_bucket":   stringOutput(d.Spec.Artifact.Bucket),
		"region":            stringOutput(d.Spec.Region),
		"endpoint_url":      stringOutput(baseURL),
	}
	d.access.outputs(out)
	return out
}

// Outputs are an env's outputs as `terraform output -json` prints them.
type Outputs map[string]Output

// Output is one output of `terraform output -json`: Type is "string" or
// a list such as ["map","string"]; Value a string, a map or null.
type Output struct {
	Sensitive bool `json:"sensitive"`
	Type      any  `json:"type"`
	Value     any  `json:"value"`
}

// String is the output's value when it is a string, else "".
func (o Output) String() string {
	s, _ := o.Value.(string)
	return s
}

func stringOutput(v string) Output { return Output{Type: "string", Value: v} }

type deployment struct {
	Deployment
	gateways map[string]http.Handler // by stage
}

// Deploy deploys spec, replacing an earlier deployment of the same name.
// It refuses an artifact that is missing from S3 or whose bytes do not have
// the pointer's SHA-256, and a bootstrap this machine cannot execute.
func (s *Stack) Deploy(ctx context.Context, spec Spec) (*Deployment, error) {
	d, err := s.deploy(spec)
	if err != nil {
		return nil, err
	}
	if s.cfg.DataDir != "" {
		data, err := json.MarshalIndent(spec, "", "  ")
		if err == nil {
			err = os.WriteFile(filepath.Join(s.cfg.DataDir, "deployments", spec.Name+".json"), data, 0o644)
		}
		if err != nil {
			s.log.Warn("deployment not saved; it will not come back after a restart", "name", spec.Name, "err", err)
		}
	}
	s.mu.Lock()
	s.apis[d.APIID] = d
	s.mu.Unlock()
	s.log.Info("deployed", "env", spec.Env, "function", spec.Name, "version", d.Version, "api_id", d.APIID, "stage", spec.Stage, "artifact", "s3://"+spec.Artifact.Bucket+"/"+spec.Artifact.Key)
	return &d.Deployment, nil
}

func (s *Stack) deploy(spec Spec) (*deployment, error) {
	if err := spec.Artifact.Validate(spec.Env); err != nil {
		return nil, fmt.Errorf("deploy %s: %w", spec.Env, err)
	}
	p := spec.Artifact
	obj, err := s.s3.Object(p.Bucket, p.Key)
	if err != nil {
		return nil, fmt.Errorf("deploy %s: artifact s3://%s/%s is not in the local S3 (%v): upload it first, e.g. scripts/upload.sh %s --endpoint-url <this stack>", spec.Env, p.Bucket, p.Key, err, spec.Env)
	}
	sum := sha256.Sum256(obj.Body)
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != p.SHA256 {
		return nil, fmt.Errorf("deploy %s: artifact s3://%s/%s has SHA-256 %s but the pointer says %s: the object was replaced or the pointer is stale; rebuild and re-upload, or fix the pointer", spec.Env, p.Bucket, p.Key, got, p.SHA256)
	}
	doc, err := apispec.Parse([]byte(spec.OpenAPI))
	if err != nil {
		return nil, fmt.Errorf("deploy %s: REST API body: %w", spec.Env, err)
	}

	// The REST API: one deployment, two stages, each invoking the alias its
	// stage variable names; the integration may call those two aliases only,
	// as the API Gateway role may.
	id := gateway.APIID(spec.Name)
	access, err := s.deployAccess(spec, id)
	if err != nil {
		return nil, fmt.Errorf("deploy %s: %w", spec.Env, err)
	}
	functions := map[string]gateway.Function{}
	for _, alias := range []string{envconfig.LiveAlias, envconfig.CandidateAlias} {
		functions[spec.Name+":"+alias] = aliasFunction{s.lambda, spec.Name, alias}
	}
	stages := []struct {
		name, alias string
		rate        float64
		burst       int
	}{
		{spec.Stage, envconfig.LiveAlias, spec.ThrottlingRateLimit, spec.ThrottlingBurstLimit},
		{envconfig.CandidateStage, envconfig.CandidateAlias, CandidateThrottleRate, CandidateThrottleBurst},
	}
	gateways := map[string]http.Handler{}
	for _, st := range stages {
		gwOpts := []gateway.Option{
			gateway.WithAPIID(id),
			gateway.WithAccountID(AccountID),
			gateway.WithStage(st.name),
			gateway.WithStageVariables(map[string]string{envconfig.AliasStageVariable: st.alias}),
			gateway.WithFunctions(functions),
			gateway.WithAPIKeys(s.apiKeys),
			gateway.WithSigV4(s.verifier),
		}
		if st.rate > 0 {
			gwOpts = append(gwOpts, gateway.WithThrottle(st.rate, st.burst))
		}
		if spec.AccessLogGroup != "" {
			if err := s.logs.EnsureGroup(spec.AccessLogGroup, spec.LogRetentionDays); err != nil {
				return nil, fmt.Errorf("deploy %s: %w", spec.Env, err)
			}
			gwOpts = append(gwOpts, gateway.WithAccessLog(s.logs, spec.AccessLogGroup, id+"/"+st.name, spec.AccessLogFormat))
		}
		gw, err := gateway.New(doc, gwOpts...)
		if err != nil {
			return nil, fmt.Errorf("deploy %s: %w", spec.Env, err)
		}
		gateways[st.name] = stageMetrics(s.metrics, spec.Name, st.name, gw)
	}

	// As aws_cloudwatch_log_group does before the function first logs.
	if err := s.logs.EnsureGroup(versions.LogGroup(spec.Name), spec.LogRetentionDays); err != nil {
		return nil, fmt.Errorf("deploy %s: %w", spec.Env, err)
	}
	if err := s.filters.SetFilters(spec.MetricFilters...); err != nil {
		return nil, fmt.Errorf("deploy %s: %w", spec.Env, err)
	}
	if err := s.metrics.PutAlarms(spec.Alarms...); err != nil {
		return nil, fmt.Errorf("deploy %s: %w", spec.Env, err)
	}
	var stale []string
	for _, name := range s.metrics.AlarmNames(spec.Name + "/") {
		if !slices.ContainsFunc(spec.Alarms, func(a cloudwatch.MetricAlarm) bool { return a.Name == name }) {
			stale = append(stale, name)
		}
	}
	s.metrics.DeleteAlarms(stale...)

	version, err := s.updateFunction(spec, obj.Body)
	if err != nil {
		return nil, fmt.Errorf("deploy %s: %w", spec.Env, err)
	}
	return &deployment{Deployment: Deployment{APIID: id, Spec: spec, Version: version, access: access}, gateways: gateways}, nil
}

// updateFunction does what Terraform's aws_lambda_function (publish =
// true) and aws_lambda_alias resources do: update $LATEST, publish it,
// point the candidate alias at the version, and create the live alias on
// the first version, leaving it alone afterwards (unless !spec.KeepLive).
func (s *Stack) updateFunction(spec Spec, code []byte) (string, error) {
	err := s.lambda.Update(lambda.Spec{
		FunctionName:   spec.Name,
		Code:           code,
		MemorySize:     spec.MemorySize,
		Timeout:        time.Duration(spec.Timeout) * time.Second,
		Environment:    spec.Environment,
		LogFormat:      spec.LogFormat,
		LogLevel:       spec.LogLevel,
		Region:         spec.Region,
		MaxConcurrency: s.cfg.MaxConcurrency,
		Emulator:       s.cfg.Emulator,
	})
	if err != nil {
		return "", err
	}
	published, err := s.lambda.Publish(spec.Name, "")
	if err != nil {
		return "", err
	}
	version := published.Version
	for _, a := range []struct {
		name, description string
		move              bool
	}{
		{envconfig.CandidateAlias, spec.CandidateDescription, true},
		{envconfig.LiveAlias, spec.LiveDescription, !spec.KeepLive},
	} {
		_, err := s.lambda.GetAlias(spec.Name, a.name)
		var verr *versions.Error
		switch {
		case errors.As(err, &verr) && verr.Status == http.StatusNotFound:
			_, err = s.lambda.CreateAlias(spec.Name, a.name, version, a.description, nil)
		case err == nil && a.move:
			_, err = s.lambda.UpdateAlias(spec.Name, a.name, versions.AliasUpdate{
				FunctionVersion: &version, Description: &a.description, Weights: map[string]float64{},
			})
		}
		if err != nil {
			return "", err
		}
	}
	return version, nil
}

// aliasFunction is the gateway's integration with one alias of a function.
type aliasFunction struct {
	svc             *versions.Service
	name, qualifier string
}

func (f aliasFunction) Invoke(ctx context.Context, requestID string, payload []byte) (gateway.Result, error) {
	res, err := f.svc.Invoke(ctx, f.name, f.qualifier, requestID, payload)
	if err != nil {
		var se *lambda.ServiceError
		var ve *versions.Error
		switch {
		case errors.As(err, &se) && se.StatusCode == http.StatusRequestEntityTooLarge:
			return gateway.Result{}, fmt.Errorf("%w: %w", gateway.ErrRequestTooLarge, err)
		case errors.As(err, &se), errors.As(err, &ve):
			return gateway.Result{}, fmt.Errorf("%w: %w", gateway.ErrInvokeRejected, err)
		}
		return gateway.Result{}, err
	}
	return gateway.Result{Payload: res.Payload, FunctionError: res.FunctionError != ""}, nil
}

// redeploy deploys again what was deployed before a restart.
func (s *Stack) redeploy() error {
	if s.cfg.DataDir == "" {
		return nil
	}
	paths, err := filepath.Glob(filepath.Join(s.cfg.DataDir, "deployments", "*.json"))
	if err != nil {
		return err
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("stack: %w", err)
		}
		var spec Spec
		if err := json.Unmarshal(data, &spec); err != nil {
			s.log.Warn("saved deployment is unreadable; skipped", "file", p, "err", err)
			continue
		}
		d, err := s.deploy(spec)
		if err != nil {
			s.log.Warn("saved deployment could not be deployed again; skipped", "file", p, "err", err)
			continue
		}
		s.apis[d.APIID] = d
		s.log.Info("deployed again after restart", "function", spec.Name, "api_id", d.APIID)
	}
	return nil
}
