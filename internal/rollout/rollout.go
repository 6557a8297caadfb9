// Package rollout moves an env's live alias, which the public stage of its
// API serves, to the version Terraform published last (the candidate
// alias), as the env's rollout settings say, and puts the traffic back on
// the previous version when the gate fails. The gate is the smoke suite
// run against the candidate stage, which serves the new version alone,
// before it takes any traffic and against the public stage once it is
// live, and the env's CloudWatch alarms, read while each share of the
// traffic runs. The same code drives AWS and the local stack, through the
// real aws-sdk-go-v2 Lambda and CloudWatch clients.
//
// The rollout keeps its state in the live alias (see state), so that a
// second rollout is refused while one runs, and a rollout whose process
// died is taken over and finished by the next one. While a rollout runs,
// and after one is rolled back, the candidate alias is changed from what
// Terraform set (its description; on rollback its version), so the next
// plan shows changes and Atlantis cannot count the pull request applied
// until a rollout of its version succeeded.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/smoke"
)

// Config is one rollout of an env.
type Config struct {
	// Env is the env as its root configures it: its rollout settings,
	// alarms and dump fields (for the smoke suite).
	Env *envconfig.Config
	// Target is the env's deployment as its outputs describe it: the public
	// stage, the candidate stage and the function.
	Target smoke.Target
	// Lambda and CloudWatch are the clients of the env's account and
	// region (or of the local stack).
	Lambda     *lambda.Client
	CloudWatch *cloudwatch.Client
	// Interval overrides the env's rollout.interval_seconds when not zero
	// (demos and tests; Atlantis uses the env's).
	Interval time.Duration
	// Poll is how often the alarms are read and the heartbeat written.
	Poll time.Duration
	// Stale is how old a heartbeat may get before its rollout counts as
	// abandoned and the next run takes it over.
	Stale time.Duration
	// Force skips the canary and the alarms: the new version takes all the
	// traffic once it passed the smoke test (for an incident, when the
	// alarms already fire).
	Force bool
	// By names who runs the rollout (the Atlantis user, say).
	By string
	// Out receives the log of the rollout; the verdict goes there too.
	Out io.Writer
	// Status, when set, receives the rollout's progress and verdict (the
	// rollout/<env> commit status).
	Status func(ctx context.Context, state, description string)
}

// Outcome is how a rollout ended.
type Outcome string

// The outcomes; only Promoted and NothingToDo are successes.
const (
	Promoted    Outcome = "PROMOTED"
	NothingToDo Outcome = "NOTHING TO ROLL OUT"
	RolledBack  Outcome = "ROLLED BACK"
	Refused     Outcome = "REFUSED"
	Stopped     Outcome = "STOPPED"
	Aborted     Outcome = "ABORTED"
	Failed      Outcome = "FAILED"
)

// Verdict is the outcome with its reason.
type Verdict struct {
	Outcome Outcome
	Reason  string
	// Old and New are the versions the rollout was between.
	Old, New string
}

// OK reports a success: the pull request may merge.
func (v Verdict) OK() bool { return v.Outcome == Promoted || v.Outcome == NothingToDo }

// run is one rollout in progress.
type run struct {
	*Config
	start   time.Time
	st      state
	liveRev string // the live alias's RevisionId after our last write
	shares  []int
	alarms  []string
}

// defaults fills in what a caller may leave out: no log, no status.
func (c *Config) defaults() {
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Status == nil {
		c.Status = func(context.Context, string, string) {}
	}
}

func (c *Config) logf(format string, args ...any) {
	fmt.Fprintf(c.Out, "rollout %s: %s\n", c.Env.Env, fmt.Sprintf(format, args...))
}

