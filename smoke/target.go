package smoke

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gruntwork-io/terratest/modules/logger"
	"github.com/gruntwork-io/terratest/modules/terraform"
	terratesting "github.com/gruntwork-io/terratest/modules/testing"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/envconfig"
)

// Default visibility deadlines: how long a dump may take to become visible
// through FilterLogEvents. The local stack makes an event visible as soon
// as it is written; CloudWatch Logs ingestion on AWS is eventually
// consistent and usually takes seconds, now and then a minute.
const (
	DefaultLocalTimeout = 5 * time.Second
	DefaultAWSTimeout   = 2 * time.Minute
)

// DefaultAWSFirstCallRetry is how long the first POST is retried on a 5xx
// on AWS: right after a first deploy, API Gateway may answer 500 until IAM
// has propagated the invoke role's policy, usually within seconds. The
// local stack has no such delay and retries nothing.
const DefaultAWSFirstCallRetry = time.Minute

// TimeoutVar names the environment variable that overrides the default
// visibility deadline, as a Go duration (e.g. 90s, 3m).
const TimeoutVar = "SMOKE_TIMEOUT"

// Target is a deployed env as its Terraform outputs describe it.
type Target struct {
	// APIURL is the stage's base URL; the API answers POST <APIURL>/events.
	APIURL string
	// FunctionName is the Lambda function's name.
	FunctionName string
	// LogGroupName is the function's log group, /aws/lambda/<function>.
	LogGroupName string
	// Region is the region the service runs in.
	Region string
	// EndpointURL is the local stack's edge endpoint, the BaseEndpoint of
	// every AWS client; empty for a deployment on AWS.
	EndpointURL string
	// CandidateAPIURL is the candidate stage's base URL, which serves the
	// version under rollout; empty in outputs from before the stage.
	CandidateAPIURL string
	// StageName is the stage APIURL serves when it is not the env's own
	// (api.stage_name): what the dump's requestContext.stage must say.
	StageName string
	// AccessMode is the env's access mode (none, api_key or iam): none for
	// outputs from before the access input.
	AccessMode string
	// APIKeyParameter is the SSM parameter holding the smoke key's value
	// (mode api_key); CallerRoleARN the role a caller assumes (mode iam).
	APIKeyParameter string
	CallerRoleARN   string
}

// Candidate returns the target of the candidate stage, which serves only
// the version under rollout: the same function and log group, another
// stage.
func (t Target) Candidate() (Target, error) {
	if t.CandidateAPIURL == "" {
		return Target{}, errors.New("smoke: the outputs have no candidate_api_url: apply the env's root with the service module's candidate stage first")
	}
	c := t
	c.APIURL, c.StageName = t.CandidateAPIURL, envconfig.CandidateStage
	return c, nil
}

// Local reports whether the target is on the local stack.
func (t Target) Local() bool { return t.EndpointURL != "" }

// String names the target in reports.
func (t Target) String() string {
	stage := ""
	if t.StageName != "" {
		stage = ", stage " + t.StageName
	}
	if t.Local() {
		return fmt.Sprintf("%s in %s on the local stack at %s%s", t.FunctionName, t.Region, t.EndpointURL, stage)
	}
	return fmt.Sprintf("%s in %s on AWS%s", t.FunctionName, t.Region, stage)
}

// DefaultTimeout is the visibility deadline that suits the target.
func (t Target) DefaultTimeout() time.Duration {
	if t.Local() {
		return DefaultLocalTimeout
	}
	return DefaultAWSTimeout
}

// DefaultFirstCallRetry is how long the suite retries its first POST on a
// 5xx answer for the target: DefaultAWSFirstCallRetry on AWS, none locally.
func (t Target) DefaultFirstCallRetry() time.Duration {
	if t.Local() {
		return 0
	}
	return DefaultAWSFirstCallRetry
}

