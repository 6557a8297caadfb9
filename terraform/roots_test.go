package terraform

import (
	"os"
	"path/filepath"
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
	modules = []string{"terraform/service", "terraform/artifacts", "terraform/github-oidc"}
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

func TestEveryEnvRootIsWiredTheSame(t *testing.T) {
	wantOutputs := []string{"api_url", "artifact_bucket", "candidate_api_url", "function_name", "log_group_name", "region"}
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
			assert.Equal(t, wantOutputs, outputs, "the outputs .local/outputs.json mirrors")

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
				if !ok || len(cells) < 3 {
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
// required_version must accept it, and every module and root must accept
// the same AWS provider versions.
func TestVersionConstraintsAgree(t *testing.T) {
	tf157 := version.Must(version.NewVersion("1.5.7"))
	var providerConstraint string
	for _, rel := range append(append([]string{}, modules...), roots...) {
		t.Run(rel, func(t *testing.T) {
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
			got := aws.GetAttr("version").AsString()
			if providerConstraint == "" {
				providerConstraint = got
			}
			assert.Equal(t, providerConstraint, got, "one AWS provider constraint everywhere")
			c2, err := version.NewConstraint(got)
			require.NoError(t, err)
			for v, ok := range map[string]bool{"5.31.0": false, "5.32.0": true, "5.100.0": true, "6.20.0": true, "7.0.0": false} {
				assert.Equal(t, ok, c2.Check(version.Must(version.NewVersion(v))), "aws %s", v)
			}
		})
	}
}
