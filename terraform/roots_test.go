package terraform

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	version "github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/internal/repo"
)

var (
	modules = []string{"terraform/service", "terraform/artifacts", "terraform/github-oidc", "terraform/atlantis-roles"}
	roots   = []string{"envs/dev", "envs/stg", "envs/prod", "global"}
)

func envNames(t *testing.T) []string {
	t.Helper()
	root, err := repo.Root()
	require.NoError(t, err)
	envs, err := envconfig.Envs(root)
	require.NoError(t, err)
	require.Equal(t, []string{"dev", "prod", "stg"}, envs)
	return envs
}

// backend returns the attributes of a root's backend "s3" block.
func backend(t *testing.T, c *config) map[string]string {
	t.Helper()
	var found []*hclsyntax.Body
	for _, tf := range c.blocks("terraform") {
		for _, b := range tf.Body.Blocks {
			if b.Type == "backend" {
				require.Equal(t, []string{"s3"}, b.Labels)
				found = append(found, b.Body)
			}
		}
	}
	require.Len(t, found, 1, "%s: one backend block", c.dir)
	out := map[string]string{}
	for name, a := range found[0].Attributes {
		v := eval(t, a.Expr, nil)
		if v.Type().FriendlyName() == "bool" {
			out[name] = map[bool]string{true: "true", false: "false"}[v.True()]
			continue
		}
		out[name] = v.AsString()
	}
	return out
}

func TestEveryRootHasItsOwnStateAndLocking(t *testing.T) {
	keys := map[string]string{}
	var shared map[string]string
	for _, rel := range roots {
		b := backend(t, load(t, rel))
		assert.Equal(t, "true", b["encrypt"], rel)
		assert.NotEmpty(t, b["dynamodb_table"], "%s: Terraform 1.5 locks S3 state with DynamoDB", rel)
		if prev, ok := keys[b["key"]]; ok {
			t.Errorf("%s and %s share the state key %s", prev, rel, b["key"])
		}
		keys[b["key"]] = rel
		same := map[string]string{"bucket": b["bucket"], "region": b["region"], "dynamodb_table": b["dynamodb_table"]}
		if shared == nil {
			shared = same
		}
		assert.Equal(t, shared, same, "%s uses the same state bucket and lock table", rel)
	}
}

// TestEveryRootLoadsInTerraform has the pinned terraform load every root
// and the modules it calls (`terraform get`, which needs no provider and,
// with local modules only, no network): the HCL parsing of the other tests
// does not see what Terraform refuses across files, such as a block
// declared twice in one module, which would fail every init, plan and
// scripts/lock-providers.sh. TF_DATA_DIR keeps its module manifest out of
// the repository.
func TestEveryRootLoadsInTerraform(t *testing.T) {
	terraform, err := repo.Tool("terraform")
	require.NoError(t, err)
	for _, rel := range roots {
		t.Run(strings.ReplaceAll(rel, "/", "∕"), func(t *testing.T) {
			dir, err := repo.Path(rel)
			require.NoError(t, err)
			cmd := exec.Command(terraform, "get", "-no-color")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null", "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_DATA_DIR="+filepath.Join(t.TempDir(), ".terraform"))
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "terraform get in %s:\n%s", rel, out)
		})
	}
}

// TestDocsReadOutputsTheRootsHave holds every output the operator docs
// tell someone to read (`terraform -chdir=<root> output <name>`, or
// "`global/`'s output `<name>`") to an output block of that root: a
// bootstrap step that names a missing output fails only in a new account.
func TestDocsReadOutputsTheRootsHave(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	docs = append(docs, filepath.Join(root, "README.md"))
	commands := regexp.MustCompile(`terraform\s+-chdir=(\S+)\s+output\s+(?:-raw\s+|-json\s+)?([a-z0-9_]+)`)
	prose := regexp.MustCompile("`(global)/`'s output `([a-z0-9_]+)`")
	found := 0
	for _, doc := range docs {
		raw, err := os.ReadFile(doc)
		require.NoError(t, err)
		for _, re := range []*regexp.Regexp{commands, prose} {
			for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
				found++
				rel := strings.ReplaceAll(m[1], "<env>", "dev")
				c := load(t, rel)
				assert.NotEmpty(t, c.blocks("output", m[2]), "%s tells the reader to read the output %s of %s, which declares no such output", filepath.Base(doc), m[2], m[1])
			}
		}
	}
	assert.GreaterOrEqual(t, found, 6, "the docs' output commands were found")
}

