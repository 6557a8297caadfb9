package cloudwatch_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/cloudwatch"
	"github.com/acme/request-dump/local/logs"
)

// clock is a settable time for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func start(t *testing.T) (*cloudwatch.Store, *clock, *awscw.Client) {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 4, 5, 31, 0, 0, time.UTC)}
	store := cloudwatch.NewStore(cloudwatch.WithClock(c.now))
	srv := httptest.NewServer(cloudwatch.NewAPI(store, "ap-northeast-1", "000000000000"))
	t.Cleanup(srv.Close)
	client := awscw.New(awscw.Options{
		Region:       "ap-northeast-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	return store, c, client
}

var fn = cloudwatch.Dimensions{"FunctionName": "request-dump-dev"}

func errorsAlarm() cloudwatch.MetricAlarm {
	return cloudwatch.MetricAlarm{
		Name: "request-dump-dev/function-errors", Description: "errors",
		Namespace: "AWS/Lambda", MetricName: "Errors", Dimensions: fn, Statistic: "Sum",
		Period: time.Minute, EvaluationPeriods: 1, Threshold: 0, ComparisonOperator: "GreaterThanThreshold",
		TreatMissingData: "notBreaching", AlarmActions: []string{"arn:aws:sns:ap-northeast-1:000000000000:topic"},
	}
}

func missingDumpsAlarm() cloudwatch.MetricAlarm {
	return cloudwatch.MetricAlarm{
		Name: "request-dump-dev/missing-dumps", EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanThreshold",
		TreatMissingData: "notBreaching",
		Metrics: []cloudwatch.MetricQuery{
			{ID: "missing", Expression: "100 * (invocations - FILL(dumps, 0)) / invocations", ReturnData: true},
			{ID: "invocations", Namespace: "AWS/Lambda", MetricName: "Invocations", Dimensions: fn, Stat: "Sum", Period: time.Minute},
			{ID: "dumps", Namespace: "RequestDump/request-dump-dev", MetricName: "Dumps", Stat: "Sum", Period: time.Minute},
		},
	}
}

func describe(t *testing.T, client *awscw.Client, in *awscw.DescribeAlarmsInput) map[string]types.MetricAlarm {
	t.Helper()
	out, err := client.DescribeAlarms(context.Background(), in)
	require.NoError(t, err)
	alarms := map[string]types.MetricAlarm{}
	for _, a := range out.MetricAlarms {
		alarms[aws.ToString(a.AlarmName)] = a
	}
	return alarms
}

func TestDescribeAlarmsEvaluatesOverThePeriod(t *testing.T) {
	store, c, client := start(t)
	latency := cloudwatch.MetricAlarm{
		Name: "request-dump-dev/api-latency-p99", Namespace: "AWS/ApiGateway", MetricName: "Latency",
		Dimensions: cloudwatch.Dimensions{"ApiName": "request-dump-dev", "Stage": "dev"}, Statistic: "p99",
		Period: time.Minute, EvaluationPeriods: 1, Threshold: 100, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: "notBreaching",
	}
	require.NoError(t, store.PutAlarms(errorsAlarm(), missingDumpsAlarm(), latency))
	require.NoError(t, store.PutAlarms(cloudwatch.MetricAlarm{Name: "other-service/errors", Namespace: "AWS/Lambda", MetricName: "Errors", Statistic: "Sum",
		Period: time.Minute, EvaluationPeriods: 1, ComparisonOperator: "GreaterThanThreshold"}))

	alarms := describe(t, client, &awscw.DescribeAlarmsInput{AlarmNamePrefix: aws.String("request-dump-dev/")})
	require.Len(t, alarms, 3, "the prefix selects the env's alarms")
	quiet := alarms["request-dump-dev/function-errors"]
	assert.Equal(t, types.StateValueOk, quiet.StateValue, "no data, treated as not breaching")
	assert.Equal(t, "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].", aws.ToString(quiet.StateReason))
	assert.Equal(t, "arn:aws:cloudwatch:ap-northeast-1:000000000000:alarm:request-dump-dev/function-errors", aws.ToString(quiet.AlarmArn))
	assert.Equal(t, []string{"arn:aws:sns:ap-northeast-1:000000000000:topic"}, quiet.AlarmActions)
	assert.Equal(t, types.StatisticSum, quiet.Statistic)
	assert.EqualValues(t, 60, aws.ToInt32(quiet.Period))
	assert.Equal(t, []types.Dimension{{Name: aws.String("FunctionName"), Value: aws.String("request-dump-dev")}}, quiet.Dimensions)
	assert.Equal(t, c.now(), aws.ToTime(quiet.StateUpdatedTimestamp).UTC())
	assert.Equal(t, "p99", aws.ToString(alarms["request-dump-dev/api-latency-p99"].ExtendedStatistic))
	math := alarms["request-dump-dev/missing-dumps"]
	require.Len(t, math.Metrics, 3)
	assert.Equal(t, "100 * (invocations - FILL(dumps, 0)) / invocations", aws.ToString(math.Metrics[0].Expression))
	assert.Equal(t, "Invocations", aws.ToString(math.Metrics[1].MetricStat.Metric.MetricName))

	// Two errors ten seconds ago: the errors alarm fires at once.
	c.add(10 * time.Second)
	store.Put("AWS/Lambda", "Errors", fn, 1, c.now().Add(-10*time.Second))
	store.Put("AWS/Lambda", "Errors", fn, 1, c.now().Add(-10*time.Second))
	for range 98 {
		store.Put("AWS/ApiGateway", "Latency", cloudwatch.Dimensions{"ApiName": "request-dump-dev", "Stage": "dev"}, 20, c.now())
	}
	store.Put("AWS/ApiGateway", "Latency", cloudwatch.Dimensions{"ApiName": "request-dump-dev", "Stage": "dev"}, 900, c.now())
	store.Put("AWS/ApiGateway", "Latency", cloudwatch.Dimensions{"ApiName": "request-dump-dev", "Stage": "dev"}, 950, c.now())
	alarms = describe(t, client, &awscw.DescribeAlarmsInput{AlarmNames: []string{"request-dump-dev/function-errors", "request-dump-dev/api-latency-p99"}})
	firing := alarms["request-dump-dev/function-errors"]
	assert.Equal(t, types.StateValueAlarm, firing.StateValue)
	assert.Equal(t, "Threshold Crossed: 1 out of the last 1 datapoints [2.0 (04/12/26 05:31:10)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).", aws.ToString(firing.StateReason))
	assert.Equal(t, c.now(), aws.ToTime(firing.StateUpdatedTimestamp).UTC(), "updated when the change was read")
	assert.Equal(t, types.StateValueAlarm, alarms["request-dump-dev/api-latency-p99"].StateValue, "p99 of 100 samples is the 99th: 900")

	onlyAlarm := describe(t, client, &awscw.DescribeAlarmsInput{AlarmNamePrefix: aws.String("request-dump-dev/"), StateValue: types.StateValueAlarm})
	assert.Len(t, onlyAlarm, 2)

	// A minute later the errors are out of the period: OK again.
	c.add(61 * time.Second)
	alarms = describe(t, client, &awscw.DescribeAlarmsInput{AlarmNames: []string{"request-dump-dev/function-errors"}})
	assert.Equal(t, types.StateValueOk, alarms["request-dump-dev/function-errors"].StateValue)
}

func TestMissingDumpsIsMetricMath(t *testing.T) {
	store, c, client := start(t)
	require.NoError(t, store.PutAlarms(missingDumpsAlarm()))
	state := func() string {
		t.Helper()
		a := describe(t, client, &awscw.DescribeAlarmsInput{AlarmNames: []string{"request-dump-dev/missing-dumps"}})["request-dump-dev/missing-dumps"]
		return string(a.StateValue)
	}
	assert.Equal(t, "OK", state(), "no invocations: no data point, not breaching")

	for range 100 {
		store.Put("AWS/Lambda", "Invocations", fn, 1, c.now())
	}
	assert.Equal(t, "ALARM", state(), "invocations and no dump line at all: FILL makes it 100 %")
	for range 99 {
		store.Put("RequestDump/request-dump-dev", "Dumps", nil, 1, c.now())
	}
	assert.Equal(t, "OK", state(), "1 % missing is not over the 1 % threshold")
	for range 100 {
		store.Put("AWS/Lambda", "Invocations", fn, 1, c.now())
	}
	for range 97 {
		store.Put("RequestDump/request-dump-dev", "Dumps", nil, 1, c.now())
	}
	assert.Equal(t, "ALARM", state(), "4 of 200 missing is 2 %")
}

func TestFilterSinkCountsMatchingEvents(t *testing.T) {
	store, c, _ := start(t)
	inner, err := logs.NewStore("")
	require.NoError(t, err)
	t.Cleanup(func() { _ = inner.Close() })
	sink, err := cloudwatch.NewFilterSink(inner, store, cloudwatch.MetricFilter{
		Group: "/aws/lambda/request-dump-dev", Pattern: `{ $.msg = "request dump" }`,
		Namespace: "RequestDump/request-dump-dev", MetricName: "Dumps", Value: 1,
	})
	require.NoError(t, err)
	require.NoError(t, sink.Append("/aws/lambda/request-dump-dev", "2026/12/04/[1]abc",
		logs.Event{Timestamp: c.now(), Message: `{"level":"INFO","msg":"request dump","fields":{}}`},
		logs.Event{Timestamp: c.now(), Message: `{"type":"platform.start","record":{"version":"1"}}`},
		logs.Event{Timestamp: c.now(), Message: `{"level":"INFO","msg":"request dump","fields":{}}`},
		logs.Event{Timestamp: c.now(), Message: `{"level":"INFO","msg":"request\u0020dump","fields":{}}`},
		logs.Event{Timestamp: c.now(), Message: `request dump`},
	))
	require.NoError(t, sink.Append("/aws/lambda/other", "s", logs.Event{Timestamp: c.now(), Message: `{"msg":"request dump"}`}))
	v, ok := store.Statistic("RequestDump/request-dump-dev", "Dumps", nil, "Sum", c.now(), time.Minute)
	require.True(t, ok)
	assert.Equal(t, 3.0, v, "three dump lines in the function's group (one JSON-escaped, which the text pre-check must not skip); not the plain text line, not another group's")

	_, err = cloudwatch.NewFilterSink(inner, store, cloudwatch.MetricFilter{Group: "g", Pattern: `{ $.msg = }`, Namespace: "n", MetricName: "m"})
	assert.ErrorContains(t, err, "metric filter n/m on g")
}

func TestBadAlarmsAndRequestsAreRefused(t *testing.T) {
	store, _, client := start(t)
	for _, tc := range []struct {
		edit func(*cloudwatch.MetricAlarm)
		want string
	}{
		{func(a *cloudwatch.MetricAlarm) { a.ComparisonOperator = "GreaterThan" }, `comparison operator "GreaterThan" is not one of`},
		{func(a *cloudwatch.MetricAlarm) { a.Period = 45 * time.Second }, "period 45s: want 10, 20, 30 seconds or a multiple of 60"},
		{func(a *cloudwatch.MetricAlarm) { a.Statistic = "Median" }, "needs a namespace, a metric name and a statistic"},
		{func(a *cloudwatch.MetricAlarm) { a.EvaluationPeriods = 0 }, "evaluation periods 0"},
		{func(a *cloudwatch.MetricAlarm) { a.TreatMissingData = "ignore" }, `treat missing data "ignore"`},
	} {
		a := errorsAlarm()
		tc.edit(&a)
		assert.ErrorContains(t, store.PutAlarms(a), tc.want)
	}
	m := missingDumpsAlarm()
	m.Metrics[0].Expression = "100 * (invocations - RATE(dumps)) / invocations"
	assert.ErrorContains(t, store.PutAlarms(m), "function RATE is not evaluated locally")
	m = missingDumpsAlarm()
	m.Metrics[0].Expression = "invocations - errors"
	assert.ErrorContains(t, store.PutAlarms(m), `refers to "errors", which is not another query of the alarm`)
	m = missingDumpsAlarm()
	m.Metrics[1].ReturnData = true
	assert.ErrorContains(t, store.PutAlarms(m), "exactly one metric query must have return_data set; 2 do")

	_, err := client.DescribeAlarms(context.Background(), &awscw.DescribeAlarmsInput{AlarmNames: []string{"a"}, AlarmNamePrefix: aws.String("b")})
	var ae smithy.APIError
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, "InvalidParameterCombination", ae.ErrorCode())
	assert.Equal(t, "AlarmNames and AlarmNamePrefix cannot be specified together.", ae.ErrorMessage())
	_, err = client.PutMetricData(context.Background(), &awscw.PutMetricDataInput{Namespace: aws.String("x"), MetricData: []types.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1)}}})
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, "UnknownOperationException", ae.ErrorCode())
	assert.Contains(t, ae.ErrorMessage(), "PutMetricData is not served by the local CloudWatch")
}

