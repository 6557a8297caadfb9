// Package stacktest starts the local AWS stack inside a test, on httptest's
// 127.0.0.1:0, and deploys an env onto it the way `make local-up` does: the
// function built by scripts/build.sh for this machine, uploaded to the env's
// prefix with the real aws-sdk-go-v2 S3 client, deployed from envs/<env>.
package stacktest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/apicaller"
	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/local/internal/rawheader"
	"github.com/acme/request-dump/local/stack"
)

// Env is an env deployed on a local stack started for one test.
type Env struct {
	// Stack is the running stack; URL its edge endpoint.
	Stack *stack.Stack
	URL   string
	// Config is the env as deployed (after the test's changes).
	Config *envconfig.Config
	// Deployment is what the stack deployed; Outputs its outputs.
	Deployment *stack.Deployment
	Outputs    stack.Outputs
	// Zip is the function zip deployed.
	Zip []byte
}

// Option changes how Start deploys.
type Option func(*options)

type options struct {
	env     string
	edit    func(*envconfig.Config)
	dataDir string
	zip     []byte
}

// WithEnv deploys env instead of dev.
func WithEnv(env string) Option { return func(o *options) { o.env = env } }

// WithConfig lets the test change the env's settings before the deploy,
// e.g. the dump fields.
func WithConfig(edit func(*envconfig.Config)) Option { return func(o *options) { o.edit = edit } }

// WithZip deploys code, a deployment zip for this machine, instead of the
// function scripts/build.sh builds: a test function, say.
func WithZip(code []byte) Option { return func(o *options) { o.zip = code } }

// WithDataDir keeps the stack's data in dir.
func WithDataDir(dir string) Option { return func(o *options) { o.dataDir = dir } }

// Start starts a stack for t, deploys the env and stops the stack when t ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	o := options{env: "dev"}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := envconfig.Load(o.env)
	require.NoError(t, err)
	if o.edit != nil {
		o.edit(cfg)
	}
	code := o.zip
	if code == nil {
		code = FunctionZip(t)
	}

	st, url := NewStack(t, o.dataDir, cfg.Artifact.Bucket)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg.Artifact = Upload(t, url, cfg.Artifact.Bucket, o.env, code)
	spec, err := stack.SpecFor(cfg)
	require.NoError(t, err)
	d, err := st.Deploy(ctx, spec)
	require.NoError(t, err)
	return &Env{Stack: st, URL: url, Config: cfg, Deployment: d, Outputs: d.Outputs(url), Zip: code}
}

// Apply deploys code (the env's own zip when nil) onto the env as
// `terraform apply` does (stack.Spec.KeepLive): it publishes a version for
// the candidate alias and leaves the live alias where it is. edit, when not
// nil, changes the spec first (a bad setting, say).
func (e *Env) Apply(t testing.TB, code []byte, edit func(*stack.Spec)) *stack.Deployment {
	t.Helper()
	if code == nil {
		code = e.Zip
	}
	cfg := *e.Config
	cfg.Artifact = Upload(t, e.URL, cfg.Artifact.Bucket, cfg.Env, code)
	spec, err := stack.SpecFor(&cfg)
	require.NoError(t, err)
	spec.KeepLive = true
	if edit != nil {
		edit(&spec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := e.Stack.Deploy(ctx, spec)
	require.NoError(t, err)
	return d
}

// NewStack starts an empty stack for t on httptest's 127.0.0.1:0, keeping
// its data in dataDir ("" in memory) and with buckets created, and stops it
// when t ends. It returns the stack and its edge endpoint.
func NewStack(t testing.TB, dataDir string, buckets ...string) (*stack.Stack, string) {
	t.Helper()
	st, err := stack.New(stack.Config{DataDir: dataDir, Buckets: buckets})
	require.NoError(t, err)
	// As local-aws serve serves it: header names kept as the caller sent them.
	srv := httptest.NewUnstartedServer(st)
	srv.Listener = rawheader.Wrap(srv.Config, srv.Listener)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = st.Close()
	})
	return st, srv.URL
}

// Upload stores a zip at its content address under env's prefix with the
// S3 client, as scripts/upload.sh does, and returns its pointer.
func Upload(t testing.TB, endpoint, bucket, env string, code []byte) pointer.Pointer {
	t.Helper()
	p := pointer.New(bucket, env, pointer.Sum(code))
	_, err := S3(endpoint).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket:            aws.String(p.Bucket),
		Key:               aws.String(p.Key),
		Body:              bytes.NewReader(code),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	require.NoError(t, err)
	return p
}

// S3 returns an S3 client for the stack at endpoint.
func S3(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       stack.DefaultRegion,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   sdkhttp.New(),
	})
}

// Logs returns a CloudWatch Logs client for the stack at endpoint.
func Logs(endpoint string) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       stack.DefaultRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   sdkhttp.New(),
	})
}

// Lambda returns a Lambda client for the stack at endpoint.
func Lambda(endpoint string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       stack.DefaultRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   sdkhttp.New(),
	})
}

// CloudWatch returns a CloudWatch client for the stack at endpoint.
func CloudWatch(endpoint string) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{
		Region:       stack.DefaultRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   sdkhttp.New(),
	})
}

