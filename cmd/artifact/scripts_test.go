package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/artifact"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/internal/proctest"
	"github.com/acme/request-dump/internal/repo"
	locals3 "github.com/acme/request-dump/local/s3"
)

const bucket = "acme-request-dump-artifacts"

// sandbox is a copy of the parts of the repository the artifact scripts
// use (the scripts, this command and its packages, go.mod), with its own
// envs/, dist/, git history and origin, so that the scripts run exactly as
// a developer or CI runs them without touching the real checkout.
type sandbox struct {
	dir    string
	env    []string
	s3     *locals3.Server
	client *s3.Client
	ghLog  string
	bin    string // the gh stand-in and its state
	origin string // the bare repository that is origin
}

var scripts = []string{
	"upload.sh", "promote.sh", "check-pointer.sh", "set-pointer.sh", "verify-artifact.sh",
	"rollback.sh", "promotions.sh", "open-promotion-pr.sh", "check-promotion.sh",
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	root, err := repo.Root()
	require.NoError(t, err)
	dir := t.TempDir()
	proctest.CopyFiles(t, dir, "go.mod", "go.sum")
	for _, s := range scripts {
		proctest.CopyFiles(t, dir, filepath.Join("scripts", s))
	}
	for _, pkg := range []string{"cmd/artifact", "internal/artifact", "internal/atomicfile", "internal/pointer", "internal/repo"} {
		files, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
		require.NoError(t, err)
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				proctest.CopyFiles(t, dir, filepath.Join(pkg, filepath.Base(f)))
			}
		}
	}
	for _, env := range artifact.Order {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "envs", env), 0o755))
	}

	srv, err := locals3.New("", locals3.WithBucket(bucket))
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	// gh is GitHub's CLI; the stand-in (gh_test.go) is this test binary,
	// keeping the pull requests in .bin/prs.json and every command line in
	// .gh.log; `gh pr create` fails while .bin/fail exists.
	bin := filepath.Join(dir, ".bin")
	ghLog := filepath.Join(dir, ".gh.log")
	origin := filepath.Join(t.TempDir(), "origin.git")
	self, err := os.Executable()
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(bin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "gh"), []byte("#!/bin/sh\n"+
		"exec env "+ghStateVar+"='"+bin+"' "+ghOriginVar+"='"+origin+"' "+ghLogVar+"='"+ghLog+"' '"+self+"' \"$@\"\n"), 0o755))

	env := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"AWS_ENDPOINT_URL=" + hs.URL,
		"AWS_REGION=ap-northeast-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, ".aws-none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, ".aws-none"),
		"GIT_CONFIG_GLOBAL=" + filepath.Join(dir, ".gitconfig-none"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GOWORK=off",
		"GOFLAGS=-mod=readonly",
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "PATH", strings.HasPrefix(name, "AWS_"), strings.HasPrefix(name, "GIT_"),
			name == "GOWORK", name == "GOFLAGS", name == "GITHUB_ACTIONS":
			continue
		}
		env = append(env, kv)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, ".aws-none"))
	client, err := artifact.NewClient(context.Background(), hs.URL, "ap-northeast-1")
	require.NoError(t, err)

	sb := &sandbox{dir: dir, env: env, s3: srv, client: client, ghLog: ghLog, bin: bin, origin: origin}
	sb.writeZip(t, "v1")
	for _, env := range artifact.Order {
		// Each env starts at an artifact of its own that is not in S3.
		sb.writePointer(t, env, pointer.New(bucket, env, pointer.Sum([]byte("initial "+env))))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("/dist/\n/.tools/\n/.local/\n/.bin/\n/.gh.log\n"), 0o644))
	sb.git(t, "init", "-q", "-b", "main")
	sb.git(t, "config", "user.name", "Test")
	sb.git(t, "config", "user.email", "test@example.com")
	sb.git(t, "add", "-A")
	sb.git(t, "commit", "-q", "-m", "initial")
	sb.git(t, "init", "-q", "--bare", origin)
	sb.git(t, "remote", "add", "origin", origin)
	sb.git(t, "push", "-q", "origin", "main")
	return sb
}

// run runs a script of the sandbox with bash and returns its exit status and
// combined output.
func (sb *sandbox) run(t *testing.T, script string, args ...string) (int, string) {
	t.Helper()
	return proctest.Run(t, sb.dir, sb.env, filepath.Join(sb.dir, "scripts", script), args...)
}

