package cloudwatch

import (
	"fmt"
	"strings"
	"sync"

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
// Logs publishes a metric filter's metric. It is safe for concurrent use.
type FilterSink struct {
	sink  LogSink
	store *Store

	mu      sync.RWMutex
	filters map[string][]compiledFilter // by group
}

type compiledFilter struct {
	MetricFilter
	pattern *filter.Pattern
	// term is text every match must hold (a JSON pattern's `= "text"`), ""
	// when none: most events lack it and skip the parse. An event with a
	// backslash may hold it JSON-escaped, so it is matched in full.
	term string
}

// NewFilterSink wraps sink with filters (see SetFilters).
func NewFilterSink(sink LogSink, store *Store, filters ...MetricFilter) (*FilterSink, error) {
	fs := &FilterSink{sink: sink, store: store, filters: map[string][]compiledFilter{}}
	if err := fs.SetFilters(filters...); err != nil {
		return nil, err
	}
	return fs, nil
}

// SetFilters replaces the metric filters of the groups filters name,
// which must parse as CloudWatch Logs filter patterns; a group given with
// an empty pattern loses its filters.
func (fs *FilterSink) SetFilters(filters ...MetricFilter) error {
	byGroup := map[string][]compiledFilter{}
	for _, f := range filters {
		if f.Pattern == "" {
			byGroup[f.Group] = nil
			continue
		}
		p, err := filter.Parse(f.Pattern)
		if err != nil {
			return fmt.Errorf("cloudwatch: metric filter %s/%s on %s: %w", f.Namespace, f.MetricName, f.Group, err)
		}
		cf := compiledFilter{MetricFilter: f, pattern: p}
		if _, text, ok := p.IndexTerm(); ok {
			cf.term = text
		}
		byGroup[f.Group] = append(byGroup[f.Group], cf)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for group, fl := range byGroup {
		fs.filters[group] = fl
	}
	return nil
}

// Append stores events in the sink, then counts the matches of the
// group's filters; events the sink refused are not counted.
func (fs *FilterSink) Append(group, stream string, events ...logs.Event) error {
	if err := fs.sink.Append(group, stream, events...); err != nil {
		return err
	}
	fs.mu.RLock()
	filters := fs.filters[group]
	fs.mu.RUnlock()
	for _, f := range filters {
		for _, e := range events {
			if f.term != "" && !strings.Contains(e.Message, f.term) && !strings.Contains(e.Message, `\`) {
				continue
			}
			if f.pattern.Match(e.Message) {
				fs.store.Put(f.Namespace, f.MetricName, nil, f.Value, e.Timestamp)
			}
		}
	}
	return nil
}