// Run rolls the env's candidate version out, or finishes a rollout whose
// process died, and returns the verdict (also written to Out). An error is
// returned only when the AWS APIs could not be used at all; every gate
// failure is a verdict.
func Run(ctx context.Context, c *Config) (Verdict, error) {
	c.defaults()
	r := &run{Config: c, start: time.Now()}
	live, err := r.getAlias(ctx, envconfig.LiveAlias)
	if err != nil {
		return Verdict{}, err
	}
	candidate, err := r.getAlias(ctx, envconfig.CandidateAlias)
	if err != nil {
		return Verdict{}, err
	}
	old, next := aws.ToString(live.FunctionVersion), aws.ToString(candidate.FunctionVersion)
	weights := routing(live)

	if prev, inProgress := parseState(aws.ToString(live.Description)); inProgress || len(weights) > 0 {
		if !inProgress {
			return r.finish(ctx, Verdict{Outcome: Refused, Old: old, New: next, Reason: fmt.Sprintf(
				"the live alias routes %s, but its description records no rollout: the weights were set by hand. Reset them (scripts/rollout.sh %s --abort) and run the rollout again",
				weightsText(weights), c.Env.Env)}), nil
		}
		why, gone := prev.abandoned(time.Now(), c.Stale)
		if !gone {
			return r.finish(ctx, Verdict{Outcome: Refused, Old: prev.Old, New: prev.New, Reason: fmt.Sprintf(
				"%s is in progress. Wait for it, or stop it: scripts/rollout.sh %s --abort",
				prev.describe(time.Now()), c.Env.Env)}), nil
		}
		c.logf("taking over %s: %s", prev.describe(time.Now()), why)
		r.st, r.liveRev = prev, aws.ToString(live.RevisionId)
		note := fmt.Sprintf("live: version %s since %s; rollout %s of version %s abandoned (%s), taken over", prev.Old, time.Now().UTC().Format(time.RFC3339), prev.ID, prev.New, why)
		if err := r.writeLive(ctx, prev.Old, map[string]float64{}, note); err != nil {
			return r.lost(ctx, err)
		}
		c.logf("the traffic is back on version %s before the rollout starts again", prev.Old)
		if live, err = r.getAlias(ctx, envconfig.LiveAlias); err != nil {
			return Verdict{}, err
		}
		old = prev.Old
		if old == next {
			return r.nothingToDo(ctx, old)
		}
	} else if old == next {
		return r.nothingToDo(ctx, old)
	}

	r.st = state{
		ID: newID(r.start), Old: old, New: next, Phase: phaseSmoke, Since: r.start, Beat: r.start,
		By: ownerField(c.By), PID: os.Getpid(),
	}
	host, _ := os.Hostname()
	r.st.Host = ownerField(host)
	r.liveRev = aws.ToString(live.RevisionId)
	r.shares = shares(c.Env.Rollout, c.Force)
	c.logf("%s: version %s over version %s%s", r.plan(), next, old, r.artifacts(ctx, old, next))
	c.Status(ctx, "pending", fmt.Sprintf("rolling out version %s: %s", next, r.plan()))

	// Take the live alias; a concurrent rollout that wrote first wins.
	if err := r.writeState(ctx, nil); err != nil {
		var conflict *types.PreconditionFailedException
		if errors.As(err, &conflict) {
			if now, err2 := r.getAlias(ctx, envconfig.LiveAlias); err2 == nil {
				if other, ok := parseState(aws.ToString(now.Description)); ok {
					return r.finish(ctx, Verdict{Outcome: Refused, Old: old, New: next, Reason: other.describe(time.Now()) + " started at the same time and is in progress. Wait for it, or stop it: scripts/rollout.sh " + c.Env.Env + " --abort"}), nil
				}
			}
		}
		return Verdict{}, err
	}
	c.logf("%s: the live alias records it; the candidate alias is marked until the rollout succeeds", r.st.ID)
	if err := r.markCandidate(ctx, next, fmt.Sprintf("%s in progress: version %s is not live yet", r.st.ID, next)); err != nil {
		return Verdict{}, err
	}
	return r.gate(ctx)
}

