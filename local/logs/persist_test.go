package logs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/logs"
)

// snapshot is what the API shows of a store, to compare before and after a
// restart.
type snapshot struct {
	Groups  map[string]*int32   // retention
	Streams map[string][]string // group → stream names
	Events  map[string][]string // group → "stream ts ingest message", in API order
}

func take(t *testing.T, client *cloudwatchlogs.Client) snapshot {
	t.Helper()
	c := ctx(t)
	s := snapshot{Groups: map[string]*int32{}, Streams: map[string][]string{}, Events: map[string][]string{}}
	groups, err := client.DescribeLogGroups(c, &cloudwatchlogs.DescribeLogGroupsInput{})
	require.NoError(t, err)
	for _, g := range groups.LogGroups {
		name := aws.ToString(g.LogGroupName)
		s.Groups[name] = g.RetentionInDays
		streams, err := client.DescribeLogStreams(c, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: g.LogGroupName})
		require.NoError(t, err)
		for _, st := range streams.LogStreams {
			s.Streams[name] = append(s.Streams[name], aws.ToString(st.LogStreamName))
		}
		evs, _ := filterAll(t, client, cloudwatchlogs.FilterLogEventsInput{LogGroupName: g.LogGroupName})
		for _, e := range evs {
			s.Events[name] = append(s.Events[name], fmt.Sprintf("%s %d %d %s", aws.ToString(e.LogStreamName), aws.ToInt64(e.Timestamp), aws.ToInt64(e.IngestionTime), aws.ToString(e.Message)))
		}
	}
	return s
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	store, err := logs.NewStore(dir)
	require.NoError(t, err)
	client, _ := serve(t, store)
	c := ctx(t)
	now := time.Now()

	// Through Append, as the Lambda pool writes.
	for i := range 50 {
		require.NoError(t, store.Append("/aws/lambda/fn", fmt.Sprintf("env-%d", i%3), invocation(t, fmt.Sprintf("e-%d", i), now.Add(time.Duration(i)*time.Millisecond))...))
	}
	// An out-of-order event, a message that needs JSON escaping.
	require.NoError(t, store.Append("/aws/lambda/fn", "env-0", logs.Event{Timestamp: now.Add(-time.Minute), Message: "line with \"quotes\", a tab\t, <html> & unicode: 日本語"}))
	// Through the API.
	_, err = client.CreateLogGroup(c, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/api/group")})
	require.NoError(t, err)
	_, err = client.PutRetentionPolicy(c, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/api/group"), RetentionInDays: aws.Int32(30)})
	require.NoError(t, err)
	_, err = client.CreateLogStream(c, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/api/group"), LogStreamName: aws.String("empty")})
	require.NoError(t, err)
	_, err = client.CreateLogStream(c, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/api/group"), LogStreamName: aws.String("s")})
	require.NoError(t, err)
	_, err = client.PutLogEvents(c, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/api/group"), LogStreamName: aws.String("s"), LogEvents: events(now, time.Second, "one", "two")})
	require.NoError(t, err)
	require.NoError(t, store.EnsureGroup("/aws/lambda/quiet", 14))
	// A deleted group must stay deleted.
	_, err = client.CreateLogGroup(c, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/gone")})
	require.NoError(t, err)
	require.NoError(t, store.Append("/gone", "s", logs.Event{Message: "bye"}))
	_, err = client.DeleteLogGroup(c, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/gone")})
	require.NoError(t, err)

	before := take(t, client)
	require.Len(t, before.Events["/aws/lambda/fn"], 201)
	require.Equal(t, int32(30), aws.ToInt32(before.Groups["/api/group"]))
	require.NoError(t, store.Close())
	require.ErrorIs(t, store.Append("/aws/lambda/fn", "env-0", logs.Event{Message: "late"}), logs.ErrClosed)

	reopened, err := logs.NewStore(dir)
	require.NoError(t, err)
	client2, _ := serve(t, reopened)
	after := take(t, client2)
	assert.Equal(t, before, after)
	assert.NotContains(t, after.Groups, "/gone")

	// Tokens and the index work on loaded events, and appends continue.
	out, err := client2.FilterLogEvents(c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/fn"), FilterPattern: aws.String(`{ $.fields.event_id = "e-49" }`)})
	require.NoError(t, err)
	require.Len(t, out.Events, 1)
	require.NoError(t, reopened.Append("/aws/lambda/fn", "env-9", logs.Event{Timestamp: now, Message: "after restart"}))
	require.NoError(t, reopened.Close())

	third, err := logs.NewStore(dir)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, third.Close()) })
	client3, _ := serve(t, third)
	final := take(t, client3)
	assert.Len(t, final.Events["/aws/lambda/fn"], 202)
	assert.Contains(t, final.Streams["/aws/lambda/fn"], "env-9")
}

// TestPersistenceWritesBeforeAppendReturns checks that an event is in the
// file when Append returns, without Close: a kill -9 then loses nothing
// acknowledged (TestKill9LosesNoAnsweredEvent kills a process for real).
func TestPersistenceWritesBeforeAppendReturns(t *testing.T) {
	for name, opts := range map[string][]logs.StoreOption{"write-through": nil, "fsync": {logs.WithFsync()}} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			store, err := logs.NewStore(dir, opts...)
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, store.Close()) })
			require.NoError(t, store.Append("/g", "s", logs.Event{Message: "written before Append returns"}))
			files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
			require.NoError(t, err)
			require.Len(t, files, 1)
			data, err := os.ReadFile(files[0])
			require.NoError(t, err)
			assert.Contains(t, string(data), "written before Append returns")
		})
	}
}

func TestPersistenceTornLastLine(t *testing.T) {
	dir := t.TempDir()
	store, err := logs.NewStore(dir)
	require.NoError(t, err)
	for i := range 10 {
		require.NoError(t, store.Append("/g", "s", logs.Event{Message: fmt.Sprintf("event %d", i)}))
	}
	require.NoError(t, store.Close())
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	good, err := os.ReadFile(files[0])
	require.NoError(t, err)
	// A crash in the middle of writing a line.
	f, err := os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"s":"s","t":1700000000000,"i":1700000000000,"m":"torn eve`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	reopened, err := logs.NewStore(dir)
	require.NoError(t, err)
	cut, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Equal(t, good, cut, "the torn line is cut off")
	require.NoError(t, reopened.Append("/g", "s", logs.Event{Message: "after the crash"}))
	require.NoError(t, reopened.Close())

	again, err := logs.NewStore(dir)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, again.Close()) })
	client, _ := serve(t, again)
	evs, _ := filterAll(t, client, cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/g")})
	require.Len(t, evs, 11)
	assert.Equal(t, "after the crash", aws.ToString(evs[10].Message))
}

func TestPersistenceDamagedFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		want    string
	}{
		{"damaged middle line", "{\"k\":\"group\",\"n\":\"/g\",\"t\":1}\nnot json\n{\"s\":\"s\",\"t\":1,\"m\":\"x\"}\n", "line 2 is damaged"},
		{"no header", "{\"s\":\"s\",\"t\":1,\"m\":\"x\"}\n", "does not start with a log group header"},
		{"two headers", "{\"k\":\"group\",\"n\":\"/g\",\"t\":1}\n{\"k\":\"group\",\"n\":\"/h\",\"t\":1}\n", "a second log group header"},
		{"bad group name", "{\"k\":\"group\",\"n\":\"bad name\",\"t\":1}\n", "logGroupName"},
		{"unknown record", "{\"k\":\"group\",\"n\":\"/g\",\"t\":1}\n{\"k\":\"what\"}\n", `unknown record kind "what"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "x.jsonl"), []byte(tc.content), 0o644))
			_, err := logs.NewStore(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "x.jsonl")
		})
	}

	t.Run("torn header is removed", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.jsonl")
		require.NoError(t, os.WriteFile(path, []byte(`{"k":"group","n":"/g`), 0o644))
		s, err := logs.NewStore(dir)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		assert.NoFileExists(t, path)
	})

	t.Run("two files for one group", func(t *testing.T) {
		dir := t.TempDir()
		for _, f := range []string{"a.jsonl", "b.jsonl"} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("{\"k\":\"group\",\"n\":\"/g\",\"t\":1}\n"), 0o644))
		}
		_, err := logs.NewStore(dir)
		require.ErrorContains(t, err, `two files in`)
	})

	t.Run("not a directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(path, nil, 0o644))
		_, err := logs.NewStore(path)
		require.ErrorContains(t, err, "data directory")
	})
}
