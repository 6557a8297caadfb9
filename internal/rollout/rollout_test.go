package rollout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/proctest"
	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/internal/rollout"
	"github.com/acme/request-dump/local/stack"
	"github.com/acme/request-dump/local/stacktest"
	"github.com/acme/request-dump/smoke"
)

// start deploys env on a local stack and returns it with a rollout of it
// (interval 1 s, alarms read every 50 ms), logging to a proctest.Output.
// The test traffic calls with the smoke key as fast as the stack answers,
// far above an env's per-key usage plan, which is raised so that only the
// versions under test, not the plan's throttle, decide the answers. For
// the same reason the latency alarm is raised to API Gateway's longest
// timeout: on a loaded machine the env's 2 s p99 fired during a healthy
// rollout, and no test here is about latency.
func start(t *testing.T, env string) (*stacktest.Env, *rollout.Config) {
	t.Helper()
	e := stacktest.Start(t, stacktest.WithEnv(env), stacktest.WithConfig(func(cfg *envconfig.Config) {
		cfg.Access.UsagePlan = envconfig.UsagePlan{RateLimit: 1e6, BurstLimit: 1e6, QuotaPerDay: 1e8}
		cfg.Alarms.LatencyP99Ms = 29000
	}))
	return e, config(t, e)
}

func config(t *testing.T, e *stacktest.Env) *rollout.Config {
	t.Helper()
	data, err := json.Marshal(e.Outputs)
	require.NoError(t, err)
	target, err := smoke.ParseOutputs(data)
	require.NoError(t, err)
	out := &proctest.Output{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("rollout log:\n%s", out.String())
		}
	})
	return &rollout.Config{
		Env: e.Config, Target: target, Lambda: stacktest.Lambda(e.URL), CloudWatch: stacktest.CloudWatch(e.URL),
		Interval: time.Second, Poll: 50 * time.Millisecond, Stale: 5 * time.Second, By: "test", Out: out,
	}
}

func logOf(c *rollout.Config) string { return c.Out.(*proctest.Output).String() }

// traffic posts events to the public stage from workers until stopped,
// cycling through types, and counts the answers by status.
type traffic struct {
	stop  context.CancelFunc
	done  sync.WaitGroup
	sent  atomic.Int64
	mu    sync.Mutex
	codes map[int]int
	// answeredAfter counts the answers to requests sent after mark,
	// failedAfter the non-2xx ones among them.
	mark          atomic.Int64 // unix nanoseconds; 0: not set
	answeredAfter atomic.Int64
	failedAfter   atomic.Int64
}

// startTraffic sends about 40 requests a second, under every env's stage
// throttling, so that the only failures are the function's.
func startTraffic(t *testing.T, e *stacktest.Env, workers int, types ...string) *traffic {
	url := e.Outputs["api_url"].String()
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tr := &traffic{stop: cancel, codes: map[int]int{}}
	client := e.APIClient(t)
	pace := time.Duration(workers) * time.Second / 40
	for w := range workers {
		tr.done.Go(func() {
			tick := time.NewTicker(pace)
			defer tick.Stop()
			for i := 0; ctx.Err() == nil; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				sent := time.Now()
				body := fmt.Sprintf(`{"event_id":"load-%d-%d","type":%q}`, w, i, types[(w+i)%len(types)])
				resp, err := client.Post(url+"/events", "application/json", strings.NewReader(body))
				code := 0
				if err == nil {
					code = resp.StatusCode
					resp.Body.Close()
				}
				tr.sent.Add(1)
				tr.mu.Lock()
				tr.codes[code]++
				tr.mu.Unlock()
				if m := tr.mark.Load(); m != 0 && sent.UnixNano() > m {
					if code != http.StatusOK {
						tr.failedAfter.Add(1)
					}
					tr.answeredAfter.Add(1)
				}
			}
		})
	}
	t.Cleanup(tr.finish)
	return tr
}

func (tr *traffic) finish() {
	tr.stop()
	tr.done.Wait()
}

func (tr *traffic) failed() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for code, count := range tr.codes {
		if code != http.StatusOK {
			n += count
		}
	}
	return n
}

func alias(t *testing.T, c *rollout.Config, name string) *lambda.GetAliasOutput {
	t.Helper()
	out, err := c.Lambda.GetAlias(context.Background(), &lambda.GetAliasInput{FunctionName: aws.String(c.Target.FunctionName), Name: aws.String(name)})
	require.NoError(t, err)
	return out
}

