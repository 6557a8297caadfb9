package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/runatlantis/atlantis/server/core/config"
	"github.com/runatlantis/atlantis/server/core/config/valid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"

	"github.com/acme/request-dump/internal/proctest"
	"github.com/acme/request-dump/internal/repo"
)

var (
	// pinnedImage is an image by digest, or by an exact version tag (no
	// "latest", no bare major or minor).
	pinnedImage = regexp.MustCompile(`^[a-z0-9.-]+(/[a-z0-9._-]+)*(:v?[0-9]+\.[0-9]+\.[0-9]+([-.][A-Za-z0-9.]+)?)?(@sha256:[0-9a-f]{64})?$`)
	imageRef    = regexp.MustCompile(`^([^:@]+)(?::([^@]+))?(?:@(sha256:[0-9a-f]{64}))?$`)
	// conftestInstall is the go install of conftest in a build stage.
	conftestInstall = regexp.MustCompile(`go install (?:-\S+ )*github\.com/open-policy-agent/conftest@(v\S+)`)
)

// dockerImage is atlantis/Dockerfile as BuildKit reads it, with the
// Dockerfile-specific ignore file that selects its build context.
type dockerImage struct {
	stages []instructions.Stage
	ignore *patternmatcher.PatternMatcher
}

// parseImage parses a Dockerfile with BuildKit's own parser and its
// parse-time lint rules; any parser warning or lint finding is an error.
func parseImage(dockerfile, ignoreFile string) (dockerImage, error) {
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		return dockerImage{}, err
	}
	ast, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return dockerImage{}, fmt.Errorf("%s: %w", dockerfile, err)
	}
	var findings []error
	for _, w := range ast.Warnings {
		findings = append(findings, fmt.Errorf("%s: %s", dockerfile, w.Short))
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		findings = append(findings, fmt.Errorf("%s:%d: %s: %s", dockerfile, line, rule, msg))
	}})
	stages, _, err := instructions.Parse(ast.AST, lint)
	if err != nil {
		return dockerImage{}, fmt.Errorf("%s: %w", dockerfile, err)
	}
	if len(findings) > 0 {
		return dockerImage{}, errors.Join(findings...)
	}
	f, err := os.Open(ignoreFile)
	if err != nil {
		return dockerImage{}, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return dockerImage{}, err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return dockerImage{}, err
	}
	return dockerImage{stages: stages, ignore: pm}, nil
}

// stage returns the named stage.
func (img dockerImage) stage(name string) (instructions.Stage, bool) {
	for _, s := range img.stages {
		if s.Name == name {
			return s, true
		}
	}
	return instructions.Stage{}, false
}

