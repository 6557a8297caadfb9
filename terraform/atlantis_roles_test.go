package terraform

import (
	"context"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/repo"
)

const testAccount = "123456789012"

// rolesModule is terraform/atlantis-roles with global/'s arguments: its
// variables, and its locals evaluated as Terraform would in
// ap-northeast-1 of the test account.
type rolesModule struct {
	c      *config
	vars   map[string]cty.Value
	locals map[string]cty.Value
}

func loadRolesModule(t *testing.T) *rolesModule {
	t.Helper()
	m := &rolesModule{c: load(t, "terraform/atlantis-roles"), vars: map[string]cty.Value{}}
	declared, err := envconfig.LoadVariables(m.c.dir)
	require.NoError(t, err)
	call := load(t, "global").block(t, "module", "atlantis_roles")
	for _, name := range declared.Names() {
		given := cty.NilVal
		if a, ok := call.Attributes[name]; ok {
			scope := map[string]cty.Value{"module": obj(map[string]cty.Value{
				"artifacts": obj(map[string]cty.Value{"bucket": cty.StringVal("acme-request-dump-artifacts")}),
			})}
			given = eval(t, a.Expr, scope)
		}
		v, err := declared.Value(name, given)
		require.NoError(t, err, "global/'s %s", name)
		m.vars[name] = v
	}
	// Locals refer to each other: evaluate them in rounds until all are known.
	m.locals = map[string]cty.Value{}
	pending := map[string]hclsyntax.Expression{}
	for _, b := range m.c.blocks("locals") {
		for name, a := range b.Body.Attributes {
			pending[name] = a.Expr
		}
	}
	for len(pending) > 0 {
		progress := false
		for name, expr := range pending {
			ready := true
			for _, r := range refs(expr) {
				if l, ok := strings.CutPrefix(r, "local."); ok {
					if _, done := m.locals[strings.Split(l, ".")[0]]; !done {
						ready = false
					}
				}
			}
			if ready {
				m.locals[name] = eval(t, expr, m.scope(nil))
				delete(pending, name)
				progress = true
			}
		}
		require.True(t, progress, "locals that refer to each other in a cycle: %v", pending)
	}
	return m
}

// scope is the evaluation scope of the module, with each set when not nil.
func (m *rolesModule) scope(each map[string]cty.Value) map[string]cty.Value {
	current := func(attr, val string) cty.Value {
		return obj(map[string]cty.Value{"current": obj(map[string]cty.Value{attr: cty.StringVal(val)})})
	}
	s := map[string]cty.Value{
		"var":   obj(m.vars),
		"local": obj(m.locals),
		"data": obj(map[string]cty.Value{
			"aws_partition":       current("partition", "aws"),
			"aws_region":          current("region", "ap-northeast-1"),
			"aws_caller_identity": current("account_id", testAccount),
		}),
	}
	if each != nil {
		s["each"] = obj(each)
	}
	return s
}

func (m *rolesModule) envScope(env string) map[string]cty.Value {
	return m.scope(map[string]cty.Value{"key": cty.StringVal(env), "value": m.vars["environments"].Index(cty.StringVal(env))})
}

// grants is what a policy document grants: the resources of each action,
// with the statements of its source_policy_documents.
type grants map[string][]string

func (m *rolesModule) policy(t *testing.T, label, env string) grants {
	t.Helper()
	doc := m.c.block(t, "data", "aws_iam_policy_document", label)
	out := grants{}
	if a, ok := doc.Attributes["source_policy_documents"]; ok {
		for _, r := range refs(a.Expr) {
			source, ok := strings.CutPrefix(r, "data.aws_iam_policy_document.")
			if !ok {
				continue
			}
			for action, res := range m.policy(t, strings.TrimSuffix(source, ".json"), env) {
				out[action] = append(out[action], res...)
			}
		}
	}
	for _, s := range nested(doc, "statement") {
		assert.NotContains(t, s.Attributes, "effect", "%s: Allow statements only", label)
		assert.NotContains(t, s.Attributes, "not_actions")
		assert.NotContains(t, s.Attributes, "not_resources")
		resources := strs(t, eval(t, attr(t, s, "resources"), m.envScope(env)))
		for _, action := range strs(t, eval(t, attr(t, s, "actions"), nil)) {
			out[action] = append(out[action], resources...)
		}
	}
	return out
}

