package logs_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/logs"
)

// filterAll pages through FilterLogEvents with the SDK's paginator.
func filterAll(t *testing.T, client *cloudwatchlogs.Client, in cloudwatchlogs.FilterLogEventsInput) (evs []types.FilteredLogEvent, pages int) {
	t.Helper()
	p := cloudwatchlogs.NewFilterLogEventsPaginator(client, &in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		require.NoError(t, err)
		require.NotNil(t, out.SearchedLogStreams, "AWS returns an empty searchedLogStreams list")
		evs = append(evs, out.Events...)
		pages++
	}
	return evs, pages
}

func streamAndMessage(evs []types.FilteredLogEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = aws.ToString(e.LogStreamName) + " " + aws.ToString(e.Message)
	}
	return out
}

func TestFilterLogEvents(t *testing.T) {
	store := newStore(t)
	client, _ := serve(t, store)
	c := ctx(t)
	const group = "/aws/lambda/filter"
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	// Three execution environments; invocations interleave in time.
	streams := []string{"2026/11/24/[$LATEST]aaaa", "2026/11/24/[$LATEST]bbbb", "2026/11/25/[$LATEST]cccc"}
	for i := range 6 {
		st := streams[i%3]
		require.NoError(t, store.Append(group, st, invocation(t, fmt.Sprintf("e-%d", i), at(i))...))
	}
	require.NoError(t, store.Append(group, streams[0],
		logs.Event{Timestamp: at(10), Message: "[ERROR] Caught IllegalArgumentException"},
		logs.Event{Timestamp: at(11), Message: "[WARN] Failed to process the request"},
	))

	dump := func(i int) string {
		return fmt.Sprintf("%s %s", streams[i%3], invocation(t, fmt.Sprintf("e-%d", i), at(i))[1].Message)
	}
	for _, tc := range []struct {
		name string
		in   cloudwatchlogs.FilterLogEventsInput
		want []string
	}{
		{"one dump by event_id", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`{ $.fields.event_id = "e-4" }`)},
			[]string{dump(4)}},
		{"every dump, interleaved across streams by time", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`{ $.fields.event_id = * }`)},
			[]string{dump(0), dump(1), dump(2), dump(3), dump(4), dump(5)}},
		{"dumps of one stream", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`{ $.fields.event_id = "e-*" }`), LogStreamNames: []string{streams[1]}},
			[]string{dump(1), dump(4)}},
		{"dumps by stream prefix", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`{ $.msg = "request dump" }`), LogStreamNamePrefix: aws.String("2026/11/25/")},
			[]string{dump(2), dump(5)}},
		{"index term plus stream names", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`{ $.fields.event_id = "e-4" }`), LogStreamNames: []string{streams[0]}},
			[]string{}},
		{"time range is inclusive at both ends", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`{ $.fields.event_id = * }`),
			StartTime: aws.Int64(at(2).UnixMilli()), EndTime: aws.Int64(at(4).UnixMilli())},
			[]string{dump(2), dump(3), dump(4)}},
		{"terms", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`?ERROR ?WARN`)},
			[]string{streams[0] + " [ERROR] Caught IllegalArgumentException", streams[0] + " [WARN] Failed to process the request"}},
		{"space-delimited REPORT lines", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`[type=REPORT, ...]`), EndTime: aws.Int64(at(1).UnixMilli())},
			[]string{streams[0] + " " + invocation(t, "", at(0))[3].Message, streams[1] + " " + invocation(t, "", at(0))[3].Message}},
		{"no pattern returns everything", cloudwatchlogs.FilterLogEventsInput{LogStreamNames: []string{streams[2]}, FilterPattern: aws.String(`""`), EndTime: aws.Int64(at(2).UnixMilli())},
			func() []string {
				var out []string
				for _, e := range invocation(t, "e-2", at(2)) {
					out = append(out, streams[2]+" "+e.Message)
				}
				return out
			}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.LogGroupName = aws.String(group)
			got, _ := filterAll(t, client, in)
			assert.Equal(t, tc.want, streamAndMessage(got))
		})
	}

	t.Run("descending", func(t *testing.T) {
		got, pages := filterAll(t, client, cloudwatchlogs.FilterLogEventsInput{
			LogGroupIdentifier: aws.String("arn:aws:logs:ap-northeast-1:123456789012:log-group:" + group + ":*"),
			FilterPattern:      aws.String(`{ $.fields.event_id = * }`), StartFromHead: aws.Bool(false), Limit: aws.Int32(4),
			StartTime: aws.Int64(base.UnixMilli()),
		})
		assert.Equal(t, []string{dump(5), dump(4), dump(3), dump(2), dump(1), dump(0)}, streamAndMessage(got))
		assert.Equal(t, 2, pages)
	})

	t.Run("event fields", func(t *testing.T) {
		out, err := client.FilterLogEvents(c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), Limit: aws.Int32(1)})
		require.NoError(t, err)
		require.Len(t, out.Events, 1)
		e := out.Events[0]
		assert.Equal(t, at(0).UnixMilli(), aws.ToInt64(e.Timestamp))
		assert.GreaterOrEqual(t, aws.ToInt64(e.IngestionTime), base.UnixMilli())
		assert.NotEmpty(t, aws.ToString(e.EventId))
		assert.NotNil(t, out.NextToken)
	})

	t.Run("event ids are unique", func(t *testing.T) {
		got, _ := filterAll(t, client, cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), Limit: aws.Int32(3)})
		ids := map[string]bool{}
		for _, e := range got {
			ids[aws.ToString(e.EventId)] = true
		}
		assert.Len(t, ids, 26)
	})

	for _, tc := range []struct {
		name string
		in   cloudwatchlogs.FilterLogEventsInput
		err  func(*testing.T, error)
	}{
		{"invalid pattern", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.a = }`)},
			func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, `Invalid filter pattern "{ $.a = }": missing value after the operator`)
			}},
		{"prefix with a wildcard", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNamePrefix: aws.String("2026/*")},
			func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "Value '2026/*' at 'logStreamNamePrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*")
			}},
		{"no stream names", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNames: []string{}},
			func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "Value '[]' at 'logStreamNames' failed to satisfy constraint: Member must have length greater than or equal to 1")
			}},
		{"a stream name with a colon", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNames: []string{streams[0], "a:b"}},
			func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "Value 'a:b' at 'logStreamNames.2.member' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*")
			}},
		{"names and prefix", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")},
			func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "mutually exclusive") }},
		{"start after end", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), StartTime: aws.Int64(2), EndTime: aws.Int64(1)},
			func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "must not be after endTime") }},
		{"negative start", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), StartTime: aws.Int64(-5)},
			func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "Value '-5' at 'startTime' failed to satisfy constraint: Member must have value greater than or equal to 0")
			}},
		{"negative end", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), EndTime: aws.Int64(-1)},
			func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "Value '-1' at 'endTime'") }},
		{"descending from before 2024", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), StartFromHead: aws.Bool(false), StartTime: aws.Int64(1)},
			func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "on or after 2024-01-01") }},
		{"bad token", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), NextToken: aws.String("Zjpm")},
			func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "nextToken is invalid") }},
		{"limit 0", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), Limit: aws.Int32(0)},
			func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "greater than or equal to 1") }},
		{"pattern too long", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(strings.Repeat("a", 1025))},
			func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "less than or equal to 1024") }},
		{"missing group", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/nope")},
			func(t *testing.T, err error) { requireAPIError[notFound](t, err, "log group does not exist") }},
		// AWS fails the whole request when one named stream is missing
		// (percona/rds_exporter#81, whose scraper bisects its batches of
		// logStreamNames for that reason).
		{"a named stream that does not exist", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNames: []string{streams[0], "nope"}},
			func(t *testing.T, err error) {
				requireAPIError[notFound](t, err, "The specified log stream does not exist.")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.FilterLogEvents(c, &tc.in)
			tc.err(t, err)
		})
	}
}

// TestFilterPaginationWhileIngesting pages through a group while events
// keep arriving, before and after the cursor: every event that was there
// when paging began comes back exactly once, and nothing comes back twice.
func TestFilterPaginationWhileIngesting(t *testing.T) {
	store := newStore(t)
	client, _ := serve(t, store)
	c := ctx(t)
	const group = "/aws/lambda/paging"
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	initial := map[string]bool{}
	for i := range 500 {
		id := fmt.Sprintf("e-%03d", i)
		initial[id] = true
		// Many events share a timestamp, so the order within it matters.
		require.NoError(t, store.Append(group, fmt.Sprintf("stream-%d", i%5), invocation(t, id, base.Add(time.Duration(i/3)*time.Second))...))
	}
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.fields.event_id = * }`), Limit: aws.Int32(37)}
	seen := map[string]int{}
	late := 0
	for page := 0; ; page++ {
		out, err := client.FilterLogEvents(c, in)
		require.NoError(t, err)
		require.LessOrEqual(t, len(out.Events), 37)
		for _, e := range out.Events {
			id := strings.Split(strings.Split(aws.ToString(e.Message), `"event_id":"`)[1], `"`)[0]
			seen[id]++
		}
		if out.NextToken == nil {
			break
		}
		// One late event far behind the cursor, one ahead of everything.
		late++
		require.NoError(t, store.Append(group, "late", invocation(t, fmt.Sprintf("old-%d", late), base.Add(-time.Minute))...))
		require.NoError(t, store.Append(group, "late", invocation(t, fmt.Sprintf("new-%d", late), base.Add(time.Hour))...))
		in.NextToken = out.NextToken
	}
	for id := range initial {
		assert.Equal(t, 1, seen[id], id)
	}
	for id, n := range seen {
		assert.Equal(t, 1, n, id)
		assert.False(t, strings.HasPrefix(id, "old-"), "%s sorts before the cursor", id)
	}
	assert.Greater(t, late, 10)
	assert.Equal(t, len(initial)+late, len(seen), "every event ahead of the cursor is returned")
}

