package smoke

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/acme/request-dump/internal/sdkhttp"
)

// requestTimeout bounds one call to the API: API Gateway's integration
// timeout is at most 29 s.
const requestTimeout = 35 * time.Second

// clients returns the HTTP client for the API and the CloudWatch Logs
// client for target. For the local stack both dial loopback addresses only,
// ignore proxy settings and use static credentials, so a local run cannot
// reach anything else; on AWS they use the default credential chain.
func clients(ctx context.Context, target Target) (*http.Client, *cloudwatchlogs.Client, error) {
	if !target.Local() {
		cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(target.Region), config.WithHTTPClient(sdkhttp.New()))
		if err != nil {
			return nil, nil, fmt.Errorf("smoke: AWS configuration: %w", err)
		}
		return &http.Client{Timeout: requestTimeout}, cloudwatchlogs.NewFromConfig(cfg), nil
	}
	if err := target.CheckLoopback(); err != nil {
		return nil, nil, err
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: loopbackOnly}
	httpClient := &http.Client{
		Timeout:   requestTimeout,
		Transport: &http.Transport{Proxy: nil, DialContext: dialer.DialContext, MaxIdleConnsPerHost: 4},
	}
	logs := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       target.Region,
		BaseEndpoint: aws.String(target.EndpointURL),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   sdkhttp.Wrap(httpClient),
	})
	return httpClient, logs, nil
}

// loopbackOnly refuses a connection to any address but a loopback one; it
// runs after name resolution, on the address actually dialled.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("smoke: refusing to dial %s: a local smoke run talks to loopback addresses only", address)
	}
	return nil
}

// logReader finds dump events in the function's log group.
type logReader struct {
	client *cloudwatchlogs.Client
	group  string
	since  time.Time
}

// eventIDPattern is the CloudWatch filter pattern that finds the dump of
// the request whose body had event_id id (docs/architecture.md).
func eventIDPattern(id string) string {
	return fmt.Sprintf(`{ $.fields.event_id = "%s" }`, id)
}

// requestIDPattern finds the dump of the request API Gateway numbered id,
// whatever its fields.
func requestIDPattern(id string) string {
	return fmt.Sprintf(`{ $.api_request_id = "%s" }`, id)
}

// find returns every event matching pattern, following all pages.
func (r *logReader) find(ctx context.Context, pattern string) ([]types.FilteredLogEvent, error) {
	pages := cloudwatchlogs.NewFilterLogEventsPaginator(r.client, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(r.group),
		FilterPattern: aws.String(pattern),
		StartTime:     aws.Int64(r.since.UnixMilli()),
	})
	var events []types.FilteredLogEvent
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("FilterLogEvents %s in %s: %w", pattern, r.group, err)
		}
		events = append(events, page.Events...)
	}
	return events, nil
}

// sighting is when a pattern's first events were seen.
type sighting struct {
	events []types.FilteredLogEvent
	seenAt time.Time
	err    error
}

// await polls for every pattern until each has matched or timeout has
// passed, with exponential backoff from timeout/200 up to timeout/20 (25 ms
// to 250 ms for the local default, 0.6 s to 6 s on AWS): early polls catch
// a fast pipeline, later ones stay within FilterLogEvents' rate quota.
// The loop is written here because the SDK's retryer backs off failed
// calls only, not successful answers that are still empty.
func (r *logReader) await(ctx context.Context, patterns []string, timeout time.Duration) map[string]*sighting {
	seen := map[string]*sighting{}
	deadline := time.Now().Add(timeout)
	wait, maxWait := timeout/200, timeout/20
	for {
		pending := 0
		for _, p := range patterns {
			if s, ok := seen[p]; ok && len(s.events) > 0 {
				continue
			}
			events, err := r.find(ctx, p)
			seen[p] = &sighting{events: events, seenAt: time.Now(), err: err}
			if len(events) == 0 {
				pending++
			}
		}
		left := time.Until(deadline)
		if pending == 0 || left <= 0 || ctx.Err() != nil {
			return seen
		}
		timer := time.NewTimer(min(wait, left))
		select {
		case <-ctx.Done():
			timer.Stop()
			return seen
		case <-timer.C:
		}
		wait = min(2*wait, maxWait)
	}
}
