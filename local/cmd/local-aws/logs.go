package main

import (
	"context"
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

	"github.com/acme/request-dump/internal/envconfig"
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
	endpoint := fs.String("endpoint", defaultEndpoint(), "CloudWatch Logs endpoint `URL`; \"\" for AWS itself (credentials from the usual chain)")
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

	seen := map[string]bool{}
	start := time.Now().Add(-*since)
	for {
		next, err := printEvents(ctx, client, *group, *filter, start, seen, stdout)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !*follow {
			return nil
		}
		// Re-read the last second: events ingested late keep their
		// timestamps, and seen drops the repeats.
		start = next.Add(-time.Second)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// printEvents prints the events from start on that it has not printed yet,
// and returns the newest timestamp it saw.
func printEvents(ctx context.Context, client *cloudwatchlogs.Client, group, filter string, start time.Time, seen map[string]bool, out io.Writer) (time.Time, error) {
	newest := start
	p := cloudwatchlogs.NewFilterLogEventsPaginator(client, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(group),
		FilterPattern: aws.String(filter),
		StartTime:     aws.Int64(start.UnixMilli()),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return newest, fmt.Errorf("logs %s: %w", group, err)
		}
		for _, e := range page.Events {
			id := aws.ToString(e.EventId)
			if seen[id] {
				continue
			}
			seen[id] = true
			ts := time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC()
			if ts.After(newest) {
				newest = ts
			}
			fmt.Fprintf(out, "%s %s %s\n", ts.Format("2006-01-02T15:04:05.000Z"), shortStream(aws.ToString(e.LogStreamName)), strings.TrimRight(aws.ToString(e.Message), "\n"))
		}
	}
	return newest, nil
}

// shortStream shortens 2026/11/24/[$LATEST]<32 hex> to its first hex digits,
// enough to tell execution environments apart.
func shortStream(s string) string {
	if i := strings.LastIndexByte(s, ']'); i >= 0 && len(s) >= i+9 {
		return s[i+1 : i+9]
	}
	return s
}

func logsClient(ctx context.Context, endpoint, region string) (*cloudwatchlogs.Client, error) {
	if endpoint == "" {
		cfg, err := config.LoadDefaultConfig(ctx)
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
	}), nil
}