func (sb *sandbox) git(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = sb.dir
	cmd.Env = sb.env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

// writeZip writes dist/function.zip (a bootstrap with the given content)
// and its .sha256, as make build does, and returns the zip's bytes.
func (sb *sandbox) writeZip(t *testing.T, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	require.NoError(t, err)
	_, err = w.Write([]byte(content))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.MkdirAll(filepath.Join(sb.dir, "dist"), 0o755))
	path := filepath.Join(sb.dir, "dist", "function.zip")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	sum := pointer.Sum(buf.Bytes())
	require.NoError(t, os.WriteFile(path+".sha256", []byte(base64.StdEncoding.EncodeToString(sum[:])+"\n"), 0o644))
	return buf.Bytes()
}

func (sb *sandbox) pointerPath(env string) string {
	return filepath.Join(sb.dir, "envs", env, pointer.FileName)
}

func (sb *sandbox) writePointer(t *testing.T, env string, p pointer.Pointer) {
	t.Helper()
	require.NoError(t, os.WriteFile(sb.pointerPath(env), p.Marshal(), 0o644))
}

func (sb *sandbox) writeRawPointer(t *testing.T, env string, p pointer.Pointer) {
	t.Helper()
	data, err := json.Marshal(map[string]pointer.Pointer{"artifact": p})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(sb.pointerPath(env), data, 0o644))
}

func (sb *sandbox) readPointer(t *testing.T, env string) []byte {
	t.Helper()
	data, err := os.ReadFile(sb.pointerPath(env))
	require.NoError(t, err)
	return data
}

func (sb *sandbox) object(t *testing.T, key string) []byte {
	t.Helper()
	obj, err := sb.s3.Object(bucket, key)
	require.NoError(t, err)
	return obj.Body
}

func (sb *sandbox) hasObject(key string) bool {
	_, err := sb.s3.Object(bucket, key)
	return err == nil
}

// TestScriptsRejectBadArguments runs each script with arguments it must
// refuse before touching anything.
func TestScriptsRejectBadArguments(t *testing.T) {
	sb := newSandbox(t)
	before := map[string][]byte{}
	for _, env := range artifact.Order {
		before[env] = sb.readPointer(t, env)
	}
	tests := []struct {
		script string
		args   []string
		code   int
		want   string
	}{
		{"upload.sh", nil, 2, "usage: scripts/upload.sh <env>"},
		{"upload.sh", []string{"--write-pointer"}, 2, "usage: scripts/upload.sh <env>"},
		{"upload.sh", []string{"qa"}, 2, `unknown env "qa": there is no envs/qa directory (envs here: dev, prod, stg)`},
		{"upload.sh", []string{"Dev!"}, 2, `env "Dev!" is not an env name`},
		{"upload.sh", []string{"dev", "--frobnicate"}, 2, "flag provided but not defined: -frobnicate"},
		{"upload.sh", []string{"dev", "stg"}, 2, "upload takes 1 argument(s), got 2"},
		{"upload.sh", []string{"dev", "--endpoint-url", "localhost:4566"}, 1, `endpoint "localhost:4566" is not an http(s) URL`},
		{"upload.sh", []string{"dev", "--bucket", "Bad_Bucket"}, 1, `bucket "Bad_Bucket" is not an S3 bucket name`},
		{"promote.sh", nil, 2, "usage: scripts/promote.sh <from-env> <to-env>"},
		{"promote.sh", []string{"dev"}, 2, "usage: scripts/promote.sh <from-env> <to-env>"},
		{"promote.sh", []string{"dev", "prod"}, 1, "promoting dev → prod would skip stg: promote dev → stg first"},
		{"promote.sh", []string{"stg", "dev"}, 1, "artifacts move forward only"},
		{"promote.sh", []string{"dev", "qa"}, 2, `unknown env "qa"`},
		{"check-pointer.sh", nil, 2, "usage: scripts/check-pointer.sh <env>"},
		{"check-pointer.sh", []string{"dev", "stg"}, 2, "usage: scripts/check-pointer.sh <env>"},
		{"check-pointer.sh", []string{"qa"}, 2, `unknown env "qa"`},
		{"set-pointer.sh", nil, 2, "usage: scripts/set-pointer.sh <env>"},
		{"set-pointer.sh", []string{"prod", "--from", "dev"}, 1, "would skip stg"},
		{"set-pointer.sh", []string{"stg", "--from", "dev", "--zip", "dist/function.zip"}, 2, "--from and --zip exclude each other"},
		{"verify-artifact.sh", nil, 2, "usage: scripts/verify-artifact.sh <env>"},
		{"verify-artifact.sh", []string{"qa"}, 2, `unknown env "qa"`},
		{"rollback.sh", []string{"prod"}, 2, "usage: scripts/rollback.sh <env> <git-rev>"},
		{"rollback.sh", []string{"qa", "HEAD"}, 2, "unknown env 'qa'"},
		{"rollback.sh", []string{"..", "HEAD"}, 2, "unknown env '..'"},
		{"rollback.sh", []string{"dev", "HEAD"}, 2, "roll dev back by reverting the code change (git revert <commit>)"},
		{"rollback.sh", []string{"prod", "no-such-rev"}, 1, "'no-such-rev' is not a git revision"},
		{"promotions.sh", []string{"HEAD"}, 2, "usage: scripts/promotions.sh <before-commit> <after-commit>"},
		{"promotions.sh", []string{"HEAD", "no-such-rev"}, 1, "'no-such-rev' is not a commit"},
		{"open-promotion-pr.sh", []string{"dev"}, 2, "usage: scripts/open-promotion-pr.sh <from-env> <to-env>"},
		{"open-promotion-pr.sh", []string{"dev", "prod"}, 1, "would skip stg"},
		{"open-promotion-pr.sh", []string{"stg", "dev"}, 1, "artifacts move forward only"},
		{"open-promotion-pr.sh", []string{"dev", "qa"}, 2, `unknown env "qa"`},
		{"open-promotion-pr.sh", []string{"prod", "stg"}, 1, "artifacts move forward only"},
	}
	for _, tt := range tests {
		t.Run(tt.script+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			code, out := sb.run(t, tt.script, tt.args...)
			assert.Equal(t, tt.code, code, out)
			assert.Contains(t, out, tt.want)
			if tt.script == "open-promotion-pr.sh" {
				assert.NotContains(t, out, "fetching", "refused before it fetches or switches branches")
			}
		})
	}
	for _, env := range artifact.Order {
		assert.Equal(t, string(before[env]), string(sb.readPointer(t, env)), "%s pointer untouched", env)
	}
	assert.Empty(t, sb.git(t, "status", "--porcelain"), "nothing written")
}

