package gitops

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/acme/request-dump/internal/repo"
)

var (
	// pinnedUses is owner/repo[/path]@<full commit SHA>.
	pinnedUses = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$`)
	// versionComment is the tag the SHA was taken from, for reviewers and
	// Dependabot: "# v5.0.0".
	versionComment = regexp.MustCompile(`^#\s*v\d+(\.\d+)*\b`)
	scriptRef      = regexp.MustCompile(`(?:^|[\s"'(])(scripts/[A-Za-z0-9_-]+\.sh)\b`)
)

const awsCredentialsAction = "aws-actions/configure-aws-credentials@"

// node24Major is, for every action the workflows may use, the first major
// version that runs on Node.js 24: GitHub's runners are dropping Node.js 20
// (github.blog changelog, 2025-09-19), and an action on it stops running.
// From each action's release notes: checkout v5.0.0, setup-go v6.0.0 ("Upgrade
// Nodejs runtime from node20 to node 24"), cache v5.0.0 ("runs on the Node.js
// 24 runtime"), configure-aws-credentials v6 (v5 still runs node20),
// create-github-app-token v3.0.0 ("node 24 support"). An action that is not
// listed must be checked and added before a workflow may use it.
var node24Major = map[string]int{
	"actions/checkout":                      5,
	"actions/setup-go":                      6,
	"actions/cache":                         5,
	"aws-actions/configure-aws-credentials": 6,
	"actions/create-github-app-token":       3,
}

// mapping returns the value of key in the YAML mapping n, or nil.
func mapping(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// checkWorkflowFile holds one workflow to this repository's rules:
//   - the workflow grants no permissions (permissions: {}) and every job
//     names its own;
//   - every action is pinned to a full commit SHA with a "# vX.Y.Z" comment;
//   - id-token: write appears only in jobs that reach AWS (those that use
//     configure-aws-credentials), and each of those has it, runs in a GitHub
//     environment (the OIDC role trusts repo:ORG/REPO:environment:<env>) and
//     belongs to a concurrency group;
//   - in a workflow that pull requests trigger, every concurrency group
//     names the pull request (GitHub keeps one running and one pending job
//     per group and cancels the pending one when a third arrives, so a
//     group shared by all pull requests silently drops another pull
//     request's upload);
//   - run steps call a script in scripts/ (which exists and is executable)
//     or one of targets, the make targets the Makefile defines (read once
//     per test with makeTargets), and take values through env:, never ${{ }}
//     in the script.
func checkWorkflowFile(root string, targets []string, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) != 1 {
		return fmt.Errorf("%s: not a YAML document", path)
	}
	top := doc.Content[0]
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{filepath.Base(path)}, args...)...))
	}

	if p := mapping(top, "permissions"); p == nil || p.Kind != yaml.MappingNode || len(p.Content) != 0 {
		fail("the workflow must grant nothing (permissions: {}); each job names what it needs")
	}
	workflowConcurrency := mapping(top, "concurrency") != nil
	pullRequests := triggeredByPullRequests(mapping(top, "on"))
	if pullRequests {
		if err := checkPerPullRequest(mapping(top, "concurrency")); err != nil {
			fail("workflow %v", err)
		}
	}

	jobs := mapping(top, "jobs")
	if jobs == nil || jobs.Kind != yaml.MappingNode {
		fail("no jobs")
		return errors.Join(errs...)
	}
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		name, job := jobs.Content[i].Value, jobs.Content[i+1]
		perms := mapping(job, "permissions")
		idToken := false
		switch {
		case perms == nil:
			fail("job %s: no permissions block; name what the job needs (contents: read at least)", name)
		case perms.Kind != yaml.MappingNode:
			fail("job %s: permissions %q grants everything of a kind; list each scope", name, perms.Value)
		default:
			for j := 0; j+1 < len(perms.Content); j += 2 {
				scope, level := perms.Content[j].Value, perms.Content[j+1].Value
				if !slices.Contains([]string{"read", "write", "none"}, level) {
					fail("job %s: permission %s: %q is not read, write or none", name, scope, level)
				}
				idToken = idToken || scope == "id-token" && level == "write"
			}
		}

		if pullRequests {
			if err := checkPerPullRequest(mapping(job, "concurrency")); err != nil {
				fail("job %s: %v", name, err)
			}
		}

		reachesAWS := false
		if uses := mapping(job, "uses"); uses != nil {
			if err := checkUses(uses); err != nil {
				fail("job %s: %v", name, err)
			}
			// A job that calls a workflow of this repository reaches AWS
			// when a job of that workflow does; the called workflow's own
			// check holds those jobs to the environment and concurrency
			// rules.
			if local, ok := strings.CutPrefix(uses.Value, "./"); ok {
				aws, err := reachesAWSIn(filepath.Join(root, local))
				if err != nil {
					fail("job %s: %v", name, err)
				}
				reachesAWS = aws
			}
		}
		steps := mapping(job, "steps")
		if steps != nil {
			for k, step := range steps.Content {
				where := fmt.Sprintf("job %s, step %d", name, k+1)
				if uses := mapping(step, "uses"); uses != nil {
					if err := checkUses(uses); err != nil {
						fail("%s: %v", where, err)
					}
					reachesAWS = reachesAWS || strings.HasPrefix(uses.Value, awsCredentialsAction)
				}
				if run := mapping(step, "run"); run != nil {
					if err := checkRun(root, targets, run.Value); err != nil {
						fail("%s: %v", where, err)
					}
				}
			}
		}
		if reachesAWS && mapping(job, "uses") != nil {
			if !idToken {
				fail("job %s: calls %s, which reaches AWS, without id-token: write; CI uses OIDC roles, never stored keys", name, mapping(job, "uses").Value)
			}
			continue
		}
		switch {
		case idToken && !reachesAWS:
			fail("job %s: id-token: write, but the job does not reach AWS (no %s step); drop it", name, strings.TrimSuffix(awsCredentialsAction, "@"))
		case reachesAWS && !idToken:
			fail("job %s: reaches AWS without id-token: write; CI uses OIDC roles, never stored keys", name)
		}
		if reachesAWS {
			if mapping(job, "environment") == nil {
				fail("job %s: reaches AWS outside a GitHub environment; the OIDC role trusts only repo:ORG/REPO:environment:<env>", name)
			}
			if mapping(job, "concurrency") == nil && !workflowConcurrency {
				fail("job %s: reaches AWS without a concurrency group; two runs could write the same env at once", name)
			}
		}
	}
	return errors.Join(errs...)
}

