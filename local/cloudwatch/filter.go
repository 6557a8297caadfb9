package cloudwatch

import (
	"fmt"

	"github.com/acme/request-dump/local/logs"
	"github.com/acme/request-dump/local/logs/filter"
)

// LogSink receives log events; *logs.Store is one.
type LogSink interface {
	Append(group, stream string, events ...logs.Event) error
}

// MetricFilter is a log group's metric filter, as
// aws_cloudwatch_log_metric_filter defines it: every event of Group that
// Pattern matches adds Value to the metric, at the event's time.
type MetricFilter struct {
	Group      string
	Pattern    string
	Namespace  string
	MetricName string
	Value      float64
}

// FilterSink is a LogSink that passes every event on to its sink and
// counts the events its metric filters match into a Store, as CloudWatch
// Logs publishes a metric filter's metric.
type FilterSink struct {
	sink    LogSink
	store   *Store
	filters map[string][]compiledFilter // by group
}

type compiledFilter struct {
	MetricFilter
	pattern *filter.Pattern
}

// NewFilterSink wraps sink with filters, which must parse as CloudWatch
// Logs filter patterns.
func NewFilterSink(sink LogSink, store *Store, filters ...MetricFilter) (*FilterSink, error) {
	fs := &FilterSink{sink: sink, store: store, filters: map[string][]compiledFilter{}}
	for _, f := range filters {
		p, err := filter.Parse(f.Pattern)
		if err != nil {
			return nil, fmt.Errorf("cloudwatch: metric filter %s/%s on %s: %w", f.Namespace, f.MetricName, f.Group, err)
		}
		fs.filters[f.Group] = append(fs.filters[f.Group], compiledFilter{f, p})
	}
	return fs, nil
}

// Append stores events in the sink, then counts the matches of the
// group's filters; events the sink refused are not counted.
func (fs *FilterSink) Append(group, stream string, events ...logs.Event) error {
	if err := fs.sink.Append(group, stream, events...); err != nil {
		return err
	}
	for _, f := range fs.filters[group] {
		for _, e := range events {
			if f.pattern.Match(e.Message) {
				fs.store.Put(f.Namespace, f.MetricName, nil, f.Value, e.Timestamp)
			}
		}
	}
	return nil
}
