package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/local/stack"
)

// target is a deployed env under test.
type target struct {
	endpoint, apiURL, logGroup, region string
	outputs                            stack.Outputs
	pid                                int // local-aws
}

// deploy uploads the zip to the env's prefix and deploys the env, as
// scripts/local-up.sh does, after edit (when not nil) changes its settings.
func deploy(c config, endpoint string, edit func(*envconfig.Config, *stack.Spec)) (target, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := envconfig.Load(c.env)
	if err != nil {
		return target{}, err
	}
	code, err := os.ReadFile(c.zip)
	if err != nil {
		return target{}, err
	}
	cfg.Artifact = pointer.New(cfg.Artifact.Bucket, c.env, pointer.Sum(code))
	_, err = s3.New(s3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   sdkhttp.New(),
	}).PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(cfg.Artifact.Bucket),
		Key:               aws.String(cfg.Artifact.Key),
		Body:              bytes.NewReader(code),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		return target{}, fmt.Errorf("upload: %w", err)
	}
	if edit != nil {
		edit(cfg, nil)
	}
	spec, err := stack.SpecFor(cfg)
	if err != nil {
		return target{}, err
	}
	if edit != nil {
		edit(cfg, &spec)
	}
	// The stage's throttling (dev: 50 req/s) would measure the throttle,
	// not the stack.
	spec.ThrottlingRateLimit, spec.ThrottlingBurstLimit = 0, 0
	out, err := (&stack.Client{Endpoint: endpoint, TokenFile: tokenFile}).Deploy(ctx, spec)
	if err != nil {
		return target{}, err
	}
	return target{endpoint: endpoint, apiURL: out["api_url"].String(), logGroup: out["log_group_name"].String(), region: cfg.Region, outputs: out}, nil
}

// accepted collects the API request ids of the requests the function
// answered, from their response bodies.
type accepted struct {
	ids    map[string]bool
	errors map[string]int
}

func newAccepted() *accepted { return &accepted{ids: map[string]bool{}, errors: map[string]int{}} }

