package gitops

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/runatlantis/atlantis/server/events/command"
	"github.com/runatlantis/atlantis/server/events/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/acme/request-dump/internal/repo"
)

// deployTeam is the GitHub team (slug) that owns deployments: the one
// .github/CODEOWNERS names, and the only one the server lets apply.
const deployTeam = "platform"

// atlantisFlags returns the names of the Atlantis server's flags, as its
// config file takes them: the mapstructure tags of server.UserConfig in
// the Atlantis module this repository pins. They are read from the
// module's source because importing the server package would build all of
// Atlantis into this test.
func atlantisFlags(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/runatlantis/atlantis").Output()
	require.NoError(t, err, "go list the pinned Atlantis module")
	path := filepath.Join(strings.TrimSpace(string(out)), "server", "user_config.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	require.NoError(t, err)
	var flags []string
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "UserConfig" {
			return true
		}
		for _, field := range ts.Type.(*ast.StructType).Fields.List {
			if field.Tag == nil {
				continue
			}
			tag, err := strconv.Unquote(field.Tag.Value)
			require.NoError(t, err)
			if name := reflect.StructTag(tag).Get("mapstructure"); name != "" {
				flags = append(flags, name)
			}
		}
		return false
	})
	require.Contains(t, flags, "gh-team-allowlist", "%s: UserConfig has the server's flags", path)
	return flags
}

// checkServerConfig holds the server's config file to what this repository
// relies on: keys Atlantis knows (it ignores unknown ones silently), plans
// of the merge with main, no `import` or `state` commands, and, by
// Atlantis's own team allowlist checker, apply (and import and state,
// should they be enabled) for the deploy team only while anyone may plan.
func checkServerConfig(t *testing.T, path string, flags []string) []string {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal(data, &cfg))
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for key := range cfg {
		if !slices.Contains(flags, key) {
			fail("key %q is not an Atlantis server flag: Atlantis would ignore it", key)
		}
	}
	str := func(key string) string {
		v, _ := cfg[key].(string)
		return v
	}
	if got := str("checkout-strategy"); got != "merge" {
		fail("checkout-strategy is %q, want merge: the undiverged apply requirement compares the plan's merge with main", got)
	}
	if !strings.HasSuffix(str("repo-config"), "repos.yaml") {
		fail("repo-config %q is not the server-side repos.yaml", str("repo-config"))
	}

	var allowed []command.Name
	for _, name := range strings.Split(str("allow-commands"), ",") {
		if name == "all" {
			fail("allow-commands has all, which enables import and state")
			continue
		}
		c, err := command.ParseCommandName(strings.TrimSpace(name))
		if err != nil {
			fail("allow-commands: %v", err)
			continue
		}
		allowed = append(allowed, c)
	}
	for _, c := range []command.Name{command.Plan, command.Apply} {
		if !slices.Contains(allowed, c) {
			fail("allow-commands lacks %s", c)
		}
	}
	for _, c := range []command.Name{command.Import, command.State} {
		if slices.Contains(allowed, c) {
			fail("allow-commands enables %s: `atlantis %s` changes state, and state rm has no requirement check; do it by hand (docs/runbook.md)", c, c)
		}
	}

	checker, err := command.NewTeamAllowlistChecker(str("gh-team-allowlist"))
	require.NoError(t, err)
	if !checker.HasRules() {
		fail("gh-team-allowlist is empty: any team may apply")
		return problems
	}
	ctx := models.TeamAllowlistCheckerContext{}
	for _, c := range []string{"plan", "unlock"} {
		if !checker.IsCommandAllowedForAnyTeam(ctx, []string{"developers"}, c) || !checker.IsCommandAllowedForAnyTeam(ctx, nil, c) {
			fail("gh-team-allowlist does not let every user %s", c)
		}
	}
	for _, c := range []string{"apply", "import", "state"} {
		if !checker.IsCommandAllowedForTeam(ctx, deployTeam, c) {
			fail("gh-team-allowlist does not let %s %s", deployTeam, c)
		}
		for _, teams := range [][]string{{"developers"}, nil} {
			if checker.IsCommandAllowedForAnyTeam(ctx, teams, c) {
				fail("gh-team-allowlist lets %v %s: only %s may", teams, c, deployTeam)
			}
		}
	}
	return problems
}

func TestAtlantisServerConfig(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	flags := atlantisFlags(t)
	assert.Empty(t, checkServerConfig(t, filepath.Join(root, "atlantis", "server.yaml"), flags))

	codeowners, err := os.ReadFile(filepath.Join(root, ".github", "CODEOWNERS"))
	require.NoError(t, err)
	assert.Contains(t, string(codeowners), "@acme/"+deployTeam, "the team that may apply is the one that owns the code")
}

// TestAtlantisServerConfigChecksCanFail runs the checks on server configs
// broken in one way each.
func TestAtlantisServerConfigChecksCanFail(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	flags := atlantisFlags(t)
	good, err := os.ReadFile(filepath.Join(root, "atlantis", "server.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"misspelt key", "gh-team-allowlist:", "gh-teams-allowlist:", `key "gh-teams-allowlist" is not an Atlantis server flag`},
		{"state enabled", "allow-commands: version,", "allow-commands: state,version,", "allow-commands enables state"},
		{"everything enabled", "allow-commands: version,", "allow-commands: all,version,", "allow-commands has all"},
		{"anyone applies", "platform:apply", "*:apply", "lets [developers] apply: only platform may"},
		{"no allowlist", `gh-team-allowlist: "`, `gh-team-allowlist: "" # "`, "gh-team-allowlist is empty"},
		{"branch checkout", "checkout-strategy: merge", "checkout-strategy: branch", `checkout-strategy is "branch", want merge`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, string(good), tc.old)
			path := filepath.Join(t.TempDir(), "server.yaml")
			require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(good), tc.old, tc.new, 1)), 0o644))
			assert.Contains(t, strings.Join(checkServerConfig(t, path, flags), "\n"), tc.want)
		})
	}
}

// TestCodeownersHasADefaultOwner: with code-owner reviews required, a path
// no rule matches needs no owner's approval, so the first rule (the last
// matching one wins) gives every path an owner; and every other rule names
// a path that exists, so none is silently dead.
func TestCodeownersHasADefaultOwner(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(root, ".github", "CODEOWNERS"))
	require.NoError(t, err)
	var rules [][]string
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) > 0 && !strings.HasPrefix(fields[0], "#") {
			rules = append(rules, fields)
		}
	}
	require.NotEmpty(t, rules)
	assert.Equal(t, "*", rules[0][0], "the first rule is the default owner of every path")
	for _, r := range rules {
		require.Greater(t, len(r), 1, "rule %q names an owner", r[0])
		for _, owner := range r[1:] {
			assert.Regexp(t, `^@[A-Za-z0-9-]+(/[A-Za-z0-9_.-]+)?$`, owner, "rule %q", r[0])
		}
		if r[0] != "*" {
			_, err := os.Stat(filepath.Join(root, strings.Trim(r[0], "/")))
			assert.NoError(t, err, "rule %q names a path that does not exist", r[0])
		}
	}
}
