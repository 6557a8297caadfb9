package cloudwatch

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// PathPrefix starts the path of every CloudWatch operation on the Smithy
// RPC v2 CBOR protocol: POST /service/GraniteServiceVersion20100801/operation/<name>.
const PathPrefix = "/service/GraniteServiceVersion20100801/operation/"

// maxBody is the largest request body read; a valid DescribeAlarms is far
// smaller.
const maxBody = 1 << 20

// maxAlarmNames is the most AlarmNames one DescribeAlarms call takes.
const maxAlarmNames = 100

// API serves CloudWatch's DescribeAlarms for a Store.
type API struct {
	store           *Store
	region, account string
}

// NewAPI returns the API of store for region and account (in alarm ARNs).
func NewAPI(store *Store, region, account string) *API {
	return &API{store: store, region: region, account: account}
}

// ServeHTTP answers POST PathPrefix+DescribeAlarms; every other operation
// is refused with UnknownOperationException.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || r.Method != http.MethodPost {
		writeCBORError(w, http.StatusNotFound, "UnknownOperationException", "CloudWatch operations are POST "+PathPrefix+"<operation>")
		return
	}
	if op != "DescribeAlarms" {
		writeCBORError(w, http.StatusBadRequest, "UnknownOperationException",
			fmt.Sprintf("%s is not served by the local CloudWatch, which answers DescribeAlarms only (alarms come from the deploy; go doc ./local/cloudwatch)", op))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the caller is gone
	}
	if len(body) > maxBody {
		// Cut short, the body would only fail as CBOR that ends early.
		writeCBORError(w, http.StatusRequestEntityTooLarge, "ValidationError",
			fmt.Sprintf("the request body is over %d bytes, far beyond what DescribeAlarms takes", maxBody))
		return
	}
	in := cbor.Map{}
	if len(body) > 0 {
		v, err := cbor.Decode(body)
		m, isMap := v.(cbor.Map)
		if err != nil || !isMap {
			writeCBORError(w, http.StatusBadRequest, "SerializationException", "the request body is not a CBOR map")
			return
		}
		in = m
	}
	var names []string
	if l, ok := in["AlarmNames"].(cbor.List); ok {
		for _, v := range l {
			if s, ok := v.(cbor.String); ok {
				names = append(names, string(s))
			}
		}
	}
	prefix, _ := in["AlarmNamePrefix"].(cbor.String)
	if len(names) > 0 && prefix != "" {
		writeCBORError(w, http.StatusBadRequest, "InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be specified together.")
		return
	}
	if len(names) > maxAlarmNames {
		writeCBORError(w, http.StatusBadRequest, "ValidationError",
			fmt.Sprintf("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to %d (got %d): ask for the others in another call", maxAlarmNames, len(names)))
		return
	}
	state, _ := in["StateValue"].(cbor.String)
	switch state {
	case "", "OK", "ALARM", "INSUFFICIENT_DATA":
	default:
		writeCBORError(w, http.StatusBadRequest, "ValidationError",
			fmt.Sprintf("1 validation error detected: Value '%s' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", state))
		return
	}
	// Without AlarmTypes, DescribeAlarms returns metric alarms only; with
	// it, metric alarms only if it names them. The store has no composite
	// alarms, so CompositeAlarm alone selects nothing.
	metricAlarms := true
	if l, ok := in["AlarmTypes"].(cbor.List); ok && len(l) > 0 {
		metricAlarms = false
		for _, v := range l {
			switch t, _ := v.(cbor.String); t {
			case "MetricAlarm":
				metricAlarms = true
			case "CompositeAlarm":
			default:
				writeCBORError(w, http.StatusBadRequest, "ValidationError",
					fmt.Sprintf("1 validation error detected: Value '%s' at 'alarmTypes' failed to satisfy constraint: Member must satisfy enum value set: [CompositeAlarm, MetricAlarm]", t))
				return
			}
		}
	}
	limit := 50
	if v, ok := in["MaxRecords"]; ok {
		n, err := cbor.AsInt64(v)
		if err != nil {
			writeCBORError(w, http.StatusBadRequest, "SerializationException", "MaxRecords is not an integer")
			return
		}
		// A model constraint: ValidationError, worded as AWS words it
		// (boto/boto3#3475).
		var bound string
		switch {
		case n < 1:
			bound = "greater than or equal to 1"
		case n > 100:
			bound = "less than or equal to 100"
		}
		if bound != "" {
			writeCBORError(w, http.StatusBadRequest, "ValidationError",
				fmt.Sprintf("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value %s", n, bound))
			return
		}
		limit = int(n)
	}
	start := 0
	if tok, ok := in["NextToken"].(cbor.String); ok && tok != "" {
		if start, err = strconv.Atoi(string(tok)); err != nil || start < 0 {
			writeCBORError(w, http.StatusBadRequest, "InvalidNextToken", "The next token is not one this API returned.")
			return
		}
	}
	var alarms []Alarm
	if metricAlarms {
		alarms = a.store.Alarms(names, string(prefix), string(state))
	}
	if action, _ := in["ActionPrefix"].(cbor.String); action != "" {
		alarms = slices.DeleteFunc(alarms, func(al Alarm) bool {
			has := func(arn string) bool { return strings.HasPrefix(arn, string(action)) }
			return !slices.ContainsFunc(al.AlarmActions, has) && !slices.ContainsFunc(al.OKActions, has)
		})
	}
	start = min(start, len(alarms))
	end := min(len(alarms), start+limit)
	list := cbor.List{}
	for _, al := range alarms[start:end] {
		list = append(list, a.encode(al))
	}
	out := cbor.Map{"MetricAlarms": list, "CompositeAlarms": cbor.List{}}
	if end < len(alarms) {
		out["NextToken"] = cbor.String(strconv.Itoa(end))
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(cbor.Encode(out))
}

