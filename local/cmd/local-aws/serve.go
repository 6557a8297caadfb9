package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/acme/request-dump/local/internal/rawheader"
	"github.com/acme/request-dump/local/stack"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4566", "edge endpoint `host:port`; loopback only")
	dataDir := fs.String("data-dir", "", "keep S3 objects, log events and deployments in `DIR` across restarts")
	tokenFile := tokenFileFlag(fs, "write")
	region := fs.String("region", stack.DefaultRegion, "the services' `region`")
	maxConc := fs.Int("max-concurrency", 0, "execution environments per function (0: local/lambda's default)")
	fsyncLogs := fs.Bool("fsync-logs", false, "with --data-dir, sync log events to the disk before an invocation is answered, so that a machine crash loses none either (the log store then takes about 1/80 as many writes per second; see local/README.md)")
	verbose := fs.Bool("v", false, "log each execution environment start and stop")
	emulator := fs.String("emulator", "", "run a function built for another architecture (the arm64 artifact on an amd64 host) under this qemu-user `BINARY`, e.g. qemu-aarch64; RIE stays native")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile (go tool pprof) of the whole run to `FILE` at stop")
	var buckets stringList
	fs.Var(&buckets, "bucket", "create bucket `NAME` at start (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("%w: --addr %q: %v (want host:port, e.g. 127.0.0.1:4566)", errUsage, *addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%w: --addr %q: the local stack listens on loopback only (127.0.0.1 or ::1)", errUsage, *addr)
	}
	if *fsyncLogs && *dataDir == "" {
		return fmt.Errorf("%w: --fsync-logs needs --data-dir: without one, log events live in memory", errUsage)
	}
	if !regionName.MatchString(*region) {
		return fmt.Errorf("%w: --region %q: want an AWS region name such as %s", errUsage, *region, stack.DefaultRegion)
	}
	if *maxConc < 0 {
		return fmt.Errorf("%w: --max-concurrency %d: want 0 or more", errUsage, *maxConc)
	}
	if *emulator != "" {
		path, err := exec.LookPath(*emulator)
		if err != nil {
			return fmt.Errorf("%w: --emulator %q: %v (Debian: apt-get install qemu-user, or scripts/tools.sh qemu-aarch64)", errUsage, *emulator, err)
		}
		*emulator = path
	}

	start := time.Now()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	level := slog.LevelInfo
	if !*verbose {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// Listen first: a port in use fails fast, before anything is started.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%s is already in use: stop what runs there (make local-down, if it is this checkout's stack; `ss -ltnp 'sport = :%s'` shows what it is) or serve on another port: --addr, or LOCAL_AWS_ENDPOINT=http://127.0.0.1:<port> for make local-up and make demo", *addr, port(*addr))
		}
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	s, err := stack.New(stack.Config{
		DataDir:        *dataDir,
		Region:         *region,
		Buckets:        buckets,
		MaxConcurrency: *maxConc,
		Emulator:       *emulator,
		FsyncLogs:      *fsyncLogs,
		Logger:         log,
	})
	if err != nil {
		ln.Close()
		return err
	}
	if err := stack.WriteTokenFile(*tokenFile, s.Token()); err != nil {
		ln.Close()
		s.Close()
		return err
	}
	// A later start writes its own token; only this one's is removed.
	defer func() {
		if t, err := stack.ReadTokenFile(*tokenFile); err == nil && t == s.Token() {
			os.Remove(*tokenFile)
		}
	}()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	// API Gateway passes header names to the function as the caller sent
	// them, which net/http does not keep.
	ln = rawheader.Wrap(srv, ln)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "local-aws: ready on http://%s in %s (S3, CloudWatch Logs, Lambda, API Gateway, CloudWatch, SSM Parameter Store, STS); control token in %s\n", ln.Addr(), time.Since(start).Round(10*time.Microsecond), *tokenFile)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-served:
		s.Close()
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "local-aws: stopping")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = errors.Join(srv.Shutdown(shutdown), s.Shutdown(shutdown))
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}

// regionName is the shape of AWS region names (us-east-1, us-gov-west-1),
// which the services put in ARNs and check in SigV4 credential scopes.
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