// TestFilterIndexedLookups checks the event_id index against the pattern
// itself as events keep arriving.
func TestFilterIndexedLookups(t *testing.T) {
	store := newStore(t)
	client, _ := serve(t, store)
	c := ctx(t)
	const group = "/aws/lambda/index"
	now := time.Now()
	for round := range 3 {
		for i := range 100 {
			id := fmt.Sprintf("r%d-%d", round, i)
			require.NoError(t, store.Append(group, fmt.Sprintf("s%d", i%4), invocation(t, id, now.Add(time.Duration(i)*time.Millisecond))...))
		}
		// Same id in two streams: both come back.
		require.NoError(t, store.Append(group, "twin", invocation(t, fmt.Sprintf("r%d-0", round), now)...))
		for _, i := range []int{0, 1, 50, 99} {
			id := fmt.Sprintf("r%d-%d", round, i)
			out, err := client.FilterLogEvents(c, &cloudwatchlogs.FilterLogEventsInput{
				LogGroupName: aws.String(group), FilterPattern: aws.String(fmt.Sprintf(`{ $.fields.event_id = "%s" }`, id)),
			})
			require.NoError(t, err)
			want := 1
			if i == 0 {
				want = 2
			}
			require.Len(t, out.Events, want, id)
			for _, e := range out.Events {
				assert.Contains(t, aws.ToString(e.Message), `"event_id":"`+id+`"`)
			}
		}
	}
	out, err := client.FilterLogEvents(c, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.fields.event_id = "r1-0" && $.fields.type = "login" }`),
	})
	require.NoError(t, err)
	assert.Empty(t, out.Events, "the whole pattern is checked, not only the indexed term")
	out, err = client.FilterLogEvents(c, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.fields.event_id = "r2-0" }`), Limit: aws.Int32(1),
	})
	require.NoError(t, err)
	require.Len(t, out.Events, 1)
	require.NotNil(t, out.NextToken)
	next, err := client.FilterLogEvents(c, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.fields.event_id = "r2-0" }`), Limit: aws.Int32(1), NextToken: out.NextToken,
	})
	require.NoError(t, err)
	require.Len(t, next.Events, 1)
	assert.Nil(t, next.NextToken)
	assert.NotEqual(t, aws.ToString(out.Events[0].EventId), aws.ToString(next.Events[0].EventId))
}

// TestFilterPageBytes checks the 1 MB page limit: pages stop early and
// pagination still returns every event.
func TestFilterPageBytes(t *testing.T) {
	store := newStore(t)
	client, _ := serve(t, store)
	const group = "/aws/lambda/big"
	big := strings.Repeat("x", 100_000)
	for i := range 30 {
		require.NoError(t, store.Append(group, "s", logs.Event{Timestamp: time.Now(), Message: fmt.Sprintf("%02d %s", i, big)}))
	}
	got, pages := filterAll(t, client, cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
	require.Len(t, got, 30)
	assert.Equal(t, 3, pages)
	for i, e := range got {
		assert.True(t, strings.HasPrefix(aws.ToString(e.Message), fmt.Sprintf("%02d ", i)))
	}
}

// TestConcurrentAppend appends from many goroutines, as many execution
// environments do, while readers filter; run it with -race.
func TestConcurrentAppend(t *testing.T) {
	store := newStore(t)
	client, _ := serve(t, store)
	const group, writers, perWriter = "/aws/lambda/concurrent", 16, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if err := store.Append(group, fmt.Sprintf("env-%02d", w), invocation(t, fmt.Sprintf("w%d-%d", w, i), time.Now())...); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if _, err := client.FilterLogEvents(ctx(t), &cloudwatchlogs.FilterLogEventsInput{
					LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.fields.event_id = "w3-10" }`),
				}); err != nil {
					if !strings.Contains(err.Error(), "log group does not exist") {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	got, _ := filterAll(t, client, cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.fields.event_id = * }`)})
	assert.Len(t, got, writers*perWriter)
	for w := range writers {
		out, err := client.FilterLogEvents(ctx(t), &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName: aws.String(group), FilterPattern: aws.String(fmt.Sprintf(`{ $.fields.event_id = "w%d-%d" }`, w, perWriter-1)),
		})
		require.NoError(t, err)
		assert.Len(t, out.Events, 1)
	}
}