// Timeout is the visibility deadline: SMOKE_TIMEOUT as getenv returns it,
// or the target's default when it is unset.
func (t Target) Timeout(getenv func(string) string) (time.Duration, error) {
	v := getenv(TimeoutVar)
	if v == "" {
		return t.DefaultTimeout(), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("smoke: %s=%q is not a positive Go duration (want e.g. 10s or 3m)", TimeoutVar, v)
	}
	return d, nil
}

// CheckLoopback returns an error unless the target is on the local stack
// and every URL it names is on a loopback address, so that a local smoke
// run can never reach anything else.
func (t Target) CheckLoopback() error {
	if !t.Local() {
		return errors.New("smoke: the outputs have no endpoint_url, so they are not the local stack's: run make local-up (scripts/local-up.sh <env>), which writes .local/outputs.json")
	}
	for _, u := range []struct{ name, url string }{{"endpoint_url", t.EndpointURL}, {"api_url", t.APIURL}, {"candidate_api_url", t.CandidateAPIURL}} {
		if u.url == "" && u.name == "candidate_api_url" {
			continue
		}
		parsed, err := url.Parse(u.url)
		if err != nil {
			return fmt.Errorf("smoke: %s %q: %w", u.name, u.url, err)
		}
		if !isLoopbackHost(parsed.Hostname()) {
			return fmt.Errorf("smoke: %s %q is not on a loopback address; a local smoke run only talks to the local stack on 127.0.0.1", u.name, u.url)
		}
	}
	return nil
}

