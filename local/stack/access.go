package stack

import (
	"crypto/rand"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strings"

	"github.com/acme/request-dump/internal/apicaller"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/local/apikeys"
	"github.com/acme/request-dump/local/ssm"
)

// SpecAccess is the env's access setting (the module's access input) as the
// local stack deploys it: in mode api_key, the keys (their values in the
// Parameter Store) and the usage plan on both stages; in mode iam, the
// caller role that STS lets callers assume.
type SpecAccess struct {
	Mode        string   `json:"mode"`
	APIKeys     []string `json:"api_keys,omitempty"`
	RateLimit   float64  `json:"rate_limit,omitempty"`
	BurstLimit  int      `json:"burst_limit,omitempty"`
	QuotaPerDay int      `json:"quota_per_day,omitempty"`
}

func specAccess(a envconfig.Access) SpecAccess {
	out := SpecAccess{Mode: a.Mode}
	if a.Mode == apispec.AccessAPIKey {
		out.APIKeys = a.APIKeys
		out.RateLimit, out.BurstLimit, out.QuotaPerDay = a.UsagePlan.RateLimit, a.UsagePlan.BurstLimit, a.UsagePlan.QuotaPerDay
	}
	return out
}

// APIKeyParameter is the Parameter Store name of an env's API key: the
// name both the module and the local stack give it.
func APIKeyParameter(name, key string) string { return "/" + name + "/api-keys/" + key }

// CallerRole is the name of an env's caller role (mode iam).
func CallerRole(name string) string { return name + "-caller" }

// accessDeployment is what deploying an env's access created.
type accessDeployment struct {
	mode             string
	apiKeyParameters map[string]string // key name → parameter name
	usagePlanID      string
	callerRoleARN    string
}

// deployAccess creates what the env's access mode needs, as Terraform's
// access.tf does on AWS: in mode api_key, each key (its value a new random
// one, unless the Parameter Store already holds it, so that a redeploy or
// a restart keeps the keys callers have) and the usage plan covering the
// live and candidate stages of API apiID; in mode iam, the caller role.
func (s *Stack) deployAccess(spec Spec, apiID string) (accessDeployment, error) {
	a := spec.Access
	out := accessDeployment{mode: a.Mode, apiKeyParameters: map[string]string{}}
	if out.mode == "" {
		out.mode = apispec.AccessNone
	}
	switch out.mode {
	case apispec.AccessAPIKey:
		if len(a.APIKeys) == 0 {
			return out, fmt.Errorf("access mode api_key without api_keys: name at least the smoke key")
		}
		plan := apikeys.Plan{
			ID: stableID("usage-plan:"+spec.Name, 6), Name: spec.Name,
			Stages:    []apikeys.Stage{{APIID: apiID, Stage: spec.Stage}, {APIID: apiID, Stage: envconfig.CandidateStage}},
			RateLimit: a.RateLimit, BurstLimit: a.BurstLimit, QuotaPerDay: a.QuotaPerDay,
		}
		for _, name := range a.APIKeys {
			param := APIKeyParameter(spec.Name, name)
			value := ""
			if p, ok := s.ssm.Get(param); ok {
				value = p.Value
			} else {
				value = newKeyValue()
				if _, err := s.ssm.Put(param, ssm.SecureString, value, false); err != nil {
					return out, fmt.Errorf("API key %s: %w", name, err)
				}
			}
			id := stableID("api-key:"+spec.Name+"/"+name, 10)
			s.apiKeys.PutKey(apikeys.Key{ID: id, Name: spec.Name + "-" + name, Value: value})
			plan.KeyIDs = append(plan.KeyIDs, id)
			out.apiKeyParameters[name] = param
		}
		s.apiKeys.PutPlan(plan)
		out.usagePlanID = plan.ID
	case apispec.AccessIAM:
		out.callerRoleARN = s.sts.PutRole(CallerRole(spec.Name))
	case apispec.AccessNone:
	default:
		return out, fmt.Errorf("access mode %q: want none, api_key or iam", a.Mode)
	}
	return out, nil
}

// keyAlphabet is what API Gateway's generated key values are made of.
const keyAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newKeyValue returns a random API key value, 40 characters as API
// Gateway generates them.
func newKeyValue() string {
	b := make([]byte, 40)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = keyAlphabet[int(b[i])%len(keyAlphabet)]
	}
	return string(b)
}

// stableID derives a lower-case id of n characters from s, the same across
// redeploys and restarts, shaped like API Gateway's ids.
func stableID(s string, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, n)
	h := fnv.New64a()
	for i := range out {
		h.Write([]byte(s))
		h.Write([]byte{byte(i)})
		out[i] = alphabet[h.Sum64()%uint64(len(alphabet))]
	}
	return string(out)
}

// credentialService is the service a SigV4-signed request is scoped to
// (Credential=<key>/<date>/<region>/<service>/aws4_request), "" when it is
// not signed: how the edge tells STS calls (a form POST to /) from S3's.
func credentialService(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// accessOutputs are the module's access outputs: access_mode,
// api_key_parameters (names, never values), caller_role_arn, usage_plan_id
// and web_acl_arn (null: the local stack has no WAF).
func (a accessDeployment) outputs(out Outputs) {
	names := make([]string, 0, len(a.apiKeyParameters))
	for k := range a.apiKeyParameters {
		names = append(names, k)
	}
	sort.Strings(names)
	out["access_mode"] = stringOutput(a.mode)
	out["api_key_parameters"] = Output{Type: []string{"map", "string"}, Value: a.apiKeyParameters}
	out["caller_role_arn"] = nullableOutput(a.callerRoleARN)
	out["usage_plan_id"] = nullableOutput(a.usagePlanID)
	out["web_acl_arn"] = nullableOutput("")
}

// Access returns what the outputs say about calling the env's API, with
// the API key named key in mode api_key. The outputs may come from this
// package (api_key_parameters a map[string]string) or from JSON, as the
// control API and `terraform output -json` give them (a map[string]any).
func (o Outputs) Access(key string) apicaller.Access {
	a := apicaller.Access{Mode: o["access_mode"].String(), CallerRoleARN: o["caller_role_arn"].String()}
	switch params := o["api_key_parameters"].Value.(type) {
	case map[string]string:
		a.APIKeyParameter = params[key]
	case map[string]any:
		a.APIKeyParameter, _ = params[key].(string)
	}
	return a
}

func nullableOutput(v string) Output {
	if v == "" {
		return Output{Type: "string", Value: nil}
	}
	return stringOutput(v)
}