// gate runs the rollout from its smoke test to the verdict.
func (r *run) gate(ctx context.Context) (Verdict, error) {
	c := r.Config
	names, err := r.alarmNames(ctx)
	if err != nil {
		return Verdict{}, err
	}
	r.alarms = names
	switch {
	case c.Force:
		c.logf("--force: the alarms are not watched and there is no canary")
	case len(names) == 0:
		return r.rollBack(ctx, fmt.Sprintf("the env has no alarms named %s*: nothing would watch the new version (apply envs/%s, which creates them, or use --force)", c.Env.AlarmPrefix(), c.Env.Env))
	default:
		if firing, err := r.firing(ctx); err != nil {
			return Verdict{}, err
		} else if firing != "" {
			return r.rollBack(ctx, "before any traffic moved, "+firing+": the canary could not tell the new version's failures from the current ones. Wait until the alarm is OK, or roll out with --force")
		}
		c.logf("alarms: %d watched, none in ALARM (%s)", len(names), strings.Join(names, ", "))
	}

	candidate, err := c.Target.Candidate()
	if err != nil {
		return Verdict{}, err
	}
	if ok, summary := r.smoke(ctx, candidate, "the candidate stage, which serves version "+r.st.New+" alone"); !ok {
		return r.rollBack(ctx, "version "+r.st.New+" failed the smoke test on the candidate stage before it took any traffic: "+summary)
	}
	if ctx.Err() != nil {
		return r.rollBack(context.WithoutCancel(ctx), "the rollout was interrupted ("+ctx.Err().Error()+")")
	}

	interval := time.Duration(c.Env.Rollout.IntervalSeconds) * time.Second
	if c.Interval > 0 {
		interval = c.Interval
	}
	for _, p := range r.shares {
		r.st.Phase, r.st.Percent, r.st.Since = phaseShare, p, time.Now()
		if err := r.writeState(ctx, map[string]float64{r.st.New: float64(p) / 100}); err != nil {
			return r.lost(ctx, err)
		}
		c.logf("share: %d %% of the public traffic on version %s for %s, alarms read every %s", p, r.st.New, interval, c.Poll)
		c.Status(ctx, "pending", fmt.Sprintf("version %s takes %d %% of the traffic; alarms watched", r.st.New, p))
		if v, done, err := r.watch(ctx, interval); done || err != nil {
			return v, err
		}
	}

	r.st.Phase, r.st.Percent, r.st.Since = phaseVerify, 100, time.Now()
	if err := r.writeLive(ctx, r.st.New, map[string]float64{}, r.st.String()); err != nil {
		return r.lost(ctx, err)
	}
	c.logf("promote: the live alias is on version %s, 100 %% of the traffic", r.st.New)
	if ok, summary := r.smoke(ctx, c.Target, "the public stage"); !ok {
		return r.rollBack(ctx, "version "+r.st.New+" failed the smoke test on the public stage after it took all the traffic: "+summary)
	}
	done := fmt.Sprintf("live: version %s since %s, promoted by rollout %s (from version %s)", r.st.New, time.Now().UTC().Format(time.RFC3339), r.st.ID, r.st.Old)
	if err := r.writeLive(ctx, r.st.New, map[string]float64{}, done); err != nil {
		return r.lost(ctx, err)
	}
	terraform, err := c.Env.CandidateDescription()
	if err != nil {
		return Verdict{}, err
	}
	if err := r.markCandidate(ctx, r.st.New, terraform); err != nil {
		return Verdict{}, err
	}
	return r.finish(ctx, Verdict{Outcome: Promoted, Old: r.st.Old, New: r.st.New, Reason: fmt.Sprintf(
		"envs/%s serves version %s on 100 %% of the traffic (%s); version %s stays published for a rollback. The candidate alias is back to what Terraform set, so the next plan is clean: merge the pull request.",
		c.Env.Env, r.st.New, r.plan(), r.st.Old)}), nil
}

