package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/local/stack"
)

// tail prints a function's log events through the CloudWatch Logs API, as
// `sam logs --tail` does: the local stack's by default, AWS's with
// --endpoint "".
func tail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := fs.String("env", "", "the env whose function's log group to read (a directory under envs/)")
	group := fs.String("group", "", "read this log `group` instead of the env's function's")
	endpoint := fs.String("endpoint", defaultEndpoint(), "CloudWatch Logs endpoint `URL` (env LOCAL_AWS_ENDPOINT); \"\" for AWS itself (credentials from the usual chain)")
	follow := fs.Bool("follow", false, "keep printing new events until interrupted")
	filter := fs.String("filter", "", "CloudWatch Logs filter `pattern`, e.g. '{ $.fields.type = \"signup\" }'")
	since := fs.Duration("since", 10*time.Minute, "start this long ago")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*env == "") == (*group == "") {
		return fmt.Errorf("%w: logs: give exactly one of --env or --group", errUsage)
	}
	if *since <= 0 {
		return fmt.Errorf("%w: logs: --since %s: want a positive duration such as 10m", errUsage, *since)
	}
	region := os.Getenv("AWS_REGION")
	if *env != "" {
		cfg, err := envconfig.Load(*env)
		if err != nil {
			return err
		}
		*group, region = cfg.LogGroupName(), cfg.Region
	}
	client, err := logsClient(ctx, *endpoint, region)
	if err != nil {
		return err
	}
	if *follow {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}

	w := newWindow(time.Now().Add(-*since))
	for {
		if err := w.read(ctx, client, *group, *filter, stdout); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var send *smithyhttp.RequestSendError
			if *endpoint != "" && errors.As(err, &send) {
				up := "make local-up"
				if *env != "" {
					up += " ENV=" + *env
				}
				return fmt.Errorf("logs: no local stack answers at %s (%v): start one with %s, or point --endpoint (LOCAL_AWS_ENDPOINT) at the one running", *endpoint, send.Err, up)
			}
			return err
		}
		if !*follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// window is where the next read starts and the events already printed from
// there on.
type window struct {
	start time.Time
	seen  map[string]int64 // event id → timestamp in ms
}

func newWindow(start time.Time) *window {
	return &window{start: start, seen: map[string]int64{}}
}

// read prints the events from the start on that it has not printed yet.
// The next read starts a second before the newest event printed (events
// ingested late keep their timestamps), never further back, so seen can
// forget the events before it: following for hours keeps it small.
func (w *window) read(ctx context.Context, client *cloudwatchlogs.Client, group, filter string, out io.Writer) error {
	newest := w.start
	p := cloudwatchlogs.NewFilterLogEventsPaginator(client, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(group),
		FilterPattern: aws.String(filter),
		StartTime:     aws.Int64(w.start.UnixMilli()),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("logs %s: %w", group, err)
		}
		for _, e := range page.Events {
			id := aws.ToString(e.EventId)
			if _, ok := w.seen[id]; ok {
				continue
			}
			ms := aws.ToInt64(e.Timestamp)
			w.seen[id] = ms
			ts := time.UnixMilli(ms).UTC()
			if ts.After(newest) {
				newest = ts
			}
			fmt.Fprintf(out, "%s %s %s\n", ts.Format("2006-01-02T15:04:05.000Z"), shortStream(aws.ToString(e.LogStreamName)), strings.TrimRight(aws.ToString(e.Message), "\n"))
		}
	}
	if next := newest.Add(-time.Second); next.After(w.start) {
		w.start = next
	}
	cut := w.start.UnixMilli()
	for id, ms := range w.seen {
		if ms < cut {
			delete(w.seen, id)
		}
	}
	return nil
}

// shortStream shortens 2026/11/24/[<version>]<32 hex> to the version and
// the first hex digits, [3]0e36d99d: enough to tell execution environments,
// and the versions of a canary, apart.
func shortStream(s string) string {
	if i := strings.LastIndexByte(s, ']'); i >= 0 && len(s) >= i+9 {
		if j := strings.LastIndexByte(s[:i], '['); j >= 0 {
			return s[j : i+9]
		}
		return s[i+1 : i+9]
	}
	return s
}

func logsClient(ctx context.Context, endpoint, region string) (*cloudwatchlogs.Client, error) {
	if endpoint == "" {
		cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(sdkhttp.New()))
		if err != nil {
			return nil, err
		}
		return cloudwatchlogs.NewFromConfig(cfg), nil
	}
	if region == "" {
		region = stack.DefaultRegion
	}
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   sdkhttp.New(),
	}), nil
}
