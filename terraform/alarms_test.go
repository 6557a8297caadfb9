package terraform

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/local/cloudwatch"
	"github.com/acme/request-dump/local/stack"
)

// Every alarm notifies the env's one topic when it enters ALARM and when it
// leaves it, and is named "<name>/<what>", the prefix the rollout finds an
// env's alarms by.
func TestEveryAlarmNotifiesTheEnvTopic(t *testing.T) {
	m := load(t, "terraform/service")
	alarms := m.blocks("resource", "aws_cloudwatch_metric_alarm")
	var names []string
	for _, b := range alarms {
		label := b.Labels[1]
		for _, actions := range []string{"alarm_actions", "ok_actions"} {
			assert.Equal(t, "[aws_sns_topic.alarms.arn]", m.source(attr(t, b.Body, actions)), "alarm %s: %s", label, actions)
		}
		assert.Equal(t, "notBreaching", eval(t, attr(t, b.Body, "treat_missing_data"), nil).AsString(), "alarm %s: a quiet minute is not a failure", label)
		assert.Equal(t, "GreaterThanThreshold", eval(t, attr(t, b.Body, "comparison_operator"), nil).AsString(), "alarm %s", label)
		name := eval(t, attr(t, b.Body, "alarm_name"), map[string]cty.Value{"var": obj(map[string]cty.Value{"name": cty.StringVal("request-dump-prod")})}).AsString()
		if label == wafAlarm {
			// Outside the rollout's prefix: TestWAFRateRuleGuardsThePublicStage.
			assert.Equal(t, "request-dump-prod-waf-blocked", name)
			continue
		}
		names = append(names, label)
		assert.Regexp(t, `^request-dump-prod/[a-z0-9-]+$`, name, "alarm %s", label)
		assert.Contains(t, strings.Join(refs(attr(t, b.Body, "threshold")), " "), "var.alarms.", "alarm %s: its threshold is a per-env input", label)
	}
	assert.ElementsMatch(t, []string{"errors", "throttles", "duration", "api_5xx", "latency", "missing_dumps"}, names)

	output := m.source(attr(t, m.block(t, "output", "alarm_names"), "value"))
	for _, name := range names {
		assert.Contains(t, output, "aws_cloudwatch_metric_alarm."+name, "the alarm_names output lists %s", name)
	}

	topic := m.block(t, "resource", "aws_sns_topic", "alarms")
	assert.Equal(t, []string{"aws_kms_key.alarms.arn"}, refs(attr(t, topic, "kms_master_key_id")), "a customer managed key: CloudWatch cannot publish to a topic under alias/aws/sns")
	key := m.block(t, "resource", "aws_kms_key", "alarms")
	assert.True(t, eval(t, attr(t, key, "enable_key_rotation"), nil).True())
	var cloudwatchMayUseTheKey bool
	for _, st := range nested(m.block(t, "data", "aws_iam_policy_document", "alarms_key"), "statement") {
		ids := strs(t, eval(t, attr(t, one(t, st, "principals"), "identifiers"), map[string]cty.Value{
			"data": obj(map[string]cty.Value{
				"aws_partition":       obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"partition": cty.StringVal("aws")})}),
				"aws_caller_identity": obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"account_id": cty.StringVal("123456789012")})}),
			}),
		}))
		if len(ids) == 1 && ids[0] == "cloudwatch.amazonaws.com" {
			cloudwatchMayUseTheKey = true
			assert.ElementsMatch(t, []string{"kms:Decrypt", "kms:GenerateDataKey*"}, strs(t, eval(t, attr(t, st, "actions"), nil)))
			assert.Equal(t, "aws:SourceAccount", eval(t, attr(t, one(t, st, "condition"), "variable"), nil).AsString())
		}
	}
	assert.True(t, cloudwatchMayUseTheKey, "the key policy lets CloudWatch publish to the encrypted topic")

	for label, field := range map[string]string{"email": "var.alarms.email", "https": "var.alarms.https_endpoint"} {
		sub := m.block(t, "resource", "aws_sns_topic_subscription", label)
		assert.Equal(t, []string{"aws_sns_topic.alarms.arn"}, refs(attr(t, sub, "topic_arn")))
		assert.Equal(t, []string{field}, refs(attr(t, sub, "endpoint")))
		assert.Equal(t, label, eval(t, attr(t, sub, "protocol"), nil).AsString())
		for _, given := range []bool{false, true} {
			v := cty.NullVal(cty.String)
			if given {
				v = cty.StringVal("x")
			}
			alarmsVal := obj(map[string]cty.Value{"email": cty.NullVal(cty.String), "https_endpoint": cty.NullVal(cty.String)})
			attrs := alarmsVal.AsValueMap()
			attrs[strings.TrimPrefix(field, "var.alarms.")] = v
			count := eval(t, attr(t, sub, "count"), map[string]cty.Value{"var": obj(map[string]cty.Value{"alarms": obj(attrs)})})
			want := int64(0)
			if given {
				want = 1
			}
			got, _ := count.AsBigFloat().Int64()
			assert.Equal(t, want, got, "subscription %s exists exactly when %s is set", label, field)
		}
	}
}