// checkImage holds atlantis/Dockerfile to what the server needs and nothing
// more:
//   - every base image is pinned (digest or exact version);
//   - the final stage is the Atlantis release whose parser go.mod pins, and
//     only copies files, sets the environment and the user (atlantis);
//   - it adds the Go toolchain of go.mod's toolchain line, on PATH;
//   - conftest built at scripts/tools.sh's pin, installed as
//     conftest<conftest_version of repos.yaml>, the name Atlantis runs;
//   - repos.yaml as the server's --repo-config, policy checks on, and each
//     policy set of repos.yaml at its path with lib/ inside it;
//   - every file copied from the context is in it
//     (atlantis/Dockerfile.dockerignore does not exclude it).
func checkImage(root, dockerfile, ignoreFile, globalCfgFile string) error {
	img, err := parseImage(dockerfile, ignoreFile)
	if err != nil {
		return err
	}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return err
	}
	mod, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		return err
	}
	goVersion := mod.Go.Version
	if mod.Toolchain != nil {
		goVersion = strings.TrimPrefix(mod.Toolchain.Name, "go")
	}
	var atlantisVersion string
	for _, r := range mod.Require {
		if r.Mod.Path == "github.com/runatlantis/atlantis" {
			atlantisVersion = r.Mod.Version
		}
	}
	conftestPin, err := toolPin(root, "conftest")
	if err != nil {
		return err
	}
	var p config.ParserValidator
	global, err := p.ParseGlobalCfg(globalCfgFile, valid.NewGlobalCfgFromArgs(valid.GlobalCfgArgs{PolicyCheckEnabled: true}))
	if err != nil {
		return err
	}

	for _, s := range img.stages {
		if _, isStage := img.stage(s.BaseName); isStage {
			continue
		}
		if !pinnedImage.MatchString(s.BaseName) || !strings.ContainsAny(s.BaseName, ":@") {
			fail("FROM %s is not pinned: name an exact version tag or a sha256 digest", s.BaseName)
		}
	}

	final := img.stages[len(img.stages)-1]
	ref := imageRef.FindStringSubmatch(final.BaseName)
	if ref == nil || ref[1] != "ghcr.io/runatlantis/atlantis" || ref[2] != atlantisVersion {
		fail("the final stage is FROM %s, want ghcr.io/runatlantis/atlantis:%s, the release whose parser go.mod pins (github.com/runatlantis/atlantis %s)", final.BaseName, atlantisVersion, atlantisVersion)
	}

	var goStage string
	for _, s := range img.stages {
		if m := imageRef.FindStringSubmatch(s.BaseName); m != nil && m[1] == "golang" {
			if m[2] != goVersion+"-alpine" {
				fail("stage %s is FROM %s, want golang:%s-alpine: go.mod pins go%s, and the Atlantis image is Alpine", s.Name, s.BaseName, goVersion, goVersion)
			}
			goStage = s.Name
		}
	}

	env := map[string]string{}
	var user string
	copies := map[string][]string{} // destination → "<from>:<source>"
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.CopyCommand:
			for _, src := range c.SourcePaths {
				copies[c.DestPath] = append(copies[c.DestPath], c.From+":"+src)
				if c.From == "" {
					if err := img.inContext(root, src); err != nil {
						fail("COPY %s: %w", src, err)
					}
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.UserCommand:
			user = c.User
		default:
			fail("the final stage runs %q: it may only copy Go, conftest and the config onto the Atlantis image (build in an earlier stage instead)", c.(fmt.Stringer).String())
		}
	}
	if user != "atlantis" {
		fail("the image runs as %q; end with USER atlantis, the stock image's unprivileged user", user)
	}

	if goStage == "" || !slices.Contains(copies["/usr/local/go"], goStage+":/usr/local/go") {
		fail("the final stage does not copy /usr/local/go from a golang:%s-alpine stage", goVersion)
	}
	if !strings.HasPrefix(env["PATH"], "/usr/local/go/bin:") {
		fail("PATH is %q; put /usr/local/go/bin first, where scripts/smoke.sh finds go", env["PATH"])
	}

	conftestName := "conftest"
	if global.PolicySets.Version != nil {
		conftestName += global.PolicySets.Version.Original()
	}
	var built string
	for _, s := range img.stages {
		for _, c := range s.Commands {
			if r, ok := c.(*instructions.RunCommand); ok {
				if m := conftestInstall.FindStringSubmatch(strings.Join(r.CmdLine, " ")); m != nil {
					built = s.Name
					if m[1] != conftestPin {
						fail("stage %s installs conftest %s, but scripts/tools.sh pins %s (what make test checks the policies with)", s.Name, m[1], conftestPin)
					}
				}
			}
		}
	}
	installed := copies["/usr/local/bin/"+conftestName]
	if built == "" || len(installed) != 1 || !strings.HasPrefix(installed[0], built+":") {
		fail("conftest is not installed as /usr/local/bin/%s from the stage that builds it: Atlantis runs the conftest_version of repos.yaml by that name, and downloads one otherwise", conftestName)
	}

	// The server's config files, from the commit the image is built from:
	// the repo config, the flags (ATLANTIS_CONFIG is --config) and the AWS
	// profiles each workflow stage picks.
	for _, file := range []string{"repos.yaml", "server.yaml", "aws-config"} {
		if !slices.Contains(copies["/etc/atlantis/"+file], ":atlantis/"+file) {
			fail("atlantis/%s is not copied to /etc/atlantis/%s", file, file)
		}
	}
	for key, want := range map[string]string{
		"ATLANTIS_REPO_CONFIG":          "/etc/atlantis/repos.yaml",
		"ATLANTIS_CONFIG":               "/etc/atlantis/server.yaml",
		"AWS_CONFIG_FILE":               "/etc/atlantis/aws-config",
		"ATLANTIS_ENABLE_POLICY_CHECKS": "true",
	} {
		if env[key] != want {
			fail("ENV %s is %q, want %q", key, env[key], want)
		}
	}
	for _, set := range global.PolicySets.PolicySets {
		for dest, src := range map[string]string{set.Path + "/": "policies/" + set.Name + "/", set.Path + "/lib/": "policies/lib/"} {
			if !slices.Contains(copies[dest], ":"+src) {
				fail("policy set %s: %s is not copied to %s (conftest reads the set from that path)", set.Name, src, dest)
			}
		}
	}
	return errors.Join(errs...)
}

