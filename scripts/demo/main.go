// Command demo posts the sample events in scripts/demo/events to an env on
// the local stack and reads their dumps back through the CloudWatch Logs
// API, as `make demo` shows them. The target comes from the stack's
// `terraform output -json` file, .local/outputs.json, read as the smoke
// tests read it; only loopback addresses are contacted.
//
// Usage: go run ./scripts/demo [--outputs .local/outputs.json] [--events scripts/demo/events]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/smoke"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	outFile := flag.String("outputs", ".local/outputs.json", "the env's outputs (`terraform output -json` shape)")
	eventsDir := flag.String("events", "scripts/demo/events", "folder of sample event bodies (*.json)")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}
	target, err := smoke.LoadOutputs(*outFile)
	if err != nil {
		return fmt.Errorf("%w (start the local stack first: make local-up)", err)
	}
	if err := target.CheckLoopback(); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(*eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no sample events in %s", *eventsDir)
	}
	sort.Strings(files)

	// The env's access mode decides what a caller sends: nothing, the smoke
	// API key from the Parameter Store, or a SigV4 signature.
	caller, err := smoke.NewCaller(context.Background(), target, http.DefaultTransport)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: caller.Transport}
	fmt.Printf("access mode %s\n\n", caller.Describe)

	// Each run gets its own event ids, so that a dump is found once even when
	// the stack keeps the earlier runs' logs.
	run := time.Now().UTC().Format("20060102T150405.000")
	var accepted, rejected []string
	for _, f := range files {
		id, ok, err := post(client, target.APIURL+"/events", f, run, "")
		if err != nil {
			return err
		}
		if ok {
			accepted = append(accepted, id)
		} else {
			rejected = append(rejected, id)
		}
	}

	if target.AccessMode != apispec.AccessNone {
		// The first sample again, without credentials: the gateway refuses
		// it before the function.
		id, ok, err := post(http.DefaultClient, target.APIURL+"/events", files[0], run, "no credentials")
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("the API (access mode %s) accepted %s without credentials", target.AccessMode, id)
		}
		rejected = append(rejected, id)
	}

	if len(accepted) == 0 {
		return fmt.Errorf("the API accepted none of the samples in %s: each needs a JSON body with event_id and type", *eventsDir)
	}

	logs := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       target.Region,
		BaseEndpoint: aws.String(target.EndpointURL),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   sdkhttp.New(),
	})
	group := target.LogGroupName
	fmt.Printf("\nThe dumps, read back from %s with FilterLogEvents:\n", group)
	for _, id := range accepted {
		pattern := fmt.Sprintf(`{ $.fields.event_id = "%s" }`, id)
		msgs, err := find(logs, group, pattern)
		if err != nil {
			return err
		}
		fmt.Printf("\n  filter pattern %s → %d event(s)\n", pattern, len(msgs))
		for _, m := range msgs {
			var pretty bytes.Buffer
			if json.Indent(&pretty, []byte(m), "    ", "  ") != nil {
				pretty.WriteString(m)
			}
			fmt.Printf("    %s\n", pretty.String())
		}
		if len(msgs) != 1 {
			return fmt.Errorf("want exactly one dump for %s, found %d", id, len(msgs))
		}
	}
	// The accepted dumps are visible, so a rejected request's dump would be too.
	for _, id := range rejected {
		pattern := fmt.Sprintf(`{ $.fields.event_id = "%s" }`, id)
		msgs, err := filter(context.Background(), logs, group, pattern)
		if err != nil {
			return err
		}
		fmt.Printf("\n  filter pattern %s → %d event(s): rejected by the gateway, it never reached the function\n", pattern, len(msgs))
		if len(msgs) != 0 {
			return fmt.Errorf("a rejected request was dumped: %s", id)
		}
	}
	fmt.Printf("\nThe same query with the AWS CLI:\n  aws --endpoint-url %s logs filter-log-events --log-group-name %s --filter-pattern '{ $.fields.event_id = \"%s\" }'\n",
		target.EndpointURL, group, accepted[0])
	return nil
}

// post sends one sample through client with its event_id made unique for
// this run and variant (what is different about this request, "" for a
// sample as it is, also shown beside its name), and reports whether the
// API accepted it.
func post(client *http.Client, url, file, run, variant string) (string, bool, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", false, err
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return "", false, fmt.Errorf("%s: %w", file, err)
	}
	id := fmt.Sprintf("%v-%s", body["event_id"], run)
	if variant != "" {
		id += "-" + strings.ReplaceAll(variant, " ", "-")
	}
	body["event_id"] = id
	payload, err := json.Marshal(body)
	if err != nil {
		return "", false, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "request-dump-demo/1.0")
	resp, err := client.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", false, err
	}
	label := filepath.Base(file)
	if variant != "" {
		label += " (" + variant + ")"
	}
	fmt.Printf("POST /events %-32s → %d %s\n", label, resp.StatusCode, strings.TrimSpace(string(answer)))
	return id, resp.StatusCode == http.StatusOK, nil
}

// find polls FilterLogEvents briefly; the local stack has the dump by the
// time the response arrives.
func find(client *cloudwatchlogs.Client, group, pattern string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		msgs, err := filter(ctx, client, group, pattern)
		if err != nil || len(msgs) > 0 {
			return msgs, err
		}
		select {
		case <-ctx.Done():
			return nil, errors.New("no dump for " + pattern + " within 10 s")
		case <-time.After(delay):
		}
	}
}

func filter(ctx context.Context, client *cloudwatchlogs.Client, group, pattern string) ([]string, error) {
	var msgs []string
	p := cloudwatchlogs.NewFilterLogEventsPaginator(client, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(group),
		FilterPattern: aws.String(pattern),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			msgs = append(msgs, aws.ToString(e.Message))
		}
	}
	return msgs, nil
}