// reachesAWSIn reports whether a job of the workflow at path, or of a
// workflow of this repository it calls, uses configure-aws-credentials.
func reachesAWSIn(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("the called workflow: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
		return false, fmt.Errorf("%s: not a YAML document", path)
	}
	jobs := mapping(doc.Content[0], "jobs")
	if jobs == nil {
		return false, nil
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(path)))
	for i := 1; i < len(jobs.Content); i += 2 {
		job := jobs.Content[i]
		if uses := mapping(job, "uses"); uses != nil {
			if local, ok := strings.CutPrefix(uses.Value, "./"); ok && filepath.Join(root, local) != path {
				if aws, err := reachesAWSIn(filepath.Join(root, local)); err != nil || aws {
					return aws, err
				}
			}
		}
		if steps := mapping(job, "steps"); steps != nil {
			for _, step := range steps.Content {
				if uses := mapping(step, "uses"); uses != nil && strings.HasPrefix(uses.Value, awsCredentialsAction) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// triggeredByPullRequests reports whether the workflow's on: (a name, a
// list of names or a mapping) includes pull_request or pull_request_target.
func triggeredByPullRequests(on *yaml.Node) bool {
	if on == nil {
		return false
	}
	var events []string
	switch on.Kind {
	case yaml.ScalarNode:
		events = []string{on.Value}
	case yaml.SequenceNode:
		for _, n := range on.Content {
			events = append(events, n.Value)
		}
	case yaml.MappingNode:
		for i := 0; i < len(on.Content); i += 2 {
			events = append(events, on.Content[i].Value)
		}
	}
	return slices.Contains(events, "pull_request") || slices.Contains(events, "pull_request_target")
}

// prKeys are the expressions that tell one pull request's runs from another's.
var prKeys = []string{"github.event.pull_request.number", "github.head_ref", "github.ref"}

// checkPerPullRequest accepts no concurrency, or a group whose name
// includes one of prKeys.
func checkPerPullRequest(c *yaml.Node) error {
	if c == nil {
		return nil
	}
	group := c.Value
	if g := mapping(c, "group"); g != nil {
		group = g.Value
	}
	for _, k := range prKeys {
		if strings.Contains(group, k) {
			return nil
		}
	}
	return fmt.Errorf("concurrency group %q is shared by every pull request: GitHub cancels a pending job of the group when a third one queues, so another pull request's job is dropped; key the group by the pull request, e.g. %s-${{ github.event.pull_request.number || github.ref }}", group, group)
}

func checkUses(n *yaml.Node) error {
	ref := n.Value
	if strings.HasPrefix(ref, "./") {
		return nil
	}
	if !pinnedUses.MatchString(ref) {
		return fmt.Errorf("uses %q is not pinned to a full 40-hex commit SHA (owner/repo@<sha> # vX.Y.Z)", ref)
	}
	comment := strings.TrimSpace(n.LineComment)
	if !versionComment.MatchString(comment) {
		return fmt.Errorf("uses %q has no version comment (# vX.Y.Z) naming the tag the SHA came from", ref)
	}
	action, _, _ := strings.Cut(ref, "@")
	if parts := strings.Split(action, "/"); len(parts) > 2 {
		action = parts[0] + "/" + parts[1]
	}
	first, ok := node24Major[action]
	if !ok {
		return fmt.Errorf("uses %q: %s is not in node24Major; check which release of it runs on Node.js 24 and add it", ref, action)
	}
	major, _ := strconv.Atoi(strings.TrimPrefix(strings.FieldsFunc(comment, func(r rune) bool { return r == '.' || r == ' ' || r == '#' })[0], "v"))
	if major < first {
		return fmt.Errorf("uses %q (%s) runs on Node.js 20, which GitHub's runners no longer run: use %s v%d or later, pinned by SHA", ref, comment, action, first)
	}
	return nil
}

func checkRun(root string, targets []string, script string) error {
	if strings.Contains(script, "${{") {
		return fmt.Errorf("run step uses ${{ }}; pass values through env: so they are never parsed as shell")
	}
	refs := scriptRef.FindAllStringSubmatch(script, -1)
	target, viaMake := strings.CutPrefix(strings.TrimSpace(script), "make ")
	if len(refs) == 0 && !viaMake {
		return fmt.Errorf("run step %q calls neither scripts/ nor make; put the logic in a script a developer can run locally", strings.TrimSpace(script))
	}
	if viaMake {
		for _, t := range strings.Fields(target) {
			// NAME=value sets a make variable (make smoke ENV=stg).
			if !strings.Contains(t, "=") && !slices.Contains(targets, t) {
				return fmt.Errorf("run step calls make %s, which the Makefile does not define (targets: %s)", t, strings.Join(targets, ", "))
			}
		}
	}
	for _, r := range refs {
		st, err := os.Stat(filepath.Join(root, r[1]))
		if err != nil {
			return fmt.Errorf("run step calls %s, which does not exist", r[1])
		}
		if st.Mode()&0o111 == 0 {
			return fmt.Errorf("run step calls %s, which is not executable", r[1])
		}
	}
	return nil
}

// makeTarget is a rule of the Makefile: "name: ..." at the start of a line.
var makeTarget = regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`)

// makeTargets returns the targets the repository's Makefile defines.
func makeTargets(root string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return nil, err
	}
	var targets []string
	for _, m := range makeTarget.FindAllStringSubmatch(string(data), -1) {
		targets = append(targets, m[1])
	}
	return targets, nil
}

func TestWorkflowsOfThisRepository(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	targets, err := makeTargets(root)
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			assert.NoError(t, checkWorkflowFile(root, targets, f))
		})
	}
}

// TestWorkflowRulesCanFail runs the rules on workflows broken in one way
// each; the first line of each file says what the check must report.
func TestWorkflowRulesCanFail(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	targets, err := makeTargets(root)
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join("testdata", "workflows", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := firstLine(t, f)
			require.True(t, strings.HasPrefix(want, "# want: "), "%s must start with '# want: <error text>'", f)
			err := checkWorkflowFile(root, targets, f)
			require.Error(t, err)
			assert.Contains(t, err.Error(), strings.TrimPrefix(want, "# want: "))
		})
	}
}

func firstLine(t *testing.T, path string) string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s := bufio.NewScanner(f)
	require.True(t, s.Scan())
	return s.Text()
}

// TestPromotionPullRequestsUseAnAppToken: a pull request opened, or a
// branch pushed, with a workflow's own GITHUB_TOKEN starts no workflow run,
// so its checks never satisfy branch protection or Atlantis's mergeable,
// and a dispatched run does not count either. The promotion pull request is
// opened with a GitHub App's installation token, the workflow's own token
// only reads, and nothing dispatches the pull request workflow.
func TestPromotionPullRequestsUseAnAppToken(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	doc := workflow(t, filepath.Join(root, ".github", "workflows", "promote-pair.yml"))
	job := mapping(mapping(doc, "jobs"), "pull-request")
	require.NotNil(t, job, "promote-pair.yml has a pull-request job")
	perms := mapping(job, "permissions")
	for i := 0; i+1 < len(perms.Content); i += 2 {
		assert.Equal(t, "read", perms.Content[i+1].Value, "the workflow token's %s: the App's token writes", perms.Content[i].Value)
	}

	tokenStep := ""
	var checkoutToken, ghToken string
	for _, step := range mapping(job, "steps").Content {
		uses := mapping(step, "uses")
		switch {
		case uses != nil && strings.HasPrefix(uses.Value, "actions/create-github-app-token@"):
			tokenStep = mapping(step, "id").Value
			with := mapping(step, "with")
			assert.Equal(t, "write", mapping(with, "permission-contents").Value, "the App token pushes the promotion branch")
			assert.Equal(t, "write", mapping(with, "permission-pull-requests").Value, "the App token opens and closes pull requests")
			for i := 0; i < len(with.Content); i += 2 {
				if k := with.Content[i].Value; strings.HasPrefix(k, "permission-") {
					assert.Contains(t, []string{"permission-contents", "permission-pull-requests"}, k, "the App token asks for no more than it needs")
				}
			}
		case uses != nil && strings.HasPrefix(uses.Value, "actions/checkout@"):
			checkoutToken = mapping(mapping(step, "with"), "token").Value
		case mapping(step, "run") != nil && strings.Contains(mapping(step, "run").Value, "scripts/open-promotion-pr.sh"):
			ghToken = mapping(mapping(step, "env"), "GH_TOKEN").Value
		}
	}
	require.NotEmpty(t, tokenStep, "the job makes an App token with actions/create-github-app-token")
	want := "${{ steps." + tokenStep + ".outputs.token }}"
	assert.Equal(t, want, checkoutToken, "the branch is pushed with the App's token")
	assert.Equal(t, want, ghToken, "gh opens the pull request with the App's token")

	pr := workflow(t, filepath.Join(root, ".github", "workflows", "pull-request.yml"))
	assert.Nil(t, mapping(mapping(pr, "on"), "workflow_dispatch"), "dispatched runs do not count as the pull request's checks")
	script, err := os.ReadFile(filepath.Join(root, "scripts", "open-promotion-pr.sh"))
	require.NoError(t, err)
	assert.NotContains(t, string(script), "gh workflow run", "the App's pull request starts its checks itself")
}

func workflow(t *testing.T, path string) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &doc))
	require.Len(t, doc.Content, 1)
	return doc.Content[0]
}

// TestDependabotCoversEveryRoot: Dependabot keeps the actions, the Go
// modules and every Terraform root's provider (its constraint and lock
// file) current; a root it does not list would keep its provider forever.
func TestDependabotCoversEveryRoot(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(root, ".github", "dependabot.yml"))
	require.NoError(t, err)
	var cfg struct {
		Version int `yaml:"version"`
		Updates []struct {
			Ecosystem   string   `yaml:"package-ecosystem"`
			Directory   string   `yaml:"directory"`
			Directories []string `yaml:"directories"`
		} `yaml:"updates"`
	}
	require.NoError(t, yaml.Unmarshal(data, &cfg))
	assert.Equal(t, 2, cfg.Version)
	dirs := map[string][]string{}
	for _, u := range cfg.Updates {
		if u.Directory != "" {
			dirs[u.Ecosystem] = append(dirs[u.Ecosystem], u.Directory)
		}
		dirs[u.Ecosystem] = append(dirs[u.Ecosystem], u.Directories...)
	}
	assert.Equal(t, []string{"/"}, dirs["github-actions"])
	assert.Equal(t, []string{"/"}, dirs["gomod"])
	roots, _, err := terraformDirs(root)
	require.NoError(t, err)
	var want []string
	for _, r := range roots {
		want = append(want, "/"+r)
	}
	assert.ElementsMatch(t, want, dirs["terraform"], "Dependabot's terraform ecosystem lists every root (where the lock files are)")
}