func weights(a *lambda.GetAliasOutput) map[string]float64 {
	if a.RoutingConfig == nil {
		return nil
	}
	return a.RoutingConfig.AdditionalVersionWeights
}

// versionStats returns what each version served, by version.
func versionStats(e *stacktest.Env) map[string]int64 {
	out := map[string]int64{}
	for _, v := range e.Stack.Versions(e.Config.Name) {
		out[v.Version] = v.Invocations
		out[v.Version+" errors"] = v.Errors
	}
	return out
}

// A healthy change takes the canary's share under traffic, passes the gate
// and ends with 100 % on the new version; the candidate alias is back to
// what Terraform set, so the next plan is clean.
func TestHealthyChangeIsPromoted(t *testing.T) {
	e, c := start(t, "stg")
	tr := startTraffic(t, e, 4, "signup", "login", "purchase")
	d := e.Apply(t, nil, func(s *stack.Spec) { s.Environment["DUMP_MAX_VALUE_BYTES"] = "4096" })
	require.Equal(t, "2", d.Version)

	v, err := rollout.Run(context.Background(), c)
	require.NoError(t, err)
	tr.finish()
	assert.Equal(t, rollout.Promoted, v.Outcome, v.Reason)
	assert.True(t, v.OK())
	assert.Equal(t, "1", v.Old)
	assert.Equal(t, "2", v.New)

	live := alias(t, c, "live")
	assert.Equal(t, "2", aws.ToString(live.FunctionVersion))
	assert.Empty(t, weights(live))
	assert.Contains(t, aws.ToString(live.Description), "promoted by rollout")
	terraform, err := c.Env.CandidateDescription()
	require.NoError(t, err)
	assert.Equal(t, terraform, aws.ToString(alias(t, c, "candidate").Description), "no drift left for the next plan")

	log := logOf(c)
	assert.Contains(t, log, "canary 20 % for 1s, then 100 %: version 2 over version 1 (the same artifact, sha256 "+e.Config.Artifact.SHA256+": a configuration change)")
	assert.Contains(t, log, "share: 20 % of the public traffic on version 2")
	assert.Contains(t, log, "smoke: PASS", "the smoke reports are in the log")
	assert.Contains(t, log, "VERDICT (stg): PROMOTED")
	assert.Zero(t, tr.failed(), "no request failed: %v", tr.codes)
	stats := versionStats(e)
	assert.Positive(t, stats["2"])
	assert.Zero(t, stats["1 errors"]+stats["2 errors"])
}

// A build that fails one kind of event passes the smoke test, takes the
// canary's share, fires the errors alarm and is rolled back: the previous
// version never failed a request, and none fails once the rollback is done.
func TestBrokenBuildIsRolledBackByTheAlarms(t *testing.T) {
	e, c := start(t, "stg")
	broken, err := stacktest.BrokenZip("error-on:purchase")
	require.NoError(t, err)
	tr := startTraffic(t, e, 4, "signup", "purchase")
	e.Apply(t, broken, nil)
	c.Interval = 2 * time.Minute // the alarm, not the clock, must end the canary

	v, err := rollout.Run(context.Background(), c)
	require.NoError(t, err)
	tr.mark.Store(time.Now().UnixNano())
	// Counted rather than slept for: a loaded machine may send none in a
	// second, and the check after the rollback would then see nothing.
	require.Eventually(t, func() bool { return tr.answeredAfter.Load() >= 20 }, time.Minute, 10*time.Millisecond,
		"requests sent after the rollback are answered")
	tr.finish()

	assert.Equal(t, rollout.RolledBack, v.Outcome)
	assert.Contains(t, v.Reason, "while version 2 took 20 % of the traffic, alarm request-dump-stg/")
	assert.Contains(t, v.Reason, "went to ALARM")
	live := alias(t, c, "live")
	assert.Equal(t, "1", aws.ToString(live.FunctionVersion))
	assert.Empty(t, weights(live))
	candidate := alias(t, c, "candidate")
	assert.Equal(t, "1", aws.ToString(candidate.FunctionVersion), "the next plan shows the candidate going back to version 2")
	assert.Contains(t, aws.ToString(candidate.Description), "of version 2 rolled back")

	stats := versionStats(e)
	assert.Zero(t, stats["1 errors"], "the previous version served throughout without a failure")
	assert.Positive(t, stats["2 errors"])
	assert.EqualValues(t, stats["2 errors"], tr.failed(), "every failed request is one of the canary's")
	assert.Zero(t, tr.failedAfter.Load(), "no request sent after the rollback fails")
	assert.Contains(t, logOf(c), "VERDICT (stg): ROLLED BACK")
	assert.Contains(t, logOf(c), `To retry the same build (a flaky alarm, say): comment "atlantis plan -p stg", then "atlantis apply -p stg".`)
}

