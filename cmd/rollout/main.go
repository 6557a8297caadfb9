// Command rollout moves an env's live alias to the version the last apply
// published, through the env's canary or linear shares with its smoke test
// and alarms as the gate, and rolls it back when the gate fails
// (internal/rollout). scripts/rollout.sh builds and runs it; Atlantis runs
// that after every apply of an env.
//
//	rollout --env prod                      roll out on AWS (outputs from terraform output -json)
//	rollout --env stg --local               roll out on the local stack (.local/outputs.json)
//	rollout --env prod --status             show the aliases, a rollout in progress and the alarms
//	rollout --env prod --abort              stop the rollout in progress: traffic back on the previous version
//	rollout --env prod --force              no canary and no alarms: the new version takes all the traffic once it passed the smoke test
//
// Exit status: 0 promoted or nothing to roll out, 1 rolled back, refused,
// stopped or failed, 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/internal/rollout"
	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/smoke"
)

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rollout:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) (int, error) {
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := fs.String("env", "", "the env to roll out: a directory under envs/ (required)")
	local := fs.Bool("local", false, "the env on the local stack, from --outputs, instead of AWS")
	outputs := fs.String("outputs", ".local/outputs.json", "with --local: the outputs `FILE` the local stack wrote")
	status := fs.Bool("status", false, "show the aliases, a rollout in progress and the alarms; change nothing")
	abort := fs.Bool("abort", false, "stop the rollout in progress: the traffic goes back to the version it started from")
	force := fs.Bool("force", false, "skip the canary and the alarms: the new version takes all the traffic once it passed the smoke test")
	interval := fs.Duration("interval", 0, "how long each share runs, instead of the env's rollout.interval_seconds (demos and tests)")
	poll := fs.Duration("poll", 0, "how often the alarms are read and the heartbeat written (default 10s on AWS, 200ms locally)")
	stale := fs.Duration("stale", 0, "how old a rollout's heartbeat may get before the next run takes it over (default 2m on AWS, 5s locally)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, nil
		}
		return 0, fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return 0, fmt.Errorf("%w: unexpected argument %q: the env is given with --env", errUsage, fs.Arg(0))
	case *env == "":
		return 0, fmt.Errorf("%w: --env is required (a directory under envs/)", errUsage)
	case btoi(*status)+btoi(*abort)+btoi(*force) > 1:
		return 0, fmt.Errorf("%w: --status, --abort and --force are exclusive", errUsage)
	case *interval < 0 || *poll < 0 || *stale < 0:
		return 0, fmt.Errorf("%w: --interval, --poll and --stale must be positive durations, e.g. 5s", errUsage)
	case !*local && given(fs, "outputs") != "":
		return 0, fmt.Errorf("%w: --outputs is the local stack's outputs file: add --local, or drop --outputs to read envs/%s's outputs from Terraform", errUsage, *env)
	case (*status || *abort) && given(fs, "interval", "poll", "stale") != "":
		return 0, fmt.Errorf("%w: --%s paces a rollout; --status and --abort run none: drop it", errUsage, given(fs, "interval", "poll", "stale"))
	case *force && given(fs, "interval") != "":
		return 0, fmt.Errorf("%w: --interval is how long each share runs; --force has no shares: drop one of them", errUsage)
	}
	cfg, err := envconfig.Load(*env)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errUsage, err)
	}

	c := &rollout.Config{Env: cfg, Interval: *interval, Force: *force, Out: stdout, By: who(getenv)}
	if *local {
		path, err := filepath.Abs(*outputs)
		if err != nil {
			return 0, err
		}
		if c.Target, err = smoke.LoadOutputs(path); err != nil {
			return 0, fmt.Errorf("%w (start the local stack with make local-up ENV=%s)", err, *env)
		}
		if err := c.Target.CheckLoopback(); err != nil {
			return 0, err
		}
		if err := c.Target.CheckAnswers(*env); err != nil {
			return 0, err
		}
		static := credentials.NewStaticCredentialsProvider("local", "local", "")
		c.Lambda = lambda.New(lambda.Options{Region: c.Target.Region, BaseEndpoint: aws.String(c.Target.EndpointURL), Credentials: static, HTTPClient: sdkhttp.New()})
		c.CloudWatch = cloudwatch.New(cloudwatch.Options{Region: c.Target.Region, BaseEndpoint: aws.String(c.Target.EndpointURL), Credentials: static, HTTPClient: sdkhttp.New()})
		c.Poll, c.Stale = orDefault(*poll, 200*time.Millisecond), orDefault(*stale, 5*time.Second)
	} else {
		terraform, err := repo.Tool("terraform") // TERRAFORM_PATH, which scripts/rollout.sh sets, wins
		if err != nil {
			return 0, err
		}
		if c.Target, err = smoke.FromTerraform(tfT{}, cfg.Dir, terraform); err != nil {
			return 0, err
		}
		if c.Target.Local() {
			return 0, fmt.Errorf("envs/%s's outputs name a local endpoint_url; roll out on the local stack with --local", *env)
		}
		awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(c.Target.Region), config.WithHTTPClient(sdkhttp.New()))
		if err != nil {
			return 0, err
		}
		c.Lambda, c.CloudWatch = lambda.NewFromConfig(awsCfg), cloudwatch.NewFromConfig(awsCfg)
		c.Poll, c.Stale = orDefault(*poll, 10*time.Second), orDefault(*stale, 2*time.Minute)
	}
	if c.Target.FunctionName != cfg.Name {
		return 0, fmt.Errorf("the outputs name function %s, but envs/%s deploys %s: they are another env's", c.Target.FunctionName, *env, cfg.Name)
	}

	if *status {
		return 0, rollout.Status(ctx, c)
	}
	c.Status = commitStatus(getenv, *env, stdout)
	var v rollout.Verdict
	if *abort {
		v, err = rollout.Abort(ctx, c)
	} else {
		v, err = rollout.Run(ctx, c)
	}
	if err != nil {
		return 0, err
	}
	if !v.OK() {
		return 1, nil
	}
	return 0, nil
}