// TestCheckPointerPromotesFromTheEnvThatRunsTheBuild: a stg or prod pointer
// that does not name the build is fixed by promotions from the nearest env
// before it that does, one step at a time; it used to advise promoting from
// the env just before it even when that env ran another artifact too, a
// copy that leaves the pointer as it was.
func TestCheckPointerPromotesFromTheEnvThatRunsTheBuild(t *testing.T) {
	sb := newSandbox(t)
	build := pointer.Sum(sb.writeZip(t, "v1"))
	other := func(env string) pointer.Pointer { return pointer.New(bucket, env, pointer.Sum([]byte("older "+env))) }
	tests := []struct {
		name      string
		dev, stg  bool // whether the env's pointer names the build
		env       string
		want      string
		wantNot   []string
		committed string
	}{
		{"prod, stg runs it", true, true, "prod", "  scripts/promote.sh stg prod   (each promotion", []string{"promote.sh dev stg", "set-pointer.sh"}, "and commit envs/prod/" + pointer.FileName},
		{"prod, only dev runs it", true, false, "prod", "  scripts/promote.sh dev stg\n  scripts/promote.sh stg prod   (each promotion", []string{"set-pointer.sh"}, "and commit envs/stg/" + pointer.FileName + ", envs/prod/" + pointer.FileName},
		{"prod, no env runs it", false, false, "prod", "  make build && scripts/set-pointer.sh dev   (no env before prod names this build; with AWS credentials for the dev prefix: scripts/upload.sh dev --write-pointer)\n  scripts/promote.sh dev stg\n  scripts/promote.sh stg prod", nil, "and commit envs/dev/" + pointer.FileName + ", envs/stg/"},
		{"stg, dev runs it", true, false, "stg", "  scripts/promote.sh dev stg   (each promotion", []string{"promote.sh stg prod", "set-pointer.sh"}, "and commit envs/stg/" + pointer.FileName + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for env, names := range map[string]bool{"dev": tt.dev, "stg": tt.stg} {
				p := other(env)
				if names {
					p = pointer.New(bucket, env, build)
				}
				sb.writePointer(t, env, p)
			}
			sb.writePointer(t, "prod", other("prod"))
			code, out := sb.run(t, "check-pointer.sh", tt.env)
			require.Equal(t, 1, code, out)
			assert.Contains(t, out, "the pointer does not name the zip this commit builds.\nFix: run\n"+tt.want)
			assert.Contains(t, out, tt.committed)
			for _, s := range tt.wantNot {
				assert.NotContains(t, out, s)
			}
		})
	}
}