// DescribeAlarms applies its filters and refuses values outside the API's
// constraints (StateValue OK, ALARM or INSUFFICIENT_DATA; AlarmTypes
// MetricAlarm or CompositeAlarm, metric alarms only without it; at most 100
// AlarmNames):
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
func TestDescribeAlarmsFiltersAndRefusesBadValues(t *testing.T) {
	store, _, client := start(t)
	other := errorsAlarm()
	other.Name, other.AlarmActions = "request-dump-dev/other", []string{"arn:aws:sns:ap-northeast-1:000000000000:elsewhere"}
	require.NoError(t, store.PutAlarms(errorsAlarm(), missingDumpsAlarm(), other))

	all := describe(t, client, &awscw.DescribeAlarmsInput{})
	assert.Len(t, all, 3)
	assert.Len(t, describe(t, client, &awscw.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm}}), 3)
	assert.Empty(t, describe(t, client, &awscw.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm}}),
		"composite alarms only: the local store has none")
	assert.Equal(t, []string{"request-dump-dev/other"},
		slices.Collect(maps.Keys(describe(t, client, &awscw.DescribeAlarmsInput{ActionPrefix: aws.String("arn:aws:sns:ap-northeast-1:000000000000:else")}))))

	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprint("alarm-", i)
	}
	for _, tc := range []struct {
		name string
		in   *awscw.DescribeAlarmsInput
		want string
	}{
		{"unknown state", &awscw.DescribeAlarmsInput{StateValue: "FIRING"}, "Value 'FIRING' at 'stateValue' failed to satisfy constraint"},
		{"unknown alarm type", &awscw.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{"Metric"}}, "Value 'Metric' at 'alarmTypes' failed to satisfy constraint"},
		{"101 alarm names", &awscw.DescribeAlarmsInput{AlarmNames: many}, "less than or equal to 100 (got 101)"},
		// AWS's answer to a MaxRecords over 100, as boto/boto3#3475 quotes it.
		{"MaxRecords 101", &awscw.DescribeAlarmsInput{MaxRecords: aws.Int32(101)},
			"1 validation error detected: Value '101' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100"},
		{"MaxRecords 0", &awscw.DescribeAlarmsInput{MaxRecords: aws.Int32(0)},
			"Value '0' at 'maxRecords' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"body over 1 MiB", &awscw.DescribeAlarmsInput{AlarmNamePrefix: aws.String(strings.Repeat("a", 1<<20))}, "the request body is over 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.DescribeAlarms(context.Background(), tc.in)
			var ae smithy.APIError
			require.True(t, errors.As(err, &ae), "%v", err)
			assert.Equal(t, "ValidationError", ae.ErrorCode())
			assert.Contains(t, ae.ErrorMessage(), tc.want)
		})
	}
}
