package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/local/lambda"
	"github.com/acme/request-dump/local/logs"
)

// testBootstrap is testdata/testfn built for this machine, testZip the same
// packaged as Lambda takes it.
var (
	testBootstrap string
	testZip       []byte
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "local-lambda-test-")
	if err == nil {
		err = setup(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "local/lambda tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func setup(dir string) error {
	if _, err := repo.Tool("aws-lambda-rie"); err != nil {
		// CI builds the pinned tools first; a fresh checkout builds it here.
		root, rerr := repo.Root()
		if rerr != nil {
			return rerr
		}
		cmd := exec.Command(filepath.Join(root, "scripts", "tools.sh"), "aws-lambda-rie")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building aws-lambda-rie: %w", err)
		}
	}
	testBootstrap = filepath.Join(dir, "bootstrap")
	if err := goBuild("./testdata/testfn", testBootstrap); err != nil {
		return err
	}
	var err error
	testZip, err = zipOf(map[string]string{"bootstrap": testBootstrap})
	return err
}

// goBuild builds a function for this machine, as the local run deploys it.
func goBuild(pkg, out string) error {
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// zipOf packages files (name in the zip → path on disk) with mode 0755.
func zipOf(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		b, err := os.ReadFile(files[name])
		if err != nil {
			return nil, err
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// memSink is a LogSink that keeps events per stream.
type memSink struct {
	mu      sync.Mutex
	groups  map[string]bool
	streams map[string][]logs.Event
	calls   int
}

func newSink() *memSink {
	return &memSink{groups: map[string]bool{}, streams: map[string][]logs.Event{}}
}

func (s *memSink) Append(group, stream string, events ...logs.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[group] = true
	s.streams[stream] = append(s.streams[stream], events...)
	s.calls++
	return nil
}

func (s *memSink) events(stream string) []logs.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.streams[stream])
}

func (s *memSink) messages(stream string) []string {
	var out []string
	for _, e := range s.events(stream) {
		out = append(out, e.Message)
	}
	return out
}

func (s *memSink) streamNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.streams {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// invocationLog returns the messages of the invocation id in stream: from
// its START line (or platform.start record) to its REPORT.
func (s *memSink) invocationLog(stream, id string) []string {
	msgs := s.messages(stream)
	first, last := -1, -1
	for i, m := range msgs {
		if strings.Contains(m, id) && (strings.HasPrefix(m, "START ") || strings.Contains(m, `"platform.start"`)) {
			first = i
		}
		if first >= 0 && strings.Contains(m, id) && (strings.HasPrefix(m, "REPORT ") || strings.Contains(m, `"platform.report"`)) {
			last = i
			break
		}
	}
	if first < 0 || last < 0 {
		return nil
	}
	return msgs[first : last+1]
}

// deploy starts a function on testfn with spec's settings over defaults.
func deploy(t testing.TB, spec lambda.Spec, opts ...lambda.Option) (*lambda.Function, *memSink) {
	t.Helper()
	if spec.FunctionName == "" {
		spec.FunctionName = "testfn"
	}
	if spec.Code == nil && spec.Bootstrap == "" {
		spec.Bootstrap = testBootstrap
	}
	sink := newSink()
	f, err := lambda.New(spec, sink, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f, sink
}

func invoke(t testing.TB, f *lambda.Function, id, payload string) lambda.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := f.Invoke(ctx, id, []byte(payload))
	require.NoError(t, err)
	return res
}

type invoked struct {
	res lambda.Result
	err error
}

// invokeAsync invokes in a goroutine of its own; the test checks the
// outcome on its own goroutine.
func invokeAsync(f *lambda.Function, id, payload string) chan invoked {
	ch := make(chan invoked, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := f.Invoke(ctx, id, []byte(payload))
		ch <- invoked{res, err}
	}()
	return ch
}

// waitGone waits until a process no longer exists (or is a zombie).
func waitGone(t testing.TB, pid int) {
	t.Helper()
	require.Eventually(t, func() bool { return !alive(pid) }, 5*time.Second, 5*time.Millisecond, "pid %d still running", pid)
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}
