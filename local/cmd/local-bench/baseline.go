package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/local/internal/requestid"
	"github.com/acme/request-dump/local/lambda"
	"github.com/acme/request-dump/local/stack"
)

// baseline is what the stack is measured against: the same zip under the
// same number of bare aws-lambda-rie processes, with the environment the
// stack gives them (lambda.Environ: GOMAXPROCS, the function's variables)
// and the same RIE flags (--log-level info), invoked directly with the
// proxy event the gateway would send. No gateway, no log store: RIE's
// output, the function's dump lines included, goes to /dev/null.
//
// What each side pays, per request:
//   - the same: vegeta's attacker, its workers and keep-alive connections
//     (as many as workers), the event_id-numbered bodies (targeter), RIE's
//     and the function's work;
//   - the stack only: the HTTP hop into local-aws, the gateway (routing,
//     validation, the event's JSON), the pool, reading RIE's output into
//     the log store, the metric filter, the metrics and the access log;
//   - the baseline only: the event's JSON, built by encoding/json in this
//     process (not counted in its CPU per request, which is that of the
//     RIE processes and their runtimes), and a hand-off to an idle RIE
//     process (a channel) in this process.
//
// It is an http.RoundTripper for vegeta, so the same load generator and
// clients drive both. RIE crashes on overlapping invocations, so each
// request takes an idle process, or starts one (lazily, as the stack's pool
// does, so the first request is a cold start) while fewer than max run, or
// waits for one. Each process keeps one connection to its RIE, as the
// stack's environments do.
type baseline struct {
	rie, dir, bootstrap string
	emulator            string // qemu-user for a foreign bootstrap, or ""
	environ             []string
	max                 int

	mu      sync.Mutex
	started int
	procs   []*rieProc
	idle    chan *rieProc
	pick    func() (string, error) // a free address for RIE: freeAddr
}

type rieProc struct {
	cmd       *exec.Cmd
	exited    chan struct{} // closed when cmd has been waited for
	url       string
	transport *http.Transport
	conn      *floorConn // the floor's connection to it (floor.go)
}

// newBaseline unpacks the zip's bootstrap and prepares max RIE processes
// for the env's function settings.
func newBaseline(c config, max int) (*baseline, error) {
	rie, err := repo.Tool("aws-lambda-rie")
	if err != nil {
		return nil, err
	}
	cfg, err := envconfig.Load(c.env)
	if err != nil {
		return nil, err
	}
	spec, err := stack.SpecFor(cfg)
	if err != nil {
		return nil, err
	}
	code, err := os.ReadFile(c.zip)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "local-bench-baseline-")
	if err != nil {
		return nil, err
	}
	emulator := ""
	if c.emulator != "" {
		if emulator, err = exec.LookPath(c.emulator); err != nil {
			return nil, fmt.Errorf("--emulator: %w", err)
		}
	}
	b := &baseline{rie: rie, emulator: emulator, dir: dir, bootstrap: filepath.Join(dir, "bootstrap"), max: max, idle: make(chan *rieProc, max), pick: freeAddr}
	if err := unpackBootstrap(code, b.bootstrap); err != nil {
		b.close()
		return nil, err
	}
	b.environ, err = lambda.Environ(lambda.Spec{
		FunctionName: spec.Name,
		Bootstrap:    b.bootstrap,
		MemorySize:   spec.MemorySize,
		Timeout:      time.Duration(spec.Timeout) * time.Second,
		Environment:  spec.Environment,
		LogFormat:    spec.LogFormat,
		LogLevel:     spec.LogLevel,
		Region:       spec.Region,
	}, dir)
	if err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

func unpackBootstrap(code []byte, to string) error {
	zr, err := zip.NewReader(bytes.NewReader(code), int64(len(code)))
	if err != nil {
		return err
	}
	f, err := zr.Open("bootstrap")
	if err != nil {
		return fmt.Errorf("the zip has no bootstrap: %w", err)
	}
	defer f.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, f); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// start launches one RIE and waits until it listens on both its addresses.
// The ports are picked free, but another process can take one before RIE
// binds it (the floor's proxy picks its RIE ports in a process of its own):
// RIE then exits at once, and another pair is tried, as the stack does.
func (b *baseline) start() (*rieProc, error) {
	var err error
	for range 5 {
		var p *rieProc
		if p, err = b.launch(); !errors.Is(err, errExited) {
			return p, err
		}
	}
	return nil, err
}

// errExited is an RIE that exited before it listened.
var errExited = errors.New("baseline: aws-lambda-rie exited before it listened")