// add records r and reports whether the function answered it.
func (a *accepted) add(r *vegeta.Result) bool {
	if r.Code != http.StatusOK {
		a.errors[fmt.Sprintf("%d %s", r.Code, r.Error)]++
		return false
	}
	var body struct {
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.RequestID == "" {
		a.errors["200 without request_id"]++
		return false
	}
	a.ids[body.RequestID] = true
	return true
}

// system is what a phase drives: the stack through its API, or the
// baseline's bare RIE processes with the proxy event.
type system struct {
	name string
	url  string
	// body turns an event into what is posted.
	body func(event []byte) ([]byte, error)
	// opts are the vegeta options that reach the system (the baseline's
	// transport).
	opts []func(*vegeta.Attacker)
	// accept checks an answer and reports whether it counts as served.
	accept func(r *vegeta.Result) bool
	// pids are the system's processes: their trees' CPU time is its cost.
	// roots names them.
	pids  func() []int
	roots string
	// fresh makes the next request start an execution environment, for
	// cold-start round n: the stack redeploys (a new version starts cold),
	// the baseline kills its RIE processes.
	fresh func(n int) error
}

// phases are one system's figures, summed over its rounds.
type phases struct {
	colds []time.Duration
	// warm and load hold every round's results (latencies, successes);
	// their own duration spans the other system's rounds too, so the
	// throughput is the successes over loadTime, the rounds' own time.
	warm, load vegeta.Metrics
	loadTime   time.Duration
	// loadRounds is each throughput round's req/s, in order.
	loadRounds []float64
	// warmCPU and loadCPU are the CPU time the system's processes used in
	// those phases; loadOwnCPU the part of the roots of their trees.
	warmCPU, loadCPU, loadOwnCPU time.Duration
	failed                       int
}

// cold is the median of the cold starts.
func (p *phases) cold() time.Duration {
	c := slices.Clone(p.colds)
	slices.Sort(c)
	return c[len(c)/2]
}

// throughput is the successful requests per second of the throughput
// rounds, over their own time.
func (p *phases) throughput() float64 {
	return p.load.Success * float64(p.load.Requests) / p.loadTime.Seconds()
}

// perRequest is the CPU time per request of a phase.
func perRequest(cpu time.Duration, m vegeta.Metrics) time.Duration {
	if m.Requests == 0 {
		return 0
	}
	return cpu / time.Duration(m.Requests)
}

// targeter posts events with the ids <prefix>-1, <prefix>-2, … to s, and
// stops after limit of them when limit > 0.
func (s *system) targeter(prefix string, limit int64) vegeta.Targeter {
	var seq atomic.Int64
	return func(tgt *vegeta.Target) error {
		n := seq.Add(1)
		if limit > 0 && n > limit {
			return vegeta.ErrNoTargets
		}
		event := fmt.Appendf(nil, `{"event_id":"%s-%d","type":"bench","user":{"id":"u-%d"},"attributes":{"password":"x"}}`, prefix, n, n%100)
		body, err := s.body(event)
		if err != nil {
			return err
		}
		tgt.Method = http.MethodPost
		tgt.URL = s.url
		tgt.Header = http.Header{"Content-Type": []string{"application/json"}}
		tgt.Body = body
		return nil
	}
}

func (s *system) attacker(opts ...func(*vegeta.Attacker)) *vegeta.Attacker {
	return vegeta.NewAttacker(append(opts, s.opts...)...)
}

// add counts r in p and in each of ms.
func (s *system) add(p *phases, r *vegeta.Result, ms ...*vegeta.Metrics) {
	if r.Error == vegeta.ErrNoTargets.Error() {
		return // the targeter's end, not a request
	}
	if !s.accept(r) {
		p.failed++
	}
	for _, m := range ms {
		if m != nil {
			m.Add(r)
		}
	}
}

// cold measures one first request, which starts an execution environment;
// round > 0 first makes the system start a fresh one.
func (s *system) cold(run string, round int, p *phases) error {
	if round > 0 {
		if err := s.fresh(round); err != nil {
			return err
		}
	}
	for r := range s.attacker().Attack(s.targeter(fmt.Sprintf("%s-cold-%d", run, round), 1), vegeta.ConstantPacer{Freq: 1, Per: time.Second}, 0, "cold") {
		if r.Error == vegeta.ErrNoTargets.Error() {
			continue
		}
		s.add(p, r)
		p.colds = append(p.colds, r.Latency)
		fmt.Printf("  %-8s cold start (first request): %s, status %d\n", s.name, ms(r.Latency), r.Code)
	}
	return nil
}

// warm measures latency at a steady rate for one round of length d, after
// a short warm-up before the first round.
func (s *system) warm(c config, run string, round int, d time.Duration, p *phases) {
	if round == 0 {
		for r := range s.attacker(vegeta.KeepAlive(true)).Attack(s.targeter(run+"-warm-up", 0), vegeta.ConstantPacer{Freq: c.warmRate, Per: time.Second}, 2*time.Second, "warm-up") {
			s.add(p, r)
		}
	}
	var m vegeta.Metrics
	cpu := treeCPU(s.pids()...)
	for r := range s.attacker(vegeta.KeepAlive(true)).Attack(s.targeter(fmt.Sprintf("%s-warm-%d", run, round), 0), vegeta.ConstantPacer{Freq: c.warmRate, Per: time.Second}, d, "warm") {
		s.add(p, r, &p.warm, &m)
	}
	used := treeCPU(s.pids()...) - cpu
	p.warmCPU += used
	m.Close()
	fmt.Printf("  %-8s warm at %d req/s for %s (%d requests): p50 %s, p90 %s, p99 %s, max %s, success %.2f%%; CPU %s per request\n",
		s.name, c.warmRate, d, m.Requests, ms(m.Latencies.P50), ms(m.Latencies.P90), ms(m.Latencies.P99), ms(m.Latencies.Max), 100*m.Success, us(perRequest(used, m)))
}

// load measures throughput for one round of n requests: as fast as
// c.workers clients can go.
func (s *system) load(c config, run string, round, n int, p *phases) {
	a := s.attacker(vegeta.KeepAlive(true), vegeta.Workers(uint64(c.workers)), vegeta.MaxWorkers(uint64(c.workers)), vegeta.Connections(c.workers))
	var m vegeta.Metrics
	cpu, own := splitCPU(s.pids()...)
	for r := range a.Attack(s.targeter(fmt.Sprintf("%s-%d", run, round), int64(n)), vegeta.ConstantPacer{}, 0, "load") {
		s.add(p, r, &p.load, &m)
	}
	cpuEnd, ownEnd := splitCPU(s.pids()...)
	used, usedOwn := cpuEnd-cpu, ownEnd-own
	p.loadCPU += used
	p.loadOwnCPU += usedOwn
	m.Close()
	p.loadTime += m.Duration + m.Wait
	p.loadRounds = append(p.loadRounds, m.Throughput)
	fmt.Printf("  %-8s throughput with %d clients: %d requests in %s = %.0f req/s; p50 %s, p99 %s; success %.2f%%; CPU %s per request (%s of it in %s)\n",
		s.name, c.workers, m.Requests, m.Duration.Round(time.Millisecond), m.Throughput, ms(m.Latencies.P50), ms(m.Latencies.P99), 100*m.Success,
		us(perRequest(used, m)), us(perRequest(usedOwn, m)), s.roots)
}

// mirrored returns the order in which k systems (0 to k-1) run n rounds
// each: 0 1 2, 2 1 0, 0 1 2, … (for two: 0 1 1 0 0 1 …), so that a machine
// getting slower or faster through the phase weighs on all alike, and no
// system always goes first.
func mirrored(n, k int) []int {
	order := make([]int, 0, n*k)
	for round := range n {
		for i := range k {
			if round%2 == 1 {
				i = k - 1 - i
			}
			order = append(order, i)
		}
	}
	return order
}

// measure runs each phase in rounds, alternating the stack, the baseline
// and the floor (when f is not nil; warm and throughput phases only) in
// mirrored order, so that all see the same machine at nearly the same
// moments, and prints them side by side; then it checks the stack's dumps.
func measure(c config, t target, b *baseline, f *floorProxy) error {
	run := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	all := newAccepted()
	st := &system{name: "stack", url: t.apiURL + "/events",
		body:   func(event []byte) ([]byte, error) { return event, nil },
		accept: func(r *vegeta.Result) bool { return all.add(r) },
		pids:   func() []int { return []int{t.pid} }, roots: "local-aws",
		fresh: func(n int) error {
			// As on AWS, a new configuration gets new execution
			// environments; the same one redeployed keeps the warm ones.
			_, err := deploy(c, t.endpoint, func(_ *envconfig.Config, spec *stack.Spec) {
				if spec != nil {
					spec.Environment["LOCAL_BENCH_COLD_ROUND"] = strconv.Itoa(n)
				}
			})
			return err
		}}
	baseErrors := map[string]int{}
	// accept takes the function's 200 proxy response, as the gateway
	// would pass it on.
	accept := func(name string) func(r *vegeta.Result) bool {
		return func(r *vegeta.Result) bool {
			status, err := proxyStatus(r.Body)
			if r.Code == http.StatusOK && err == nil && status == http.StatusOK {
				return true
			}
			baseErrors[fmt.Sprintf("%s: %d %s %.80s", name, r.Code, r.Error, r.Body)]++
			return false
		}
	}
	bl := &system{name: "baseline", url: "http://baseline.invalid/2015-03-31/functions/function/invocations",
		body: proxyEvent,
		opts: []func(*vegeta.Attacker){vegeta.Client(&http.Client{Transport: b})},
		pids: b.pids, roots: "the RIE processes",
		accept: accept("baseline"),
		fresh:  func(int) error { b.reset(); return nil }}
	systems := []*system{st, bl}
	ps := []*phases{{}, {}}
	rounds := func(n, k int, each func(s *system, round int, p *phases) error) error {
		done := make([]int, k)
		for _, i := range mirrored(n, k) {
			if err := each(systems[i], done[i], ps[i]); err != nil {
				return err
			}
			done[i]++
		}
		return nil
	}
	if f != nil {
		systems = append(systems, &system{name: "floor", url: f.url, body: proxyEvent,
			pids: func() []int { return []int{f.cmd.Process.Pid} }, roots: "the proxy",
			accept: accept("floor")})
		ps = append(ps, &phases{})
	}
	fmt.Printf("cold start (%d each, mirrored):\n", c.coldRuns)
	if err := rounds(c.coldRuns, 2, func(s *system, round int, p *phases) error { return s.cold(run, round, p) }); err != nil {
		return err
	}
	fmt.Printf("warm latency (%d rounds each, mirrored):\n", c.rounds)
	if err := rounds(c.rounds, len(systems), func(s *system, round int, p *phases) error {
		s.warm(c, run, round, c.warmFor/time.Duration(c.rounds), p)
		return nil
	}); err != nil {
		return err
	}
	fmt.Printf("throughput (%d rounds each, mirrored):\n", c.rounds)
	loadRun := run + "-load"
	if err := rounds(c.rounds, len(systems), func(s *system, round int, p *phases) error {
		n := c.loadRequests / c.rounds
		if round == c.rounds-1 {
			n = c.loadRequests - n*(c.rounds-1)
		}
		s.load(c, loadRun, round, n, p)
		return nil
	}); err != nil {
		return err
	}
	for e, n := range all.errors {
		fmt.Printf("  stack: not accepted: %d × %s\n", n, e)
	}
	for e, n := range baseErrors {
		fmt.Printf("  failed: %d × %s\n", n, e)
	}
	compare(*ps[0], *ps[1])
	if f != nil {
		compareFloor(*ps[0], *ps[1], *ps[2])
	}
	if c.accessRequests > 0 {
		if err := compareAccess(c, t, all, run); err != nil {
			return err
		}
	}
	return verify(t, all, loadRun)
}

// compare prints the stack's figures beside the baseline's, with the
// ratios and the targets of issue 12.
func compare(s, b phases) {
	s.warm.Close()
	b.warm.Close()
	s.load.Close()
	b.load.Close()
	fmt.Printf("\n%-22s %12s %12s %10s  %s\n", "figure", "stack", "baseline", "ratio", "target")
	row := func(name, sv, bv string, ratio float64, target string, met bool) {
		verdict := "met"
		if !met {
			verdict = "MISSED"
		}
		fmt.Printf("%-22s %12s %12s %9.2fx  %s: %s\n", name, sv, bv, ratio, target, verdict)
	}
	tput := s.throughput() / b.throughput()
	row("throughput (req/s)", fmt.Sprintf("%.0f", s.throughput()), fmt.Sprintf("%.0f", b.throughput()), tput, ">= 0.80x", tput >= 0.8)
	p50 := s.warm.Latencies.P50 - b.warm.Latencies.P50
	row("warm p50", ms(s.warm.Latencies.P50), ms(b.warm.Latencies.P50), ratio(s.warm.Latencies.P50, b.warm.Latencies.P50),
		fmt.Sprintf("<= baseline + 0.5 ms (+%s)", ms(p50)), p50 <= 500*time.Microsecond)
	row("warm p99", ms(s.warm.Latencies.P99), ms(b.warm.Latencies.P99), ratio(s.warm.Latencies.P99, b.warm.Latencies.P99), "(none)", true)
	cold := ratio(s.cold(), b.cold())
	row("cold start (median)", ms(s.cold()), ms(b.cold()), cold, "<= 1.30x", cold <= 1.3)
	// CPU time per request is steadier than req/s on a shared machine: a
	// neighbour's burst slows both systems, not the work each does.
	sc, bc := perRequest(s.loadCPU, s.load), perRequest(b.loadCPU, b.load)
	row("CPU per request, load", us(sc), us(bc), ratio(sc, bc), "(none; throughput's cause)", true)
	// The same RIE processes and runtimes, beside the stack's other work
	// or alone: what they cost more in the stack, local-aws cannot save.
	sr := perRequest(s.loadCPU-s.loadOwnCPU, s.load)
	fmt.Printf("%-22s %12s\n", "  of it local-aws", us(perRequest(s.loadOwnCPU, s.load)))
	row("  of it RIE, runtimes", us(sr), us(bc), ratio(sr, bc), "(none)", true)
	sc, bc = perRequest(s.warmCPU, s.warm), perRequest(b.warmCPU, b.warm)
	row("CPU per request, warm", us(sc), us(bc), ratio(sc, bc), "(none)", true)
	// Each stack round beside the baseline round next to it: the spread
	// says how far one pair of rounds can be trusted on this machine.
	var pairs []string
	for i := range min(len(s.loadRounds), len(b.loadRounds)) {
		pairs = append(pairs, fmt.Sprintf("%.2fx", s.loadRounds[i]/b.loadRounds[i]))
	}
	fmt.Printf("throughput per pair of rounds: %s\n", strings.Join(pairs, " "))
}

// compareFloor prints the floor's figures beside the baseline's and the
// stack's: what one bare HTTP hop in a process of its own costs, and what
// the stack costs on top of it.
func compareFloor(s, b, f phases) {
	for _, p := range []*phases{&s, &b, &f} {
		p.warm.Close()
		p.load.Close()
	}
	fmt.Printf("\n%-22s %12s %12s %10s %10s\n", "floor", "floor", "baseline", "floor/base", "stack/floor")
	row := func(name, fv, bv string, fb, sf float64) {
		fmt.Printf("%-22s %12s %12s %9.2fx %9.2fx\n", name, fv, bv, fb, sf)
	}
	row("throughput (req/s)", fmt.Sprintf("%.0f", f.throughput()), fmt.Sprintf("%.0f", b.throughput()),
		f.throughput()/b.throughput(), s.throughput()/f.throughput())
	row("warm p50", ms(f.warm.Latencies.P50), ms(b.warm.Latencies.P50),
		ratio(f.warm.Latencies.P50, b.warm.Latencies.P50), ratio(s.warm.Latencies.P50, f.warm.Latencies.P50))
	fc, bc, sc := perRequest(f.loadCPU, f.load), perRequest(b.loadCPU, b.load), perRequest(s.loadCPU, s.load)
	row("CPU per request, load", us(fc), us(bc), ratio(fc, bc), ratio(sc, fc))
	fo, so := perRequest(f.loadOwnCPU, f.load), perRequest(s.loadOwnCPU, s.load)
	fmt.Printf("%-22s %12s %12s %10s %9.2fx\n", "  of it the proxy", us(fo), "", "", ratio(so, fo))
	fr := perRequest(f.loadCPU-f.loadOwnCPU, f.load)
	row("  of it RIE, runtimes", us(fr), us(bc), ratio(fr, bc), ratio(perRequest(s.loadCPU-s.loadOwnCPU, s.load), fr))
	var pairs []string
	for i := range min(len(f.loadRounds), len(b.loadRounds)) {
		pairs = append(pairs, fmt.Sprintf("%.2fx", f.loadRounds[i]/b.loadRounds[i]))
	}
	fmt.Printf("floor throughput per pair of rounds: %s\n", strings.Join(pairs, " "))
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// verify pages through the function's log group and checks that every
// accepted request's dump is there exactly once.
func verify(t target, all *accepted, loadRun string) error {
	client := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       t.region,
		BaseEndpoint: aws.String(t.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   sdkhttp.New(),
	})
	begin := time.Now()
	seen := map[string]int{}
	p := cloudwatchlogs.NewFilterLogEventsPaginator(client, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(t.logGroup),
		FilterPattern: aws.String(`{ $.msg = "request dump" }`),
		Limit:         aws.Int32(10000),
	})
	loadDumps := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		for _, e := range page.Events {
			// Only event_id is read: an env may dump objects too (dev's
			// attributes).
			var dump struct {
				APIRequestID string `json:"api_request_id"`
				Fields       struct {
					EventID string `json:"event_id"`
				} `json:"fields"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(e.Message)), &dump); err != nil {
				return fmt.Errorf("verify: a dump event is not the dump line docs/architecture.md describes: %w", err)
			}
			seen[dump.APIRequestID]++
			if strings.HasPrefix(dump.Fields.EventID, loadRun+"-") {
				loadDumps++
			}
		}
	}
	lost, dup, unknown := 0, 0, 0
	for id := range all.ids {
		switch seen[id] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	for id := range seen {
		if !all.ids[id] {
			unknown++
		}
	}
	fmt.Printf("dumps found through FilterLogEvents in %s: %d accepted requests (%d in the throughput phase), %d lost, %d duplicated, %d without an accepted request\n",
		time.Since(begin).Round(time.Millisecond), len(all.ids), loadDumps, lost, dup, unknown)
	if lost+dup+unknown > 0 {
		return fmt.Errorf("verify: %d lost, %d duplicated, %d unexpected dumps", lost, dup, unknown)
	}
	return nil
}