// CheckAnswers returns an error unless the local stack at the target's
// endpoint_url accepts a connection. The outputs file outlives a stack that
// was killed or lost to a restart (only make local-down removes it), and
// every check then failed on "connection refused" without saying why; env
// names the env in the command that fixes it. Call CheckLoopback first: the
// dial is guarded to loopback addresses all the same.
func (t Target) CheckAnswers(env string) error {
	u, err := url.Parse(t.EndpointURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("smoke: endpoint_url %q is not a URL such as http://127.0.0.1:4566", t.EndpointURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	dialer := &net.Dialer{Timeout: 2 * time.Second, Control: loopbackOnly}
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		return fmt.Errorf("smoke: no local stack answers at %s, the endpoint_url of the outputs (%v): the stack that wrote them has stopped (killed, or the machine restarted); start it again with make local-up ENV=%s", t.EndpointURL, err, env)
	}
	return conn.Close()
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseOutputs reads a target from the JSON that `terraform output -json`
// prints (or the local stack writes to .local/outputs.json): api_url,
// function_name, log_group_name and region are required, endpoint_url is
// optional; other outputs are ignored.
func ParseOutputs(data []byte) (Target, error) {
	var outputs map[string]output
	if err := json.Unmarshal(data, &outputs); err != nil {
		return Target{}, fmt.Errorf("smoke: outputs are not `terraform output -json`: %w", err)
	}
	var t Target
	fields := []struct {
		name     string
		dst      *string
		required bool
	}{
		{"api_url", &t.APIURL, true},
		{"function_name", &t.FunctionName, true},
		{"log_group_name", &t.LogGroupName, true},
		{"region", &t.Region, true},
		{"endpoint_url", &t.EndpointURL, false},
		{"candidate_api_url", &t.CandidateAPIURL, false},
	}
	var missing []string
	for _, f := range fields {
		out, ok := outputs[f.name]
		if !ok || out.Value == nil {
			if f.required {
				missing = append(missing, f.name)
			}
			continue
		}
		s, ok := out.Value.(string)
		if !ok || s == "" {
			return Target{}, fmt.Errorf("smoke: output %s is %v, want a non-empty string", f.name, out.Value)
		}
		*f.dst = s
	}
	if len(missing) > 0 {
		var have []string
		for name := range outputs {
			have = append(have, name)
		}
		sort.Strings(have)
		return Target{}, fmt.Errorf("smoke: outputs lack %s (have: %s); is this an env root's `terraform output -json`?", strings.Join(missing, ", "), strings.Join(have, ", "))
	}
	for _, u := range []struct{ name, url string }{{"api_url", t.APIURL}, {"endpoint_url", t.EndpointURL}, {"candidate_api_url", t.CandidateAPIURL}} {
		if u.url == "" {
			continue
		}
		parsed, err := url.Parse(u.url)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			return Target{}, fmt.Errorf("smoke: output %s %q is not an http(s) URL", u.name, u.url)
		}
	}
	if err := t.readAccess(outputs); err != nil {
		return Target{}, err
	}
	t.APIURL = strings.TrimSuffix(t.APIURL, "/")
	t.CandidateAPIURL = strings.TrimSuffix(t.CandidateAPIURL, "/")
	return t, nil
}

// output is one output of `terraform output -json`.
type output struct {
	Value any `json:"value"`
}

// readAccess reads the access outputs: access_mode (none when absent),
// api_key_parameters (which must name the smoke key in mode api_key) and
// caller_role_arn (null unless iam).
func (t *Target) readAccess(outputs map[string]output) error {
	t.AccessMode = apispec.AccessNone
	if v, ok := outputs["access_mode"]; ok && v.Value != nil {
		mode, _ := v.Value.(string)
		if mode != apispec.AccessNone && mode != apispec.AccessAPIKey && mode != apispec.AccessIAM {
			return fmt.Errorf("smoke: output access_mode is %v, want none, api_key or iam", v.Value)
		}
		t.AccessMode = mode
	}
	if v, ok := outputs["caller_role_arn"]; ok && v.Value != nil {
		arn, ok := v.Value.(string)
		if !ok || !strings.HasPrefix(arn, "arn:") {
			return fmt.Errorf("smoke: output caller_role_arn is %v, want a role ARN or null", v.Value)
		}
		t.CallerRoleARN = arn
	}
	if t.AccessMode != apispec.AccessAPIKey {
		return nil
	}
	params, _ := outputs["api_key_parameters"].Value.(map[string]any)
	name, _ := params[SmokeKey].(string)
	if name == "" {
		return fmt.Errorf("smoke: access_mode is api_key but output api_key_parameters (%v) names no %q key: the module must create it (access.api_keys includes %q)", outputs["api_key_parameters"].Value, SmokeKey, SmokeKey)
	}
	t.APIKeyParameter = name
	return nil
}

// LoadOutputs reads a target from a file holding `terraform output -json`,
// such as the local stack's .local/outputs.json.
func LoadOutputs(path string) (Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Target{}, fmt.Errorf("smoke: %w", err)
	}
	t, err := ParseOutputs(data)
	if err != nil {
		return Target{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return t, nil
}

// FromTerraform reads a target from the state of the Terraform root in dir
// with terratest (`terraform output -json`), using the terraform binary at
// binary. A root whose backend was never initialised (no
// .terraform/terraform.tfstate, as in a fresh CI checkout, or a .terraform
// that only `terraform get` made; Atlantis has initialised it) is
// initialised first, which needs the backend's credentials.
func FromTerraform(t terratesting.TestingT, dir, binary string) (Target, error) {
	opts := &terraform.Options{
		TerraformDir:    dir,
		TerraformBinary: binary,
		NoColor:         true,
		Logger:          logger.Discard,
	}
	if _, err := os.Stat(filepath.Join(dir, ".terraform", "terraform.tfstate")); errors.Is(err, os.ErrNotExist) {
		if _, err := terraform.InitE(t, opts); err != nil {
			return Target{}, fmt.Errorf("smoke: terraform init in %s: %w", dir, err)
		}
	}
	out, err := terraform.OutputJsonE(t, opts, "")
	if err != nil {
		return Target{}, fmt.Errorf("smoke: terraform output -json in %s: %w", dir, err)
	}
	target, err := ParseOutputs([]byte(out))
	if err != nil {
		return Target{}, fmt.Errorf("%w (terraform output -json in %s)", err, dir)
	}
	return target, nil
}