func (b *baseline) launch() (*rieProc, error) {
	var addrs [2]string
	for i := range addrs {
		a, err := b.pick()
		if err != nil {
			return nil, err
		}
		addrs[i] = a
	}
	args := []string{"--log-level", "info", "--runtime-interface-emulator-address", addrs[0], "--runtime-api-address", addrs[1]}
	if b.emulator != "" {
		args = append(args, b.emulator)
	}
	cmd := exec.Command(b.rie, append(args, b.bootstrap)...)
	cmd.Dir = b.dir
	cmd.Env = append(b.environ[:len(b.environ):len(b.environ)], "AWS_LAMBDA_LOG_STREAM_NAME=baseline-"+strconv.Itoa(len(b.procs)))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &rieProc{cmd: cmd, exited: make(chan struct{}), url: "http://" + addrs[0] + "/2015-03-31/functions/function/invocations",
		transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 1}}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for _, a := range addrs {
		for {
			select {
			case <-p.exited:
				return nil, fmt.Errorf("%w (%s) on %s", errExited, cmd.ProcessState, a)
			default:
			}
			c, err := net.DialTimeout("tcp", a, 100*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				p.kill()
				return nil, fmt.Errorf("baseline: aws-lambda-rie did not listen on %s within 10 s", a)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return p, nil
}

func (p *rieProc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	p.transport.CloseIdleConnections()
	if p.conn != nil {
		p.conn.Close()
	}
}

// acquire returns an idle process, a new one while fewer than max run, or
// the next one to come back.
func (b *baseline) acquire(ctx context.Context) (*rieProc, error) {
	select {
	case p := <-b.idle:
		return p, nil
	default:
	}
	b.mu.Lock()
	if b.started < b.max {
		b.started++
		b.mu.Unlock()
		p, err := b.start()
		b.mu.Lock()
		defer b.mu.Unlock()
		if err != nil {
			b.started--
			return nil, err
		}
		b.procs = append(b.procs, p)
		return p, nil
	}
	b.mu.Unlock()
	select {
	case p := <-b.idle:
		return p, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// RoundTrip sends the request to a process of its own, reads the whole
// answer and hands the process back.
func (b *baseline) RoundTrip(r *http.Request) (*http.Response, error) {
	p, err := b.acquire(r.Context())
	if err != nil {
		return nil, err
	}
	out := r.Clone(r.Context())
	out.URL, _ = out.URL.Parse(p.url)
	out.Host = ""
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		b.idle <- p
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.idle <- p
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// pids returns the RIE processes started so far.
func (b *baseline) pids() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	pids := make([]int, 0, len(b.procs))
	for _, p := range b.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

// reset kills the RIE processes, so that the next request starts one
// (a cold start).
func (b *baseline) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.procs {
		p.kill()
	}
	for len(b.idle) > 0 {
		<-b.idle
	}
	b.procs, b.started = nil, 0
}

func (b *baseline) close() {
	b.reset()
	os.RemoveAll(b.dir)
}

// proxyEvent is the event the gateway hands the function for a POST of
// body to /events, with the headers a vegeta request carries.
func proxyEvent(body []byte) ([]byte, error) {
	id := requestid.New()
	h := map[string]string{
		"Content-Type": "application/json", "Content-Length": strconv.Itoa(len(body)),
		"Host": "127.0.0.1", "User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip",
		"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https",
	}
	mv := make(map[string][]string, len(h))
	for k, v := range h {
		mv[k] = []string{v}
	}
	return json.Marshal(events.APIGatewayProxyRequest{
		Resource: "/events", Path: "/events", HTTPMethod: http.MethodPost,
		Headers: h, MultiValueHeaders: mv, Body: string(body),
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID: stack.AccountID, ResourceID: "bench", Stage: "dev", RequestID: id,
			ExtendedRequestID: id, Identity: events.APIGatewayRequestIdentity{SourceIP: "127.0.0.1", UserAgent: "Go-http-client/1.1"},
			ResourcePath: "/events", HTTPMethod: http.MethodPost, APIID: "bench", Protocol: "HTTP/1.1",
			RequestTime: time.Now().UTC().Format("02/Jan/2006:15:04:05 -0700"), RequestTimeEpoch: time.Now().UnixMilli(),
		},
	})
}

// proxyStatus returns the statusCode of the function's proxy response.
func proxyStatus(body []byte) (int, error) {
	var r struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.StatusCode == 0 {
		return 0, errors.New("not a proxy response")
	}
	return r.StatusCode, nil
}