// The dump-health alarm compares the dump lines a metric filter counts with
// Lambda's invocations; the filter must match the dump line the function
// writes (docs/architecture.md) and nothing else it logs.
func TestDumpHealthCountsTheDumpLines(t *testing.T) {
	m := load(t, "terraform/service")
	filter := m.block(t, "resource", "aws_cloudwatch_log_metric_filter", "dumps")
	assert.Equal(t, []string{"aws_cloudwatch_log_group.this.name"}, refs(attr(t, filter, "log_group_name")))
	pattern := eval(t, m.local(t, "dump_pattern"), nil).AsString()
	assert.Equal(t, `{ $.msg = "request dump" }`, pattern)

	alarm := m.block(t, "resource", "aws_cloudwatch_metric_alarm", "missing_dumps")
	queries := map[string]string{}
	for _, q := range nested(alarm, "metric_query") {
		id := eval(t, attr(t, q, "id"), nil).AsString()
		if e, ok := q.Attributes["expression"]; ok {
			queries[id] = eval(t, e.Expr, nil).AsString()
			assert.True(t, eval(t, attr(t, q, "return_data"), nil).True())
			continue
		}
		metric := one(t, q, "metric")
		queries[id] = m.source(attr(t, metric, "namespace")) + " " + m.source(attr(t, metric, "metric_name"))
	}
	assert.Equal(t, map[string]string{
		"missing":     "100 * (invocations - FILL(dumps, 0)) / invocations",
		"invocations": `"AWS/Lambda" "Invocations"`,
		"dumps":       "local.dump_namespace local.dump_metric",
	}, queries)
}

// The local stack refuses every rollout setting the plan refuses, with the
// same message: it reads the env with internal/envconfig, which applies the
// module's own validation rules.
func TestLocalStackRefusesWhatThePlanRefuses(t *testing.T) {
	real, err := repo.Root()
	require.NoError(t, err)
	mainTF, err := os.ReadFile(filepath.Join(real, "envs", "stg", "main.tf"))
	require.NoError(t, err)
	rollout := regexp.MustCompile(`(?s)\n  rollout = \{.*?\n  \}\n`)
	require.True(t, rollout.Match(mainTF), "envs/stg/main.tf sets rollout")

	for _, tc := range rolloutValidationCases {
		t.Run(strings.ReplaceAll(tc.value, "/", "∕"), func(t *testing.T) {
			root := t.TempDir()
			copyTree(t, filepath.Join(real, "terraform", "service"), filepath.Join(root, "terraform", "service"))
			copyTree(t, filepath.Join(real, "envs", "stg"), filepath.Join(root, "envs", "stg"))
			edited := rollout.ReplaceAll(mainTF, []byte("\n  rollout = "+tc.value+"\n"))
			require.NoError(t, os.WriteFile(filepath.Join(root, "envs", "stg", "main.tf"), edited, 0o644))

			_, localErr := envconfig.LoadRoot(root, "stg")
			vars, err := envconfig.LoadVariables(filepath.Join(root, "terraform", "service"))
			require.NoError(t, err)
			_, planErr := vars.Value("rollout", literal(t, tc.value))
			if tc.want == "" {
				assert.NoError(t, localErr)
				return
			}
			require.Error(t, planErr)
			require.Error(t, localErr)
			assert.Contains(t, localErr.Error(), planErr.Error(), "the local stack's refusal carries the plan's message")
			assert.Contains(t, localErr.Error(), tc.want)
		})
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	}))
}

