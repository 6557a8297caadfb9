package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
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
	"github.com/acme/request-dump/local/stack"
)

// target is a deployed env under test.
type target struct {
	endpoint, apiURL, logGroup, region string
}

// deploy uploads the zip to the env's prefix and deploys the env, as
// scripts/local-up.sh does.
func deploy(c config, endpoint string) (target, error) {
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
	}).PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(cfg.Artifact.Bucket),
		Key:               aws.String(cfg.Artifact.Key),
		Body:              bytes.NewReader(code),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		return target{}, fmt.Errorf("upload: %w", err)
	}
	spec, err := stack.SpecFor(cfg)
	if err != nil {
		return target{}, err
	}
	// The stage's throttling (dev: 50 req/s) would measure the throttle,
	// not the stack.
	spec.ThrottlingRateLimit, spec.ThrottlingBurstLimit = 0, 0
	out, err := (&stack.Client{Endpoint: endpoint, TokenFile: tokenFile}).Deploy(ctx, spec)
	if err != nil {
		return target{}, err
	}
	return target{endpoint: endpoint, apiURL: out["api_url"].Value, logGroup: out["log_group_name"].Value, region: cfg.Region}, nil
}

// accepted collects the API request ids of the requests the function
// answered, from their response bodies.
type accepted struct {
	ids    map[string]bool
	errors map[string]int
}

func newAccepted() *accepted { return &accepted{ids: map[string]bool{}, errors: map[string]int{}} }

func (a *accepted) add(r *vegeta.Result) {
	if r.Error == vegeta.ErrNoTargets.Error() {
		return // the targeter's end, not a request
	}
	if r.Code != http.StatusOK {
		a.errors[fmt.Sprintf("%d %s", r.Code, r.Error)]++
		return
	}
	var body struct {
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.RequestID == "" {
		a.errors["200 without request_id"]++
		return
	}
	a.ids[body.RequestID] = true
}

func measure(c config, t target) error {
	run := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	// targeter posts events with the ids <prefix>-1, <prefix>-2, …, and
	// stops after limit of them when limit > 0.
	targeter := func(prefix string, limit int64) vegeta.Targeter {
		var seq atomic.Int64
		return func(tgt *vegeta.Target) error {
			n := seq.Add(1)
			if limit > 0 && n > limit {
				return vegeta.ErrNoTargets
			}
			tgt.Method = http.MethodPost
			tgt.URL = t.apiURL + "/events"
			tgt.Header = http.Header{"Content-Type": []string{"application/json"}}
			tgt.Body = fmt.Appendf(nil, `{"event_id":"%s-%d","type":"bench","user":{"id":"u-%d"},"attributes":{"password":"x"}}`, prefix, n, n%100)
			return nil
		}
	}
	all := newAccepted()

	// Cold start: the deploy starts no execution environment; the first
	// request does.
	cold := vegeta.NewAttacker()
	for r := range cold.Attack(targeter(run+"-cold", 1), vegeta.ConstantPacer{Freq: 1, Per: time.Second}, 0, "cold") {
		if r.Error == vegeta.ErrNoTargets.Error() {
			continue
		}
		all.add(r)
		fmt.Printf("cold start (first request after deploy): %s, status %d\n", ms(r.Latency), r.Code)
	}

	// Warm latency at a steady rate, after a short warm-up.
	for r := range vegeta.NewAttacker(vegeta.KeepAlive(true)).Attack(targeter(run+"-warm-up", 0), vegeta.ConstantPacer{Freq: c.warmRate, Per: time.Second}, 2*time.Second, "warm-up") {
		all.add(r)
	}
	var wm vegeta.Metrics
	for r := range vegeta.NewAttacker(vegeta.KeepAlive(true)).Attack(targeter(run+"-warm", 0), vegeta.ConstantPacer{Freq: c.warmRate, Per: time.Second}, c.warmFor, "warm") {
		all.add(r)
		wm.Add(r)
	}
	wm.Close()
	fmt.Printf("warm latency at %d req/s for %s (%d requests): p50 %s, p90 %s, p99 %s, max %s, success %.2f%%\n",
		c.warmRate, c.warmFor, wm.Requests, ms(wm.Latencies.P50), ms(wm.Latencies.P90), ms(wm.Latencies.P99), ms(wm.Latencies.Max), 100*wm.Success)

	// Throughput: as fast as c.workers clients can go, for c.loadRequests.
	load := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Workers(uint64(c.workers)), vegeta.MaxWorkers(uint64(c.workers)), vegeta.Connections(c.workers))
	var lm vegeta.Metrics
	loadRun := run + "-load"
	for r := range load.Attack(targeter(loadRun, int64(c.loadRequests)), vegeta.ConstantPacer{}, 0, "load") {
		if r.Error == vegeta.ErrNoTargets.Error() {
			continue
		}
		all.add(r)
		lm.Add(r)
	}
	lm.Close()
	fmt.Printf("throughput with %d clients: %d requests in %s = %.0f req/s; p50 %s, p99 %s; success %.2f%%\n",
		c.workers, lm.Requests, lm.Duration.Round(time.Millisecond), lm.Throughput, ms(lm.Latencies.P50), ms(lm.Latencies.P99), 100*lm.Success)
	for e, n := range all.errors {
		fmt.Printf("  not accepted: %d × %s\n", n, e)
	}
	return verify(t, all, loadRun)
}

// verify pages through the function's log group and checks that every
// accepted request's dump is there exactly once.
func verify(t target, all *accepted, loadRun string) error {
	client := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       t.region,
		BaseEndpoint: aws.String(t.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
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