// inContext checks that a COPY source of the context is there: the ignore
// file keeps it (or, for a directory, at least its .rego and .yaml files).
func (img dockerImage) inContext(root, src string) error {
	src = strings.TrimSuffix(path.Clean(src), "/")
	st, err := os.Stat(filepath.Join(root, src))
	if err != nil {
		return err
	}
	var kept int
	check := func(rel string) error {
		excluded, err := img.ignore.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if excluded {
			return fmt.Errorf("%s is excluded by atlantis/Dockerfile.dockerignore", rel)
		}
		kept++
		return nil
	}
	if !st.IsDir() {
		return check(src)
	}
	err = filepath.WalkDir(filepath.Join(root, src), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(rel, ".rego") {
			return check(filepath.ToSlash(rel))
		}
		return nil
	})
	if err == nil && kept == 0 {
		err = fmt.Errorf("nothing of %s is in the build context", src)
	}
	return err
}

func TestAtlantisImage(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	assert.NoError(t, checkImage(root, filepath.Join(root, "atlantis", "Dockerfile"), filepath.Join(root, "atlantis", "Dockerfile.dockerignore"), filepath.Join(root, "atlantis", "repos.yaml")))
}

// TestAtlantisImageChecksCanFail runs checkImage on the shipped Dockerfile
// (and ignore file) broken in one way each.
func TestAtlantisImageChecksCanFail(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	dockerfile, err := os.ReadFile(filepath.Join(root, "atlantis", "Dockerfile"))
	require.NoError(t, err)
	ignore, err := os.ReadFile(filepath.Join(root, "atlantis", "Dockerfile.dockerignore"))
	require.NoError(t, err)

	tests := []struct {
		name     string
		old, new string
		inIgnore bool
		want     string
	}{
		{"floating Atlantis tag", "FROM ghcr.io/runatlantis/atlantis:v0.35.1\n", "FROM ghcr.io/runatlantis/atlantis:latest\n", false, "FROM ghcr.io/runatlantis/atlantis:latest is not pinned"},
		{"another Atlantis release", "atlantis:v0.35.1\n", "atlantis:v0.34.0\n", false, "want ghcr.io/runatlantis/atlantis:v0.35.1, the release whose parser go.mod pins"},
		{"another Go", "FROM golang:1.26.8-alpine AS go", "FROM golang:1.25.3-alpine AS go", false, "want golang:1.26.8-alpine: go.mod pins go1.26.8"},
		{"Go not copied", "COPY --from=go /usr/local/go /usr/local/go\n", "", false, "does not copy /usr/local/go"},
		{"Go not on PATH", "ENV PATH=/usr/local/go/bin:$PATH", "ENV PATH=$PATH:/usr/local/go/bin", false, "put /usr/local/go/bin first"},
		{"something else in the image", "USER atlantis\n", "RUN apk add --no-cache python3\nUSER atlantis\n", false, `the final stage runs "RUN apk add --no-cache python3"`},
		{"root", "USER atlantis\n", "USER root\n", false, `the image runs as "root"`},
		{"conftest of another version", "conftest@v0.71.1", "conftest@v0.70.0", false, "installs conftest v0.70.0, but scripts/tools.sh pins v0.71.1"},
		{"conftest under its plain name", "/usr/local/bin/conftest0.71.1", "/usr/local/bin/conftest", false, "conftest is not installed as /usr/local/bin/conftest0.71.1"},
		{"policy set without lib", "COPY policies/lib/ /etc/atlantis/policies/prod-destroy/lib/\n", "", false, "policy set prod-destroy: policies/lib/ is not copied to /etc/atlantis/policies/prod-destroy/lib/"},
		{"policy checks off", "ATLANTIS_ENABLE_POLICY_CHECKS=true", "ATLANTIS_ENABLE_POLICY_CHECKS=false", false, `ENV ATLANTIS_ENABLE_POLICY_CHECKS is "false", want "true"`},
		{"lint finding", "FROM go AS conftest", "FROM go as conftest", false, "FromAsCasing"},
		{"repos.yaml outside the context", "!atlantis/repos.yaml\n", "", true, "atlantis/repos.yaml is excluded by atlantis/Dockerfile.dockerignore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := dockerfile
			if tt.inIgnore {
				src = ignore
			}
			require.Equal(t, 1, bytes.Count(src, []byte(tt.old)), "%q occurs once", tt.old)
			broken := bytes.Replace(src, []byte(tt.old), []byte(tt.new), 1)
			dir := t.TempDir()
			d, i := filepath.Join(dir, "Dockerfile"), filepath.Join(dir, "Dockerfile.dockerignore")
			require.NoError(t, os.WriteFile(d, dockerfile, 0o644))
			require.NoError(t, os.WriteFile(i, ignore, 0o644))
			if tt.inIgnore {
				require.NoError(t, os.WriteFile(i, broken, 0o644))
			} else {
				require.NoError(t, os.WriteFile(d, broken, 0o644))
			}
			err := checkImage(root, d, i, filepath.Join(root, "atlantis", "repos.yaml"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestAtlantisImageScript runs scripts/atlantis-image.sh with a stand-in
// docker that records its arguments.
func TestAtlantisImageScript(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	dir := t.TempDir()
	log := filepath.Join(dir, "docker.log")
	docker := filepath.Join(dir, "docker")
	require.NoError(t, os.WriteFile(docker, []byte(`#!/bin/sh
echo "$*" >> "`+log+`"
case $1 in
login) read -r password; echo "password $password" >> "`+log+`" ;;
inspect) echo "ghcr.io/acme/request-dump-atlantis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" ;;
esac
`), 0o755))
	commit, err := exec.Command("git", "-C", root, "rev-parse", "--short=12", "HEAD").Output()
	require.NoError(t, err)
	tag := "sha-" + strings.TrimSpace(string(commit))

	run := func(env []string, args ...string) (int, string) {
		env = append(os.Environ(), append([]string{"DOCKER=" + docker, "GITHUB_REPOSITORY=", "ATLANTIS_IMAGE=", "GH_TOKEN=", "GITHUB_ACTOR="}, env...)...)
		return proctest.Run(t, root, env, filepath.Join(root, "scripts", "atlantis-image.sh"), args...)
	}
	calls := func() []string {
		data, _ := os.ReadFile(log)
		os.Remove(log)
		return strings.Split(strings.TrimSpace(string(data)), "\n")
	}

	code, out := run(nil, "--publish")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "unknown argument '--publish'")
	code, out = run([]string{"DOCKER=" + filepath.Join(dir, "no-docker")})
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "not found: install Docker")
	code, out = run(nil, "--push")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "--push needs a registry in the image name")
	calls()

	code, out = run(nil)
	require.Equal(t, 0, code, out)
	got := calls()
	require.Len(t, got, 1, "a build and nothing else: %v", got)
	assert.True(t, strings.HasPrefix(got[0], "build --file atlantis/Dockerfile --tag request-dump-atlantis:"+tag+" --tag request-dump-atlantis:main --label org.opencontainers.image.revision="), got[0])
	assert.True(t, strings.HasSuffix(got[0], " ."), "the context is the repository root: %s", got[0])

	code, out = run([]string{"GITHUB_REPOSITORY=Acme/Request-Dump", "GH_TOKEN=token", "GITHUB_ACTOR=ci"}, "--push")
	require.Equal(t, 0, code, out)
	got = calls()
	image := "ghcr.io/acme/request-dump-atlantis"
	require.Len(t, got, 6, "%v", got)
	assert.Contains(t, got[0], "--tag "+image+":"+tag, "lower case")
	assert.Equal(t, []string{"login ghcr.io --username ci --password-stdin", "password token", "push " + image + ":" + tag, "push " + image + ":main"}, got[1:5])
	assert.Contains(t, out, "pushed ghcr.io/acme/request-dump-atlantis@sha256:0123456789abcdef")
}