// A build that answers 200 but stops dumping one kind of event raises no
// error anywhere: the dump-health alarm (dump lines against invocations)
// is what catches it.
func TestSilentBuildIsCaughtByTheDumpHealthAlarm(t *testing.T) {
	e, c := start(t, "stg")
	silent, err := stacktest.BrokenZip("no-dump-on:purchase")
	require.NoError(t, err)
	tr := startTraffic(t, e, 4, "signup", "purchase")
	e.Apply(t, silent, nil)
	c.Interval = 2 * time.Minute

	v, err := rollout.Run(context.Background(), c)
	require.NoError(t, err)
	tr.finish()
	assert.Equal(t, rollout.RolledBack, v.Outcome)
	assert.Contains(t, v.Reason, "alarm request-dump-stg/missing-dumps went to ALARM")
	assert.NotContains(t, v.Reason, "function-errors")
	assert.Zero(t, tr.failed(), "every request was answered 200")
}

// A version that cannot start (a bad setting) fails the smoke test on the
// candidate stage and never takes any public traffic.
func TestVersionThatFailsToInitNeverTakesTraffic(t *testing.T) {
	e, c := start(t, "stg")
	tr := startTraffic(t, e, 2, "signup")
	e.Apply(t, nil, func(s *stack.Spec) { s.Environment["DUMP_FEILDS"] = "event_id=body.event_id" })

	v, err := rollout.Run(context.Background(), c)
	require.NoError(t, err)
	tr.finish()
	assert.Equal(t, rollout.RolledBack, v.Outcome)
	assert.Contains(t, v.Reason, "version 2 failed the smoke test on the candidate stage before it took any traffic")
	assert.NotContains(t, logOf(c), "share:", "no share of the traffic ever moved")
	assert.Zero(t, tr.failed(), "the public stage stayed on version 1: %v", tr.codes)
	assert.Positive(t, tr.sent.Load())
	assert.Equal(t, "1", aws.ToString(alias(t, c, "live").FunctionVersion))
}

// While a canary runs: the public traffic splits by the configured share
// over 2,000 requests, the previous version fails none, a second rollout
// is refused naming the first, and an abort puts the traffic back and
// stops the first at its next heartbeat.
func TestCanarySplitsAndASecondRolloutIsRefused(t *testing.T) {
	// canary 10 %; no stage throttling nor usage plan throttle, so the
	// 2,000 requests go as fast as they can
	e := stacktest.Start(t, stacktest.WithEnv("prod"), stacktest.WithConfig(func(cfg *envconfig.Config) {
		cfg.API.ThrottlingRateLimit, cfg.API.ThrottlingBurstLimit = 10000, 5000
		cfg.Access.UsagePlan = envconfig.UsagePlan{RateLimit: 1e6, BurstLimit: 1e6, QuotaPerDay: 1e8}
	}))
	c := config(t, e)
	e.Apply(t, nil, func(s *stack.Spec) { s.Environment["DUMP_MAX_VALUE_BYTES"] = "4096" })
	c.Interval = 10 * time.Minute
	first := make(chan rollout.Verdict, 1)
	go func() {
		v, err := rollout.Run(context.Background(), c)
		assert.NoError(t, err)
		first <- v
	}()
	require.Eventually(t, func() bool { return len(weights(alias(t, c, "live"))) > 0 }, time.Minute, 20*time.Millisecond, "the canary starts")
	assert.Equal(t, map[string]float64{"2": 0.1}, weights(alias(t, c, "live")))

	before := versionStats(e)
	const requests = 2000
	var wg sync.WaitGroup
	var failed atomic.Int64
	next := atomic.Int64{}
	client := e.APIClient(t)
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1); i <= requests; i = next.Add(1) {
				resp, err := client.Post(e.Outputs["api_url"].String()+"/events", "application/json", strings.NewReader(fmt.Sprintf(`{"event_id":"split-%d","type":"signup"}`, i)))
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				if err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	after := versionStats(e)
	require.Equal(t, map[string]float64{"2": 0.1}, weights(alias(t, c, "live")), "every request ran during the canary")
	onNew, onOld := after["2"]-before["2"], after["1"]-before["1"]
	require.EqualValues(t, requests, onNew+onOld)
	share := float64(onNew) / requests
	t.Logf("canary share over %d requests: %.1f %% (configured 10 %%)", requests, 100*share)
	assert.InDelta(t, 0.10, share, 0.03, "within ±3 points of 10 %%: 4.5 standard deviations of a binomial draw of 2,000")
	assert.Zero(t, failed.Load())
	assert.Zero(t, after["1 errors"])

	second := config(t, e)
	v, err := rollout.Run(context.Background(), second)
	require.NoError(t, err)
	assert.Equal(t, rollout.Refused, v.Outcome)
	assert.Regexp(t, `^rollout r[0-9T]+-[0-9a-f]{4} of version 2 over 1 \(10 % of the traffic on version 2 since `, v.Reason)
	assert.Contains(t, v.Reason, "is in progress. Wait for it, or stop it: scripts/rollout.sh prod --abort")

	operator := config(t, e)
	operator.By = "oncall"
	v, err = rollout.Abort(context.Background(), operator)
	require.NoError(t, err)
	assert.Equal(t, rollout.Aborted, v.Outcome)
	assert.Equal(t, "aborted by oncall", v.Reason)
	assert.Equal(t, "1", aws.ToString(alias(t, c, "live").FunctionVersion))
	assert.Empty(t, weights(alias(t, c, "live")))

	select {
	case v := <-first:
		assert.Equal(t, rollout.Stopped, v.Outcome)
		assert.Contains(t, v.Reason, "someone else changed the live alias")
		assert.Contains(t, v.Reason, "aborted by oncall")
	case <-time.After(time.Minute):
		t.Fatal("the first rollout did not stop after the abort")
	}
}

