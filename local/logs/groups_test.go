package logs_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogGroups(t *testing.T) {
	client, _ := serve(t, newStore(t))
	c := ctx(t)
	names := []string{"/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/c", "/aws/lambda/d", "/aws/lambda/e", "/other/x", "app-logs_1#x"}
	before := time.Now().UnixMilli()
	for _, n := range names {
		_, err := client.CreateLogGroup(c, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(n)})
		require.NoError(t, err)
	}

	_, err := client.CreateLogGroup(c, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/aws/lambda/a")})
	requireAPIError[alreadyExists](t, err, "already exists")

	t.Run("describe all in name order", func(t *testing.T) {
		out, err := client.DescribeLogGroups(c, &cloudwatchlogs.DescribeLogGroupsInput{})
		require.NoError(t, err)
		require.Len(t, out.LogGroups, len(names))
		assert.Nil(t, out.NextToken)
		g := out.LogGroups[0]
		assert.Equal(t, "/aws/lambda/a", aws.ToString(g.LogGroupName))
		assert.Equal(t, "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/a:*", aws.ToString(g.Arn))
		assert.Equal(t, "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/a", aws.ToString(g.LogGroupArn))
		assert.GreaterOrEqual(t, aws.ToInt64(g.CreationTime), before)
		assert.Nil(t, g.RetentionInDays)
		assert.Equal(t, types.LogGroupClassStandard, g.LogGroupClass)
	})

	t.Run("prefix and pagination", func(t *testing.T) {
		var got []string
		pages := 0
		p := cloudwatchlogs.NewDescribeLogGroupsPaginator(client, &cloudwatchlogs.DescribeLogGroupsInput{
			LogGroupNamePrefix: aws.String("/aws/lambda/"), Limit: aws.Int32(2),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(c)
			require.NoError(t, err)
			require.LessOrEqual(t, len(out.LogGroups), 2)
			for _, g := range out.LogGroups {
				got = append(got, aws.ToString(g.LogGroupName))
			}
			pages++
		}
		assert.Equal(t, names[:5], got)
		assert.Equal(t, 3, pages)
	})

	t.Run("pattern is a case-sensitive substring and returns three members", func(t *testing.T) {
		out, err := client.DescribeLogGroups(c, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("lambda/c")})
		require.NoError(t, err)
		require.Len(t, out.LogGroups, 1)
		assert.Equal(t, "/aws/lambda/c", aws.ToString(out.LogGroups[0].LogGroupName))
		assert.NotNil(t, out.LogGroups[0].Arn)
		assert.Nil(t, out.LogGroups[0].StoredBytes)
		out, err = client.DescribeLogGroups(c, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("LAMBDA")})
		require.NoError(t, err)
		assert.Empty(t, out.LogGroups)
	})

	t.Run("identifiers", func(t *testing.T) {
		out, err := client.DescribeLogGroups(c, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupIdentifiers: []string{
			"/other/x", "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/b:*",
		}})
		require.NoError(t, err)
		require.Len(t, out.LogGroups, 2)
		assert.Equal(t, "/aws/lambda/b", aws.ToString(out.LogGroups[0].LogGroupName))
	})

	// A wildcard is not part of the prefix or pattern syntax: AWS refuses it
	// (aws/serverless-application-model#182), rather than matching nothing.
	for _, tc := range []struct {
		name string
		in   cloudwatchlogs.DescribeLogGroupsInput
		want string
	}{
		{"prefix with a wildcard", cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/*")},
			`1 validation error detected: Value '/aws/lambda/*' at 'logGroupNamePrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`},
		{"empty prefix", cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("")},
			"Value '' at 'logGroupNamePrefix' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"pattern with a wildcard", cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("lambda*")},
			`Value 'lambda*' at 'logGroupNamePattern' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]*`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.DescribeLogGroups(c, &tc.in)
			requireAPIError[invalidParam](t, err, tc.want)
		})
	}

	t.Run("prefix and pattern together", func(t *testing.T) {
		_, err := client.DescribeLogGroups(c, &cloudwatchlogs.DescribeLogGroupsInput{
			LogGroupNamePrefix: aws.String("/aws"), LogGroupNamePattern: aws.String("x"),
		})
		requireAPIError[invalidParam](t, err, "mutually exclusive")
	})

	t.Run("retention", func(t *testing.T) {
		_, err := client.PutRetentionPolicy(c, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/aws/lambda/b"), RetentionInDays: aws.Int32(14)})
		require.NoError(t, err)
		out, err := client.DescribeLogGroups(c, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/b")})
		require.NoError(t, err)
		assert.Equal(t, int32(14), aws.ToInt32(out.LogGroups[0].RetentionInDays))

		_, err = client.PutRetentionPolicy(c, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/aws/lambda/b"), RetentionInDays: aws.Int32(2)})
		requireAPIError[invalidParam](t, err, "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30")
		_, err = client.PutRetentionPolicy(c, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/nope"), RetentionInDays: aws.Int32(1)})
		requireAPIError[notFound](t, err, "log group does not exist")

		_, err = client.DeleteRetentionPolicy(c, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("/aws/lambda/b")})
		require.NoError(t, err)
		out, err = client.DescribeLogGroups(c, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/b")})
		require.NoError(t, err)
		assert.Nil(t, out.LogGroups[0].RetentionInDays)
		_, err = client.DeleteRetentionPolicy(c, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("/nope")})
		requireAPIError[notFound](t, err, "log group does not exist")
	})

	t.Run("delete", func(t *testing.T) {
		_, err := client.DeleteLogGroup(c, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/other/x")})
		require.NoError(t, err)
		_, err = client.DeleteLogGroup(c, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/other/x")})
		requireAPIError[notFound](t, err, "log group does not exist")
		out, err := client.DescribeLogGroups(c, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/other")})
		require.NoError(t, err)
		assert.Empty(t, out.LogGroups)
	})

	for _, tc := range []struct{ name, want string }{
		{"bad name!", `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`},
		{strings.Repeat("a", 513), "Member must have length less than or equal to 512"},
	} {
		t.Run("invalid name "+tc.name[:5], func(t *testing.T) {
			name := aws.String(tc.name)
			_, err := client.CreateLogGroup(c, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: name})
			requireAPIError[invalidParam](t, err, tc.want)
			// Every operation that names a group checks the name first.
			_, err = client.DeleteLogGroup(c, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: name})
			requireAPIError[invalidParam](t, err, tc.want)
			_, err = client.PutRetentionPolicy(c, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: name, RetentionInDays: aws.Int32(14)})
			requireAPIError[invalidParam](t, err, tc.want)
			_, err = client.DeleteRetentionPolicy(c, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: name})
			requireAPIError[invalidParam](t, err, tc.want)
			_, err = client.CreateLogStream(c, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: name, LogStreamName: aws.String("s")})
			requireAPIError[invalidParam](t, err, tc.want)
			_, err = client.PutLogEvents(c, &cloudwatchlogs.PutLogEventsInput{LogGroupName: name, LogStreamName: aws.String("s"),
				LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String("m")}}})
			requireAPIError[invalidParam](t, err, tc.want)
		})
	}
}

func TestLogStreams(t *testing.T) {
	store := newStore(t)
	client, _ := serve(t, store)
	c := ctx(t)
	const group = "/aws/lambda/streams"
	_, err := client.CreateLogStream(c, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s")})
	requireAPIError[notFound](t, err, "log group does not exist")
	_, err = client.CreateLogGroup(c, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	require.NoError(t, err)

	// Streams named out of order, each with one event; "2026/..." streams
	// get later events than their names suggest.
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	streams := []struct {
		name string
		at   time.Duration
	}{
		{"2026/11/24/[$LATEST]0000000000000000000000000000000c", 1 * time.Minute},
		{"2026/11/24/[$LATEST]0000000000000000000000000000000a", 3 * time.Minute},
		{"2026/11/24/[$LATEST]0000000000000000000000000000000b", 2 * time.Minute},
		{"other", 4 * time.Minute},
	}
	for _, s := range streams {
		_, err := client.CreateLogStream(c, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(s.name)})
		require.NoError(t, err)
		require.NoError(t, store.Append(group, s.name, invocation(t, s.name, base.Add(s.at))...))
	}
	_, err = client.CreateLogStream(c, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("empty")})
	require.NoError(t, err)
	_, err = client.CreateLogStream(c, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("other")})
	requireAPIError[alreadyExists](t, err, "log stream already exists")
	_, err = client.CreateLogStream(c, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("a:b")})
	requireAPIError[invalidParam](t, err, "[^:*]*")

	list := func(t *testing.T, in *cloudwatchlogs.DescribeLogStreamsInput) (names []string, pages int) {
		t.Helper()
		p := cloudwatchlogs.NewDescribeLogStreamsPaginator(client, in)
		for p.HasMorePages() {
			out, err := p.NextPage(c)
			require.NoError(t, err)
			for _, s := range out.LogStreams {
				names = append(names, aws.ToString(s.LogStreamName))
			}
			pages++
		}
		return names, pages
	}

	for _, tc := range []struct {
		name  string
		in    cloudwatchlogs.DescribeLogStreamsInput
		want  []string
		pages int
	}{
		{"by name", cloudwatchlogs.DescribeLogStreamsInput{},
			[]string{streams[1].name, streams[2].name, streams[0].name, "empty", "other"}, 1},
		{"by name, two per page", cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(2)},
			[]string{streams[1].name, streams[2].name, streams[0].name, "empty", "other"}, 3},
		{"by name, descending, two per page", cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(2), Descending: aws.Bool(true)},
			[]string{"other", "empty", streams[0].name, streams[2].name, streams[1].name}, 3},
		{"prefix", cloudwatchlogs.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("2026/11/24/"), Limit: aws.Int32(1)},
			[]string{streams[1].name, streams[2].name, streams[0].name}, 3},
		{"last event time, newest first", cloudwatchlogs.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(3)},
			[]string{"other", streams[1].name, streams[2].name, streams[0].name, "empty"}, 2},
		{"last event time, oldest first", cloudwatchlogs.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime},
			[]string{"empty", streams[0].name, streams[2].name, streams[1].name, "other"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.LogGroupName = aws.String(group)
			got, pages := list(t, &in)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.pages, pages)
		})
	}

	t.Run("details", func(t *testing.T) {
		out, err := client.DescribeLogStreams(c, &cloudwatchlogs.DescribeLogStreamsInput{
			LogGroupIdentifier: aws.String("arn:aws:logs:ap-northeast-1:123456789012:log-group:" + group), LogStreamNamePrefix: aws.String("o"),
		})
		require.NoError(t, err)
		require.Len(t, out.LogStreams, 1)
		s := out.LogStreams[0]
		ts := base.Add(4 * time.Minute).UnixMilli()
		assert.Equal(t, ts, aws.ToInt64(s.FirstEventTimestamp))
		assert.Equal(t, ts, aws.ToInt64(s.LastEventTimestamp))
		assert.GreaterOrEqual(t, aws.ToInt64(s.LastIngestionTime), aws.ToInt64(s.CreationTime))
		assert.Equal(t, "arn:aws:logs:ap-northeast-1:123456789012:log-group:"+group+":log-stream:other", aws.ToString(s.Arn))
		assert.NotEmpty(t, aws.ToString(s.UploadSequenceToken))

		out, err = client.DescribeLogStreams(c, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), LogStreamNamePrefix: aws.String("empty")})
		require.NoError(t, err)
		require.Len(t, out.LogStreams, 1)
		assert.Nil(t, out.LogStreams[0].LastEventTimestamp)
	})

	for _, tc := range []struct {
		name string
		in   cloudwatchlogs.DescribeLogStreamsInput
		want string
	}{
		{"time order with a prefix", cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("x")}, "Cannot order by LastEventTime with a logStreamNamePrefix"},
		{"unknown order", cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), OrderBy: "Size"}, "Member must satisfy enum value set: [LogStreamName, LastEventTime]"},
		{"limit 0", cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), Limit: aws.Int32(0)}, "greater than or equal to 1"},
		{"limit 51", cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), Limit: aws.Int32(51)}, "less than or equal to 50"},
		{"no group", cloudwatchlogs.DescribeLogStreamsInput{}, "Either logGroupName or logGroupIdentifier must be specified"},
		{"both group members", cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), LogGroupIdentifier: aws.String(group)}, "mutually exclusive"},
		{"bad token", cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), NextToken: aws.String("garbage!")}, "nextToken is invalid"},
		// fluent-plugin-cloudwatch-logs#185: AWS's answer to a wildcard prefix.
		{"prefix with a wildcard", cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), LogStreamNamePrefix: aws.String("2026/*")},
			"1 validation error detected: Value '2026/*' at 'logStreamNamePrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.DescribeLogStreams(c, &tc.in)
			requireAPIError[invalidParam](t, err, tc.want)
		})
	}
	_, err = client.DescribeLogStreams(c, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/nope")})
	requireAPIError[notFound](t, err, "log group does not exist")
}

// TestProtocolErrors sends what the SDK never sends.
func TestProtocolErrors(t *testing.T) {
	_, url := serve(t, newStore(t))
	for _, tc := range []struct {
		name, method, target, body string
		status                     int
		want                       []string
	}{
		{"unknown operation", http.MethodPost, "Logs_20140328.StartQuery", "{}", 400,
			[]string{`"__type":"UnknownOperationException"`, `StartQuery`, "is not supported", "FilterLogEvents"}},
		{"no target", http.MethodPost, "", "{}", 400,
			[]string{`"__type":"UnknownOperationException"`, "X-Amz-Target: Logs_20140328.<Operation>"}},
		{"GET", http.MethodGet, "Logs_20140328.DescribeLogGroups", "", 400,
			[]string{`"__type":"UnknownOperationException"`, "expects POST"}},
		{"bad JSON", http.MethodPost, "Logs_20140328.CreateLogGroup", `{"logGroupName":`, 400,
			[]string{`"__type":"SerializationException"`, "not valid JSON"}},
		{"wrong type", http.MethodPost, "Logs_20140328.PutRetentionPolicy", `{"logGroupName":"g","retentionInDays":"14"}`, 400,
			[]string{`"__type":"SerializationException"`}},
		{"trailing data", http.MethodPost, "Logs_20140328.CreateLogGroup", `{"logGroupName":"g"} {}`, 400,
			[]string{`"__type":"SerializationException"`, "after its JSON object"}},
		{"missing member", http.MethodPost, "Logs_20140328.CreateLogGroup", `{}`, 400,
			[]string{`"__type":"InvalidParameterException"`, "Value null at 'logGroupName' failed to satisfy constraint: Member must not be null"}},
		{"empty body is {}", http.MethodPost, "Logs_20140328.DescribeLogGroups", ``, 200,
			[]string{`{"logGroups":[]}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, url, strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			if tc.target != "" {
				req.Header.Set("X-Amz-Target", tc.target)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.status, resp.StatusCode, string(body))
			assert.Equal(t, "application/x-amz-json-1.1", resp.Header.Get("Content-Type"))
			assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, resp.Header.Get("X-Amzn-Requestid"))
			for _, w := range tc.want {
				assert.Contains(t, string(body), w)
			}
		})
	}
}
