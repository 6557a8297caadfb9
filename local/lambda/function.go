package lambda

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/local/internal/requestid"
	"github.com/acme/request-dump/local/internal/shutdown"
	"github.com/acme/request-dump/local/logs"
)

// Function is a deployed function: a pool of execution environments, each
// an aws-lambda-rie process running the function's bootstrap. It is safe
// for concurrent use.
type Function struct {
	spec      Spec
	sink      LogSink
	group     string
	rie       string
	taskDir   string
	bootstrap string
	emulator  string   // qemu-user for a bootstrap of another architecture
	environ   []string // baseEnvironment, computed once
	format    formatter
	log       *slog.Logger

	mu   sync.Mutex
	idle []*env // warm environments, most recently used last
	all  map[*env]struct{}
	// stopping shuts down the environments retired from all in the
	// background; Close shuts the others down with it and waits for all.
	stopping shutdown.Group
	starting int
	waiters  list.List // of *waiter, first come first served
	inflight int
	// closing refuses new requests (Shutdown); closed also stops those
	// admitted (Close).
	closing, closed bool
	drained         chan struct{} // closed when inflight reaches 0 after Shutdown

	spawns    sync.WaitGroup
	closeOnce sync.Once

	coldStarts  atomic.Int64
	invocations atomic.Int64
	throttles   atomic.Int64
	logErrors   atomic.Int64
}

type waiter struct {
	ch     chan *env // an environment, or nil: try again
	handed bool      // set under Function.mu when ch was sent to
}

// Result is the outcome of an invocation that reached the function.
type Result struct {
	// Payload is the function's response, or Lambda's error document
	// ({"errorMessage","errorType"}) when FunctionError is set.
	Payload []byte
	// FunctionError is what Lambda puts in X-Amz-Function-Error:
	// "Unhandled" for any function error, "" on success.
	FunctionError string
	// ErrorType is the error document's errorType: the handler's own,
	// Sandbox.Timedout, Runtime.ExitError or Function.ResponseSizeTooLarge.
	ErrorType string
	// Timeout reports that the function ran past its timeout.
	Timeout bool
	// Crash reports that the runtime exited during the invocation (a
	// panic, an exit, a kill); RIE restarts it on the next one.
	Crash bool
	// ColdStart reports that the invocation started its environment's
	// runtime; InitDuration is then the runtime's start-up time.
	ColdStart    bool
	InitDuration time.Duration
	// Duration is the invocation's run time as RIE measured it.
	Duration time.Duration
	// LogStream is the stream the invocation logged to.
	LogStream string
}

// ServiceError is an error of the Lambda service itself, not of the
// function: the invocation never ran. API Gateway answers 500 Internal
// server error for any of them (its INTEGRATION_FAILURE response).
type ServiceError struct {
	// StatusCode is what Lambda's Invoke API answers: 404, 413, 429, 500.
	StatusCode int
	// Type is Lambda's exception name, e.g. TooManyRequestsException.
	Type    string
	Message string
}

func (e *ServiceError) Error() string { return "lambda: " + e.Type + ": " + e.Message }

// Option configures New.
type Option func(*options)

type options struct {
	rie     string
	workDir string
	log     *slog.Logger
}

// WithRIE runs the given aws-lambda-rie binary instead of the pinned one
// that scripts/tools.sh builds into .tools/bin.
func WithRIE(path string) Option { return func(o *options) { o.rie = path } }

// WithWorkDir unpacks the function's code under dir instead of the system's
// temporary directory.
func WithWorkDir(dir string) Option { return func(o *options) { o.workDir = dir } }