// TestScriptsCarryAnArtifactToProd walks one artifact through the scripts
// the workflows call: upload to dev, check, promote to stg, refuse tampered
// and malformed input on the way, open the promotion pull request, roll
// back.
func TestScriptsCarryAnArtifactToProd(t *testing.T) {
	sb := newSandbox(t)
	zip := sb.writeZip(t, "v1")
	digest := pointer.Sum(zip)
	dev := pointer.New(bucket, "dev", digest)
	stg := pointer.New(bucket, "stg", digest)

	// A new build: dev's pointer names something else until it is updated.
	code, out := sb.run(t, "check-pointer.sh", "dev")
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, "the pointer does not name the zip this commit builds")
	assert.Contains(t, out, "make build && scripts/set-pointer.sh dev")
	assert.Contains(t, out, "make build && scripts/upload.sh dev --write-pointer")

	code, out = sb.run(t, "upload.sh", "dev", "--write-pointer")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "uploaded s3://"+bucket+"/"+dev.Key)
	assert.Equal(t, zip, sb.object(t, dev.Key), "the key is the content address under dev/")
	assert.Equal(t, string(dev.Marshal()), string(sb.readPointer(t, "dev")))

	code, out = sb.run(t, "upload.sh", "dev")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "already holds these bytes", "re-upload is idempotent")

	code, out = sb.run(t, "check-pointer.sh", "dev")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "names the build")

	// Different bytes already at dev's content address are never replaced.
	_, err := sb.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(dev.Key), Body: bytes.NewReader([]byte("tampered")),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	require.NoError(t, err)
	code, out = sb.run(t, "upload.sh", "dev")
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, "REFUSING to overwrite s3://"+bucket+"/"+dev.Key)
	assert.Equal(t, []byte("tampered"), sb.object(t, dev.Key))

	code, out = sb.run(t, "promote.sh", "dev", "stg")
	require.Equal(t, 1, code, out, "a tampered source is not promoted")
	assert.Contains(t, out, "not promoting dev → stg")
	assert.False(t, sb.hasObject(stg.Key))

	_, err = sb.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(dev.Key)})
	require.NoError(t, err)
	code, out = sb.run(t, "upload.sh", "dev")
	require.Equal(t, 0, code, out)

	sb.git(t, "commit", "-q", "-am", "dev: artifact v1")
	sb.git(t, "push", "-q", "origin", "main")
	code, out = sb.run(t, "promotions.sh", "HEAD~1", "HEAD")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, `[{"from":"dev","to":"stg"}]`)

	// Promotion copies the same bytes and rewrites only stg's pointer.
	prodBefore := sb.readPointer(t, "prod")
	code, out = sb.run(t, "promote.sh", "dev", "stg")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "promoted dev → stg")
	assert.Equal(t, zip, sb.object(t, stg.Key))
	assert.Equal(t, string(stg.Marshal()), string(sb.readPointer(t, "stg")))
	assert.Equal(t, "M envs/stg/artifact.auto.tfvars.json", sb.git(t, "status", "--porcelain"))
	assert.Equal(t, string(prodBefore), string(sb.readPointer(t, "prod")))

	code, out = sb.run(t, "promote.sh", "dev", "stg")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "already holds these bytes")
	sb.git(t, "checkout", "-q", "--", "envs/stg")

	// The promotion pull request: one commit on its own branch, named by
	// the commit that put the artifact into dev, one file.
	code, out = sb.run(t, "open-promotion-pr.sh", "dev", "stg")
	require.Equal(t, 0, code, out)
	branch := "promote/stg-" + sb.git(t, "rev-parse", "HEAD")[:12]
	assert.Equal(t, "envs/stg/artifact.auto.tfvars.json", sb.git(t, "diff", "--name-only", "origin/main", "origin/"+branch))
	assert.Equal(t, string(stg.Marshal()), sb.git(t, "show", "origin/"+branch+":envs/stg/artifact.auto.tfvars.json")+"\n")
	gh, err := os.ReadFile(sb.ghLog)
	require.NoError(t, err)
	assert.Contains(t, string(gh), "pr create --base main --head "+branch+" --title Promote dev → stg: artifact "+strings.TrimPrefix(stg.Key, "stg/")[:12])
	assert.Equal(t, "main", sb.git(t, "branch", "--show-current"), "the script comes back to where it started")
	assert.Empty(t, sb.git(t, "status", "--porcelain"))

	code, out = sb.run(t, "open-promotion-pr.sh", "dev", "stg")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, branch+" already has a pull request: OPEN https://github.com/acme/request-dump/pull/1")
	assert.Len(t, sb.prs(t), 1, "no second pull request")
	assert.Empty(t, sb.git(t, "status", "--porcelain"))

	// A pull request for stg from a branch that is not a promotion is not
	// checked; the promotion's branch is, in the checkout of its merge.
	code, out = sb.run(t, "check-promotion.sh", "fix/typo")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "fix/typo is not a promotion branch")

	// Merge the promotion; stg → prod is next, and a tampered stg object
	// stops it.
	sb.mergePR(t, 1)
	code, out = sb.run(t, "check-promotion.sh", branch)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "envs/stg/artifact.auto.tfvars.json names the artifact dev runs")
	code, out = sb.run(t, "promotions.sh", "HEAD~1", "HEAD")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, `[{"from":"stg","to":"prod"}]`)
	_, err = sb.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(stg.Key), Body: bytes.NewReader([]byte("tampered")),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	require.NoError(t, err)
	code, out = sb.run(t, "promote.sh", "stg", "prod")
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, "not promoting stg → prod")
	assert.Contains(t, out, "artifact mismatch")
	assert.Equal(t, string(prodBefore), string(sb.readPointer(t, "prod")))
	assert.False(t, sb.hasObject(pointer.Key("prod", digest)))
}

