// Command local-bench measures the local stack as a user runs it, a
// separate local-aws process on loopback, with the vegeta load generator:
//
//   - start to ready: spawn `local-aws serve` and poll its health, several times;
//   - cold start: the first request after a deploy (the median of several);
//   - warm latency: p50/p99 through gateway → RIE → logs at a steady rate;
//   - throughput: as many requests as the stack takes, then a check through
//     FilterLogEvents that every accepted request's dump is in the log group
//     exactly once (0 lost, 0 duplicated);
//   - access: throughput with the env redeployed in access mode api_key
//     (an x-api-key header) and iam (each request signed with the SDK's v4
//     signer before the round, verified by the stack; and once more with
//     the clients signing as they send, on the same cores), as ratios of
//     the open API's (mode none) in the same run (access.go).
//
// Cold start, warm latency and throughput run on the stack and on a
// baseline: the same zip under the same number of bare aws-lambda-rie
// processes, invoked directly with the proxy event, through the same load
// generator and clients (see baseline). The machine is shared and its
// speed moves, so each phase alternates the two in rounds, in mirrored
// order (stack, baseline, baseline, stack, …: --rounds, --cold-runs), and
// the figures that mean something are the ratios printed at the end, with
// the throughput ratio of each pair of rounds to show the spread.
// --background-load N adds N busy processes for the whole run.
//
// The warm and throughput phases also run on the floor (--floor, on by
// default): the baseline behind a bare net/http proxy process, the least a
// gateway in a process of its own can cost (floor.go). floor/baseline is
// the most any such gateway can reach; stack/floor is what the stack's own
// work costs.
//
// Usage: local-bench --bin .local/bin/local-aws --zip .local/dist/function.zip [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/acme/request-dump/local/lambda"
	"github.com/acme/request-dump/local/stack"
)

