package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/acme/request-dump/internal/apicaller"
	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/local/stack"
)

// accessRound is one kind of round of the access comparison.
type accessRound struct {
	label, mode string
	// signing: the clients sign each request as they send it, on the
	// same cores as the stack, rather than before the round.
	signing bool
}

var (
	roundNone    = accessRound{"none", apispec.AccessNone, false}
	roundAPIKey  = accessRound{"api_key", apispec.AccessAPIKey, false}
	roundIAM     = accessRound{"iam", apispec.AccessIAM, false}
	roundSigning = accessRound{"iam+sign", apispec.AccessIAM, true}
)

// accessOrder is the order of the rounds: each kind twice, mirrored, so
// that a machine getting slower or faster through the run weighs on every
// kind alike.
var accessOrder = []accessRound{roundNone, roundAPIKey, roundIAM, roundSigning, roundSigning, roundIAM, roundAPIKey, roundNone}

// accessWarmUp requests go before each round's measured ones: a redeploy
// publishes a version, whose execution environments start cold.
const accessWarmUp = 500

// presign builds n requests of events <prefix>-1… to url as caller sends
// them (its credentials added, in mode iam signed with the SDK's v4
// signer), caught by capture instead of being sent. They are signed before
// the round, so that the round measures the stack verifying them, not the
// client signing them on the same cores; a signature is good for 5
// minutes, far longer than a round.
func presign(caller *apicaller.Caller, capture *captureTransport, url, prefix string, n int) ([]vegeta.Target, error) {
	targets := make([]vegeta.Target, n)
	for i := range targets {
		body := fmt.Appendf(nil, `{"event_id":"%s-%d","type":"bench","user":{"id":"u-%d"},"attributes":{"password":"x"}}`, prefix, i+1, (i+1)%100)
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if _, err := caller.Transport.RoundTrip(req); err != nil {
			return nil, err
		}
		targets[i] = vegeta.Target{Method: http.MethodPost, URL: url, Header: capture.last.Header, Body: body}
	}
	return targets, nil
}

// captureTransport keeps the request it is given and answers 200.
type captureTransport struct{ last *http.Request }

func (c *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.last = r
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
}

// replay hands out targets once each, then stops the attack.
func replay(targets []vegeta.Target) vegeta.Targeter {
	var next atomic.Int64
	return func(t *vegeta.Target) error {
		i := next.Add(1) - 1
		if i >= int64(len(targets)) {
			return vegeta.ErrNoTargets
		}
		*t = targets[i]
		return nil
	}
}

// compareAccess redeploys the env in each access mode and measures its
// throughput with c.workers clients sending requests with the mode's
// credentials, then prints each mode's throughput as a ratio of the open
// API's. The requests
// count as accepted ones for the dump check that follows.
func compareAccess(c config, t target, all *accepted, run string) error {
	var labels []string
	for _, r := range accessOrder {
		labels = append(labels, r.label)
	}
	fmt.Printf("\naccess comparison: %d requests per round, %d clients, rounds %v\n", c.accessRequests, c.workers, labels)
	sum, n := map[string]float64{}, map[string]int{}
	for i, round := range accessOrder {
		mode := round.mode
		d, err := deploy(c, t.endpoint, func(cfg *envconfig.Config, spec *stack.Spec) {
			if spec == nil {
				cfg.Access = envconfig.Access{Mode: mode, APIKeys: []string{"smoke"}}
				return
			}
			// The usage plan's throttle and quota would measure the plan.
			spec.Access.RateLimit, spec.Access.BurstLimit, spec.Access.QuotaPerDay = 1e6, 1e6, 0
		})
		if err != nil {
			return err
		}
		awsCfg := aws.Config{Region: t.region, BaseEndpoint: aws.String(t.endpoint), HTTPClient: sdkhttp.New(),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
		capture := &captureTransport{}
		var base http.RoundTripper = capture
		if round.signing {
			base = &http.Transport{MaxIdleConnsPerHost: c.workers, IdleConnTimeout: time.Minute}
		}
		caller, err := apicaller.New(context.Background(), awsCfg, d.outputs.Access("smoke"), base)
		if err != nil {
			return err
		}
		s := &system{name: round.label, url: d.apiURL + "/events", body: func(event []byte) ([]byte, error) { return event, nil },
			accept: func(r *vegeta.Result) bool { return all.add(r) }}
		prefix := fmt.Sprintf("%s-access-%d", run, i)
		phaseTargets := func(prefix string, n int) (vegeta.Targeter, error) {
			if round.signing {
				return s.targeter(prefix, int64(n)), nil
			}
			targets, err := presign(caller, capture, s.url, prefix, n)
			return replay(targets), err
		}
		opts := []func(*vegeta.Attacker){vegeta.KeepAlive(true), vegeta.Workers(uint64(c.workers)), vegeta.MaxWorkers(uint64(c.workers)), vegeta.Connections(c.workers)}
		if round.signing {
			opts = append(opts, vegeta.Client(&http.Client{Timeout: 30 * time.Second, Transport: caller.Transport}))
		}
		var p phases
		for _, phase := range []struct {
			prefix string
			n      int
			m      *vegeta.Metrics
		}{{prefix + "-warm", accessWarmUp, nil}, {prefix, c.accessRequests, &p.load}} {
			tr, err := phaseTargets(phase.prefix, phase.n)
			if err != nil {
				return err
			}
			for r := range s.attacker(opts...).Attack(tr, vegeta.ConstantPacer{}, 0, round.label) {
				s.add(&p, r, phase.m)
			}
		}
		p.load.Close()
		l := p.load
		fmt.Printf("  %-8s throughput with %d clients: %d requests in %s = %.0f req/s; p50 %s, p99 %s; success %.2f%% (%s)\n",
			round.label, c.workers, l.Requests, l.Duration.Round(time.Millisecond), l.Throughput, ms(l.Latencies.P50), ms(l.Latencies.P99), 100*l.Success, caller.Describe)
		if l.Success < 0.99 {
			// A refused credential fails every request: not a figure.
			return fmt.Errorf("access mode %s: only %.1f%% of the requests accepted (%s); answers not accepted so far: %v", mode, 100*l.Success, caller.Describe, all.errors)
		}
		sum[round.label] += p.load.Throughput
		n[round.label]++
	}
	open := sum[roundNone.label] / float64(n[roundNone.label])
	fmt.Printf("\n%-22s %12s %10s  %s\n", "access mode", "req/s", "of none", "target")
	for _, m := range []struct {
		label, target string
		min           float64
	}{
		{roundNone.label, "(baseline)", 0},
		{roundAPIKey.label, "(none)", 0},
		{roundIAM.label, ">= 0.90x: SigV4 verification costs the stack at most 10 %", 0.9},
		{roundSigning.label, "(none): the clients' signing shares the cores", 0},
	} {
		tput := sum[m.label] / float64(n[m.label])
		verdict := ""
		if m.min > 0 {
			verdict = ": met"
			if tput/open < m.min {
				verdict = ": MISSED"
			}
		}
		fmt.Printf("%-22s %12.0f %9.2fx  %s%s\n", m.label, tput, tput/open, m.target, verdict)
	}
	return nil
}