// prs returns the pull requests the gh stand-in holds.
func (sb *sandbox) prs(t *testing.T) []pullRequest {
	t.Helper()
	prs, err := loadPRs(sb.bin)
	require.NoError(t, err)
	return prs
}

// mergePR merges pull request n as GitHub would with a fast-forward: main
// takes its branch (which must be on main's tip), on origin and here.
func (sb *sandbox) mergePR(t *testing.T, n int) {
	t.Helper()
	prs := sb.prs(t)
	require.GreaterOrEqual(t, len(prs), n)
	pr := &prs[n-1]
	require.Equal(t, "OPEN", pr.State, "#%d", n)
	sb.git(t, "fetch", "-q", "origin")
	sb.git(t, "switch", "-q", "main")
	sb.git(t, "merge", "-q", "--ff-only", "origin/"+pr.HeadRefName)
	sb.git(t, "push", "-q", "origin", "main")
	pr.State = "MERGED"
	require.NoError(t, savePRs(sb.bin, prs))
}

// commitPointer uploads a build of content to env, commits its pointer on
// main and pushes it, as a merge to main does, and returns the commit.
func (sb *sandbox) commitPointer(t *testing.T, env, content string) string {
	t.Helper()
	sb.writeZip(t, content)
	code, out := sb.run(t, "upload.sh", env, "--write-pointer")
	require.Equal(t, 0, code, out)
	sb.git(t, "commit", "-q", "-am", env+": "+content)
	sb.git(t, "push", "-q", "origin", "main")
	return sb.git(t, "rev-parse", "HEAD")
}

// promote copies env from's artifact into to and opens the promotion pull
// request, as promote-pair.yml does, from a checkout of commit.
func (sb *sandbox) promote(t *testing.T, from, to, commit string) (int, string) {
	t.Helper()
	sb.git(t, "switch", "-q", "--detach", commit)
	defer sb.git(t, "switch", "-q", "main")
	code, out := sb.run(t, "promote.sh", from, to)
	require.Equal(t, 0, code, out)
	sb.git(t, "checkout", "-q", "--", "envs/"+to)
	return sb.run(t, "open-promotion-pr.sh", from, to)
}