// The local stack evaluates the alarms Terraform creates: the same names,
// metrics, statistics, thresholds and metric math, for every env's inputs.
func TestLocalStackAlarmsAreTerraforms(t *testing.T) {
	m := load(t, "terraform/service")
	for _, env := range envNames(t) {
		t.Run(env, func(t *testing.T) {
			cfg, err := envconfig.Load(env)
			require.NoError(t, err)
			spec, err := stack.SpecFor(cfg)
			require.NoError(t, err)
			topic := "arn:aws:sns:" + cfg.Region + ":000000000000:" + cfg.Name + "-alarms"
			num := func(v float64) cty.Value { return cty.NumberFloatVal(v) }
			a := cfg.Alarms
			scope := map[string]cty.Value{
				"var": obj(map[string]cty.Value{
					"name": cty.StringVal(cfg.Name),
					"alarms": obj(map[string]cty.Value{
						"errors": num(float64(a.Errors)), "throttles": num(float64(a.Throttles)), "api_5xx": num(float64(a.API5XX)),
						"duration_percent": num(a.DurationPercent), "latency_p99_ms": num(float64(a.LatencyP99Ms)),
						"missing_dumps_percent": num(a.MissingDumpsPercent),
					}),
					"function": obj(map[string]cty.Value{"timeout": num(float64(cfg.Function.Timeout))}),
					"api":      obj(map[string]cty.Value{"stage_name": cty.StringVal(cfg.API.StageName)}),
					"tags":     cty.MapValEmpty(cty.String),
				}),
				"aws_lambda_function":      obj(map[string]cty.Value{"this": obj(map[string]cty.Value{"function_name": cty.StringVal(cfg.Name)})}),
				"aws_api_gateway_rest_api": obj(map[string]cty.Value{"this": obj(map[string]cty.Value{"name": cty.StringVal(cfg.Name)})}),
				"aws_api_gateway_stage":    obj(map[string]cty.Value{"this": obj(map[string]cty.Value{"stage_name": cty.StringVal(cfg.API.StageName)})}),
				"aws_sns_topic":            obj(map[string]cty.Value{"alarms": obj(map[string]cty.Value{"arn": cty.StringVal(topic)})}),
			}
			locals := map[string]cty.Value{}
			for _, name := range []string{"alarm_period", "dump_metric", "dump_pattern", "dump_namespace"} {
				locals[name] = eval(t, m.local(t, name), scope)
			}
			scope["local"] = obj(locals)

			got := map[string]string{}
			for _, al := range spec.Alarms {
				data, err := json.Marshal(al)
				require.NoError(t, err)
				got[al.Name] = string(data)
			}
			want := map[string]string{}
			for _, b := range m.blocks("resource", "aws_cloudwatch_metric_alarm") {
				if b.Labels[1] == wafAlarm {
					continue // the local stack does not emulate AWS WAF
				}
				al := hclAlarm(t, b.Body, scope)
				data, err := json.Marshal(al)
				require.NoError(t, err)
				want[al.Name] = string(data)
			}
			assert.Equal(t, want, got)

			filter := m.block(t, "resource", "aws_cloudwatch_log_metric_filter", "dumps")
			transform := one(t, filter, "metric_transformation")
			require.Len(t, spec.MetricFilters, 1)
			f := spec.MetricFilters[0]
			assert.Equal(t, eval(t, attr(t, filter, "pattern"), scope).AsString(), f.Pattern)
			assert.Equal(t, eval(t, attr(t, transform, "namespace"), scope).AsString(), f.Namespace)
			assert.Equal(t, eval(t, attr(t, transform, "name"), scope).AsString(), f.MetricName)
			assert.Equal(t, cfg.LogGroupName(), f.Group)
		})
	}

	limits := eval(t, m.local(t, "candidate_throttling"), nil).AsValueMap()
	rate, _ := limits["rate_limit"].AsBigFloat().Float64()
	burst, _ := limits["burst_limit"].AsBigFloat().Int64()
	assert.Equal(t, float64(stack.CandidateThrottleRate), rate)
	assert.EqualValues(t, stack.CandidateThrottleBurst, burst)
}

// hclAlarm evaluates an aws_cloudwatch_metric_alarm block into the local
// CloudWatch's definition.
func hclAlarm(t *testing.T, b *hclsyntax.Body, scope map[string]cty.Value) cloudwatch.MetricAlarm {
	t.Helper()
	str := func(body *hclsyntax.Body, name string) string {
		if a, ok := body.Attributes[name]; ok {
			return eval(t, a.Expr, scope).AsString()
		}
		return ""
	}
	number := func(body *hclsyntax.Body, name string) float64 {
		if a, ok := body.Attributes[name]; ok {
			f, _ := eval(t, a.Expr, scope).AsBigFloat().Float64()
			return f
		}
		return 0
	}
	dims := func(body *hclsyntax.Body) cloudwatch.Dimensions {
		a, ok := body.Attributes["dimensions"]
		if !ok {
			return nil
		}
		d := cloudwatch.Dimensions{}
		for k, v := range eval(t, a.Expr, scope).AsValueMap() {
			d[k] = v.AsString()
		}
		return d
	}
	al := cloudwatch.MetricAlarm{
		Name:               str(b, "alarm_name"),
		Description:        str(b, "alarm_description"),
		Namespace:          str(b, "namespace"),
		MetricName:         str(b, "metric_name"),
		Dimensions:         dims(b),
		Statistic:          str(b, "statistic") + str(b, "extended_statistic"),
		Period:             time.Duration(number(b, "period")) * time.Second,
		EvaluationPeriods:  int(number(b, "evaluation_periods")),
		Threshold:          number(b, "threshold"),
		ComparisonOperator: str(b, "comparison_operator"),
		TreatMissingData:   str(b, "treat_missing_data"),
		AlarmActions:       strs(t, eval(t, attr(t, b, "alarm_actions"), scope)),
		OKActions:          strs(t, eval(t, attr(t, b, "ok_actions"), scope)),
	}
	for _, q := range nested(b, "metric_query") {
		mq := cloudwatch.MetricQuery{ID: str(q, "id"), Expression: str(q, "expression"), Label: str(q, "label")}
		if a, ok := q.Attributes["return_data"]; ok {
			mq.ReturnData = eval(t, a.Expr, scope).True()
		}
		for _, metric := range nested(q, "metric") {
			mq.Namespace, mq.MetricName, mq.Dimensions = str(metric, "namespace"), str(metric, "metric_name"), dims(metric)
			mq.Stat, mq.Period = str(metric, "stat"), time.Duration(number(metric, "period"))*time.Second
		}
		al.Metrics = append(al.Metrics, mq)
	}
	return al
}