func (a *API) encode(al Alarm) cbor.Map {
	m := cbor.Map{
		"AlarmName":               cbor.String(al.Name),
		"AlarmArn":                cbor.String(fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", a.region, a.account, al.Name)),
		"AlarmDescription":        cbor.String(al.Description),
		"ActionsEnabled":          cbor.Bool(true),
		"AlarmActions":            strings2list(al.AlarmActions),
		"OKActions":               strings2list(al.OKActions),
		"InsufficientDataActions": cbor.List{},
		"StateValue":              cbor.String(al.StateValue),
		"StateReason":             cbor.String(al.StateReason),
		"StateUpdatedTimestamp":   timestamp(al.StateUpdatedTimestamp),
		"EvaluationPeriods":       cbor.Uint(al.EvaluationPeriods),
		"Threshold":               cbor.Float64(al.Threshold),
		"ComparisonOperator":      cbor.String(al.ComparisonOperator),
		"TreatMissingData":        cbor.String(al.TreatMissingData),
	}
	if len(al.Metrics) == 0 {
		m["Namespace"] = cbor.String(al.Namespace)
		m["MetricName"] = cbor.String(al.MetricName)
		m["Dimensions"] = dimensions(al.Dimensions)
		m["Period"] = cbor.Uint(al.Period / time.Second)
		if _, ok := percentile(al.Statistic); ok {
			m["ExtendedStatistic"] = cbor.String(al.Statistic)
		} else {
			m["Statistic"] = cbor.String(al.Statistic)
		}
		return m
	}
	queries := cbor.List{}
	for _, q := range al.Metrics {
		qm := cbor.Map{"Id": cbor.String(q.ID), "ReturnData": cbor.Bool(q.ReturnData)}
		if q.Label != "" {
			qm["Label"] = cbor.String(q.Label)
		}
		if q.Expression != "" {
			qm["Expression"] = cbor.String(q.Expression)
		} else {
			qm["MetricStat"] = cbor.Map{
				"Metric": cbor.Map{
					"Namespace":  cbor.String(q.Namespace),
					"MetricName": cbor.String(q.MetricName),
					"Dimensions": dimensions(q.Dimensions),
				},
				"Period": cbor.Uint(q.Period / time.Second),
				"Stat":   cbor.String(q.Stat),
			}
		}
		queries = append(queries, qm)
	}
	m["Metrics"] = queries
	return m
}

func strings2list(ss []string) cbor.List {
	l := cbor.List{}
	for _, s := range ss {
		l = append(l, cbor.String(s))
	}
	return l
}

func dimensions(d Dimensions) cbor.List {
	l := cbor.List{}
	for _, k := range slices.Sorted(maps.Keys(d)) {
		l = append(l, cbor.Map{"Name": cbor.String(k), "Value": cbor.String(d[k])})
	}
	return l
}

// timestamp is a CBOR epoch time (tag 1), as RPC v2 CBOR sends timestamps.
func timestamp(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}
}

func writeCBORError(w http.ResponseWriter, status int, typ, message string) {
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(typ), "message": cbor.String(message)}))
}