func main() {
	if os.Getenv(hogVar) != "" {
		hog()
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "local-bench:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// errUsage marks a bad command line (exit status 2, as for an unknown flag).
var errUsage = errors.New("usage")

type config struct {
	bin, zip, env                 string
	readyRuns, coldRuns, rounds   int
	warmRate                      int
	warmFor                       time.Duration
	loadRequests, workers, maxEnv int
	backgroundLoad                int
	cpuProfile                    string
	accessRequests                int
	emulator                      string
	floor                         bool
}

func run() error {
	var c config
	flag.StringVar(&c.bin, "bin", ".local/bin/local-aws", "the local-aws `binary` to measure")
	flag.StringVar(&c.zip, "zip", ".local/dist/function.zip", "the function zip built for this machine")
	flag.StringVar(&c.env, "env", "dev", "the env to deploy")
	flag.IntVar(&c.readyRuns, "ready-runs", 5, "how many starts to time")
	flag.IntVar(&c.coldRuns, "cold-runs", 3, "cold starts measured on each system (the median counts)")
	flag.IntVar(&c.rounds, "rounds", 4, "rounds of the warm and throughput phases on each system, alternated in mirrored order (stack, baseline, floor, floor, baseline, stack, …)")
	flag.IntVar(&c.warmRate, "warm-rate", 500, "requests per second of the warm latency phase")
	flag.DurationVar(&c.warmFor, "warm-for", 10*time.Second, "length of the warm latency phase")
	flag.IntVar(&c.loadRequests, "requests", 50000, "requests in the throughput phase")
	flag.IntVar(&c.workers, "workers", 32, "concurrent clients in the throughput phase")
	flag.IntVar(&c.accessRequests, "access-requests", 10000, "requests per round of the access comparison (throughput in access modes none, api_key and iam); 0 skips it")
	flag.IntVar(&c.maxEnv, "max-concurrency", 0, "execution environments per function (local-aws serve --max-concurrency), and RIE processes of the baseline")
	flag.StringVar(&c.emulator, "emulator", "", "run a --zip built for another architecture under this qemu-user `BINARY` (local-aws serve --emulator), in the stack and the baseline alike")
	flag.StringVar(&c.cpuProfile, "cpu-profile", "", "write local-aws's CPU profile of the measured run to `FILE` (go tool pprof)")
	flag.BoolVar(&c.floor, "floor", true, "also measure the floor, the baseline behind a bare net/http proxy process, in the warm and throughput phases (floor.go)")
	flag.IntVar(&c.backgroundLoad, "background-load", 0, "`N` busy processes loading the CPU for the whole run (at most 4 per core)")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q (see -h)", errUsage, flag.Arg(0))
	}
	switch {
	case c.readyRuns < 1:
		return fmt.Errorf("%w: --ready-runs must be at least 1", errUsage)
	case c.coldRuns < 1:
		return fmt.Errorf("%w: --cold-runs must be at least 1", errUsage)
	case c.rounds < 1:
		return fmt.Errorf("%w: --rounds must be at least 1", errUsage)
	case c.warmRate < 1 || c.warmFor <= 0:
		return fmt.Errorf("%w: --warm-rate and --warm-for must be positive", errUsage)
	case c.accessRequests < 0:
		return fmt.Errorf("%w: --access-requests must be 0 (skip the access comparison) or more", errUsage)
	case c.loadRequests < 1 || c.workers < 1:
		return fmt.Errorf("%w: --requests and --workers must be at least 1", errUsage)
	case c.loadRequests < c.rounds:
		return fmt.Errorf("%w: --requests %d is fewer than --rounds %d: each round needs a request", errUsage, c.loadRequests, c.rounds)
	case c.maxEnv < 0:
		return fmt.Errorf("%w: --max-concurrency must be 0 or more", errUsage)
	case c.backgroundLoad < 0 || c.backgroundLoad > 4*runtime.NumCPU():
		return fmt.Errorf("%w: --background-load %d: want 0 to %d (4 per core)", errUsage, c.backgroundLoad, 4*runtime.NumCPU())
	}
	if os.Getenv(floorVar) != "" {
		return serveFloor(c)
	}
	for _, f := range []string{c.bin, c.zip} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%w (scripts/bench-local.sh builds it)", err)
		}
	}

	fmt.Printf("local-bench: %s, function %s, %d cores, %d background load processes\n\n", c.bin, c.zip, runtime.NumCPU(), c.backgroundLoad)
	stopLoad, err := backgroundLoad(c.backgroundLoad)
	if err != nil {
		return err
	}
	defer stopLoad()
	ready, err := timeStarts(c)
	if err != nil {
		return err
	}
	slices.Sort(ready)
	fmt.Printf("start to ready (%d starts): median %s, max %s\n", len(ready), ms(ready[len(ready)/2]), ms(ready[len(ready)-1]))

	srv, err := start(c, c.cpuProfile)
	if err != nil {
		return err
	}
	defer srv.stop()
	target, err := deploy(c, srv.endpoint, nil)
	if err != nil {
		return err
	}
	target.pid = srv.cmd.Process.Pid
	envs := c.maxEnv
	if envs == 0 {
		envs = lambda.DefaultMaxConcurrency
	}
	b, err := newBaseline(c, envs)
	if err != nil {
		return err
	}
	defer b.close()
	var f *floorProxy
	if c.floor {
		if f, err = startFloor(c, envs); err != nil {
			return err
		}
		defer f.stop()
	}
	return measure(c, target, b, f)
}

// server is a local-aws process.
type server struct {
	cmd      *exec.Cmd
	endpoint string
}

func (s *server) stop() { stop(s.cmd) }

// stop ends a process this program started: SIGTERM, then SIGKILL after
// 10 s.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// start starts local-aws, writing its CPU profile to profile if not "".
func start(c config, profile string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", addr, "--bucket", "acme-request-dump-artifacts", "--token-file", tokenFile}
	if c.maxEnv > 0 {
		args = append(args, "--max-concurrency", fmt.Sprint(c.maxEnv))
	}
	if profile != "" {
		args = append(args, "--cpu-profile", profile)
	}
	if c.emulator != "" {
		args = append(args, "--emulator", c.emulator)
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, endpoint: "http://" + addr}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Polled every millisecond: this is what timeStarts measures.
	if err := (&stack.Client{Endpoint: s.endpoint, TokenFile: tokenFile}).WaitReady(ctx, time.Millisecond); err != nil {
		s.stop()
		return nil, fmt.Errorf("local-aws at %s not ready: %w", s.endpoint, err)
	}
	return s, nil
}

// timeStarts starts local-aws readyRuns times, timing spawn to a ready
// health answer, as a script that starts it in the background sees it.
func timeStarts(c config) ([]time.Duration, error) {
	var took []time.Duration
	for range c.readyRuns {
		begin := time.Now()
		s, err := start(c, "")
		if err != nil {
			return nil, err
		}
		took = append(took, time.Since(begin))
		s.stop()
	}
	return took, nil
}

// tokenFile is where the measured local-aws writes its control token: a
// file of this run's own, so that a stack the user runs keeps its token.
var tokenFile = filepath.Join(os.TempDir(), fmt.Sprintf("local-bench-%d.token", os.Getpid()))

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }
