package stack

import (
	"net/http"
	"strconv"
	"time"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/local/cloudwatch"
	"github.com/acme/request-dump/local/lambda/versions"
)

// The metric filter and the alarms of terraform/service/alarms.tf, for the
// local CloudWatch; terraform/alarms_test.go holds the two to each other.
const (
	alarmPeriod  = time.Minute
	dumpMetric   = "Dumps"
	dumpPattern  = `{ $.msg = "request dump" }`
	missingExpr  = "100 * (invocations - FILL(dumps, 0)) / invocations"
	notBreaching = "notBreaching"
	greaterThan  = "GreaterThanThreshold"
	lambdaNS     = "AWS/Lambda"
	apiGatewayNS = "AWS/ApiGateway"
)

// The candidate stage's throttling, as api.tf's local.candidate_throttling
// sets it.
const (
	CandidateThrottleRate  = 10
	CandidateThrottleBurst = 20
)

func dumpNamespace(name string) string { return "RequestDump/" + name }

// metricFilters returns the env's metric filters: the dump lines.
func metricFilters(cfg *envconfig.Config) []cloudwatch.MetricFilter {
	return []cloudwatch.MetricFilter{{
		Group: cfg.LogGroupName(), Pattern: dumpPattern,
		Namespace: dumpNamespace(cfg.Name), MetricName: dumpMetric, Value: 1,
	}}
}

// alarmsFor returns the env's alarms as the service module defines them,
// notifying topic.
func alarmsFor(cfg *envconfig.Config, topic string) []cloudwatch.MetricAlarm {
	fn := cloudwatch.Dimensions{"FunctionName": cfg.Name}
	api := cloudwatch.Dimensions{"ApiName": cfg.Name, "Stage": cfg.API.StageName}
	a := cfg.Alarms
	metric := func(what, description, namespace, name string, dims cloudwatch.Dimensions, stat string, threshold float64) cloudwatch.MetricAlarm {
		return cloudwatch.MetricAlarm{
			Name: cfg.AlarmPrefix() + what, Description: description,
			Namespace: namespace, MetricName: name, Dimensions: dims, Statistic: stat,
			Period: alarmPeriod, EvaluationPeriods: 1, Threshold: threshold, ComparisonOperator: greaterThan,
			TreatMissingData: notBreaching, AlarmActions: []string{topic}, OKActions: []string{topic},
		}
	}
	n := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return []cloudwatch.MetricAlarm{
		metric("function-errors", "The function failed (error, timeout or crash) more than "+strconv.Itoa(a.Errors)+" times in a minute.",
			lambdaNS, "Errors", fn, "Sum", float64(a.Errors)),
		metric("function-throttles", "Lambda throttled the function more than "+strconv.Itoa(a.Throttles)+" times in a minute.",
			lambdaNS, "Throttles", fn, "Sum", float64(a.Throttles)),
		metric("function-duration", "The function's p99 duration over a minute passed "+n(a.DurationPercent)+" % of its "+strconv.Itoa(cfg.Function.Timeout)+" s timeout.",
			lambdaNS, "Duration", fn, "p99", float64(cfg.Function.Timeout)*1000*a.DurationPercent/100),
		metric("api-5xx", "The "+cfg.API.StageName+" stage answered 5XX more than "+strconv.Itoa(a.API5XX)+" times in a minute.",
			apiGatewayNS, "5XXError", api, "Sum", float64(a.API5XX)),
		metric("api-latency-p99", "The "+cfg.API.StageName+" stage's p99 latency over a minute passed "+strconv.Itoa(a.LatencyP99Ms)+" ms.",
			apiGatewayNS, "Latency", api, "p99", float64(a.LatencyP99Ms)),
		{
			Name:              cfg.AlarmPrefix() + "missing-dumps",
			Description:       "More than " + n(a.MissingDumpsPercent) + " % of the invocations in a minute wrote no dump line.",
			EvaluationPeriods: 1, Threshold: a.MissingDumpsPercent, ComparisonOperator: greaterThan, TreatMissingData: notBreaching,
			AlarmActions: []string{topic}, OKActions: []string{topic},
			Metrics: []cloudwatch.MetricQuery{
				{ID: "missing", Expression: missingExpr, Label: "Invocations without a dump line (%)", ReturnData: true},
				{ID: "invocations", Namespace: lambdaNS, MetricName: "Invocations", Dimensions: fn, Stat: "Sum", Period: alarmPeriod},
				{ID: "dumps", Namespace: dumpNamespace(cfg.Name), MetricName: dumpMetric, Stat: "Sum", Period: alarmPeriod},
			},
		},
	}
}

// observeLambda records an invocation as Lambda's metrics: by function,
// and by alias and executed version, which is how a canary's share shows.
func observeLambda(store *cloudwatch.Store) func(versions.Invocation) {
	return func(inv versions.Invocation) {
		fn := cloudwatch.Dimensions{"FunctionName": inv.Function}
		if inv.Throttled {
			store.Put(lambdaNS, "Throttles", fn, 1, inv.At)
			return
		}
		failed := 0.0
		if inv.FunctionError {
			failed = 1
		}
		byVersion := cloudwatch.Dimensions{"FunctionName": inv.Function, "Resource": inv.Function + ":" + inv.Qualifier, "ExecutedVersion": inv.ExecutedVersion}
		store.PutAll(lambdaNS, fn, inv.At, cloudwatch.Datum{Name: "Invocations", Value: 1}, cloudwatch.Datum{Name: "Errors", Value: failed},
			cloudwatch.Datum{Name: "Duration", Value: float64(inv.Duration) / float64(time.Millisecond)})
		store.PutAll(lambdaNS, byVersion, inv.At, cloudwatch.Datum{Name: "Invocations", Value: 1}, cloudwatch.Datum{Name: "Errors", Value: failed})
	}
}

// stageMetrics records every request a stage answers as API Gateway's
// Count, 4XXError, 5XXError and Latency of the API and stage.
func stageMetrics(store *cloudwatch.Store, api, stage string, next http.Handler) http.Handler {
	dims := cloudwatch.Dimensions{"ApiName": api, "Stage": stage}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		client, server := 0.0, 0.0
		switch {
		case rec.status >= 500:
			server = 1
		case rec.status >= 400:
			client = 1
		}
		store.PutAll(apiGatewayNS, dims, start, cloudwatch.Datum{Name: "Count", Value: 1}, cloudwatch.Datum{Name: "4XXError", Value: client},
			cloudwatch.Datum{Name: "5XXError", Value: server}, cloudwatch.Datum{Name: "Latency", Value: float64(time.Since(start)) / float64(time.Millisecond)})
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}
