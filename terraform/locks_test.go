package terraform

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	version "github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/proctest"
	"github.com/acme/request-dump/internal/repo"
)

const awsProvider = "registry.terraform.io/hashicorp/aws"

// lockHash is a hash of a provider package as lock files record it: h1:
// (a hash of the package's contents, per platform) or zh: (the SHA-256 of
// the zip the registry publishes in its SHA256SUMS).
var lockHash = regexp.MustCompile(`^(h1:[A-Za-z0-9+/]{43}=|zh:[0-9a-f]{64})$`)

// awsConstraints returns the AWS provider constraints of the module or root
// at rel and of every local module it calls, as written.
func awsConstraints(t *testing.T, rel string) []string {
	t.Helper()
	c := load(t, rel)
	var out []string
	for _, b := range c.blocks("terraform") {
		for _, rp := range nested(b.Body, "required_providers") {
			out = append(out, eval(t, attr(t, rp, "aws"), nil).GetAttr("version").AsString())
		}
	}
	for _, m := range c.blocks("module") {
		source := eval(t, attr(t, m.Body, "source"), nil).AsString()
		require.True(t, strings.HasPrefix(source, "../"), "%s: module %s has a local source", rel, m.Labels[0])
		out = append(out, awsConstraints(t, filepath.ToSlash(filepath.Clean(filepath.Join(rel, source))))...)
	}
	return out
}

// canonicalConstraints writes constraints the way Terraform records them
// in a lock file (getproviders.VersionConstraintsString): every term once,
// versions with three parts, ordered by version and then operator.
func canonicalConstraints(t *testing.T, constraints []string) string {
	t.Helper()
	type term struct {
		op string
		v  *version.Version
	}
	ops := []string{"=", "!=", ">", ">=", "<", "<=", "~>"}
	seen := map[string]term{}
	for _, c := range constraints {
		for _, raw := range strings.Split(c, ",") {
			fields := strings.Fields(raw)
			require.Len(t, fields, 2, "constraint term %q", raw)
			require.Contains(t, ops, fields[0])
			segs := version.Must(version.NewVersion(fields[1])).Segments()
			v := version.Must(version.NewVersion(fmt.Sprintf("%d.%d.%d", segs[0], segs[1], segs[2])))
			seen[fields[0]+" "+v.String()] = term{fields[0], v}
		}
	}
	terms := make([]term, 0, len(seen))
	for _, tm := range seen {
		terms = append(terms, tm)
	}
	sort.Slice(terms, func(i, j int) bool {
		if c := terms[i].v.Compare(terms[j].v); c != 0 {
			return c < 0
		}
		return slices.Index(ops, terms[i].op) < slices.Index(ops, terms[j].op)
	})
	var parts []string
	for _, tm := range terms {
		parts = append(parts, tm.op+" "+tm.v.String())
	}
	return strings.Join(parts, ", ")
}

// Every root commits its dependency lock file, so that Atlantis installs
// the provider version and packages recorded there. No provider can be
// downloaded here, so the files' hashes cannot be computed in this test:
// it checks their form, that every root locks the same version with the
// same hashes, within its constraints, recorded as Terraform records them.
// The pull-request workflow regenerates them for every platform with
// `terraform providers lock` (scripts/lock-providers.sh --check) and fails
// on any difference.
func TestEveryRootLocksItsProvider(t *testing.T) {
	var lockedVersion string
	var lockedHashes []string
	for _, rel := range roots {
		t.Run(rel, func(t *testing.T) {
			dir := load(t, rel).dir
			path := filepath.Join(dir, ".terraform.lock.hcl")
			src, err := os.ReadFile(path)
			require.NoError(t, err, "%s commits .terraform.lock.hcl (scripts/lock-providers.sh writes it)", rel)
			f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
			require.False(t, diags.HasErrors(), diags.Error())
			blocks := f.Body.(*hclsyntax.Body).Blocks
			require.Len(t, blocks, 1, "one provider: hashicorp/aws")
			p := blocks[0]
			require.Equal(t, "provider", p.Type)
			require.Equal(t, []string{awsProvider}, p.Labels)

			v := eval(t, attr(t, p.Body, "version"), nil).AsString()
			constraints := awsConstraints(t, rel)
			for _, c := range constraints {
				cs, err := version.NewConstraint(c)
				require.NoError(t, err)
				assert.True(t, cs.Check(version.Must(version.NewVersion(v))), "the locked %s is outside %q", v, c)
			}
			assert.Equal(t, canonicalConstraints(t, constraints), eval(t, attr(t, p.Body, "constraints"), nil).AsString(),
				"the constraints of the root and the modules it calls, as terraform init records them")

			hashes := strs(t, eval(t, attr(t, p.Body, "hashes"), nil))
			require.NotEmpty(t, hashes)
			assert.True(t, slices.IsSorted(hashes), "hashes in Terraform's order")
			for _, h := range hashes {
				assert.Regexp(t, lockHash, h)
			}
			if lockedVersion == "" {
				lockedVersion, lockedHashes = v, hashes
			}
			assert.Equal(t, lockedVersion, v, "every root locks the same provider version")
			assert.Equal(t, lockedHashes, hashes, "and the same packages")
		})
	}
	assert.Equal(t, "[]", fmt.Sprint(nonRootLocks(t)), "lock files belong to roots only: a module's would be ignored")
}