// TestPromotionPullRequestsFollowTheSourceEnv: every change of an env's
// artifact gets its own promotion branch and pull request, which closes the
// ones it supersedes; a run for an artifact the env no longer runs opens
// nothing; and a promotion that went stale cannot pass its check.
func TestPromotionPullRequestsFollowTheSourceEnv(t *testing.T) {
	sb := newSandbox(t)
	a := sb.commitPointer(t, "dev", "A")
	b := sb.commitPointer(t, "dev", "B")

	// Two quick merges: the run for A starts after B landed, and is refused.
	code, out := sb.promote(t, "dev", "stg", a)
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, "NOT promoting: dev on main ("+b[:12]+") no longer names the artifact this checkout does")
	assert.Contains(t, out, "the promotion run for that change promotes what dev runs now")
	assert.Empty(t, sb.prs(t), "no pull request for an artifact dev has moved away from")

	code, out = sb.promote(t, "dev", "stg", b)
	require.Equal(t, 0, code, out)
	prs := sb.prs(t)
	require.Len(t, prs, 1)
	assert.Equal(t, "promote/stg-"+b[:12], prs[0].HeadRefName)

	// An open promotion for an older change of dev (a run that got in first)
	// is closed by the newer one, and its branch deleted.
	sb.git(t, "push", "-q", "origin", a+":refs/heads/promote/stg-"+a[:12])
	prs = append(prs, pullRequest{Number: 2, State: "OPEN", HeadRefName: "promote/stg-" + a[:12], BaseRefName: "main", Title: "older", URL: "https://github.com/acme/request-dump/pull/2"})
	require.NoError(t, savePRs(sb.bin, prs))
	c := sb.commitPointer(t, "dev", "C")
	code, out = sb.promote(t, "dev", "stg", c)
	require.Equal(t, 0, code, out)
	prs = sb.prs(t)
	require.Len(t, prs, 3)
	for i, want := range []string{"CLOSED", "CLOSED", "OPEN"} {
		assert.Equal(t, want, prs[i].State, "#%d (%s)", prs[i].Number, prs[i].HeadRefName)
	}
	assert.Equal(t, "promote/stg-"+c[:12], prs[2].HeadRefName)
	for _, pr := range prs[:2] {
		require.Len(t, pr.Comments, 1)
		assert.Contains(t, pr.Comments[0], "Superseded by https://github.com/acme/request-dump/pull/3: dev now runs artifact ")
		assert.Empty(t, sb.git(t, "ls-remote", "--heads", "origin", pr.HeadRefName), "the superseded branch is deleted")
	}
	assert.Contains(t, out, "closing #1 (promote/stg-"+b[:12]+"): superseded by promote/stg-"+c[:12])

	// stg takes C; then dev goes back to B's bytes (a revert): the same
	// artifact as the closed pull request #1, yet a new branch and a new
	// pull request, since a branch is named by the change, not the bytes.
	sb.mergePR(t, 3)
	sb.writeZip(t, "B")
	code, out = sb.run(t, "upload.sh", "dev", "--write-pointer")
	require.Equal(t, 0, code, out)
	sb.git(t, "commit", "-q", "-am", "dev: back to B")
	sb.git(t, "push", "-q", "origin", "main")
	revert := sb.git(t, "rev-parse", "HEAD")
	code, out = sb.promote(t, "dev", "stg", revert)
	require.Equal(t, 0, code, out)
	prs = sb.prs(t)
	require.Len(t, prs, 4, "a pull request is opened: %s", out)
	assert.Equal(t, "promote/stg-"+revert[:12], prs[3].HeadRefName)
	assert.Equal(t, "OPEN", prs[3].State)

	// prod's promotion of C goes stale once stg is rolled back to A: the
	// promotion's check fails in the checkout of its merge with main.
	sb.mergePR(t, 4)
	code, out = sb.promote(t, "stg", "prod", sb.git(t, "rev-parse", "HEAD"))
	require.Equal(t, 0, code, out)
	prodPR := sb.prs(t)[4]
	sb.git(t, "switch", "-q", "main")
	sb.writePointer(t, "stg", pointer.New(bucket, "stg", pointer.Sum(sb.writeZip(t, "A"))))
	sb.git(t, "commit", "-q", "-am", "Roll stg back to A")
	sb.git(t, "push", "-q", "origin", "main")
	sb.git(t, "fetch", "-q", "origin")
	sb.git(t, "merge", "-q", "--no-edit", "origin/"+prodPR.HeadRefName)
	code, out = sb.run(t, "check-promotion.sh", prodPR.HeadRefName)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "but envs/stg/artifact.auto.tfvars.json names stg/")
	assert.Contains(t, out, "stg no longer runs the artifact this promotion brings to prod")

	code, out = sb.run(t, "check-promotion.sh", "promote/qa-0123")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, `unknown env "qa"`)
	code, out = sb.run(t, "check-promotion.sh", "promote/dev-0123")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "dev is first in the promotion order")
	code, out = sb.run(t, "check-promotion.sh", "promote/stg")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "is not promote/<env>-<commit>")
}

// TestOpenPromotionPRFinishesAnInterruptedRun: when gh could not open the
// pull request after the branch was pushed (GitHub refused, the API
// failed), running the script again opens it instead of taking the pushed
// branch for a pull request that exists; a pull request closed on purpose
// stays closed.
func TestOpenPromotionPRFinishesAnInterruptedRun(t *testing.T) {
	sb := newSandbox(t)
	source := sb.commitPointer(t, "dev", "v1")
	branch := "promote/stg-" + source[:12]

	fail := filepath.Join(sb.bin, "fail")
	require.NoError(t, os.WriteFile(fail, nil, 0o644))
	code, out := sb.run(t, "open-promotion-pr.sh", "dev", "stg")
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, "GitHub Actions is not permitted to create or approve pull requests")
	assert.Equal(t, "main", sb.git(t, "branch", "--show-current"), "back where it started, even after a failure")
	require.NoError(t, os.Remove(fail))

	code, out = sb.run(t, "open-promotion-pr.sh", "dev", "stg")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "branch "+branch+" is on origin without a pull request")
	gh, err := os.ReadFile(sb.ghLog)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(gh), "pr create --base main --head "+branch), "%s", gh)
	prs := sb.prs(t)
	require.Len(t, prs, 1)
	assert.Equal(t, "OPEN", prs[0].State)
	assert.Equal(t, branch, prs[0].HeadRefName)
	assert.Empty(t, sb.git(t, "status", "--porcelain"))
	assert.Equal(t, "main", sb.git(t, "branch", "--show-current"))

	prs[0].State = "CLOSED"
	require.NoError(t, savePRs(sb.bin, prs))
	code, out = sb.run(t, "open-promotion-pr.sh", "dev", "stg")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "a closed one stays closed: reopen it, or delete the branch on origin and run this again")
	assert.Len(t, sb.prs(t), 1, "no new pull request for the same change")
}