// watch runs one share for interval, reading the alarms and writing the
// heartbeat every poll. done is set when the rollout ended meanwhile.
func (r *run) watch(ctx context.Context, interval time.Duration) (Verdict, bool, error) {
	c := r.Config
	deadline := time.Now().Add(interval)
	for {
		if !c.Force && len(r.alarms) > 0 {
			firing, err := r.firing(ctx)
			if err != nil {
				return Verdict{}, true, err
			}
			if firing != "" {
				v, err := r.rollBack(ctx, fmt.Sprintf("while version %s took %d %% of the traffic, %s", r.st.New, r.st.Percent, firing))
				return v, true, err
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return Verdict{}, false, nil
		}
		select {
		case <-ctx.Done():
			v, err := r.rollBack(context.WithoutCancel(ctx), "the rollout was interrupted ("+ctx.Err().Error()+")")
			return v, true, err
		case <-time.After(min(c.Poll, left)):
		}
		r.st.Beat = time.Now()
		if err := r.writeState(ctx, nil); err != nil {
			v, err := r.lost(ctx, err)
			return v, true, err
		}
	}
}

// smoke runs the smoke suite against target and says how it went.
func (r *run) smoke(ctx context.Context, target smoke.Target, where string) (bool, string) {
	c := r.Config
	c.logf("smoke test of %s:", where)
	suite, err := smoke.New(target, c.Env, smoke.WithOutput(indent{c.Out}))
	if err != nil {
		return false, err.Error()
	}
	report := suite.Run(verdictOnly{})
	if report.Passed() {
		return true, ""
	}
	if report.Err != nil {
		return false, report.Err.Error()
	}
	var failed []string
	for _, ch := range report.Checks {
		if !ch.Passed {
			msg := fmt.Sprintf("check %d (%s)", ch.ID, ch.Name)
			if len(ch.Failures) > 0 {
				msg += ": " + ch.Failures[0]
			}
			failed = append(failed, msg)
		}
	}
	return false, strings.Join(failed, "; ")
}

// verdictOnly is the smoke suite's TestingT: the report holds the failures.
type verdictOnly struct{}

func (verdictOnly) Errorf(string, ...any) {}
func (verdictOnly) FailNow()              {}

// indent prefixes every line of the smoke report.
type indent struct{ w io.Writer }

func (i indent) Write(p []byte) (int, error) {
	text := strings.TrimSuffix(string(p), "\n")
	_, err := io.WriteString(i.w, "    "+strings.ReplaceAll(text, "\n", "\n    ")+"\n")
	return len(p), err
}

// rollBack puts the traffic back on the previous version and marks the
// candidate alias, so that the next plan shows the change to undo.
func (r *run) rollBack(ctx context.Context, reason string) (Verdict, error) {
	if err := r.restore(ctx, r.st.Old, reason); err != nil {
		return r.lost(ctx, err)
	}
	return r.finish(ctx, Verdict{Outcome: RolledBack, Old: r.st.Old, New: r.st.New, Reason: reason}), nil
}

// restore moves live back to version old with no weights, and the
// candidate alias with it.
func (r *run) restore(ctx context.Context, old, reason string) error {
	done := fmt.Sprintf("live: version %s since %s; rollout %s of version %s rolled back: %s", old, time.Now().UTC().Format(time.RFC3339), r.st.ID, r.st.New, reason)
	if err := r.writeLive(ctx, old, map[string]float64{}, done); err != nil {
		return err
	}
	r.logf("roll back: the live alias is on version %s again, 100 %% of the traffic", old)
	return r.markCandidate(ctx, old, fmt.Sprintf("%s of version %s rolled back: %s", r.st.ID, r.st.New, reason))
}

// lost ends a rollout whose live alias someone else changed (an abort, a
// takeover): the traffic is theirs now, so it is left alone.
func (r *run) lost(ctx context.Context, err error) (Verdict, error) {
	var conflict *types.PreconditionFailedException
	if !errors.As(err, &conflict) {
		return Verdict{}, err
	}
	now, err := r.getAlias(ctx, envconfig.LiveAlias)
	if err != nil {
		return Verdict{}, err
	}
	return r.finish(ctx, Verdict{Outcome: Stopped, Old: r.st.Old, New: r.st.New, Reason: fmt.Sprintf(
		"someone else changed the live alias while rollout %s ran, so it stopped and left the traffic alone. The live alias now says: %q, version %s%s",
		r.st.ID, aws.ToString(now.Description), aws.ToString(now.FunctionVersion), weightsSuffix(routing(now)))}), nil
}

// nothingToDo smoke-tests the public stage when live already serves the
// candidate: an apply that changed no code still gets its smoke test.
func (r *run) nothingToDo(ctx context.Context, version string) (Verdict, error) {
	r.st = state{Old: version, New: version}
	r.logf("the live alias already serves version %s, the candidate: nothing to roll out", version)
	if ok, summary := r.smoke(ctx, r.Target, "the public stage"); !ok {
		return r.finish(ctx, Verdict{Outcome: Failed, Old: version, New: version, Reason: "nothing was rolled out, and the public stage, on version " + version + ", failed its smoke test: " + summary}), nil
	}
	return r.finish(ctx, Verdict{Outcome: NothingToDo, Old: version, New: version, Reason: "version " + version + " was already live and passed the smoke test on the public stage"}), nil
}

// finish writes the verdict and reports it.
func (r *run) finish(ctx context.Context, v Verdict) Verdict {
	c := r.Config
	fmt.Fprintf(c.Out, "\nVERDICT (%s): %s: %s\n", c.Env.Env, v.Outcome, v.Reason)
	if !v.OK() {
		fmt.Fprintln(c.Out, r.retry(v))
	}
	state := "failure"
	if v.OK() {
		state = "success"
	}
	c.Status(ctx, state, fmt.Sprintf("%s: %s", strings.ToLower(string(v.Outcome)), v.Reason))
	return v
}

// retry says what the verdict leaves behind and how to go on.
func (r *run) retry(v Verdict) string {
	env := r.Env.Env
	switch v.Outcome {
	case Failed:
		return "What now: the version that failed is the one already live; no earlier version is known to this rollout. Point envs/" + env + " at a good artifact (scripts/rollback.sh " + env + " <commit>) or fix the code, and apply that."
	case RolledBack, Aborted:
		return fmt.Sprintf(`What it leaves: the live and candidate aliases on version %s, which serves all the traffic; version %s stays published, unused. The next plan of envs/%s shows the candidate alias going back to version %s, so Atlantis does not count this pull request applied and it must not be merged as it is.
To retry the same build (a flaky alarm, say): comment "atlantis plan -p %s", then "atlantis apply -p %s".
To fix it: push a commit to the pull request; Atlantis plans it again.`, v.Old, v.New, env, v.New, env, env)
	case Refused:
		return "Nothing changed. Run the rollout again once the cause is gone: atlantis plan -p " + env + ", then atlantis apply -p " + env + " (or scripts/rollout.sh " + env + " with the env's credentials)."
	default:
		return "Check the aliases with scripts/rollout.sh " + env + " --status before anything else."
	}
}

func (r *run) plan() string {
	if r.Force {
		return "all at once (--force: no canary, alarms not watched)"
	}
	interval := time.Duration(r.Env.Rollout.IntervalSeconds) * time.Second
	if r.Interval > 0 {
		interval = r.Interval
	}
	switch r.Env.Rollout.Strategy {
	case envconfig.Canary:
		return fmt.Sprintf("canary %d %% for %s, then 100 %%", r.Env.Rollout.Percent, interval)
	case envconfig.Linear:
		return fmt.Sprintf("linear, %d %% more every %s", r.Env.Rollout.Percent, interval)
	}
	return "all at once after the smoke test"
}

// shares are the traffic percentages the new version takes before 100.
func shares(s envconfig.Rollout, force bool) []int {
	if force {
		return nil
	}
	switch s.Strategy {
	case envconfig.Canary:
		return []int{s.Percent}
	case envconfig.Linear:
		var out []int
		for p := s.Percent; p < 100; p += s.Percent {
			out = append(out, p)
		}
		return out
	}
	return nil
}

// artifacts names the artifacts of the two versions (their CodeSha256 is
// the artifact pointer's sha256).
func (r *run) artifacts(ctx context.Context, old, next string) string {
	sum := func(v string) string {
		out, err := r.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(r.Target.FunctionName), Qualifier: aws.String(v)})
		if err != nil {
			return "?"
		}
		return aws.ToString(out.CodeSha256)
	}
	if a, b := sum(next), sum(old); a != b {
		return fmt.Sprintf(" (artifact sha256 %s over %s)", a, b)
	}
	return fmt.Sprintf(" (the same artifact, sha256 %s: a configuration change)", sum(next))
}

