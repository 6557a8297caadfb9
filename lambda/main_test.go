package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/proctest"
	"github.com/acme/request-dump/internal/repo"
)

// Limits the issue sets for what Lambda runs (GOARCH=arm64).
const (
	maxBootstrapBytes = 6.5 * (1 << 20)
	maxZipBytes       = 3 << 20
)

// TestBootstrapDoesNotLinkTheSDK keeps the function small and quick to
// start: it talks to nothing but the Lambda Runtime API.
func TestBootstrapDoesNotLinkTheSDK(t *testing.T) {
	root := repoRoot(t)
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./lambda")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/aws/aws-lambda-go/lambda", "the list is the function's")
	for _, dep := range deps {
		assert.False(t, strings.HasPrefix(dep, "github.com/aws/aws-sdk-go-v2"), "links %s", dep)
		assert.NotEqual(t, "net/rpc", dep, "lambda.norpc leaves the RPC mode out")
	}
}

// TestBuildIsReproducible builds the zip in two copies of the sources that
// differ in path, file times, time zone, umask, locale, Go build cache,
// GOFLAGS, a `go env -w` file and a go.work in a parent folder, and expects
// the same bytes; then checks the zip's layout and sizes. The second build
// starts from an empty cache, so it recompiles everything (about half a
// minute).
func TestBuildIsReproducible(t *testing.T) {
	root := repoRoot(t)
	type build struct {
		dir string
		env []string
	}
	// The go env file fills in what the build leaves empty; a go.work above
	// the clone would make it a workspace that does not hold the module.
	hostile := t.TempDir()
	goenv := filepath.Join(hostile, "go.env")
	require.NoError(t, os.WriteFile(goenv, []byte("GOFLAGS=-gcflags=all=-N\nGOEXPERIMENT=\nGOOS=windows\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(hostile, "go.work"), []byte("go 1.21\n"), 0o644))
	builds := []build{
		{
			dir: filepath.Join(t.TempDir(), "a"),
			env: []string{"TZ=UTC", "LC_ALL=POSIX", "UMASK=022"},
		},
		{
			dir: filepath.Join(hostile, "some", "much", "longer", "path", "to", "a", "clone"),
			env: []string{
				"TZ=Asia/Tokyo", "LC_ALL=C.UTF-8", "UMASK=077", "GOCACHE=" + t.TempDir(),
				"GOFLAGS=-gcflags=-N", "GOARM64=v9.0", "GOTOOLCHAIN=local", "GOARCH=amd64", "GOENV=" + goenv,
			},
		},
	}
	var zips [][]byte
	for i, b := range builds {
		copySources(t, root, b.dir, i == 1)
		cmd := exec.Command("bash", "-c", `umask "$UMASK" && exec scripts/build.sh --arch arm64`)
		cmd.Dir = b.dir
		cmd.Env = append(os.Environ(), b.env...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		t.Logf("build %d:\n%s", i+1, out)
		z, err := os.ReadFile(filepath.Join(b.dir, "dist", "function.zip"))
		require.NoError(t, err)
		zips = append(zips, z)

		sum := sha256.Sum256(z)
		hash, err := os.ReadFile(filepath.Join(b.dir, "dist", "function.zip.sha256"))
		require.NoError(t, err)
		assert.Equal(t, base64.StdEncoding.EncodeToString(sum[:])+"\n", string(hash), "one line: base64 of the raw SHA-256")
		assert.Len(t, strings.TrimSpace(string(hash)), 44)
	}
	require.True(t, bytes.Equal(zips[0], zips[1]), "the two builds differ")

	r, err := zip.NewReader(bytes.NewReader(zips[0]), int64(len(zips[0])))
	require.NoError(t, err)
	require.Len(t, r.File, 1)
	f := r.File[0]
	assert.Equal(t, "bootstrap", f.Name)
	assert.Equal(t, fs.FileMode(0o755), f.Mode())
	assert.Equal(t, time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), f.Modified.UTC())
	assert.Empty(t, f.Extra, "no extra fields")
	assert.Empty(t, f.Comment)
	assert.Empty(t, r.Comment)
	assert.Equal(t, zip.Deflate, f.Method)

	t.Logf("bootstrap %d bytes (limit %d), zip %d bytes (limit %d)", f.UncompressedSize64, int(maxBootstrapBytes), len(zips[0]), maxZipBytes)
	assert.LessOrEqual(t, f.UncompressedSize64, uint64(maxBootstrapBytes))
	assert.LessOrEqual(t, len(zips[0]), maxZipBytes)
	rc, err := f.Open()
	require.NoError(t, err)
	head := make([]byte, 20)
	_, err = io.ReadFull(rc, head)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, []byte("\x7fELF"), head[:4], "a Linux executable")
	assert.Equal(t, []byte{0xb7, 0x00}, head[18:20], "for arm64 (EM_AARCH64)")
}

// copySources copies what the build reads into dir, as a clean clone
// would have it; scrambled gives every file a random modification time.
func copySources(t *testing.T, root, dir string, scrambled bool) {
	t.Helper()
	for _, p := range []string{"go.mod", "go.sum", "lambda", "scripts/build.sh", "scripts/zipbootstrap"} {
		err := filepath.WalkDir(filepath.Join(root, p), func(src string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, src)
			if err != nil {
				return err
			}
			dst := filepath.Join(dir, rel)
			if d.IsDir() {
				return os.MkdirAll(dst, 0o755)
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
				return err
			}
			if scrambled {
				at := time.Unix(rand.Int64N(2_000_000_000), 0)
				return os.Chtimes(dst, at, at)
			}
			return nil
		})
		require.NoError(t, err)
	}
}

// TestBootstrapUnderRIE runs the built function under the AWS Lambda
// Runtime Interface Emulator, as the local stack does: every invoke gets
// its answer and exactly one dump line, and a bad configuration stops the
// function at init with a message naming the bad entry, at FATAL so that
// no AWS_LAMBDA_LOG_LEVEL filters it out.
func TestBootstrapUnderRIE(t *testing.T) {
	rie, err := repo.Tool("aws-lambda-rie")
	require.NoError(t, err, "make test builds it first")
	root := repoRoot(t)
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", bin, "./lambda")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	body, err := os.ReadFile(filepath.Join(root, "lambda", "dump", "testdata", "events", "signup.json"))
	require.NoError(t, err)
	var event events.APIGatewayProxyRequest
	require.NoError(t, json.Unmarshal(body, &event))

	t.Run("one line per invoke", func(t *testing.T) {
		url, output := startRIE(t, rie, bin, "DUMP_FIELDS=event_id=body.event_id,ip=requestContext.identity.sourceIp,type=body.type")
		for i := range 3 {
			id := fmt.Sprintf("00000000-0000-0000-0000-00000000000%d", i)
			status, answer := invokeRIE(t, url, id, body)
			require.Equal(t, http.StatusOK, status, "%s", answer)
			var resp events.APIGatewayProxyResponse
			require.NoError(t, json.Unmarshal(answer, &resp))
			assert.Equal(t, 200, resp.StatusCode)
			assert.JSONEq(t, fmt.Sprintf(`{"request_id":%q,"aws_request_id":%q}`, event.RequestContext.RequestID, id), resp.Body)
		}
		lines := dumpLines(t, output, 3)
		for i, l := range lines {
			assert.Equal(t, fmt.Sprintf("00000000-0000-0000-0000-00000000000%d", i), l["aws_request_id"])
			assert.Equal(t, event.RequestContext.RequestID, l["api_request_id"])
			assert.Equal(t, map[string]any{"event_id": "evt-0001", "ip": "203.0.113.7", "type": "signup"}, l["fields"])
		}
	})

	t.Run("bad configuration fails at init", func(t *testing.T) {
		url, output := startRIE(t, rie, bin, "DUMP_FIELDS=a=body.a,b=body.b,x=bogus.y", "AWS_LAMBDA_LOG_LEVEL=FATAL")
		status, _ := invokeRIE(t, url, "00000000-0000-0000-0000-0000000000ff", body)
		assert.Equal(t, http.StatusBadGateway, status)
		require.Eventually(t, func() bool {
			return strings.Contains(output.String(), "Runtime.ExitError")
		}, 10*time.Second, 50*time.Millisecond, "output: %s", output)
		assert.Contains(t, output.String(), `"level":"FATAL","msg":"invalid configuration","error":"DUMP_FIELDS entry 3 \"x=bogus.y\": unknown source \"bogus\"`)
		assert.NotContains(t, output.String(), `"msg":"request dump"`)
	})
}

// startRIE starts the emulator on free loopback ports with a clean
// environment, as Lambda gives the function, and returns its invoke URL
// and its combined output.
func startRIE(t *testing.T, rie, bin string, env ...string) (string, *proctest.Output) {
	t.Helper()
	addrs := freeAddrs(t, 2)
	addr, api := addrs[0], addrs[1]
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, bin)
	cmd.Env = append([]string{
		"PATH=/usr/bin:/bin", "AWS_REGION=ap-northeast-1", "AWS_LAMBDA_FUNCTION_NAME=request-dump-test",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_LAMBDA_FUNCTION_TIMEOUT=10",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/request-dump-test", "AWS_LAMBDA_LOG_STREAM_NAME=test",
	}, env...)
	output := new(proctest.Output)
	cmd.Stdout, cmd.Stderr = output, output
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "RIE did not listen: %s", output)
	return "http://" + addr + "/2015-03-31/functions/function/invocations", output
}

func invokeRIE(t *testing.T, url, requestID string, event []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(event))
	require.NoError(t, err)
	req.Header.Set("X-Amzn-RequestId", requestID)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, answer
}

// dumpLines waits for n dump lines in the output and returns them.
func dumpLines(t *testing.T, output *proctest.Output, n int) []map[string]any {
	t.Helper()
	var lines []map[string]any
	require.Eventually(t, func() bool {
		lines = lines[:0]
		sc := bufio.NewScanner(strings.NewReader(output.String()))
		for sc.Scan() {
			if !strings.HasPrefix(sc.Text(), "{") || !strings.Contains(sc.Text(), `"msg":"request dump"`) {
				continue
			}
			var l map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "dump line: %s", sc.Text())
			lines = append(lines, l)
		}
		return len(lines) >= n
	}, 10*time.Second, 50*time.Millisecond, "output: %s", output)
	require.Len(t, lines, n, "exactly one line per invoke: %s", output)
	return lines
}

// freeAddrs returns n distinct free loopback addresses: all n listeners
// are held until every port is picked, so that none is handed out twice.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		addrs[i] = l.Addr().String()
	}
	return addrs
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := repo.Root()
	require.NoError(t, err)
	return root
}