// commitStatus posts rollout/<env> on the pull request's head commit when
// run by Atlantis (which sets HEAD_COMMIT, BASE_REPO_OWNER, BASE_REPO_NAME
// and PULL_URL) with a GITHUB_TOKEN that may write statuses.
func commitStatus(getenv func(string) string, env string, log io.Writer) func(context.Context, string, string) {
	sha, owner, name, token := getenv("HEAD_COMMIT"), getenv("BASE_REPO_OWNER"), getenv("BASE_REPO_NAME"), getenv("GITHUB_TOKEN")
	if sha == "" || owner == "" || name == "" {
		return nil
	}
	if token == "" {
		fmt.Fprintf(log, "rollout: no GITHUB_TOKEN in the environment: commit status rollout/%s is not posted (docs/runbook.md, section 7)\n", env)
		return nil
	}
	api := getenv("GITHUB_API_URL")
	if api == "" {
		api = "https://api.github.com"
	}
	return rollout.CommitStatus(http.DefaultClient, api, token, owner+"/"+name, sha, "rollout/"+env, getenv("PULL_URL"), log)
}

// who names the person a rollout runs for: Atlantis's commenter, or the
// local user.
func who(getenv func(string) string) string {
	if u := getenv("USER_NAME"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// outputsGiven reports whether the command line set --outputs (its default
// does not count).
// given returns the first of names set on the command line, or "".
func given(fs *flag.FlagSet, names ...string) string {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range names {
		if set[name] {
			return name
		}
	}
	return ""
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tfT is the TestingT terratest reports to; FromTerraform returns the
// errors itself.
type tfT struct{}

func (tfT) Fail()                 {}
func (tfT) FailNow()              {}
func (tfT) Fatal(...any)          {}
func (tfT) Fatalf(string, ...any) {}
func (tfT) Error(...any)          {}
func (tfT) Errorf(string, ...any) {}
func (tfT) Name() string          { return "rollout" }
