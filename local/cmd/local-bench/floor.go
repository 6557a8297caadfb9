package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The floor is the baseline behind the least a gateway process can be: a
// separate process that serves HTTP with net/http, as local-aws does, and
// passes each request's body unchanged to an idle RIE process of its own
// over that process's one keep-alive connection, written and read on the
// handler's goroutine, as local-aws's Lambda does (local/lambda roundTrip),
// and answers with RIE's body. No routing, no validation, no event to
// build (the load generator sends the proxy event, as for the baseline), no
// log store: RIE's output goes to /dev/null. What separates the floor from
// the baseline is the one HTTP hop any gateway in a process of its own
// adds; what separates the stack from the floor is the gateway's and the
// log store's own work. A stack/baseline target above floor/baseline
// cannot be met by any such gateway.

// floorVar set in its environment makes this program the floor's proxy,
// with the local-bench flags the variable holds (the baseline's: --zip,
// --env, --max-concurrency, --emulator).
const floorVar = "LOCAL_BENCH_FLOOR"

// floorProxy is a running proxy process.
type floorProxy struct {
	cmd *exec.Cmd
	url string
}

// startFloor starts the floor's proxy, this program again, and waits for
// the address it prints.
func startFloor(c config, max int) (*floorProxy, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"--zip", c.zip, "--env", c.env, "--max-concurrency", strconv.Itoa(max)}
	if c.emulator != "" {
		args = append(args, "--emulator", c.emulator)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), floorVar+"=1")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	p := &floorProxy{cmd: cmd}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		if a == "" {
			p.stop()
			return nil, errors.New("floor: the proxy exited before it listened")
		}
		p.url = "http://" + a + "/2015-03-31/functions/function/invocations"
		return p, nil
	case <-time.After(10 * time.Second):
		p.stop()
		return nil, errors.New("floor: the proxy did not listen within 10 s")
	}
}

// stop ends the proxy; its RIE processes die with it (Pdeathsig).
func (p *floorProxy) stop() { stop(p.cmd) }

// serveFloor is the proxy process: it serves until its parent dies or it
// is told to stop.
func serveFloor(c config) error {
	max := c.maxEnv
	if max == 0 {
		return errors.New("floor: --max-concurrency is required")
	}
	b, err := newBaseline(c, max)
	if err != nil {
		return err
	}
	defer b.close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr())
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		p, err := b.acquire(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		status, answer, err := p.roundTrip(body)
		b.idle <- p
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(answer)
	})}
	go func() {
		// The parent's end: a SIGTERM, or the parent gone (Pdeathsig kills
		// this process then, and RIE's with it).
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM)
		<-stop
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// floorConn is the one connection the proxy keeps to one RIE process.
type floorConn struct {
	net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// roundTrip posts body to p over its connection (dialled when there is
// none), with net/http's request writer and response parser on the
// caller's goroutine, as local-aws's Lambda does: no transport goroutines.
// Only the holder of p calls it.
func (p *rieProc) roundTrip(body []byte) (int, []byte, error) {
	u, err := url.Parse(p.url)
	if err != nil {
		return 0, nil, err
	}
	c := p.conn
	if c == nil {
		nc, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			return 0, nil, err
		}
		c = &floorConn{Conn: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}
		p.conn = c
	}
	req := &http.Request{Method: http.MethodPost, URL: u, Host: u.Host, ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body))}
	err = req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(c.br, req)
	}
	var answer []byte
	if err == nil {
		answer, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil || resp.Close {
		c.Close()
		p.conn = nil
	}
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, answer, nil
}