func (r *run) getAlias(ctx context.Context, name string) (*lambda.GetAliasOutput, error) {
	out, err := r.Lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(r.Target.FunctionName), Name: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("rollout: the %s alias of %s: %w", name, r.Target.FunctionName, err)
	}
	return out, nil
}

// writeState writes the state (and weights, when not nil) to the live
// alias, conditional on our last write.
func (r *run) writeState(ctx context.Context, weights map[string]float64) error {
	in := &lambda.UpdateAliasInput{
		FunctionName: aws.String(r.Target.FunctionName), Name: aws.String(envconfig.LiveAlias),
		Description: aws.String(clip(r.st.String())), RevisionId: aws.String(r.liveRev),
	}
	if weights != nil {
		in.RoutingConfig = &types.AliasRoutingConfiguration{AdditionalVersionWeights: weights}
	}
	out, err := r.Lambda.UpdateAlias(ctx, in)
	if err != nil {
		return err
	}
	r.liveRev = aws.ToString(out.RevisionId)
	return nil
}

// writeLive points the live alias at version with weights and desc.
func (r *run) writeLive(ctx context.Context, version string, weights map[string]float64, desc string) error {
	out, err := r.Lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName: aws.String(r.Target.FunctionName), Name: aws.String(envconfig.LiveAlias),
		FunctionVersion: aws.String(version), Description: aws.String(clip(desc)), RevisionId: aws.String(r.liveRev),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: weights},
	})
	if err != nil {
		return err
	}
	r.liveRev = aws.ToString(out.RevisionId)
	return nil
}

func (r *run) markCandidate(ctx context.Context, version, desc string) error {
	_, err := r.Lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName: aws.String(r.Target.FunctionName), Name: aws.String(envconfig.CandidateAlias),
		FunctionVersion: aws.String(version), Description: aws.String(clip(desc)),
	})
	if err != nil {
		return fmt.Errorf("rollout: the candidate alias: %w", err)
	}
	return nil
}

