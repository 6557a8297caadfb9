package main

import (
	"context"
	"fmt"
	"net/http"
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

// accessOrder is the order of the access comparison's rounds: each mode
// twice, mirrored (none, api_key, iam, iam, api_key, none), so that a
// machine getting slower or faster through the run weighs on every mode
// alike.
var accessOrder = []string{apispec.AccessNone, apispec.AccessAPIKey, apispec.AccessIAM, apispec.AccessIAM, apispec.AccessAPIKey, apispec.AccessNone}

// accessWarmUp requests go before each round's measured ones: a redeploy
// publishes a version, whose execution environments start cold.
const accessWarmUp = 500

// compareAccess redeploys the env in each access mode and measures its
// throughput with c.workers clients sending the mode's credentials, then
// prints each mode's throughput as a ratio of the open API's. The requests
// count as accepted ones for the dump check that follows.
func compareAccess(c config, t target, all *accepted, run string) error {
	fmt.Printf("\naccess comparison: %d requests per round, %d clients, rounds %v\n", c.accessRequests, c.workers, accessOrder)
	round := c
	round.loadRequests = c.accessRequests
	sum, n := map[string]float64{}, map[string]int{}
	for i, mode := range accessOrder {
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
		access := apicaller.Access{Mode: mode, CallerRoleARN: d.outputs["caller_role_arn"].String()}
		if params, ok := d.outputs["api_key_parameters"].Value.(map[string]any); ok {
			access.APIKeyParameter, _ = params["smoke"].(string)
		}
		awsCfg := aws.Config{Region: t.region, BaseEndpoint: aws.String(t.endpoint), HTTPClient: sdkhttp.New(),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
		base := &http.Transport{MaxIdleConnsPerHost: c.workers, IdleConnTimeout: time.Minute}
		caller, err := apicaller.New(context.Background(), awsCfg, access, base)
		if err != nil {
			return err
		}
		s := &system{name: mode, url: d.apiURL + "/events",
			body:   func(event []byte) ([]byte, error) { return event, nil },
			opts:   []func(*vegeta.Attacker){vegeta.Client(&http.Client{Timeout: 30 * time.Second, Transport: caller.Transport})},
			accept: func(r *vegeta.Result) bool { return all.add(r) }}
		var warm phases
		for r := range s.attacker(vegeta.Workers(uint64(c.workers)), vegeta.MaxWorkers(uint64(c.workers))).
			Attack(s.targeter(fmt.Sprintf("%s-access-%d-warm", run, i), accessWarmUp), vegeta.ConstantPacer{}, 0, "warm") {
			s.add(&warm, r, nil)
		}
		var p phases
		s.load(round, fmt.Sprintf("%s-access-%d", run, i), &p)
		if p.load.Success < 0.99 {
			// A refused credential fails every request: not a figure.
			return fmt.Errorf("access mode %s: only %.1f%% of the requests accepted (%s); answers not accepted so far: %v", mode, 100*p.load.Success, caller.Describe, all.errors)
		}
		sum[mode] += p.load.Throughput
		n[mode]++
	}
	open := sum[apispec.AccessNone] / float64(n[apispec.AccessNone])
	fmt.Printf("\n%-22s %12s %10s  %s\n", "access mode", "req/s", "of none", "target")
	for _, m := range []struct{ mode, target string }{
		{apispec.AccessNone, "(baseline)"},
		{apispec.AccessAPIKey, "(none)"},
		{apispec.AccessIAM, ">= 0.90x (SigV4 verification costs at most 10 %)"},
	} {
		tput := sum[m.mode] / float64(n[m.mode])
		verdict := ""
		if m.mode == apispec.AccessIAM {
			verdict = ": met"
			if tput/open < 0.9 {
				verdict = ": MISSED"
			}
		}
		fmt.Printf("%-22s %12.0f %9.2fx  %s%s\n", m.mode, tput, tput/open, m.target, verdict)
	}
	return nil
}
