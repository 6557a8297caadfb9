package lambda

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/acme/request-dump/local/logs"
)

// env is one execution environment: an aws-lambda-rie process, and the
// runtime (bootstrap) it starts on the first invocation, serving one
// invocation at a time. Its output goes to its own log stream.
type env struct {
	f      *Function
	stream string
	cmd    *exec.Cmd
	url    *url.URL // RIE's invoke API
	// conn is the connection to RIE's invoke API: nil before the first
	// invocation and after a failure (see roundTrip).
	conn atomic.Pointer[rieConn]

	// RIE's stdout carries its START/END/REPORT lines and the runtime's
	// stdout and stderr. out is the read end; fenceW is this process's
	// copy of the write end (see collect, in stdout.go).
	out    *os.File
	fenceW *os.File
	fence  []byte // written: "\n" + token + "\n"
	token  string // read back: token + "\n"
	// outMu guards reading out, and the fields below.
	outMu     sync.Mutex
	outClosed bool
	readBuf   []byte
	stdout    lineSplitter
	// stop ends drainStdout.
	stop chan struct{}

	stderr *rieLog       // RIE's own log
	exited chan struct{} // closed when the RIE process has exited

	// rt watches the running bootstrap; nil before the first invocation
	// and while RIE restarts the runtime after a timeout or crash.
	rt atomic.Pointer[runtimeProc]
	// broken marks an environment that must not serve again.
	broken    atomic.Bool
	closeOnce sync.Once

	// Owned by the caller that acquired the environment from the pool.
	invocations int
	maxMemoryMB int
	lastEvent   time.Time
}

// job is one invocation.
type job struct {
	id      string
	payload []byte
	// deadline bounds the exchange with RIE: past it, RIE is taken as
	// hung (it enforces the function's timeout itself).
	deadline time.Time
}

