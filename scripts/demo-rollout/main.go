// Command demo-rollout shows a production rollout end to end on a local
// stack of its own, as `make demo-rollout` runs it: envs/<env> deployed,
// traffic on its public stage the whole time, then (1) a healthy change
// rolled out through the env's canary and promoted to 100 %, and (2) a
// deliberately broken build (local/stacktest/brokenfn: function errors on
// "purchase" events, which the smoke test never sends) sent to the canary
// share and rolled back automatically when the env's errors alarm fires.
// The rollouts are internal/rollout, what scripts/rollout.sh runs after an
// Atlantis apply, against the stack's Lambda and CloudWatch APIs with the
// real SDK clients; the request counts per version come from the stack.
//
// Usage: go run ./scripts/demo-rollout [--env stg] [--interval 3s]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/acme/request-dump/internal/apicaller"
	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/internal/rollout"
	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/local/lambda/versions"
	"github.com/acme/request-dump/local/stack"
	"github.com/acme/request-dump/local/stacktest"
	"github.com/acme/request-dump/smoke"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo-rollout:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) {
	fmt.Printf("\n\033[1m==> %s\033[0m\n", fmt.Sprintf(format, args...))
}

func run() error {
	envName := flag.String("env", "stg", "the env whose rollout settings and alarms to use (a canary: stg or prod)")
	interval := flag.Duration("interval", 3*time.Second, "how long each share of the traffic runs (the env's interval_seconds is minutes)")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (usage: go run ./scripts/demo-rollout [--env stg] [--interval 3s])", flag.Arg(0))
	}
	if *interval <= 0 {
		return errors.New("--interval must be a positive duration, e.g. 3s")
	}
	started := time.Now()
	cfg, err := envconfig.Load(*envName)
	if err != nil {
		return err
	}
	if cfg.Rollout.Strategy == envconfig.AllAtOnce {
		return fmt.Errorf("envs/%s rolls out all at once: pick an env with a canary (stg or prod) to see one", *envName)
	}

	step("1/6 Build the function for this machine (scripts/build.sh) and a broken build of it (local/stacktest/brokenfn, error-on:purchase)")
	good, err := stacktest.FunctionZipFor(runtime.GOARCH)
	if err != nil {
		return err
	}
	broken, err := stacktest.BrokenZip("error-on:purchase")
	if err != nil {
		return err
	}

	// The traffic calls with a key of its own, as a client of the env
	// would: the usage plan's throttle is per key, and the smoke key is the
	// rollout gate's.
	if cfg.Access.Mode == apispec.AccessAPIKey {
		cfg.Access.APIKeys = append(slices.Clone(cfg.Access.APIKeys), trafficKey)
	}

	step("2/6 Start a local AWS stack of the demo's own and deploy envs/%s", *envName)
	st, err := stack.New(stack.Config{Buckets: []string{cfg.Artifact.Bucket}})
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: st}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	endpoint := "http://" + ln.Addr().String()
	d, err := deploy(endpoint, st, cfg, good, nil, false)
	if err != nil {
		return err
	}
	outputs := d.Outputs(endpoint)
	fmt.Printf("stack on %s; public stage %s (live alias, version %s); candidate stage %s\n", endpoint, outputs["api_url"].String(), d.Version, outputs["candidate_api_url"].String())
	fmt.Printf("envs/%s rolls out: %s %d %% for %d s; the demo runs each share for %s\n", cfg.Env, cfg.Rollout.Strategy, cfg.Rollout.Percent, cfg.Rollout.IntervalSeconds, *interval)

	step("3/6 Traffic on the public stage for the whole demo: about 60 requests a second, signup, login and purchase events")
	client, err := trafficClient(endpoint, cfg, outputs)
	if err != nil {
		return err
	}
	tr := startTraffic(client, outputs["api_url"].String())
	defer tr.stop()
	time.Sleep(time.Second)

	data, err := json.Marshal(outputs)
	if err != nil {
		return err
	}
	target, err := smoke.ParseOutputs(data)
	if err != nil {
		return err
	}
	rc := func() *rollout.Config {
		return &rollout.Config{
			Env: cfg, Target: target, Interval: *interval, Poll: 100 * time.Millisecond, Stale: 5 * time.Second, By: "demo",
			Lambda: stacktest.Lambda(endpoint), CloudWatch: stacktest.CloudWatch(endpoint), Out: indent{os.Stdout},
		}
	}

	step("4/6 A healthy change (dump.max_value_bytes 8192 → 4096): terraform apply publishes version 2 for the candidate alias, then the rollout (scripts/rollout.sh %s)", cfg.Env)
	healthy, err := deploy(endpoint, st, cfg, good, func(s *stack.Spec) { s.Environment["DUMP_MAX_VALUE_BYTES"] = "4096" }, true)
	if err != nil {
		return err
	}
	before := counts(st, cfg.Name)
	tr.phase()
	v1, err := rollout.Run(context.Background(), rc())
	if err != nil {
		return err
	}
	report(st, cfg.Name, before, tr, healthy.Version)
	if v1.Outcome != rollout.Promoted {
		return fmt.Errorf("the healthy change was not promoted: %s", v1.Reason)
	}

	step("5/6 A broken build (brokenfn: purchase events fail; the smoke test sends none): apply publishes version 3, then the rollout")
	bad, err := deploy(endpoint, st, cfg, broken, func(s *stack.Spec) { s.Environment["DUMP_MAX_VALUE_BYTES"] = "4096" }, true)
	if err != nil {
		return err
	}
	before = counts(st, cfg.Name)
	tr.phase()
	c := rc()
	c.Interval = 2 * time.Minute // only the alarm can end this canary early
	v2, err := rollout.Run(context.Background(), c)
	if err != nil {
		return err
	}
	report(st, cfg.Name, before, tr, bad.Version)
	if v2.Outcome != rollout.RolledBack {
		return fmt.Errorf("the broken build was not rolled back: %s %s", v2.Outcome, v2.Reason)
	}

	step("6/6 After the rollback: two more seconds of traffic, all on version %s", v1.New)
	before = counts(st, cfg.Name)
	tr.phase()
	time.Sleep(2 * time.Second)
	tr.stop()
	report(st, cfg.Name, before, tr, "")
	if _, failed := tr.inPhase(); failed > 0 {
		return fmt.Errorf("%d requests sent after the rollback failed", failed)
	}
	sent, failed := tr.totals()
	fmt.Printf("\ndemo-rollout: done in %d s: version %s promoted, version %s rolled back, %d requests, %d failed, all of them on version %s during its canary.\n",
		int(time.Since(started).Seconds()), v1.New, v2.New, sent, failed, v2.New)
	return nil
}