// TestScriptsRefuseMalformedPointers gives the scripts pointers that are
// wrong in each way a hand edit can make them wrong.
func TestScriptsRefuseMalformedPointers(t *testing.T) {
	sb := newSandbox(t)
	zip := sb.writeZip(t, "v1")
	digest := pointer.Sum(zip)
	good := pointer.New(bucket, "stg", digest)
	hexSum := strings.TrimSuffix(strings.TrimPrefix(good.Key, "stg/"), ".zip")
	tests := []struct {
		name    string
		pointer pointer.Pointer
		script  string
		args    []string
		want    string
	}{
		{"hex hash", pointer.Pointer{Bucket: bucket, Key: good.Key, SHA256: hexSum}, "verify-artifact.sh", []string{"stg"}, "is hex; the pointer takes base64"},
		{"key outside the prefix", pointer.New(bucket, "dev", digest), "promote.sh", []string{"stg", "prod"}, `key "dev/` + hexSum + `.zip" is outside the stg/ prefix`},
		{"key not the content address", pointer.Pointer{Bucket: bucket, Key: "stg/latest.zip", SHA256: good.SHA256}, "check-pointer.sh", []string{"stg"}, "the content address is"},
		{"missing object", good, "verify-artifact.sh", []string{"stg"}, "s3://" + bucket + "/" + good.Key + " does not exist"},
		{"missing object", good, "promote.sh", []string{"stg", "prod"}, "does not exist"},
		{"missing object", good, "rollback.sh", []string{"stg", "HEAD"}, "cannot be deployed"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.script, func(t *testing.T) {
			sb.writeRawPointer(t, "stg", tt.pointer)
			if tt.script == "rollback.sh" {
				sb.git(t, "commit", "-q", "-am", "stg: "+tt.name)
				sb.writePointer(t, "stg", pointer.New(bucket, "stg", pointer.Sum([]byte("later"))))
			}
			before := sb.readPointer(t, "stg")
			prodBefore := sb.readPointer(t, "prod")
			code, out := sb.run(t, tt.script, tt.args...)
			assert.Equal(t, 1, code, out)
			assert.Contains(t, out, tt.want)
			assert.Equal(t, string(before), string(sb.readPointer(t, "stg")), "the pointer is left as it was")
			assert.Equal(t, string(prodBefore), string(sb.readPointer(t, "prod")))
		})
	}
}

// TestPromoteOverAnUnreadablePointer: the target env's pointer is only read
// for its bucket; when it cannot be read, the message says what promote.sh
// can do about it (it has no --bucket flag).
func TestPromoteOverAnUnreadablePointer(t *testing.T) {
	sb := newSandbox(t)
	require.NoError(t, os.WriteFile(sb.pointerPath("stg"), []byte("{\"artifact\": "), 0o644))
	code, out := sb.run(t, "promote.sh", "dev", "stg")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "envs/stg/artifact.auto.tfvars.json: not a pointer file")
	assert.Contains(t, out, "fix it, or delete it to promote into the bucket envs/dev/artifact.auto.tfvars.json names")
	assert.NotContains(t, out, "--bucket")
}

// TestRollbackRestoresAnEarlierArtifact points prod back at the artifact
// of the previous commit, which is still in S3.
func TestRollbackRestoresAnEarlierArtifact(t *testing.T) {
	sb := newSandbox(t)
	sb.writeZip(t, "v1")
	code, out := sb.run(t, "upload.sh", "prod", "--write-pointer")
	require.Equal(t, 0, code, out)
	v1 := sb.readPointer(t, "prod")
	sb.git(t, "commit", "-q", "-am", "prod: v1")

	sb.writeZip(t, "v2")
	code, out = sb.run(t, "upload.sh", "prod", "--write-pointer")
	require.Equal(t, 0, code, out)
	sb.git(t, "commit", "-q", "-am", "prod: v2")

	code, out = sb.run(t, "rollback.sh", "prod", "HEAD~1")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "commit envs/prod/artifact.auto.tfvars.json")
	assert.Equal(t, string(v1), string(sb.readPointer(t, "prod")))

	code, out = sb.run(t, "rollback.sh", "prod", "HEAD~1")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "nothing to do")
}