func TestEveryEnvRootIsWiredTheSame(t *testing.T) {
	wantOutputs := []string{"access_mode", "api_key_parameters", "api_url", "artifact_bucket", "caller_role_arn", "candidate_api_url", "function_name", "log_group_name", "region", "usage_plan_id", "web_acl_arn"}
	var reference map[string]string
	for _, env := range envNames(t) {
		t.Run(env, func(t *testing.T) {
			c := load(t, "envs/"+env)

			mods := c.blocks("module")
			require.Len(t, mods, 1, "one module call")
			require.Equal(t, []string{"service"}, mods[0].Labels)
			call := mods[0].Body
			assert.Equal(t, envconfig.ModuleSource, eval(t, attr(t, call, "source"), nil).AsString())
			for name, a := range call.Attributes {
				if name == "artifact" {
					assert.Equal(t, "var.artifact", c.source(a.Expr))
					continue
				}
				assert.Empty(t, refs(a.Expr), "module argument %s is a literal", name)
			}
			assert.Equal(t, "request-dump-"+env, eval(t, attr(t, call, "name"), nil).AsString())
			assert.Equal(t, env, eval(t, attr(t, call, "environment"), nil).AsString())

			var outputs []string
			for _, o := range c.blocks("output") {
				name := o.Labels[0]
				outputs = append(outputs, name)
				assert.Equal(t, []string{"module.service." + name}, refs(attr(t, o.Body, "value")))
			}
			sort.Strings(outputs)
			assert.Equal(t, wantOutputs, outputs, "the outputs each env root declares (smoke holds .local/outputs.json to them)")

			provider := c.block(t, "provider", "aws")
			assert.Equal(t, "ap-northeast-1", eval(t, attr(t, provider, "region"), nil).AsString())
			tags := eval(t, attr(t, one(t, provider, "default_tags"), "tags"), nil).AsValueMap()
			assert.Equal(t, env, tags["environment"].AsString())

			_, err := pointer.Load(filepath.Join(c.dir, pointer.FileName), env)
			assert.NoError(t, err, "the pointer names an artifact under %s/", env)

			// Apart from the env's own name, every root's files but main.tf
			// are identical; main.tf differs only in its literals.
			files := map[string]string{}
			for path, src := range c.srcs {
				if filepath.Base(path) != "main.tf" {
					files[filepath.Base(path)] = strings.ReplaceAll(string(src), env, "ENV")
				}
			}
			if reference == nil {
				reference = files
			}
			assert.Equal(t, reference, files)
		})
	}
}

// Every root's provider refuses credentials of an account other than the
// ones its allowed_account_ids variable names, and the variable accepts only
// account ids.
func TestEveryRootGuardsItsAccount(t *testing.T) {
	var accounts []string
	for _, rel := range roots {
		t.Run(rel, func(t *testing.T) {
			c := load(t, rel)
			provider := c.block(t, "provider", "aws")
			assert.Equal(t, "var.allowed_account_ids", c.source(attr(t, provider, "allowed_account_ids")))
			vars, err := envconfig.LoadVariables(c.dir)
			require.NoError(t, err)
			v, ok := vars["allowed_account_ids"]
			require.True(t, ok, "%s declares allowed_account_ids", rel)
			require.NotEqual(t, cty.NilVal, v.Default)
			if accounts == nil {
				accounts = strs(t, v.Default)
			}
			assert.Equal(t, accounts, strs(t, v.Default), "every root names the same account: global/ holds what the envs use")
			for given, want := range map[string]string{
				`["123456789012"]`:                 "",
				`["123456789012", "210987654321"]`: "",
				`[]`:                               "one or more distinct AWS account ids of 12 digits",
				`["12345678901"]`:                  "one or more distinct AWS account ids of 12 digits",
				`["12345678901a"]`:                 "one or more distinct AWS account ids of 12 digits",
				`["123456789012", "123456789012"]`: "one or more distinct AWS account ids of 12 digits",
			} {
				_, err := vars.Value("allowed_account_ids", literal(t, given))
				if want == "" {
					assert.NoError(t, err, given)
					continue
				}
				assert.ErrorContains(t, err, want, given)
			}
		})
	}
}