// deploy uploads code to the env's prefix and deploys the env, as
// terraform apply does when keepLive (a version for the candidate alias).
func deploy(endpoint string, st *stack.Stack, cfg *envconfig.Config, code []byte, edit func(*stack.Spec), keepLive bool) (*stack.Deployment, error) {
	c := *cfg
	c.Artifact = pointer.New(cfg.Artifact.Bucket, cfg.Env, pointer.Sum(code))
	_, err := stacktest.S3(endpoint).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(c.Artifact.Bucket), Key: aws.String(c.Artifact.Key), Body: bytes.NewReader(code), ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		return nil, err
	}
	spec, err := stack.SpecFor(&c)
	if err != nil {
		return nil, err
	}
	spec.KeepLive = keepLive
	if edit != nil {
		edit(&spec)
	}
	return st.Deploy(context.Background(), spec)
}

func counts(st *stack.Stack, fn string) map[string]versions.VersionStats {
	out := map[string]versions.VersionStats{}
	for _, v := range st.Versions(fn) {
		out[v.Version] = v
	}
	return out
}

// report prints what each version served since before, and the traffic's
// answers in the phase.
func report(st *stack.Stack, fn string, before map[string]versions.VersionStats, tr *traffic, focus string) {
	fmt.Println("  requests per version in this phase (public traffic and the smoke tests; from the stack's Lambda):")
	for _, v := range st.Versions(fn) {
		n, e := v.Invocations-before[v.Version].Invocations, v.Errors-before[v.Version].Errors
		if n == 0 {
			continue
		}
		mark := ""
		if v.Version == focus {
			mark = "  ← the new version"
		}
		fmt.Printf("    version %-3s %6d invocations, %4d function errors%s\n", v.Version, n, e, mark)
	}
	sent, failed := tr.inPhase()
	fmt.Printf("  the traffic generator: %d requests sent in this phase and answered, %d other than 200\n", sent, failed)
}