func (g grants) actions() []string {
	var out []string
	for a := range g {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// TestAtlantisRolesAreWiredToTheEnvs: global/ gives the roles exactly the
// envs, service names, state keys, state bucket and lock table the env
// roots use.
func TestAtlantisRolesAreWiredToTheEnvs(t *testing.T) {
	m := loadRolesModule(t)
	envs := m.vars["environments"].AsValueMap()
	assert.ElementsMatch(t, envNames(t), keysOf(envs))
	for env, cfg := range envs {
		root := load(t, "envs/"+env)
		b := backend(t, root)
		assert.Equal(t, b["key"], cfg.GetAttr("state_key").AsString(), env)
		assert.Equal(t, b["bucket"], m.vars["state"].GetAttr("bucket").AsString(), env)
		assert.Equal(t, b["dynamodb_table"], m.vars["state"].GetAttr("lock_table").AsString(), env)
		assert.Equal(t, eval(t, attr(t, root.block(t, "module", "service"), "name"), nil).AsString(), cfg.GetAttr("service_name").AsString(), env)
	}
	assert.Equal(t, []string{"module.artifacts.bucket"}, refs(attr(t, load(t, "global").block(t, "module", "atlantis_roles"), "artifact_bucket")))

	statement := one(t, m.c.block(t, "data", "aws_iam_policy_document", "assume"), "statement")
	assert.Equal(t, []string{"sts:AssumeRole"}, strs(t, eval(t, attr(t, statement, "actions"), nil)))
	assert.Equal(t, []string{"arn:aws:iam::" + testAccount + ":role/atlantis"}, strs(t, eval(t, attr(t, one(t, statement, "principals"), "identifiers"), m.scope(nil))),
		"only the Atlantis server's own role may assume the plan and apply roles")
	for _, label := range []string{"plan", "apply"} {
		role := m.c.block(t, "resource", "aws_iam_role", label)
		assert.Equal(t, "data.aws_iam_policy_document.assume.json", m.c.source(attr(t, role, "assume_role_policy")))
		attach := m.c.block(t, "resource", "aws_iam_role_policy", label)
		assert.Equal(t, "aws_iam_role."+label+"[each.key].id", m.c.source(attr(t, attach, "role")))
		assert.Equal(t, "data.aws_iam_policy_document."+label+"[each.key].json", m.c.source(attr(t, attach, "policy")))
		assert.Equal(t, []string{"aws_iam_role_policy." + label}, rolePolicies(m.c, label), "the %s role holds no other policy", label)
	}
}

// TestAtlantisPlanRoleOnlyReads: the plan role's actions read, except the
// state lock's items; the state it may not write.
func TestAtlantisPlanRoleOnlyReads(t *testing.T) {
	m := loadRolesModule(t)
	for _, env := range envNames(t) {
		t.Run(env, func(t *testing.T) {
			plan := m.policy(t, "plan", env)
			require.NotEmpty(t, plan)
			for _, action := range plan.actions() {
				_, verb, _ := strings.Cut(action, ":")
				switch {
				case action == "dynamodb:PutItem" || action == "dynamodb:DeleteItem":
					// The plan holds the state lock: the env's own lock items only.
					assert.Equal(t, []string{"arn:aws:dynamodb:ap-northeast-1:" + testAccount + ":table/acme-request-dump-tflock"}, plan[action])
				case action == "apigateway:GET":
				default:
					assert.True(t, slices.ContainsFunc([]string{"Get", "List", "Describe"}, func(p string) bool { return strings.HasPrefix(verb, p) }),
						"the plan role may %s, which is not a read", action)
				}
				assert.NotContains(t, action, "*", "no wildcard actions")
			}
			assert.NotContains(t, plan, "s3:PutObject")
		})
	}
}

// TestAtlantisApplyRoleChangesOnlyItsEnv: every resource the apply role
// may change belongs to its env (API Gateway's generated ids aside), none
// is another env's or one of the Atlantis roles themselves, and the role
// covers every kind of resource terraform/service manages, so that a
// resource added there cannot go unnoticed until an apply fails.
func TestAtlantisApplyRoleChangesOnlyItsEnv(t *testing.T) {
	m := loadRolesModule(t)
	service := load(t, "terraform/service")
	// The IAM service each resource type of terraform/service is changed
	// through. A type missing here fails the test: add the actions it needs
	// to terraform/atlantis-roles, and the type here.
	iamService := map[string]string{
		"aws_lambda_":                 "lambda",
		"aws_api_gateway_":            "apigateway",
		"aws_iam_role":                "iam",
		"aws_cloudwatch_log_group":    "logs",
		"aws_cloudwatch_log_metric_":  "logs",
		"aws_cloudwatch_metric_alarm": "cloudwatch",
		"aws_sns_":                    "sns",
		"aws_kms_":                    "kms",
		"aws_codedeploy_":             "codedeploy",
		"aws_ssm_":                    "ssm",
		"aws_wafv2_":                  "wafv2",
	}
	envs := envNames(t)
	for _, env := range envs {
		t.Run(env, func(t *testing.T) {
			apply := m.policy(t, "apply", env)
			name := m.vars["environments"].Index(cty.StringVal(env)).GetAttr("service_name").AsString()
			for _, b := range service.blocks("resource") {
				typ := b.Labels[0]
				prefix := ""
				for p, svc := range iamService {
					if strings.HasPrefix(typ, p) {
						prefix = svc + ":"
					}
				}
				if !assert.NotEmpty(t, prefix, "terraform/service manages %s: add the IAM actions it needs to terraform/atlantis-roles and its type to iamService", typ) {
					continue
				}
				assert.True(t, slices.ContainsFunc(apply.actions(), func(a string) bool { return strings.HasPrefix(a, prefix) }),
					"the apply role has no %s action, which %s.%s needs", prefix, typ, b.Labels[1])
			}
			for _, action := range apply.actions() {
				assert.NotContains(t, action, "*", "no wildcard actions")
				for _, res := range apply[action] {
					if strings.HasPrefix(action, "apigateway:") {
						continue
					}
					for _, other := range envs {
						otherName := m.vars["environments"].Index(cty.StringVal(other)).GetAttr("service_name").AsString()
						if other != env && strings.Contains(res, otherName) {
							t.Errorf("%s may %s on %s, which is %s's", env, action, res, other)
						}
					}
					for _, own := range []string{"plan", "apply"} {
						roleName := eval(t, attr(t, m.c.block(t, "resource", "aws_iam_role", own), "name"), m.envScope(env)).AsString()
						if ok, _ := path.Match(strings.TrimPrefix(res, "arn:aws:iam::"+testAccount+":role/"), roleName); ok && strings.HasPrefix(action, "iam:") {
							t.Errorf("%s may %s on its own %s role %s (%s)", env, action, own, roleName, res)
						}
					}
				}
			}
			assert.Equal(t, []string{"arn:aws:iam::" + testAccount + ":role/" + name + "-*"}, apply["iam:PassRole"], "PassRole on the service's roles only")
			assert.Equal(t, []string{"arn:aws:s3:::acme-request-dump-tfstate/request-dump/" + env + "/terraform.tfstate"}, apply["s3:PutObject"], "the env's own state only")
			assert.Equal(t, []string{"arn:aws:lambda:ap-northeast-1:" + testAccount + ":function:" + name, "arn:aws:lambda:ap-northeast-1:" + testAccount + ":function:" + name + ":*"}, apply["lambda:UpdateFunctionCode"])
			assert.Contains(t, apply["s3:GetObjectVersion"], "arn:aws:s3:::acme-request-dump-artifacts/"+env+"/*", "Lambda fetches the pinned object version with the caller's credentials")
			apiKeys := "arn:aws:ssm:ap-northeast-1:" + testAccount + ":parameter/" + name + "/api-keys/*"
			for _, action := range []string{"ssm:PutParameter", "ssm:DeleteParameter", "ssm:GetParameter"} {
				assert.Equal(t, []string{apiKeys}, apply[action], "%s on the env's API key parameters only", action)
			}
			assert.Equal(t, []string{"arn:aws:iam::" + testAccount + ":role/" + name + "-caller"}, apply["sts:AssumeRole"], "the smoke test assumes the env's caller role, no other")
			for _, action := range []string{"wafv2:CreateWebACL", "wafv2:AssociateWebACL"} {
				assert.Contains(t, apply[action], "arn:aws:wafv2:ap-northeast-1:"+testAccount+":regional/webacl/"+name+"/*", "%s on the env's web ACL", action)
			}
			assert.Contains(t, apply["cloudwatch:PutMetricAlarm"], "arn:aws:cloudwatch:ap-northeast-1:"+testAccount+":alarm:"+name+"-waf-blocked")
		})
	}

	// A prefix that starts like a service's roles would let that env's apply
	// role change its own policy.
	rule := one(t, one(t, m.c.block(t, "resource", "aws_iam_role", "apply"), "lifecycle"), "precondition")
	for prefix, ok := range map[string]bool{"request-dump-atlantis-": true, "request-dump-dev-": false} {
		s := m.envScope("dev")
		vars := maps.Clone(m.vars)
		vars["role_name_prefix"] = cty.StringVal(prefix)
		s["var"] = obj(vars)
		assert.Equal(t, ok, eval(t, attr(t, rule, "condition"), s).True(), prefix)
	}
}

// TestAtlantisProfilesAssumeTheRoles: each profile the workflows select
// (atlantis/aws-config, read with the AWS SDK's own parser) assumes the role
// terraform/atlantis-roles creates for that env and stage, in the account
// the roots allow.
func TestAtlantisProfilesAssumeTheRoles(t *testing.T) {
	m := loadRolesModule(t)
	root, err := repo.Root()
	require.NoError(t, err)
	vars, err := envconfig.LoadVariables(load(t, "global").dir)
	require.NoError(t, err)
	account := strs(t, vars["allowed_account_ids"].Default)[0]
	file := root + "/atlantis/aws-config"
	for _, rootDir := range append([]string{"global"}, envNames(t)...) {
		for _, stage := range []string{"plan", "apply"} {
			profile := "request-dump-" + rootDir + "-" + stage
			cfg, err := awsconfig.LoadSharedConfigProfile(context.Background(), profile, func(o *awsconfig.LoadSharedConfigOptions) {
				o.ConfigFiles = []string{file}
				o.CredentialsFiles = []string{}
			})
			if !assert.NoError(t, err, "atlantis/aws-config has no profile %s", profile) {
				continue
			}
			assert.NotEmpty(t, cfg.CredentialSource, "%s: credential_source says where the server's own credentials come from", profile)
			roleName := "request-dump-atlantis-" + rootDir + "-" + stage
			if rootDir != "global" {
				roleName = eval(t, attr(t, m.c.block(t, "resource", "aws_iam_role", stage), "name"), m.envScope(rootDir)).AsString()
			}
			assert.Equal(t, "arn:aws:iam::"+account+":role/"+roleName, cfg.RoleARN, profile)
		}
	}
}

// TestAtlantisRolesScopeKMSByTheEnvTag: a KMS key's ARN holds a generated
// id, so a statement on keys (or on "*", which CreateKey needs) must hold
// the env's own environment tag as a condition, the tag every env root's
// provider sets (TestEnvRoots checks it equals the env). Two statements
// are scoped otherwise, and checked here: ssm:DescribeParameters, which
// takes no resource ARN and returns no value, and the smoke test's
// kms:Decrypt of the AWS managed key aws/ssm (no env tag), only through
// SSM and only for the env's smoke key parameter.
func TestAtlantisRolesScopeKMSByTheEnvTag(t *testing.T) {
	m := loadRolesModule(t)
	for _, env := range envNames(t) {
		name := m.vars["environments"].Index(cty.StringVal(env)).GetAttr("service_name").AsString()
		for _, label := range []string{"plan", "apply"} {
			var scoped int
			for _, s := range nested(m.c.block(t, "data", "aws_iam_policy_document", label), "statement") {
				resources := strs(t, eval(t, attr(t, s, "resources"), m.envScope(env)))
				wild := slices.ContainsFunc(resources, func(r string) bool { return r == "*" || strings.HasSuffix(r, ":key/*") })
				if !wild {
					continue
				}
				actions := strs(t, eval(t, attr(t, s, "actions"), nil))
				conditions := map[string][]string{}
				for _, c := range nested(s, "condition") {
					key := eval(t, attr(t, c, "test"), nil).AsString() + " " + eval(t, attr(t, c, "variable"), nil).AsString()
					conditions[key] = strs(t, eval(t, attr(t, c, "values"), m.envScope(env)))
				}
				switch {
				case slices.Equal(actions, []string{"ssm:DescribeParameters"}):
					assert.Equal(t, []string{"*"}, resources)
					continue
				case slices.Equal(actions, []string{"kms:Decrypt"}) && label == "apply" && len(conditions) == 2:
					assert.Equal(t, map[string][]string{
						"StringEquals kms:ViaService":                      {"ssm.ap-northeast-1.amazonaws.com"},
						"StringEquals kms:EncryptionContext:PARAMETER_ARN": {"arn:aws:ssm:ap-northeast-1:" + testAccount + ":parameter/" + name + "/api-keys/smoke"},
					}, conditions, "%s: Decrypt through SSM of the smoke key only", env)
					continue
				}
				scoped++
				var tagged bool
				for _, c := range nested(s, "condition") {
					variable := eval(t, attr(t, c, "variable"), nil).AsString()
					values := strs(t, eval(t, attr(t, c, "values"), m.envScope(env)))
					if eval(t, attr(t, c, "test"), nil).AsString() == "StringEquals" &&
						(variable == "aws:ResourceTag/environment" || variable == "aws:RequestTag/environment") &&
						slices.Equal(values, []string{env}) {
						tagged = true
					}
				}
				for _, action := range strs(t, eval(t, attr(t, s, "actions"), nil)) {
					assert.True(t, strings.HasPrefix(action, "kms:"), "%s %s: %s on %v: only KMS needs a wildcard resource", env, label, action, resources)
				}
				assert.True(t, tagged, "%s %s: a statement on %v must hold the condition environment = %s", env, label, resources, env)
			}
			assert.Positive(t, scoped, "%s %s: the alarm topic's KMS key is read (and, to apply, managed) by its tag", env, label)
		}
	}
}