// WithLogger reports environments starting and stopping, and log events
// the sink refused, to log.
func WithLogger(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// New deploys a function: it unpacks its code and checks its settings.
// Execution environments start on demand, at the first invocations.
func New(spec Spec, sink LogSink, opts ...Option) (*Function, error) {
	spec, err := spec.normalize()
	if err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, errors.New("lambda: New needs a LogSink for the function's logs")
	}
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.rie == "" {
		if o.rie, err = repo.Tool("aws-lambda-rie"); err != nil {
			return nil, fmt.Errorf("lambda: %w", err)
		}
	}
	dir, err := os.MkdirTemp(o.workDir, "lambda-"+spec.FunctionName+"-")
	if err != nil {
		return nil, fmt.Errorf("lambda: %w", err)
	}
	foreign, err := spec.unpack(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lambda: function %s: %w", spec.FunctionName, err)
	}
	f := &Function{
		spec:      spec,
		sink:      sink,
		group:     "/aws/lambda/" + spec.FunctionName,
		rie:       o.rie,
		taskDir:   dir,
		bootstrap: filepath.Join(dir, "bootstrap"),
		format:    newFormatter(spec),
		log:       o.log.With("function", spec.FunctionName),
		all:       map[*env]struct{}{},
	}
	if foreign {
		f.emulator = spec.Emulator
	}
	f.environ = baseEnvironment(spec, f.group, dir)
	return f, nil
}

// Environ returns the environment that an execution environment of spec
// runs with, its code unpacked in taskDir, less AWS_LAMBDA_LOG_STREAM_NAME
// (each environment's own): local-bench starts bare RIE processes with it
// to measure the pool against.
func Environ(spec Spec, taskDir string) ([]string, error) {
	spec, err := spec.normalize()
	if err != nil {
		return nil, err
	}
	return baseEnvironment(spec, "/aws/lambda/"+spec.FunctionName, taskDir), nil
}

// baseEnvironment is the whole environment of the function's processes:
// what Lambda sets, and the function's own variables. RIE hands its own
// environment to the runtime, so nothing of this process leaks in.
func baseEnvironment(s Spec, group, taskDir string) []string {
	env := []string{
		"AWS_REGION=" + s.Region,
		"AWS_DEFAULT_REGION=" + s.Region,
		"AWS_LAMBDA_FUNCTION_NAME=" + s.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION=" + s.Version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(s.MemorySize),
		// RIE reads the timeout from here.
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(s.Timeout/time.Second)),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=" + group,
		"AWS_LAMBDA_LOG_FORMAT=" + s.LogFormat,
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + taskDir,
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		// Lambda passes the execution role's credentials; the local run
		// passes obviously fake ones, so that nothing reaches real AWS.
		"AWS_ACCESS_KEY_ID=ASIALOCALLAMBDAFAKE00",
		"AWS_SECRET_ACCESS_KEY=local-lambda-fake-secret",
		"AWS_SESSION_TOKEN=local-lambda-fake-session",
	}
	if s.LogFormat == "JSON" {
		env = append(env, "AWS_LAMBDA_LOG_LEVEL="+s.LogLevel)
	}
	if _, set := s.Environment["GOMAXPROCS"]; !set {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(vCPUs(s.MemorySize)))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
		env = append(env, k+"="+s.Environment[k])
	}
	return env
}

// vCPUs is the CPU Lambda gives a function of memoryMB: in proportion to
// its memory, one vCPU at 1,769 MB, six at 10,240. The execution
// environment's processes (RIE and the runtime, which inherits RIE's
// variables) run with GOMAXPROCS set to it, although Lambda does not set
// the variable: each Lambda environment has its own microVM, while locally
// every environment shares the host's cores, and Go's default of one
// thread per core in each of several RIE and runtime processes made them
// fight for the CPU (make bench-local on 2 cores: about 1,300 req/s with
// the default, 2,000 with GOMAXPROCS=1). A function whose environment
// sets GOMAXPROCS keeps its own value.
func vCPUs(memoryMB int) int {
	return max(1, (memoryMB+1768)/1769)
}

// LogGroup returns the function's log group, /aws/lambda/<name>.
func (f *Function) LogGroup() string { return f.group }