func TestModulesFollowTheLayout(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	for _, rel := range append(append([]string{}, modules...), roots...) {
		t.Run(rel, func(t *testing.T) {
			for _, name := range []string{"main.tf", "variables.tf", "outputs.tf", "versions.tf"} {
				assert.FileExists(t, filepath.Join(root, rel, name))
			}
			if strings.HasPrefix(rel, "terraform/") {
				readme, err := os.ReadFile(filepath.Join(root, rel, "README.md"))
				require.NoError(t, err, "every module has a README")
				// TestModuleREADMEsMatchTheirModule checks what the sections say.
				for _, section := range []string{"## Usage", "## Inputs", "## Outputs"} {
					assert.Contains(t, string(readme), section)
				}
			}
		})
	}
}

// readmeSection returns the lines of a README's "## title" section.
func readmeSection(readme, title string) []string {
	_, rest, ok := strings.Cut(readme, "\n## "+title+"\n")
	if !ok {
		return nil
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return strings.Split(rest, "\n")
}

// tableRows returns the cells of a section's table rows whose first cell is
// a `name`, by that name.
func tableRows(lines []string) map[string][]string {
	rows := map[string][]string{}
	for _, line := range lines {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[strings.Trim(cells[0], "`")] = cells
	}
	return rows
}

// A module's README is what callers read instead of variables.tf and
// outputs.tf: its tables list exactly the module's inputs (required ones
// marked so) and outputs, and its usage example is a call the module
// accepts, validation rules included.
func TestModuleREADMEsMatchTheirModule(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	for _, rel := range modules {
		t.Run(rel, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(root, rel, "README.md"))
			require.NoError(t, err)
			readme := string(raw)
			c := load(t, rel)
			vars, err := envconfig.LoadVariables(c.dir)
			require.NoError(t, err)

			inputs := tableRows(readmeSection(readme, "Inputs"))
			assert.ElementsMatch(t, vars.Names(), keysOf(inputs), "the Inputs table lists exactly the variables")
			for name, cells := range inputs {
				v, ok := vars[name]
				if !ok { // the ElementsMatch above reports it
					continue
				}
				if !assert.GreaterOrEqual(t, len(cells), 3, "input %s: the row has the name, type and default columns", name) {
					continue
				}
				assert.Equal(t, v.Default == cty.NilVal, cells[2] == "required", "input %s: the default column says required exactly when the variable has no default", name)
			}
			var outputs []string
			for _, o := range c.blocks("output") {
				outputs = append(outputs, o.Labels[0])
			}
			assert.ElementsMatch(t, outputs, keysOf(tableRows(readmeSection(readme, "Outputs"))), "the Outputs table lists exactly the outputs")

			usage := strings.Join(readmeSection(readme, "Usage"), "\n")
			_, code, ok := strings.Cut(usage, "```hcl\n")
			require.True(t, ok, "the Usage section has an hcl example")
			code, _, _ = strings.Cut(code, "```")
			f, diags := hclsyntax.ParseConfig([]byte(code), rel+"/README.md", hcl.InitialPos)
			require.False(t, diags.HasErrors(), diags.Error())
			blocks := f.Body.(*hclsyntax.Body).Blocks
			require.Len(t, blocks, 1)
			require.Equal(t, "module", blocks[0].Type)
			call := blocks[0].Body
			assert.Equal(t, filepath.Base(rel), filepath.Base(eval(t, attr(t, call, "source"), nil).AsString()))
			for _, name := range vars.Names() {
				a, given := call.Attributes[name]
				if !given {
					assert.NotEqual(t, cty.NilVal, vars[name].Default, "the example passes the required input %s", name)
					continue
				}
				if len(refs(a.Expr)) > 0 {
					continue
				}
				_, err := vars.Value(name, eval(t, a.Expr, nil))
				assert.NoError(t, err, "the example's %s", name)
			}
			for name := range call.Attributes {
				if name != "source" {
					assert.Contains(t, vars.Names(), name, "the example passes %s, which the module does not declare", name)
				}
			}
		})
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Terraform 1.5.7 is what scripts/tools.sh installs and Atlantis runs; every
// required_version must accept it. The roots all allow the same AWS provider
// versions, within one major version; a module states only the lowest
// version it needs (no upper bound: it would block a root's upgrade), which
// every version the roots allow satisfies.
func TestVersionConstraintsAgree(t *testing.T) {
	tf157 := version.Must(version.NewVersion("1.5.7"))
	// providerConstraint returns a module's or root's AWS provider
	// constraint, having checked its required_version.
	providerConstraint := func(t *testing.T, rel string) version.Constraints {
		c := load(t, rel)
		var blocks []*hclsyntax.Body
		for _, b := range c.blocks("terraform") {
			if _, ok := b.Body.Attributes["required_version"]; ok {
				blocks = append(blocks, b.Body)
			}
		}
		require.Len(t, blocks, 1, "one terraform block with required_version")
		constraint, err := version.NewConstraint(eval(t, attr(t, blocks[0], "required_version"), nil).AsString())
		require.NoError(t, err)
		assert.True(t, constraint.Check(tf157), "required_version accepts Terraform 1.5.7")

		aws := eval(t, attr(t, one(t, blocks[0], "required_providers"), "aws"), nil)
		assert.Equal(t, "hashicorp/aws", aws.GetAttr("source").AsString())
		constraints, err := version.NewConstraint(aws.GetAttr("version").AsString())
		require.NoError(t, err)
		return constraints
	}

	var rootConstraint string
	var floor *version.Version
	for _, rel := range roots {
		t.Run(rel, func(t *testing.T) {
			c := providerConstraint(t, rel)
			if rootConstraint == "" {
				rootConstraint = c.String()
			}
			assert.Equal(t, rootConstraint, c.String(), "one AWS provider constraint in every root")
			lower, upper := bounds(t, c)
			require.NotNil(t, lower, "%s: the AWS provider constraint %q has a lower bound", rel, c)
			require.NotNil(t, upper, "%s: the AWS provider constraint %q caps the major version", rel, c)
			assert.Equal(t, lower.Segments()[0]+1, upper.Segments()[0], "%s: %q allows one major version", rel, c)
			assert.Equal(t, []int{lower.Segments()[0] + 1, 0, 0}, upper.Segments(), "%s: %q ends below the next major version", rel, c)
			assert.True(t, c.Check(lower), "%s: %q allows its lower bound", rel, c)
			floor = lower
		})
	}
	require.NotNil(t, floor)
	for _, rel := range modules {
		t.Run(rel, func(t *testing.T) {
			c := providerConstraint(t, rel)
			lower, upper := bounds(t, c)
			assert.NotNil(t, lower, "%s: %q states the lowest AWS provider version the module needs", rel, c)
			assert.Nil(t, upper, "%s: %q has an upper bound; the roots cap the major version, a module only states its floor", rel, c)
			assert.True(t, c.Check(floor), "%s: %q rejects %s, which the roots allow", rel, c, floor)
		})
	}
}

// bounds returns the lower (>=, >, ~>) and upper (<, <=, the ~> cap) bounds
// of c; nil where there is none.
func bounds(t *testing.T, c version.Constraints) (lower, upper *version.Version) {
	t.Helper()
	for _, term := range c {
		fields := strings.Fields(term.String())
		require.Len(t, fields, 2, "constraint term %q: write an operator, a space and the version", term)
		op, ver := fields[0], version.Must(version.NewVersion(fields[1]))
		switch op {
		case ">=", ">":
			lower = ver
		case "<", "<=":
			upper = ver
		case "~>":
			lower = ver
			segs := ver.Segments()
			upper = version.Must(version.NewVersion(fmt.Sprintf("%d.0.0", segs[0]+1)))
		default:
			t.Fatalf("constraint term %q: use >=, <, or ~>", term)
		}
	}
	return lower, upper
}
