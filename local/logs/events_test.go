package logs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/logs"
)

func events(start time.Time, step time.Duration, msgs ...string) []types.InputLogEvent {
	out := make([]types.InputLogEvent, len(msgs))
	for i, m := range msgs {
		out[i] = types.InputLogEvent{Timestamp: aws.Int64(start.Add(time.Duration(i) * step).UnixMilli()), Message: aws.String(m)}
	}
	return out
}

func TestPutLogEvents(t *testing.T) {
	store := newStore(t)
	client, _ := serve(t, store)
	c := ctx(t)
	const group, stream = "/aws/lambda/put", "s"
	_, err := client.CreateLogGroup(c, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	require.NoError(t, err)
	_, err = client.CreateLogStream(c, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	require.NoError(t, err)
	require.NoError(t, store.EnsureGroup("/aws/lambda/retained", 1))
	_, err = client.CreateLogStream(c, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/aws/lambda/retained"), LogStreamName: aws.String(stream)})
	require.NoError(t, err)

	now := time.Now()
	day := 24 * time.Hour
	// The largest message a batch of one can carry: 1,048,576 - 26 bytes.
	biggest := strings.Repeat("x", 1_048_576-26)
	for _, tc := range []struct {
		name     string
		group    string
		stream   string
		events   []types.InputLogEvent
		accepted int
		rejected *types.RejectedLogEventsInfo
		err      func(*testing.T, error)
	}{
		{name: "accepted", events: events(now, time.Millisecond, "a", "b", "c"), accepted: 3},
		{name: "same timestamp", events: events(now, 0, "a", "b"), accepted: 2},
		{name: "largest event", events: events(now, 0, biggest), accepted: 1},
		{name: "one byte too large", events: events(now, 0, biggest+"x"),
			err: func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "Upload too large: 1048577 bytes exceeds limit of 1048576")
			}},
		{name: "batch too large with the per-event overhead", events: events(now, 0, strings.Repeat("x", 524_262), strings.Repeat("x", 524_263)),
			err: func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "Upload too large: 1048577 bytes")
			}},
		{name: "10,000 events", events: events(now, 0, strings.Split(strings.Repeat("e,", 10_000-1)+"e", ",")...), accepted: 10_000},
		{name: "10,001 events", events: events(now, 0, strings.Split(strings.Repeat("e,", 10_001-1)+"e", ",")...),
			err: func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "Member must have length less than or equal to 10000")
			}},
		{name: "out of order", events: events(now, -time.Millisecond, "a", "b"),
			err: func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "must be in chronological order") }},
		{name: "empty message", events: events(now, 0, "a", ""),
			err: func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "at 'logEvents.2.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1")
			}},
		{name: "too old and too new are rejected, the rest accepted",
			events: []types.InputLogEvent{
				{Timestamp: aws.Int64(now.Add(-15 * day).UnixMilli()), Message: aws.String("old")},
				{Timestamp: aws.Int64(now.Add(-14*day - time.Minute).UnixMilli()), Message: aws.String("old")},
				{Timestamp: aws.Int64(now.Add(-time.Hour).UnixMilli()), Message: aws.String("ok")},
				{Timestamp: aws.Int64(now.Add(time.Hour).UnixMilli()), Message: aws.String("ok")},
				{Timestamp: aws.Int64(now.Add(3 * time.Hour).UnixMilli()), Message: aws.String("new")},
			},
			accepted: 2,
			rejected: &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: aws.Int32(2), TooNewLogEventStartIndex: aws.Int32(4)}},
		{name: "all too old", events: events(now.Add(-20*day), time.Hour, "old", "old"),
			rejected: &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: aws.Int32(2)}},
		{name: "older than the retention", group: "/aws/lambda/retained",
			events: []types.InputLogEvent{
				{Timestamp: aws.Int64(now.Add(-2 * day).UnixMilli()), Message: aws.String("expired")},
				{Timestamp: aws.Int64(now.Add(-time.Hour).UnixMilli()), Message: aws.String("ok")},
			},
			accepted: 1,
			rejected: &types.RejectedLogEventsInfo{ExpiredLogEventEndIndex: aws.Int32(1)}},
		{name: "accepted events span more than 24 hours", events: events(now.Add(-30*time.Hour), 29*time.Hour, "a", "b"),
			err: func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "cannot span more than 24 hours") }},
		{name: "invalid stream name", stream: "a:b", events: events(now, 0, "a"),
			err: func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*")
			}},
		{name: "missing stream", stream: "nope", events: events(now, 0, "a"),
			err: func(t *testing.T, err error) {
				requireAPIError[notFound](t, err, "The specified log stream does not exist.")
			}},
		{name: "missing group", group: "/nope", events: events(now, 0, "a"),
			err: func(t *testing.T, err error) {
				requireAPIError[notFound](t, err, "The specified log group does not exist.")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, s := group, stream
			if tc.group != "" {
				g = tc.group
			}
			if tc.stream != "" {
				s = tc.stream
			}
			before := count(t, client, g)
			out, err := client.PutLogEvents(c, &cloudwatchlogs.PutLogEventsInput{
				LogGroupName: aws.String(g), LogStreamName: aws.String(s), LogEvents: tc.events,
				SequenceToken: aws.String("ignored"),
			})
			if tc.err != nil {
				tc.err(t, err)
				if before >= 0 {
					assert.Equal(t, before, count(t, client, g), "a rejected batch stores nothing")
				}
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, aws.ToString(out.NextSequenceToken))
			assert.Equal(t, tc.rejected, out.RejectedLogEventsInfo)
			assert.Equal(t, before+tc.accepted, count(t, client, g))
		})
	}
}