// rieConn is the one connection an environment keeps to RIE's invoke API.
type rieConn struct {
	net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

type outcome struct {
	res Result
	err error
	// retry: the request never reached the environment, which was gone.
	retry bool
	// runtimeExited: the runtime was found gone after the invocation.
	runtimeExited bool
}

var errPortTaken = errors.New("port taken")

// launching serialises the environments' starts in this process, from
// picking free ports until RIE listens on both: otherwise two starts could
// be handed the same free port before either RIE binds it.
var launching sync.Mutex

// startEnv starts an execution environment and waits until RIE accepts
// connections. Ports are picked free, but another process may take one
// before RIE binds it: RIE then exits, and another pair is tried.
func (f *Function) startEnv() (*env, error) {
	var err error
	for range 5 {
		var e *env
		if e, err = f.launch(); err == nil {
			return e, nil
		}
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	return nil, err
}

func (f *Function) launch() (*env, error) {
	launching.Lock()
	defer launching.Unlock()
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	out, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		out.Close()
		w.Close()
		return nil, err
	}
	token := "\x00fence-" + randomHex(16)
	e := &env{
		f:       f,
		stream:  streamName(time.Now(), f.spec.Version),
		url:     &url.URL{Scheme: "http", Host: ports[0], Path: "/2015-03-31/functions/function/invocations"},
		out:     out,
		fenceW:  w,
		fence:   []byte("\n" + token + "\n"),
		token:   token + "\n",
		readBuf: make([]byte, 64<<10),
		stop:    make(chan struct{}),
		stderr:  newRIELog(8 << 10),
		exited:  make(chan struct{}),
	}
	// RIE's INFO log has the init time (INIT REPORT); its environment is
	// the function's (RIE passes all of it on).
	args := []string{"--log-level", "info",
		"--runtime-interface-emulator-address", ports[0],
		"--runtime-api-address", ports[1]}
	// RIE execs its first argument with the rest: a foreign bootstrap runs
	// under qemu-user, which needs no binfmt_misc registration that way.
	if f.emulator != "" {
		args = append(args, f.emulator)
	}
	e.cmd = exec.Command(f.rie, append(args, f.bootstrap)...)
	e.cmd.Dir = f.taskDir
	e.cmd.Env = append(slices.Clip(f.environ), "AWS_LAMBDA_LOG_STREAM_NAME="+e.stream)
	e.cmd.Stdout = w
	e.cmd.Stderr = errW
	// Its own process group lets Close kill RIE with anything it left; the
	// death signal stops it if this process dies without Close.
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := e.cmd.Start(); err != nil {
		out.Close()
		w.Close()
		errR.Close()
		errW.Close()
		return nil, fmt.Errorf("start %s: %w", f.rie, err)
	}
	errW.Close()
	go func() {
		e.cmd.Wait()
		close(e.exited)
	}()
	go e.stderr.drain(errR)
	go e.drainStdout()
	if err := e.ready(ports); err != nil {
		e.shutdown()
		return nil, err
	}
	return e, nil
}

// ready waits until RIE accepts connections on its emulator address and
// on the Runtime API address (which it binds a moment later).
func (e *env) ready(addrs []string) error {
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range addrs {
		if err := e.listening(addr, deadline); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) listening(addr string, deadline time.Time) error {
	for {
		select {
		case <-e.exited:
			// Wait for RIE's last words before quoting them.
			<-e.stderr.done
			msg := e.stderr.String()
			if strings.Contains(msg, "address already in use") {
				return fmt.Errorf("%w: %s", errPortTaken, msg)
			}
			return fmt.Errorf("aws-lambda-rie exited at start (%s): %s", e.cmd.ProcessState, msg)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("aws-lambda-rie did not listen on %s within 10 s: %s", addr, e.stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// serve runs one invocation on the caller's goroutine, then hands the
// environment back to the pool (or retires it) and ends the request's
// time in flight.
func (e *env) serve(j *job) outcome {
	f := e.f
	o := e.invoke(j)
	// invoke looked at the runtime a moment ago: only RIE's own state is
	// checked again.
	dead := o.runtimeExited || e.gone()
	if dead {
		f.retire(e)
	} else {
		f.release(e)
	}
	f.leave()
	return o
}

// dead reports whether the environment can no longer serve.
func (e *env) dead() bool {
	if e.gone() {
		return true
	}
	// A runtime that died while idle would make RIE fail the next
	// invocation with Runtime.ExitError: retire the environment instead.
	if rt := e.rt.Load(); rt != nil && rt.hasExited() {
		return true
	}
	return false
}

// gone reports whether the environment is broken or its RIE has exited.
func (e *env) gone() bool {
	if e.broken.Load() {
		return true
	}
	select {
	case <-e.exited:
		return true
	default:
	}
	return false
}

// running reports whether stat, the contents of /proc/<pid>/stat, is that
// of a process that has not exited: a zombie, dead but not yet reaped by
// RIE, counts as exited.
func running(stat []byte) bool {
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}

// roundTrip posts one invocation to RIE, on the caller's goroutine, over
// the environment's own connection. http.Transport would run a read and a
// write goroutine per connection, two more hand-offs per invocation (a
// tenth of the stack's CPU under load); RIE serves one invocation at a
// time, so one connection written and read in turn is all it takes. The
// request and the response are still written and parsed by net/http. RIE's
// server has no idle timeout: the connection lasts until a failure, after
// which the next invocation dials again.
func (e *env) roundTrip(j *job) (int, []byte, error) {
	c := e.conn.Load()
	if c == nil {
		nc, err := net.DialTimeout("tcp", e.url.Host, 5*time.Second)
		if err != nil {
			return 0, nil, err
		}
		c = &rieConn{Conn: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}
		e.conn.Store(c)
	}
	reusable := false
	defer func() {
		if !reusable {
			e.dropConn(c)
		}
	}()
	if err := c.SetDeadline(j.deadline); err != nil {
		return 0, nil, err
	}
	req := &http.Request{
		Method: http.MethodPost, URL: e.url, Host: e.url.Host, ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"X-Amzn-Requestid": {j.id}, "Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(j.payload)),
		ContentLength: int64(len(j.payload)),
	}
	if err := req.Write(c.bw); err != nil {
		return 0, nil, err
	}
	if err := c.bw.Flush(); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return 0, nil, err
	}
	body, err := readBody(resp.Body, resp.ContentLength)
	resp.Body.Close()
	// A body cut at the limit leaves the rest of it on the connection.
	reusable = err == nil && !resp.Close && len(body) <= MaxResponseBytes
	return resp.StatusCode, body, err
}

// dropConn closes c and forgets it, unless another connection replaced it.
func (e *env) dropConn(c *rieConn) {
	e.conn.CompareAndSwap(c, nil)
	c.Close()
}

// readBody reads a response of known or unknown length, up to just over
// the response limit.
func readBody(r io.Reader, n int64) ([]byte, error) {
	if n >= 0 && n <= MaxResponseBytes {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	return io.ReadAll(io.LimitReader(r, MaxResponseBytes+1))
}

// maxLine bounds one log event: a longer line is split, as Lambda splits
// function output at 256 KB less the 26 bytes CloudWatch Logs counts per
// event (262,118 bytes, as recorded from Lambda).
const maxLine = 256<<10 - 26

// shutdown stops the environment's processes and waits for them, then
// sends the lines written after the last invocation to the log stream.
func (e *env) shutdown() {
	e.closeOnce.Do(func() {
		e.broken.Store(true)
		// RIE runs the bootstrap in a process group of its own: kill that
		// one first, while RIE still knows its pid, and give RIE the time
		// to reap it, so that it does not linger as an orphaned zombie.
		pid := runtimeOf(e.cmd.Process.Pid)
		if rt := e.rt.Swap(nil); rt != nil {
			if pid == 0 {
				pid = rt.pid
			}
			rt.close()
		}
		if pid > 0 {
			syscall.Kill(-pid, syscall.SIGKILL)
			e.awaitReaped(pid)
		}
		syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.exited
		<-e.stderr.done
		close(e.stop)
		e.outMu.Lock()
		e.fenceW.Close()
		e.outMu.Unlock()
		leftover := e.closeStdout(time.Now().Add(2 * time.Second))
		if c := e.conn.Swap(nil); c != nil {
			c.Close()
		}
		// Lines the runtime wrote after its last invocation.
		var evs []logs.Event
		for _, l := range leftover {
			if msg, ok := e.f.format.app(l.text, "", l.at); ok {
				evs = append(evs, logs.Event{Timestamp: l.at, Message: msg})
			}
		}
		e.f.append(e.stream, evs)
	})
}

// awaitReaped waits (up to a second) until RIE has reaped its child pid, or
// has exited itself.
func (e *env) awaitReaped(pid int) {
	deadline := time.After(time.Second)
	for {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
			return
		}
		select {
		case <-e.exited:
			return
		case <-deadline:
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// freePorts returns n distinct free loopback addresses.
func freePorts(n int) ([]string, error) {
	var addrs []string
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("no free port on 127.0.0.1: %w", err)
		}
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// streamName is Lambda's log stream name for an environment of version
// started at t.
func streamName(t time.Time, version string) string {
	return t.UTC().Format("2006/01/02") + "/[" + version + "]" + randomHex(16)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// runtimeOf returns the pid of RIE's child, the runtime, or 0. A child is
// listed under the thread that forked it, so every thread is looked at.
func runtimeOf(riePID int) int {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(riePID) + "/task")
	if err != nil {
		return 0
	}
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(riePID) + "/task/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		if fields := strings.Fields(string(b)); len(fields) > 0 {
			pid, _ := strconv.Atoi(fields[0])
			return pid
		}
	}
	return 0
}

// runtimeProc watches a runtime process: whether it has exited (so that
// an environment whose runtime died while idle is replaced before use), and
// its peak resident memory (RIE reports the configured memory size as the
// memory used, so the local run measures it).
type runtimeProc struct {
	pid    int
	peakMB int

	// status and stat are /proc/<pid>/status and /proc/<pid>/stat, kept
	// open: reopening them every time was an eighth of the stack's CPU
	// under load. A read at offset 0 renders them afresh; once the process
	// is reaped it fails (ESRCH). After each invocation, one read of
	// status tells both whether the runtime still runs (State) and its
	// peak resident memory (VmHWM, which the kernel keeps: a sampled RSS
	// missed a peak the runtime had given back by then). When an idle
	// environment is taken, the shorter stat tells whether it runs
	// (hasExited). (A pidfd is no substitute: it turns readable only once
	// every thread of the process is gone, a moment after the leader shows
	// as a zombie, and an invocation sent in that moment fails.) mu keeps
	// close from racing a read.
	mu     sync.Mutex
	status *os.File
	stat   *os.File
}

func watchRuntime(pid int) *runtimeProc {
	r := &runtimeProc{pid: pid}
	proc := "/proc/" + strconv.Itoa(pid) + "/"
	r.status, _ = os.Open(proc + "status")
	r.stat, _ = os.Open(proc + "stat")
	return r
}

// read renders f afresh into buf; it is empty once the process is reaped.
func (r *runtimeProc) read(f **os.File, buf []byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if *f == nil {
		return nil
	}
	n, _ := (*f).ReadAt(buf, 0)
	return buf[:n]
}

// hasExited reports whether the runtime has exited: a zombie, dead but not
// yet reaped by RIE, counts as exited.
func (r *runtimeProc) hasExited() bool {
	var buf [512]byte
	return !running(r.read(&r.stat, buf[:]))
}

// sample reads status once after an invocation: it reports whether the
// runtime still runs, and updates the peak memory.
func (r *runtimeProc) sample() bool {
	var buf [2048]byte
	status := r.read(&r.status, buf[:])
	_, state, _ := bytes.Cut(status, []byte("\nState:"))
	state = bytes.TrimLeft(state, " \t")
	if len(state) == 0 || state[0] == 'Z' || state[0] == 'X' {
		return false
	}
	if _, rest, ok := bytes.Cut(status, []byte("\nVmHWM:")); ok {
		rest, _, _ = bytes.Cut(rest, []byte("kB"))
		if kb, err := strconv.Atoi(string(bytes.TrimSpace(rest))); err == nil {
			r.peakMB = (kb + 1023) / 1024
		}
	}
	return true
}

func (r *runtimeProc) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range []**os.File{&r.status, &r.stat} {
		if *f != nil {
			(*f).Close()
			*f = nil
		}
	}
}

// rieLog reads RIE's own log (stderr): it keeps the end for error
// messages, and picks out the runtime's init time.
type rieLog struct {
	mu    sync.Mutex
	max   int
	buf   []byte
	inits chan time.Duration // "INIT REPORT(durationMs: …)", latest only
	done  chan struct{}      // closed at the stream's end
}

func newRIELog(max int) *rieLog {
	return &rieLog{max: max, inits: make(chan time.Duration, 1), done: make(chan struct{})}
}

const initReport = "INIT REPORT(durationMs: "

// rieLogPause is how long drain waits, once the runtime's first init is
// reported, before it reads what RIE logged since: RIE logs two lines per
// invocation, and reading each as it comes woke this process twice per
// invocation (4 % of its CPU under load). Nothing waits for those lines,
// and the pipe holds 64 KiB, far more than RIE logs in the pause.
const rieLogPause = 20 * time.Millisecond

func (l *rieLog) drain(r *os.File) {
	defer close(l.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	initSeen := false
	for {
		if initSeen && br.Buffered() == 0 {
			time.Sleep(rieLogPause)
		}
		s, err := br.ReadString('\n')
		if _, rest, ok := strings.Cut(s, initReport); ok {
			v, _, _ := strings.Cut(rest, ")")
			if ms, perr := strconv.ParseFloat(v, 64); perr == nil {
				select {
				case <-l.inits:
				default:
				}
				l.inits <- time.Duration(ms * float64(time.Millisecond))
				initSeen = true
			}
		}
		l.mu.Lock()
		l.buf = append(l.buf, s...)
		if len(l.buf) > 2*l.max {
			l.buf = append(l.buf[:0], l.buf[len(l.buf)-l.max:]...)
		}
		l.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (l *rieLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buf
	if len(b) > l.max {
		b = b[len(b)-l.max:]
	}
	return strings.TrimSpace(string(b))
}