// Invoke runs the function once with payload, as Lambda's synchronous
// Invoke (RequestResponse) does, and returns once the invocation's log
// events are in the sink. requestID is the Lambda request id ("" draws
// one).
//
// Concurrency follows Lambda: a warm environment is reused (the most
// recently used first), a new one is started otherwise, up to
// Spec.MaxConcurrency; beyond that the request waits for an environment
// until ctx ends. Past Spec.ReservedConcurrency requests in flight it is
// throttled at once, as Lambda throttles.
//
// A function error, timeout or crash is a Result with FunctionError set
// (API Gateway answers 502 for it). An error is returned when the
// invocation never ran: a *ServiceError (payload over 6 MB, throttled,
// function closed, environment failing to start), or ctx's error. When ctx
// ends during an invocation, Invoke returns at once while the invocation
// runs to its end in the background, as on Lambda; payload is read until
// then, so it must not be reused before. The exception: a ctx whose
// deadline is later than the function's timeout (as API Gateway's
// integration timeout usually is) runs the invocation on the caller's
// goroutine, and a cancellation before that deadline is seen when the
// invocation ends, within the function's timeout.
func (f *Function) Invoke(ctx context.Context, requestID string, payload []byte) (Result, error) {
	if len(payload) > MaxRequestBytes {
		return Result{}, &ServiceError{StatusCode: 413, Type: "RequestEntityTooLargeException",
			Message: fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", MaxRequestBytes)}
	}
	if requestID == "" {
		requestID = requestid.New()
	}
	if err := f.admit(); err != nil {
		return Result{}, err
	}
	for attempt := 1; ; attempt++ {
		e, err := f.acquire(ctx)
		if err != nil {
			f.leave()
			return Result{}, err
		}
		j := &job{id: requestID, payload: payload, deadline: time.Now().Add(f.spec.Timeout + hungRIE)}
		var o outcome
		if deadline, inline := f.runsInline(ctx); inline {
			j.deadline = deadline
			o = e.serve(j)
			if ctx.Err() != nil {
				return Result{}, fmt.Errorf("lambda: invocation %s of %s: %w", requestID, f.spec.FunctionName, ctx.Err())
			}
		} else {
			done := make(chan outcome, 1)
			go func() { done <- e.serve(j) }()
			select {
			case o = <-done:
			case <-ctx.Done():
				return Result{}, fmt.Errorf("lambda: invocation %s of %s: %w", requestID, f.spec.FunctionName, ctx.Err())
			}
		}
		if !o.retry {
			return o.res, o.err
		}
		if attempt == 3 {
			return Result{}, &ServiceError{StatusCode: 500, Type: "ServiceException",
				Message: "the execution environments kept disappearing before the request reached them"}
		}
		// The environment was gone before the request reached it: the
		// invocation never started, so it is safe to run it elsewhere.
		f.enter()
	}
}

// hungRIE is how long past the function's timeout RIE may take to answer
// before it is taken as hung: RIE ends a timed-out invocation itself.
const hungRIE = 30 * time.Second

// inlineMargin is how much later than the function's timeout a ctx's
// deadline must be for the invocation to run on the caller's goroutine:
// time for RIE to stop a timed-out runtime and answer.
const inlineMargin = time.Second

// runsInline reports whether Invoke can run the invocation on the caller's
// goroutine, which saves two goroutine hand-offs per invocation, and the
// deadline of the exchange with RIE then: when ctx can never end, or ends
// by a deadline later than the invocation can last (the function's
// timeout, which RIE enforces, and inlineMargin), as API Gateway's
// integration timeout (29 s) does for a function of 10 s. The ctx's
// deadline still bounds the exchange, so a hung RIE cannot keep the caller
// past it. A ctx without a deadline that can be cancelled (a client
// hanging up on Lambda's API) runs it on a goroutine of its own, so that
// Invoke returns at once.
func (f *Function) runsInline(ctx context.Context) (time.Time, bool) {
	now := time.Now()
	bound := now.Add(f.spec.Timeout + hungRIE)
	if ctx.Done() == nil {
		return bound, true
	}
	deadline, ok := ctx.Deadline()
	if !ok || deadline.Before(now.Add(f.spec.Timeout+inlineMargin)) {
		return time.Time{}, false
	}
	if deadline.Before(bound) {
		bound = deadline
	}
	return bound, true
}

// admit counts a request in flight, or throttles it.
func (f *Function) admit() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return f.notFound()
	}
	limit, reason := accountConcurrency, "ConcurrentInvocationLimitExceeded"
	if f.spec.ReservedConcurrency > 0 {
		limit, reason = f.spec.ReservedConcurrency, "ReservedFunctionConcurrentInvocationLimitExceeded"
	}
	if f.inflight >= limit {
		f.throttles.Add(1)
		return &ServiceError{StatusCode: 429, Type: "TooManyRequestsException", Message: "Rate Exceeded. (" + reason + ")"}
	}
	f.inflight++
	return nil
}

