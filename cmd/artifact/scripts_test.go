package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/artifact"
	"github.com/acme/request-dump/internal/pointer"
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
}

var scripts = []string{
	"upload.sh", "promote.sh", "check-pointer.sh", "set-pointer.sh", "verify-artifact.sh",
	"rollback.sh", "promotions.sh", "open-promotion-pr.sh",
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	root, err := repo.Root()
	require.NoError(t, err)
	dir := t.TempDir()
	copyFile := func(rel string) {
		data, err := os.ReadFile(filepath.Join(root, rel))
		require.NoError(t, err)
		st, err := os.Stat(filepath.Join(root, rel))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, rel), data, st.Mode().Perm()))
	}
	copyFile("go.mod")
	copyFile("go.sum")
	for _, s := range scripts {
		copyFile(filepath.Join("scripts", s))
	}
	for _, pkg := range []string{"cmd/artifact", "internal/artifact", "internal/pointer", "internal/repo"} {
		files, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
		require.NoError(t, err)
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				copyFile(filepath.Join(pkg, filepath.Base(f)))
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

	// gh is GitHub's CLI; the stand-in records what it was asked to do,
	// keeps the pull requests it opened in .bin/prs (as "STATE url" lines,
	// which `gh pr list` prints), and fails `gh pr create` while .bin/fail
	// exists.
	bin := filepath.Join(dir, ".bin")
	ghLog := filepath.Join(dir, ".gh.log")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "gh"), []byte(`#!/bin/sh
echo "$*" >> "`+ghLog+`"
case "$1 $2" in
"pr list") cat "`+bin+`/prs" 2>/dev/null || true ;;
"pr create")
  [ ! -f "`+bin+`/fail" ] || { echo "gh: pull request create failed: GraphQL: GitHub Actions is not permitted to create or approve pull requests" >&2; exit 1; }
  echo "OPEN https://github.com/acme/request-dump/pull/1" >> "`+bin+`/prs"
  echo "https://github.com/acme/request-dump/pull/1" ;;
*) echo "gh stand-in: unexpected command: $*" >&2; exit 1 ;;
esac
`), 0o755))

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

	sb := &sandbox{dir: dir, env: env, s3: srv, client: client, ghLog: ghLog}
	sb.writeZip(t, "v1")
	for _, env := range artifact.Order {
		// Each env starts at an artifact of its own that is not in S3.
		sb.writePointer(t, env, pointer.New(bucket, env, pointer.Sum([]byte("initial "+env))))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("/dist/\n/.tools/\n/.bin/\n/.gh.log\n"), 0o644))
	sb.git(t, "init", "-q", "-b", "main")
	sb.git(t, "config", "user.name", "Test")
	sb.git(t, "config", "user.email", "test@example.com")
	sb.git(t, "add", "-A")
	sb.git(t, "commit", "-q", "-m", "initial")
	origin := filepath.Join(t.TempDir(), "origin.git")
	sb.git(t, "init", "-q", "--bare", origin)
	sb.git(t, "remote", "add", "origin", origin)
	sb.git(t, "push", "-q", "origin", "main")
	return sb
}