// alarmNames lists the env's alarms.
func (r *run) alarmNames(ctx context.Context) ([]string, error) {
	alarms, err := r.describeAlarms(ctx)
	var names []string
	for _, a := range alarms {
		names = append(names, aws.ToString(a.AlarmName))
	}
	return names, err
}

func (r *run) describeAlarms(ctx context.Context) ([]cwtypes.MetricAlarm, error) {
	var alarms []cwtypes.MetricAlarm
	p := cloudwatch.NewDescribeAlarmsPaginator(r.CloudWatch, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(r.Env.AlarmPrefix())})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("rollout: the alarms %s*: %w", r.Env.AlarmPrefix(), err)
		}
		alarms = append(alarms, page.MetricAlarms...)
	}
	return alarms, nil
}

// firing describes the alarms in ALARM, "" when none is.
func (r *run) firing(ctx context.Context) (string, error) {
	alarms, err := r.describeAlarms(ctx)
	if err != nil {
		return "", err
	}
	var msgs []string
	for _, a := range alarms {
		if a.StateValue == cwtypes.StateValueAlarm {
			msgs = append(msgs, fmt.Sprintf("alarm %s went to ALARM at %s: %s", aws.ToString(a.AlarmName),
				aws.ToTime(a.StateUpdatedTimestamp).UTC().Format(time.RFC3339), aws.ToString(a.StateReason)))
		}
	}
	return strings.Join(msgs, "; "), nil
}

func routing(a *lambda.GetAliasOutput) map[string]float64 {
	if a.RoutingConfig == nil {
		return nil
	}
	return a.RoutingConfig.AdditionalVersionWeights
}

func weightsText(w map[string]float64) string {
	var parts []string
	for v, f := range w {
		parts = append(parts, strconv.FormatFloat(f*100, 'f', -1, 64)+" % to version "+v)
	}
	return strings.Join(parts, ", ")
}

func weightsSuffix(w map[string]float64) string {
	if len(w) == 0 {
		return ""
	}
	return " with " + weightsText(w)
}

// Abort stops the rollout in progress on the env: the traffic goes back
// to the version it started from, the candidate alias with it (so the next
// plan shows the change to undo), and the running process, at its next
// heartbeat, finds the live alias changed and stops.
func Abort(ctx context.Context, c *Config) (Verdict, error) {
	c.defaults()
	r := &run{Config: c, start: time.Now()}
	live, err := r.getAlias(ctx, envconfig.LiveAlias)
	if err != nil {
		return Verdict{}, err
	}
	prev, inProgress := parseState(aws.ToString(live.Description))
	weights := routing(live)
	current := aws.ToString(live.FunctionVersion)
	if !inProgress && len(weights) == 0 {
		v := Verdict{Outcome: NothingToDo, Old: current, New: current, Reason: "no rollout is in progress: the live alias serves version " + current + " alone"}
		fmt.Fprintf(c.Out, "\nVERDICT (%s): %s: %s\n", c.Env.Env, v.Outcome, v.Reason)
		return v, nil
	}
	if !inProgress {
		prev = state{ID: "(by hand)", Old: current}
		for v := range weights {
			prev.New = v
		}
	}
	r.st, r.liveRev = prev, aws.ToString(live.RevisionId)
	c.logf("aborting %s", prev.describe(time.Now()))
	reason := "aborted by " + ownerField(c.By)
	if err := r.restore(ctx, prev.Old, reason); err != nil {
		return r.lost(ctx, err)
	}
	return r.finish(ctx, Verdict{Outcome: Aborted, Old: prev.Old, New: prev.New, Reason: reason}), nil
}

// Status prints the aliases, any rollout in progress and the alarms.
func Status(ctx context.Context, c *Config) error {
	r := &run{Config: c}
	for _, name := range []string{envconfig.LiveAlias, envconfig.CandidateAlias} {
		a, err := r.getAlias(ctx, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Out, "%-9s version %s%s: %s\n", name, aws.ToString(a.FunctionVersion), weightsSuffix(routing(a)), aws.ToString(a.Description))
		if st, ok := parseState(aws.ToString(a.Description)); ok {
			fmt.Fprintf(c.Out, "          in progress: %s\n", st.describe(time.Now()))
		}
	}
	alarms, err := r.describeAlarms(ctx)
	if err != nil {
		return err
	}
	for _, a := range alarms {
		fmt.Fprintf(c.Out, "alarm     %-40s %s\n", aws.ToString(a.AlarmName), a.StateValue)
	}
	return nil
}