func (f *Function) enter() {
	f.mu.Lock()
	f.inflight++
	f.mu.Unlock()
}

// leave ends a request's time in flight.
func (f *Function) leave() {
	f.mu.Lock()
	f.inflight--
	if f.inflight == 0 && f.drained != nil {
		close(f.drained)
		f.drained = nil
	}
	f.mu.Unlock()
}

func (f *Function) notFound() error {
	return &ServiceError{StatusCode: 404, Type: "ResourceNotFoundException",
		Message: "Function not found: " + f.spec.FunctionName + " (it was closed or redeployed)"}
}

// acquire returns an environment that is the caller's until it is released.
func (f *Function) acquire(ctx context.Context) (*env, error) {
	f.mu.Lock()
	for {
		if f.closed {
			f.mu.Unlock()
			return nil, f.notFound()
		}
		for len(f.idle) > 0 {
			e := f.idle[len(f.idle)-1]
			f.idle = f.idle[:len(f.idle)-1]
			if !e.dead() {
				f.mu.Unlock()
				return e, nil
			}
			delete(f.all, e)
			f.log.Info("replacing an execution environment that died while idle", "stream", e.stream)
			f.stopLocked(e)
		}
		if len(f.all)+f.starting < f.spec.MaxConcurrency {
			return f.spawn()
		}
		w := &waiter{ch: make(chan *env, 1)}
		el := f.waiters.PushBack(w)
		f.mu.Unlock()
		select {
		case e := <-w.ch:
			if e != nil {
				return e, nil
			}
			f.mu.Lock()
		case <-ctx.Done():
			f.mu.Lock()
			if w.handed {
				// Handed over meanwhile: pass it on.
				f.wakeLocked(<-w.ch)
			} else {
				f.waiters.Remove(el)
			}
			f.mu.Unlock()
			return nil, fmt.Errorf("lambda: waiting for an execution environment of %s: %w", f.spec.FunctionName, ctx.Err())
		}
	}
}

// spawn starts an environment; f.mu is held on entry and released.
func (f *Function) spawn() (*env, error) {
	f.starting++
	f.spawns.Add(1)
	defer f.spawns.Done()
	f.mu.Unlock()
	began := time.Now()
	e, err := f.startEnv()
	f.mu.Lock()
	f.starting--
	if err != nil {
		// Let a waiter try in this one's place.
		f.wakeLocked(nil)
		f.mu.Unlock()
		f.log.Error("execution environment failed to start", "err", err)
		return nil, &ServiceError{StatusCode: 500, Type: "ServiceException",
			Message: "the execution environment failed to start: " + err.Error()}
	}
	if f.closed {
		f.mu.Unlock()
		e.shutdown()
		return nil, f.notFound()
	}
	f.all[e] = struct{}{}
	f.mu.Unlock()
	f.log.Info("execution environment started", "stream", e.stream, "pid", e.cmd.Process.Pid, "took", time.Since(began))
	return e, nil
}

// wakeLocked hands e (or, with nil, the chance to start one) to the first
// waiter; an environment nobody waits for goes back to the idle stack.
func (f *Function) wakeLocked(e *env) {
	if front := f.waiters.Front(); front != nil {
		w := f.waiters.Remove(front).(*waiter)
		w.handed = true
		w.ch <- e
		return
	}
	if e != nil && !f.closed {
		f.idle = append(f.idle, e)
	}
}