// count returns how many events a group holds, or -1 if it does not exist.
func count(t *testing.T, client *cloudwatchlogs.Client, group string) int {
	t.Helper()
	n := 0
	p := cloudwatchlogs.NewFilterLogEventsPaginator(client, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			requireAPIError[notFound](t, err, "log group does not exist")
			return -1
		}
		n += len(out.Events)
	}
	return n
}

func TestGetLogEvents(t *testing.T) {
	store := newStore(t)
	client, _ := serve(t, store)
	c := ctx(t)
	const group, stream = "/aws/lambda/get", "2026/11/24/[$LATEST]00000000000000000000000000000001"
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var all []string
	for i := range 25 {
		msg := fmt.Sprintf("event %02d", i)
		all = append(all, msg)
		require.NoError(t, store.Append(group, stream, logs.Event{Timestamp: base.Add(time.Duration(i) * time.Second), Message: msg}))
	}
	get := func(t *testing.T, in cloudwatchlogs.GetLogEventsInput) *cloudwatchlogs.GetLogEventsOutput {
		t.Helper()
		in.LogGroupName, in.LogStreamName = aws.String(group), aws.String(stream)
		out, err := client.GetLogEvents(c, &in)
		require.NoError(t, err)
		require.NotNil(t, out.NextForwardToken)
		require.NotNil(t, out.NextBackwardToken)
		return out
	}
	messages := func(out *cloudwatchlogs.GetLogEventsOutput) []string {
		var m []string
		for _, e := range out.Events {
			m = append(m, aws.ToString(e.Message))
		}
		return m
	}

	t.Run("forward from the head in pages, then the same token at the end", func(t *testing.T) {
		var got []string
		var token *string
		var sizes []int
		for range 10 {
			out := get(t, cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), Limit: aws.Int32(10), NextToken: token})
			sizes = append(sizes, len(out.Events))
			got = append(got, messages(out)...)
			if token != nil && aws.ToString(out.NextForwardToken) == *token {
				break
			}
			token = out.NextForwardToken
		}
		assert.Equal(t, all, got)
		assert.Equal(t, []int{10, 10, 5, 0}, sizes)

		// New events show up behind the end token.
		require.NoError(t, store.Append(group, stream, logs.Event{Timestamp: base.Add(time.Minute), Message: "late"}))
		out := get(t, cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), NextToken: token})
		assert.Equal(t, []string{"late"}, messages(out))
		all = append(all, "late")
	})

	t.Run("default reads the tail, backward tokens page towards the head", func(t *testing.T) {
		out := get(t, cloudwatchlogs.GetLogEventsInput{Limit: aws.Int32(4)})
		assert.Equal(t, all[len(all)-4:], messages(out))
		var got [][]string
		token := out.NextBackwardToken
		for range 10 {
			out := get(t, cloudwatchlogs.GetLogEventsInput{Limit: aws.Int32(10), NextToken: token})
			if aws.ToString(out.NextBackwardToken) == *token {
				assert.Empty(t, out.Events)
				break
			}
			got = append(got, messages(out))
			token = out.NextBackwardToken
		}
		assert.Equal(t, [][]string{all[12:22], all[2:12], all[0:2]}, got)
	})

	t.Run("forward token from a backward page", func(t *testing.T) {
		out := get(t, cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), Limit: aws.Int32(3)})
		out = get(t, cloudwatchlogs.GetLogEventsInput{NextToken: out.NextForwardToken, StartFromHead: aws.Bool(true), Limit: aws.Int32(3)})
		assert.Equal(t, all[3:6], messages(out))
		back := get(t, cloudwatchlogs.GetLogEventsInput{NextToken: out.NextBackwardToken, Limit: aws.Int32(2)})
		assert.Equal(t, all[1:3], messages(back))
		fwd := get(t, cloudwatchlogs.GetLogEventsInput{NextToken: back.NextForwardToken, StartFromHead: aws.Bool(true), Limit: aws.Int32(2)})
		assert.Equal(t, all[3:5], messages(fwd))
	})

	t.Run("time range: start inclusive, end exclusive", func(t *testing.T) {
		out := get(t, cloudwatchlogs.GetLogEventsInput{
			StartFromHead: aws.Bool(true),
			StartTime:     aws.Int64(base.Add(5 * time.Second).UnixMilli()),
			EndTime:       aws.Int64(base.Add(8 * time.Second).UnixMilli()),
		})
		assert.Equal(t, all[5:8], messages(out))
		e := out.Events[0]
		assert.Equal(t, base.Add(5*time.Second).UnixMilli(), aws.ToInt64(e.Timestamp))
		assert.GreaterOrEqual(t, aws.ToInt64(e.IngestionTime), base.UnixMilli())
	})

	t.Run("end of an empty range keeps its tokens", func(t *testing.T) {
		in := cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), StartTime: aws.Int64(base.Add(time.Hour).UnixMilli())}
		out := get(t, in)
		assert.Empty(t, out.Events)
		in.NextToken = out.NextForwardToken
		again := get(t, in)
		assert.Empty(t, again.Events)
		assert.Equal(t, aws.ToString(out.NextForwardToken), aws.ToString(again.NextForwardToken))
	})

	t.Run("SDK paginator stops at the repeated token", func(t *testing.T) {
		// Without StopOnDuplicateToken the SDK's paginator polls forever,
		// on AWS as here.
		p := cloudwatchlogs.NewGetLogEventsPaginator(client, &cloudwatchlogs.GetLogEventsInput{
			LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true), Limit: aws.Int32(7),
		}, func(o *cloudwatchlogs.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
		var got []string
		for p.HasMorePages() {
			out, err := p.NextPage(c)
			require.NoError(t, err)
			got = append(got, messages(out)...)
		}
		assert.Equal(t, all, got)
	})

	for _, tc := range []struct {
		name string
		in   cloudwatchlogs.GetLogEventsInput
		err  func(*testing.T, error)
	}{
		{"bad token", cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), NextToken: aws.String("x/1/2")},
			func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "The specified nextToken is invalid.")
			}},
		{"limit over 10,000", cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), Limit: aws.Int32(10_001)},
			func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "less than or equal to 10000") }},
		{"negative start", cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartTime: aws.Int64(-1)},
			func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "Value '-1' at 'startTime' failed to satisfy constraint: Member must have value greater than or equal to 0")
			}},
		{"invalid stream name", cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("*")},
			func(t *testing.T, err error) {
				requireAPIError[invalidParam](t, err, "Value '*' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*")
			}},
		{"missing stream", cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("nope")},
			func(t *testing.T, err error) { requireAPIError[notFound](t, err, "log stream does not exist") }},
		{"missing group", cloudwatchlogs.GetLogEventsInput{LogGroupIdentifier: aws.String("/nope"), LogStreamName: aws.String(stream)},
			func(t *testing.T, err error) { requireAPIError[notFound](t, err, "log group does not exist") }},
		{"group ARN that is not one", cloudwatchlogs.GetLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:s3:::bucket"), LogStreamName: aws.String(stream)},
			func(t *testing.T, err error) { requireAPIError[invalidParam](t, err, "is not a log group ARN") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.GetLogEvents(c, &tc.in)
			tc.err(t, err)
		})
	}
}
