package cloudwatch

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MetricAlarm is an alarm as PutMetricAlarm (and Terraform's
// aws_cloudwatch_metric_alarm) defines it: one metric and statistic, or
// metric math over several (Metrics).
type MetricAlarm struct {
	Name        string
	Description string

	Namespace  string
	MetricName string
	Dimensions Dimensions
	// Statistic is Sum, SampleCount, Average, Minimum, Maximum, or an
	// extended statistic such as p99.
	Statistic string

	// Metrics is metric math instead of one metric: the query whose
	// ReturnData is set is the alarm's value.
	Metrics []MetricQuery

	Period            time.Duration
	EvaluationPeriods int
	Threshold         float64
	// ComparisonOperator is GreaterThanThreshold,
	// GreaterThanOrEqualToThreshold, LessThanThreshold or
	// LessThanOrEqualToThreshold.
	ComparisonOperator string
	// TreatMissingData is notBreaching, breaching or missing (the default).
	TreatMissingData string
	AlarmActions     []string
	OKActions        []string
}

// MetricQuery is one metric_query of a metric math alarm: an expression
// over other queries' ids, or a metric with its statistic.
type MetricQuery struct {
	ID         string
	Expression string
	Label      string
	Namespace  string
	MetricName string
	Dimensions Dimensions
	Stat       string
	Period     time.Duration
	ReturnData bool
}

// The alarm states.
const (
	StateOK                = "OK"
	StateAlarm             = "ALARM"
	StateInsufficientData  = "INSUFFICIENT_DATA"
	defaultTreatment       = "missing"
	maxAlarmNameLength     = 255
	maxEvaluationPeriods   = 100
	highResolutionPeriodsS = "10, 20, 30"
)

// Alarm is an alarm with its state, as DescribeAlarms returns it.
type Alarm struct {
	MetricAlarm
	ARN                   string
	StateValue            string
	StateReason           string
	StateUpdatedTimestamp time.Time
}

type alarmState struct {
	def     MetricAlarm
	expr    map[string]node // parsed expressions by query id
	state   string
	reason  string
	updated time.Time
}

var comparisons = map[string]struct {
	words string
	f     func(v, t float64) bool
}{
	"GreaterThanThreshold":          {"greater than", func(v, t float64) bool { return v > t }},
	"GreaterThanOrEqualToThreshold": {"greater than or equal to", func(v, t float64) bool { return v >= t }},
	"LessThanThreshold":             {"less than", func(v, t float64) bool { return v < t }},
	"LessThanOrEqualToThreshold":    {"less than or equal to", func(v, t float64) bool { return v <= t }},
}

var statisticRE = regexp.MustCompile(`^(Sum|SampleCount|Average|Minimum|Maximum|p(\d{1,2}(\.\d{1,10})?|100))$`)

// percentile reads pNN.
func percentile(stat string) (float64, bool) {
	if !strings.HasPrefix(stat, "p") {
		return 0, false
	}
	p, err := strconv.ParseFloat(stat[1:], 64)
	return p, err == nil && p >= 0 && p <= 100
}

// PutAlarms creates or replaces alarms by name, each new or changed one
// starting in INSUFFICIENT_DATA, as PutMetricAlarm does; an alarm given
// again unchanged keeps its state. It checks them as CloudWatch
// does and refuses the whole batch on the first bad one.
func (s *Store) PutAlarms(alarms ...MetricAlarm) error {
	states := make([]*alarmState, 0, len(alarms))
	for _, a := range alarms {
		st, err := newAlarmState(a)
		if err != nil {
			return err
		}
		states = append(states, st)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range states {
		if old, ok := s.alarms[st.def.Name]; ok && reflect.DeepEqual(old.def, st.def) {
			continue // unchanged: Terraform does not call PutMetricAlarm
		}
		st.updated = s.now()
		s.alarms[st.def.Name] = st
		s.retention = max(s.retention, time.Duration(st.def.EvaluationPeriods+1)*st.def.Period)
	}
	return nil
}

// DeleteAlarms removes alarms by name; unknown names are ignored, as
// DeleteAlarms ignores them.
func (s *Store) DeleteAlarms(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		delete(s.alarms, n)
	}
}

// AlarmNames returns the names of the alarms that start with prefix.
func (s *Store) AlarmNames(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name := range s.alarms {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func newAlarmState(a MetricAlarm) (*alarmState, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("cloudwatch: alarm %q: %s", a.Name, fmt.Sprintf(format, args...))
	}
	if a.Name == "" || len(a.Name) > maxAlarmNameLength {
		return nil, bad("the name must be 1 to %d characters", maxAlarmNameLength)
	}
	if _, ok := comparisons[a.ComparisonOperator]; !ok {
		return nil, bad("comparison operator %q is not one of GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold, LessThanOrEqualToThreshold", a.ComparisonOperator)
	}
	if a.EvaluationPeriods < 1 || a.EvaluationPeriods > maxEvaluationPeriods {
		return nil, bad("evaluation periods %d: want 1 to %d", a.EvaluationPeriods, maxEvaluationPeriods)
	}
	switch a.TreatMissingData {
	case "":
		a.TreatMissingData = defaultTreatment
	case "notBreaching", "breaching", "missing":
	default:
		return nil, bad("treat missing data %q: the local CloudWatch evaluates notBreaching, breaching and missing", a.TreatMissingData)
	}
	st := &alarmState{def: a, state: StateInsufficientData, reason: "Unchecked: Initial alarm creation", expr: map[string]node{}}
	if len(a.Metrics) == 0 {
		if err := checkPeriod(a.Period); err != nil {
			return nil, bad("%v", err)
		}
		if a.Namespace == "" || a.MetricName == "" || !statisticRE.MatchString(a.Statistic) {
			return nil, bad("a metric alarm needs a namespace, a metric name and a statistic (Sum, SampleCount, Average, Minimum, Maximum or pNN); got %q %q %q", a.Namespace, a.MetricName, a.Statistic)
		}
		return st, nil
	}
	if a.Namespace != "" || a.MetricName != "" || a.Statistic != "" {
		return nil, bad("an alarm has either a metric or metric math (Metrics), not both")
	}
	returned := 0
	ids := map[string]bool{}
	for _, q := range a.Metrics {
		ids[q.ID] = true
	}
	for _, q := range a.Metrics {
		if !idRE.MatchString(q.ID) {
			return nil, bad("metric query id %q must start with a lower-case letter and hold letters, digits and _", q.ID)
		}
		if q.ReturnData {
			returned++
		}
		if q.Expression != "" {
			n, err := parseExpression(q.Expression)
			if err != nil {
				return nil, bad("metric query %s: %v", q.ID, err)
			}
			for _, ref := range n.refs(nil) {
				if !ids[ref] || ref == q.ID {
					return nil, bad("metric query %s: expression %q refers to %q, which is not another query of the alarm", q.ID, q.Expression, ref)
				}
			}
			st.expr[q.ID] = n
			continue
		}
		if err := checkPeriod(q.Period); err != nil {
			return nil, bad("metric query %s: %v", q.ID, err)
		}
		if q.Namespace == "" || q.MetricName == "" || !statisticRE.MatchString(q.Stat) {
			return nil, bad("metric query %s needs an expression, or a namespace, a metric name and a stat", q.ID)
		}
	}
	if returned != 1 {
		return nil, bad("exactly one metric query must have return_data set; %d do", returned)
	}
	for _, q := range a.Metrics {
		if q.Expression == "" {
			st.def.Period = max(st.def.Period, q.Period)
		}
	}
	return st, nil
}

var idRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

func checkPeriod(p time.Duration) error {
	s := int64(p / time.Second)
	if p%time.Second != 0 || !(s == 10 || s == 20 || s == 30 || (s >= 60 && s%60 == 0)) {
		return fmt.Errorf("period %v: want %s seconds or a multiple of 60", p, highResolutionPeriodsS)
	}
	return nil
}

// Alarms evaluates and returns the alarms named in names (all when
// empty) whose names start with prefix and whose state is state (any when
// ""), by name, as DescribeAlarms does.
func (s *Store) Alarms(names []string, prefix, state string) []Alarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	now := s.now()
	var out []Alarm
	for name, st := range s.alarms {
		if (len(want) > 0 && !want[name]) || !strings.HasPrefix(name, prefix) {
			continue
		}
		s.evaluate(st, now)
		if state != "" && st.state != state {
			continue
		}
		out = append(out, Alarm{MetricAlarm: st.def, StateValue: st.state, StateReason: st.reason, StateUpdatedTimestamp: st.updated})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// evaluate brings st's state up to now.
func (s *Store) evaluate(st *alarmState, now time.Time) {
	def := st.def
	cmp := comparisons[def.ComparisonOperator]
	var points []string
	breaching, considered, missing := 0, 0, 0
	for k := 0; k < def.EvaluationPeriods; k++ {
		end := now.Add(-time.Duration(k) * def.Period)
		v, ok := s.value(st, end)
		if !ok {
			missing++
			switch def.TreatMissingData {
			case "notBreaching":
				considered++
			case "breaching":
				considered++
				breaching++
			}
			continue
		}
		considered++
		if cmp.f(v, def.Threshold) {
			breaching++
		}
		points = append(points, fmt.Sprintf("%s (%s)", formatFloat(v), end.UTC().Format("02/01/06 15:04:05")))
	}
	var state, reason string
	switch {
	case considered == 0:
		state = StateInsufficientData
		reason = fmt.Sprintf("Insufficient Data: %d datapoint%s were unknown.", missing, plural(missing))
	case breaching == def.EvaluationPeriods:
		state = StateAlarm
		reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] was %s the threshold (%s) (minimum %d datapoint for OK -> ALARM transition).",
			breaching, def.EvaluationPeriods, strings.Join(points, ", "), cmp.words, formatFloat(def.Threshold), def.EvaluationPeriods)
	case len(points) == 0:
		state = StateOK
		reason = fmt.Sprintf("Threshold Crossed: no datapoints were received for %d period%s and %d missing datapoint%s %s treated as [NonBreaching].",
			def.EvaluationPeriods, plural(def.EvaluationPeriods), missing, plural(missing), map[bool]string{true: "was", false: "were"}[missing == 1])
	default:
		state = StateOK
		reason = fmt.Sprintf("Threshold Crossed: %d datapoint%s [%s] %s not %s the threshold (%s).",
			len(points), plural(len(points)), strings.Join(points, ", "), map[bool]string{true: "was", false: "were"}[len(points) == 1], cmp.words, formatFloat(def.Threshold))
	}
	if state != st.state {
		st.state, st.reason, st.updated = state, reason, now
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func formatFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// value is the alarm's value over the period ending at end.
func (s *Store) value(st *alarmState, end time.Time) (float64, bool) {
	def := st.def
	if len(def.Metrics) == 0 {
		return s.statistic(seriesKey(def.Namespace, def.MetricName, def.Dimensions), def.Statistic, end, def.Period)
	}
	queries := map[string]MetricQuery{}
	var result string
	for _, q := range def.Metrics {
		queries[q.ID] = q
		if q.ReturnData {
			result = q.ID
		}
	}
	var lookup func(id string, depth int) (float64, bool)
	lookup = func(id string, depth int) (float64, bool) {
		q := queries[id]
		if n, ok := st.expr[id]; ok {
			if depth > len(queries) {
				return 0, false // a cycle
			}
			return n.eval(func(ref string) (float64, bool) { return lookup(ref, depth+1) })
		}
		return s.statistic(seriesKey(q.Namespace, q.MetricName, q.Dimensions), q.Stat, end, q.Period)
	}
	return lookup(result, 0)
}