// release returns a warm environment after an invocation.
func (f *Function) release(e *env) {
	f.mu.Lock()
	f.wakeLocked(e)
	f.mu.Unlock()
}

// retire forgets an environment that can no longer serve, and shuts it
// down in the background (unless Close has taken it over).
func (f *Function) retire(e *env) {
	f.mu.Lock()
	if _, ok := f.all[e]; ok {
		delete(f.all, e)
		f.stopLocked(e)
		f.wakeLocked(nil)
	}
	f.mu.Unlock()
}

// stopLocked shuts e down in the background; f.mu is held. The shutdown
// kills e's processes at once, so there is nothing for Close to hurry.
func (f *Function) stopLocked(e *env) {
	f.stopping.Go(func(context.Context) { e.shutdown() })
}

// append sends events to the environment's stream; a refusal is logged and
// counted, since the invocation itself succeeded.
func (f *Function) append(stream string, events []logs.Event) {
	if len(events) == 0 {
		return
	}
	if err := f.sink.Append(f.group, stream, events...); err != nil {
		f.logErrors.Add(1)
		f.log.Error("log events lost", "stream", stream, "events", len(events), "err", err)
	}
}

// Shutdown stops taking invocations, waits until those in flight are done
// (or ctx ends), then closes the function.
func (f *Function) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	f.closing = true
	var drained chan struct{}
	if f.inflight > 0 {
		if f.drained == nil {
			f.drained = make(chan struct{})
		}
		drained = f.drained
	}
	f.mu.Unlock()
	if drained != nil {
		select {
		case <-drained:
		case <-ctx.Done():
		}
	}
	return f.Close()
}

// Close stops every execution environment at once and waits for their
// processes to exit; invocations in flight end as crashes. It removes the
// unpacked code.
func (f *Function) Close() error {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		f.closing, f.closed = true, true
		for f.waiters.Len() > 0 {
			f.wakeLocked(nil)
		}
		f.mu.Unlock()
		// Environments still starting are shut down by spawn.
		f.spawns.Wait()
		f.mu.Lock()
		for e := range f.all {
			f.stopLocked(e)
		}
		f.all = map[*env]struct{}{}
		f.idle = nil
		f.mu.Unlock()
		// Waits for those retired before too.
		f.stopping.Close()
		os.RemoveAll(f.taskDir)
	})
	return nil
}

// Stats is a snapshot of a function's pool.
type Stats struct {
	// Environments counts the running execution environments, Idle those
	// waiting for an invocation.
	Environments, Idle int
	// InFlight counts the requests admitted and not finished, Waiting those
	// of them waiting for an environment.
	InFlight, Waiting int
	// ColdStarts, Invocations and Throttles count since New.
	ColdStarts, Invocations, Throttles int64
	// LogErrors counts the batches of log events the sink refused.
	LogErrors int64
}

// Stats returns the pool's current state and counters.
func (f *Function) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Stats{
		Environments: len(f.all),
		Idle:         len(f.idle),
		InFlight:     f.inflight,
		Waiting:      f.waiters.Len(),
		ColdStarts:   f.coldStarts.Load(),
		Invocations:  f.invocations.Load(),
		Throttles:    f.throttles.Load(),
		LogErrors:    f.logErrors.Load(),
	}
}

// Environment describes one execution environment.
type Environment struct {
	// LogStream is the environment's log stream.
	LogStream string
	// PID is the aws-lambda-rie process; RuntimePID the bootstrap it runs,
	// 0 before the first invocation or while RIE restarts it.
	PID, RuntimePID int
}

// Environments lists the running execution environments.
func (f *Function) Environments() []Environment {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Environment, 0, len(f.all))
	for e := range f.all {
		env := Environment{LogStream: e.stream, PID: e.cmd.Process.Pid}
		if rt := e.rt.Load(); rt != nil {
			env.RuntimePID = rt.pid
		}
		out = append(out, env)
	}
	slices.SortFunc(out, func(a, b Environment) int { return a.PID - b.PID })
	return out
}