// nonRootLocks returns lock files in the modules' directories.
func nonRootLocks(t *testing.T) []string {
	var out []string
	for _, rel := range modules {
		if _, err := os.Stat(filepath.Join(load(t, rel).dir, ".terraform.lock.hcl")); err == nil {
			out = append(out, rel)
		}
	}
	return out
}

func TestCanonicalConstraints(t *testing.T) {
	assert.Equal(t, ">= 5.32.0, >= 6.0.0, >= 6.27.0, < 7.0.0", canonicalConstraints(t, []string{">= 6.27, < 7.0", ">= 5.32", ">= 6.0", ">= 6.0.0"}))
	assert.Equal(t, ">= 6.27.0, < 7.0.0", canonicalConstraints(t, []string{">= 6.27, < 7.0", ">= 6.27"}))
}

// TestLockProvidersScript runs scripts/lock-providers.sh in a copy of the
// repository's layout with a stand-in terraform (the real one needs the
// registry): it locks every root for the four platforms, and with --check
// fails, showing the difference, when that changed a committed lock file.
func TestLockProvidersScript(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(rel, content string, mode os.FileMode) {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, rel), []byte(content), mode))
	}
	script, err := os.ReadFile(filepath.Join(root, "scripts", "lock-providers.sh"))
	require.NoError(t, err)
	write("scripts/lock-providers.sh", string(script), 0o755)
	write("scripts/tools.sh", "#!/bin/sh\n", 0o755)
	// The stand-in records its arguments; like the real one, providers
	// lock refuses a root whose modules get has not installed; when
	// .complete is missing, it adds a platform's hash to the lock file as
	// a real lock would.
	write(".tools/bin/terraform", `#!/bin/sh
dir=${1#-chdir=}
echo "$*" >> "`+dir+`/.terraform-args"
data=${TF_DATA_DIR:-$dir/.terraform}
if [ "$2" = get ]; then mkdir -p "$data/modules"; exit 0; fi
[ -d "$data/modules" ] || { echo "Error: Module not installed" >&2; exit 1; }
[ -f "`+dir+`/.complete" ] || echo '# h1 of another platform' >> "$dir/.terraform.lock.hcl"
`, 0o755)
	for _, r := range []string{"envs/dev", "envs/prod", "global"} {
		write(r+"/main.tf", "", 0o644)
		write(r+"/.terraform.lock.hcl", "# lock\n", 0o644)
	}
	write(".gitignore", "/.tools/\n/.terraform-args\n/.complete\n.terraform/\n", 0o644)
	run := func(args ...string) (int, string) {
		return proctest.Run(t, dir, nil, "scripts/lock-providers.sh", args...)
	}
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "initial")

	code, out := run("--frobnicate")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "usage: scripts/lock-providers.sh [--check]")

	code, out = run("--check")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "+# h1 of another platform", "the difference is shown")
	assert.Contains(t, out, "the committed lock files differ from what the registry gives")
	args, err := os.ReadFile(filepath.Join(dir, ".terraform-args"))
	require.NoError(t, err)
	for _, r := range []string{"envs/dev", "envs/prod", "global"} {
		assert.NoDirExists(t, filepath.Join(dir, r, ".terraform"), "no data directory left in the root, where it would pass for an initialised one")
		assert.Contains(t, string(args), "-chdir="+r+" get\n-chdir="+r+" providers lock -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_amd64 -platform=darwin_arm64")
	}

	git("commit", "-q", "-am", "complete lock files")
	write(".complete", "", 0o644)
	code, out = run("--check")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "every root's lock file is complete")
}