// traffic posts the sample event types to the public stage. A request
// counts in the phase it was sent in: one sent to version 3 just before the
// rollback and answered after it is that version's failure, not one of the
// phase after.
type traffic struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu     sync.Mutex
	phases []answers // one per phase, the current one last
}

// answers counts the requests of a phase that were answered, and those of
// them not answered 200.
type answers struct{ sent, failed int64 }

// trafficKey is the API key the demo's traffic calls with in mode api_key.
const trafficKey = "demo-traffic"

// trafficClient calls the public stage with the env's credentials: in mode
// api_key the traffic's own key, read from the stack's Parameter Store.
func trafficClient(endpoint string, cfg *envconfig.Config, outputs stack.Outputs) (*http.Client, error) {
	awsCfg := aws.Config{Region: cfg.Region, BaseEndpoint: aws.String(endpoint), HTTPClient: sdkhttp.New(),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	caller, err := apicaller.New(context.Background(), awsCfg, outputs.Access(trafficKey), http.DefaultTransport)
	if err != nil {
		return nil, err
	}
	fmt.Printf("the traffic's access: %s\n", caller.Describe)
	return &http.Client{Timeout: 30 * time.Second, Transport: caller.Transport}, nil
}

func startTraffic(client *http.Client, url string) *traffic {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &traffic{cancel: cancel, phases: []answers{{}}} // the warm-up before the first phase
	types := []string{"signup", "login", "purchase"}
	for w := range 3 {
		tr.wg.Go(func() {
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				body := fmt.Sprintf(`{"event_id":"demo-%d-%d","type":%q}`, w, i, types[(w+i)%len(types)])
				phase := tr.current()
				resp, err := client.Post(url+"/events", "application/json", strings.NewReader(body))
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				tr.answered(phase, ok)
			}
		})
	}
	return tr
}

// phase starts a phase: the requests sent from now on count in it.
func (tr *traffic) phase() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.phases = append(tr.phases, answers{})
}

// current is the phase a request sent now belongs to.
func (tr *traffic) current() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.phases) - 1
}

// answered counts a request sent in phase, and whether it got a 200.
func (tr *traffic) answered(phase int, ok bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.phases[phase].sent++
	if !ok {
		tr.phases[phase].failed++
	}
}

// inPhase is what the requests sent in the current phase got so far.
func (tr *traffic) inPhase() (sent, failed int64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	last := tr.phases[len(tr.phases)-1]
	return last.sent, last.failed
}

// totals is what every request got, in all the phases.
func (tr *traffic) totals() (sent, failed int64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, p := range tr.phases {
		sent, failed = sent+p.sent, failed+p.failed
	}
	return sent, failed
}

func (tr *traffic) stop() {
	tr.once.Do(func() {
		tr.cancel()
		tr.wg.Wait()
	})
}

// indent prefixes the rollout's lines.
type indent struct{ w io.Writer }

func (i indent) Write(p []byte) (int, error) {
	text := strings.TrimSuffix(string(p), "\n")
	_, err := io.WriteString(i.w, "  "+strings.ReplaceAll(text, "\n", "\n  ")+"\n")
	return len(p), err
}