// AWSCLI returns a runner of the AWS CLI against the stack at endpoint, as
// a developer runs it with --endpoint-url: throwaway credentials, no config
// files, JSON output. A failed command fails t with its output. The CLI is
// not a dependency of the repository: tests that use it are built with the
// awscli tag (make test-awscli).
func AWSCLI(t testing.TB, endpoint string) func(args ...string) []byte {
	t.Helper()
	awsCLI, err := exec.LookPath("aws")
	require.NoError(t, err, "make test-awscli needs the AWS CLI on PATH (Debian: apt-get install awscli)")
	home := t.TempDir()
	return func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsCLI, append([]string{"--endpoint-url", endpoint, "--region", stack.DefaultRegion, "--output", "json"}, args...)...)
		cmd.Env = []string{
			"HOME=" + home, "PATH=" + os.Getenv("PATH"),
			"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "aws %s: %s", strings.Join(args, " "), stderr.Bytes())
		return out
	}
}

// BuildZip builds the Go main package pkg (a path relative to the
// repository root, e.g. ./local/lambda/testdata/testfn) for this machine,
// with ldflags if not empty, and packages it as a deployment zip: one
// bootstrap, mode 0755. A test function, say.
func BuildZip(pkg, ldflags string) ([]byte, error) {
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "stacktest-zip-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bootstrap")
	args := []string{"build", "-tags", "lambda.norpc", "-o", bin}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(exe)
	}
	if err == nil {
		err = zw.Close()
	}
	return buf.Bytes(), err
}

// BrokenZip builds brokenfn, the function with fault (error-on:<type> or
// no-dump-on:<type>), for this machine.
func BrokenZip(fault string) ([]byte, error) {
	return BuildZip("./local/stacktest/brokenfn", "-X main.fault="+fault)
}

var build struct {
	mu   sync.Mutex
	zips map[string][]byte
}

// FunctionZip returns the function built by scripts/build.sh for this
// machine, built once per test binary.
func FunctionZip(t testing.TB) []byte {
	t.Helper()
	code, err := FunctionZipFor(runtime.GOARCH)
	require.NoError(t, err)
	return code
}

// FunctionZipFor returns the function built by scripts/build.sh for arch.
func FunctionZipFor(arch string) ([]byte, error) {
	build.mu.Lock()
	defer build.mu.Unlock()
	if code, ok := build.zips[arch]; ok {
		return code, nil
	}
	script, err := repo.Path("scripts", "build.sh")
	if err != nil {
		return nil, err
	}
	out, err := os.MkdirTemp("", "stacktest-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	cmd := exec.Command("bash", script, "--arch", arch, "--out", out)
	if log, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("scripts/build.sh --arch %s: %v\n%s", arch, err, log)
	}
	code, err := os.ReadFile(filepath.Join(out, "function.zip"))
	if err != nil {
		return nil, err
	}
	if build.zips == nil {
		build.zips = map[string][]byte{}
	}
	build.zips[arch] = code
	return code, nil
}

// killableDir is the environment variable through which Killable tells a
// test binary it runs as the process to kill: its value is the data
// directory to serve.
const killableDir = "STACKTEST_KILLABLE_DIR"

// ServeKillable is called first by the TestMain of a package whose tests
// use Killable. In the process Killable started, it serves what serve
// builds on the data directory on 127.0.0.1:0, prints the address, and
// never returns; in any other run of the test binary it returns at once,
// so no test is skipped to make room for the helper.
func ServeKillable(serve func(dir string) (http.Handler, error)) {
	dir := os.Getenv(killableDir)
	if dir == "" {
		return
	}
	h, err := serve(dir)
	if err == nil {
		var ln net.Listener
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			fmt.Println(ln.Addr().String())
			err = http.Serve(ln, h)
		}
	}
	fmt.Fprintln(os.Stderr, "stacktest: killable process:", err)
	os.Exit(1)
}

// Killable starts this test binary again as a process serving dir (the
// package's TestMain calls ServeKillable), for a test to kill with
// SIGKILL, and returns it with the address it serves on.
func Killable(t testing.TB, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), killableDir+"="+dir)
	cmd.Stderr = os.Stderr
	// Should the test binary die without its cleanup (a timeout's panic),
	// the child goes with it instead of serving on.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "the killable process prints its address")
	return cmd, strings.TrimSpace(line)
}

// APIClient returns an HTTP client for the env's API that sends the
// credentials its access mode needs (package apicaller): the smoke key,
// read from the stack's Parameter Store, or a SigV4 signature as the
// caller role, assumed through the stack's STS.
func (e *Env) APIClient(t testing.TB) *http.Client {
	t.Helper()
	cfg := aws.Config{Region: stack.DefaultRegion, BaseEndpoint: aws.String(e.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), HTTPClient: sdkhttp.New()}
	caller, err := apicaller.New(context.Background(), cfg, e.Outputs.Access("smoke"), http.DefaultTransport)
	require.NoError(t, err)
	return &http.Client{Timeout: 30 * time.Second, Transport: caller.Transport}
}