// Killing the rollout command midway leaves the traffic on a consistent
// split (both versions healthy), and the next run, finding its process
// gone, puts the traffic back on the previous version and finishes.
func TestKilledRolloutIsFinishedByTheNextRun(t *testing.T) {
	e, c := start(t, "stg")
	e.Apply(t, nil, func(s *stack.Spec) { s.Environment["DUMP_MAX_VALUE_BYTES"] = "4096" })
	root, err := repo.Root()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "rollout")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rollout")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	data, err := json.Marshal(e.Outputs)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(outputs, data, 0o644))

	var log bytes.Buffer
	cmd := exec.Command(bin, "--env", "stg", "--local", "--outputs", outputs, "--interval", "10m", "--poll", "50ms")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return len(weights(alias(t, c, "live"))) > 0 }, time.Minute, 20*time.Millisecond, "the canary starts")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	live := alias(t, c, "live")
	assert.Equal(t, "1", aws.ToString(live.FunctionVersion))
	assert.Equal(t, map[string]float64{"2": 0.2}, weights(live), "the kill left the canary's split")
	assert.True(t, strings.HasPrefix(aws.ToString(live.Description), "rollout r"), "and the record of the rollout: %s", aws.ToString(live.Description))
	for i := range 20 {
		status, _ := post(t, e, fmt.Sprintf(`{"event_id":"after-kill-%d","type":"signup"}`, i))
		assert.Equal(t, http.StatusOK, status, "both versions of the split serve")
	}

	v, err := rollout.Run(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, rollout.Promoted, v.Outcome, v.Reason)
	assert.Contains(t, logOf(c), fmt.Sprintf("its process %d on this host is gone", cmd.Process.Pid))
	assert.Contains(t, logOf(c), "the traffic is back on version 1 before the rollout starts again")
	assert.Equal(t, "2", aws.ToString(alias(t, c, "live").FunctionVersion))
}

// With nothing new to roll out, the run still smoke-tests the public stage.
func TestNothingToRollOutStillSmokeTests(t *testing.T) {
	_, c := start(t, "dev")
	v, err := rollout.Run(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, rollout.NothingToDo, v.Outcome)
	assert.Contains(t, logOf(c), "the live alias already serves version 1, the candidate: nothing to roll out")
	assert.Contains(t, logOf(c), "smoke: PASS")
}

func post(t *testing.T, e *stacktest.Env, body string) (int, string) {
	url := e.Outputs["api_url"].String()
	t.Helper()
	resp, err := e.APIClient(t).Post(url+"/events", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}