// TestScriptsRefuseAmbiguousPointers: a pointer whose "KEY" beside "key"
// names another zip to Terraform than to encoding/json is refused by every
// script that reads it, with the key and the fix.
func TestScriptsRefuseAmbiguousPointers(t *testing.T) {
	sb := newSandbox(t)
	zip := sb.writeZip(t, "v1")
	good := pointer.New(bucket, "stg", pointer.Sum(zip))
	other := pointer.Key("stg", pointer.Sum([]byte("another zip")))
	data := strings.Replace(string(good.Marshal()), `"key":`, `"key": "`+other+`", "KEY":`, 1)
	require.NoError(t, os.WriteFile(sb.pointerPath("stg"), []byte(data), 0o644))
	for _, tt := range []struct {
		script string
		args   []string
	}{
		{"check-pointer.sh", []string{"stg"}},
		{"verify-artifact.sh", []string{"stg"}},
		{"promote.sh", []string{"stg", "prod"}},
		{"set-pointer.sh", []string{"prod", "--from", "stg"}},
	} {
		t.Run(tt.script, func(t *testing.T) {
			code, out := sb.run(t, tt.script, tt.args...)
			assert.Equal(t, 1, code, out)
			assert.Contains(t, out, `key "KEY" in "artifact" is not "key"`)
			assert.Contains(t, out, "scripts/set-pointer.sh")
			assert.Equal(t, data, string(sb.readPointer(t, "stg")))
		})
	}
}

func TestBucketPrintsThePointersBucket(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run([]string{"bucket", "dev"}, &out, &errOut), errOut.String())
	assert.Equal(t, bucket+"\n", out.String())
	err := run([]string{"bucket", "qa"}, &out, &errOut)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown env "qa"`)
}

// TestRollbackLeavesThePointerOnFailure: rollback.sh promises that on any
// failure the pointer is left as it was; it wrote the earlier pointer
// first, so a failed build of its checker, or an interruption while it
// checked S3, left envs/<env> naming an artifact nobody had verified.
func TestRollbackLeavesThePointerOnFailure(t *testing.T) {
	setup := func(t *testing.T) (*sandbox, []byte) {
		sb := newSandbox(t)
		sb.writeZip(t, "v1")
		code, out := sb.run(t, "upload.sh", "prod", "--write-pointer")
		require.Equal(t, 0, code, out)
		sb.git(t, "commit", "-q", "-am", "prod: v1")
		sb.writeZip(t, "v2")
		code, out = sb.run(t, "upload.sh", "prod", "--write-pointer")
		require.Equal(t, 0, code, out)
		sb.git(t, "commit", "-q", "-am", "prod: v2")
		return sb, sb.readPointer(t, "prod")
	}

	t.Run("the checker does not build", func(t *testing.T) {
		sb, v2 := setup(t)
		// A go command that cannot build, first on PATH.
		require.NoError(t, os.WriteFile(filepath.Join(sb.dir, ".bin", "go"), []byte("#!/bin/sh\necho 'go: build failed' >&2\nexit 1\n"), 0o755))
		code, out := sb.run(t, "rollback.sh", "prod", "HEAD~1")
		assert.NotEqual(t, 0, code, out)
		assert.Equal(t, string(v2), string(sb.readPointer(t, "prod")), "the pointer is left as it was")
	})

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run("interrupted while checking S3 by "+sig.String(), func(t *testing.T) {
			sb, v2 := setup(t)
			// An S3 endpoint that takes the connection and never answers.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			accepted := make(chan net.Conn, 8)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					accepted <- c
				}
			}()
			cmd := exec.Command("bash", filepath.Join(sb.dir, "scripts", "rollback.sh"), "prod", "HEAD~1", "--endpoint-url", "http://"+ln.Addr().String())
			cmd.Dir = sb.dir
			cmd.Env = sb.env
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			require.NoError(t, cmd.Start())
			select {
			case c := <-accepted:
				defer c.Close()
			case <-time.After(2 * time.Minute):
				t.Fatalf("rollback.sh never reached S3: %s", out.String())
			}
			// Ctrl-C in a terminal, or a CI job cancelled: the signal goes to
			// the whole process group.
			require.NoError(t, syscall.Kill(-cmd.Process.Pid, sig))
			err = cmd.Wait()
			assert.Error(t, err, "an interrupted rollback does not succeed: %s", out.String())
			assert.Equal(t, string(v2), string(sb.readPointer(t, "prod")), "the pointer is left as it was")
			left, err := filepath.Glob(filepath.Join(sb.dir, "envs", "prod", ".*"))
			require.NoError(t, err)
			assert.Empty(t, left, "no temporary file is left in envs/prod")
		})
	}
}