// run runs a script of the sandbox with bash and returns its exit status and
// combined output.
func (sb *sandbox) run(t *testing.T, script string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(sb.dir, "scripts", script)}, args...)...)
	cmd.Dir = sb.dir
	cmd.Env = sb.env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	require.NoError(t, err, "%s", out)
	return 0, string(out)
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
		{"verify-artifact.sh", nil, 2, "usage: scripts/verify-artifact.sh <env>"},
		{"verify-artifact.sh", []string{"qa"}, 2, `unknown env "qa"`},
		{"rollback.sh", []string{"prod"}, 2, "usage: scripts/rollback.sh <env> <git-rev>"},
		{"rollback.sh", []string{"qa", "HEAD"}, 2, "unknown env 'qa'"},
		{"rollback.sh", []string{"dev", "HEAD"}, 2, "roll dev back by reverting the code change (git revert <commit>)"},
		{"rollback.sh", []string{"prod", "no-such-rev"}, 1, "'no-such-rev' is not a git revision"},
		{"promotions.sh", []string{"HEAD"}, 2, "usage: scripts/promotions.sh <before-commit> <after-commit>"},
		{"promotions.sh", []string{"HEAD", "no-such-rev"}, 1, "'no-such-rev' is not a commit"},
		{"open-promotion-pr.sh", []string{"dev"}, 2, "usage: scripts/open-promotion-pr.sh <from-env> <to-env>"},
		{"open-promotion-pr.sh", []string{"dev", "prod"}, 1, "would skip stg"},
	}
	for _, tt := range tests {
		t.Run(tt.script+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			code, out := sb.run(t, tt.script, tt.args...)
			assert.Equal(t, tt.code, code, out)
			assert.Contains(t, out, tt.want)
		})
	}
	for _, env := range artifact.Order {
		assert.Equal(t, string(before[env]), string(sb.readPointer(t, env)), "%s pointer untouched", env)
	}
	assert.Empty(t, sb.git(t, "status", "--porcelain"), "nothing written")
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

	// The promotion pull request: one commit on its own branch, one file.
	code, out = sb.run(t, "open-promotion-pr.sh", "dev", "stg")
	require.Equal(t, 0, code, out)
	branch := "promote/stg-" + strings.TrimPrefix(stg.Key, "stg/")[:12]
	assert.Equal(t, "envs/stg/artifact.auto.tfvars.json", sb.git(t, "diff", "--name-only", "origin/main", "origin/"+branch))
	assert.Equal(t, string(stg.Marshal()), sb.git(t, "show", "origin/"+branch+":envs/stg/artifact.auto.tfvars.json")+"\n")
	gh, err := os.ReadFile(sb.ghLog)
	require.NoError(t, err)
	assert.Contains(t, string(gh), "pr create --base main --head "+branch+" --title Promote dev → stg")
	sb.git(t, "switch", "-q", "main")

	code, out = sb.run(t, "open-promotion-pr.sh", "dev", "stg")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "promote/stg-"+strings.TrimPrefix(stg.Key, "stg/")[:12]+" already has a pull request: OPEN https://github.com/acme/request-dump/pull/1")
	assert.Empty(t, sb.git(t, "status", "--porcelain"))

	// Merge the promotion; stg → prod is next, and a tampered stg object
	// stops it.
	sb.git(t, "merge", "-q", "--ff-only", "origin/"+branch)
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

// interruptedPromotion uploads an artifact to dev, pushes its pointer, and
// runs open-promotion-pr.sh dev stg with the gh stand-in failing the way
// its file failFile (in .bin) selects, which must exit 1 saying want. It
// returns the sandbox, back on main with the stand-in working again, and
// the promotion branch.
func interruptedPromotion(t *testing.T, failFile, want string) (*sandbox, string) {
	t.Helper()
	sb := newSandbox(t)
	zip := sb.writeZip(t, "v1")
	code, out := sb.run(t, "upload.sh", "dev", "--write-pointer")
	require.Equal(t, 0, code, out)
	sb.git(t, "commit", "-q", "-am", "dev: artifact v1")
	sb.git(t, "push", "-q", "origin", "main")
	branch := "promote/stg-" + strings.TrimPrefix(pointer.Key("stg", pointer.Sum(zip)), "stg/")[:12]

	fail := filepath.Join(sb.dir, ".bin", failFile)
	require.NoError(t, os.WriteFile(fail, nil, 0o644))
	code, out = sb.run(t, "open-promotion-pr.sh", "dev", "stg")
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, want)
	sb.git(t, "switch", "-q", "main")
	require.NoError(t, os.Remove(fail))
	return sb, branch
}

// TestOpenPromotionPRFinishesAnInterruptedRun: when gh could not open the
// pull request after the branch was pushed (GitHub refused, the API
// failed), running the script again opens it instead of taking the pushed
// branch for a pull request that exists.
func TestOpenPromotionPRFinishesAnInterruptedRun(t *testing.T) {
	sb, branch := interruptedPromotion(t, "fail", "GitHub Actions is not permitted to create or approve pull requests")
	code, out := sb.run(t, "open-promotion-pr.sh", "dev", "stg")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "branch "+branch+" is on origin without a pull request")
	gh, err := os.ReadFile(sb.ghLog)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(gh), "pr create --base main --head "+branch), "%s", gh)
	prs, err := os.ReadFile(filepath.Join(sb.dir, ".bin", "prs"))
	require.NoError(t, err)
	assert.Equal(t, "OPEN https://github.com/acme/request-dump/pull/1\n", string(prs))
	assert.Empty(t, sb.git(t, "status", "--porcelain"))
	assert.Equal(t, "main", sb.git(t, "branch", "--show-current"))
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
