// Package cloudwatch is the local stack's CloudWatch: a store of the metric
// data points the other local services emit (Lambda's Invocations, Errors,
// Throttles and Duration; API Gateway's Count, 4XXError, 5XXError and
// Latency; the metric filters of log groups), metric alarms evaluated over
// them, and DescribeAlarms (by AlarmNames or AlarmNamePrefix, StateValue,
// AlarmTypes and ActionPrefix, paged by MaxRecords and NextToken) on the
// Smithy RPC v2 CBOR protocol that aws-sdk-go-v2's CloudWatch client speaks. The rollout command reads an env's alarms
// through it exactly as it reads them on AWS.
//
// What differs from CloudWatch:
//   - An alarm is evaluated when it is read (DescribeAlarms), over the
//     period that ends at that moment, not once a minute over periods that
//     end on the minute; it reacts within the period instead of a minute or
//     more later. StateUpdatedTimestamp is when a read saw the change.
//   - Only the statistics Sum, SampleCount, Average, Minimum, Maximum and
//     pNN, metric math of + - * / and FILL(m, value), and treat_missing_data
//     notBreaching, breaching and missing are evaluated.
//   - Data points are kept per second, for as long as the longest alarm
//     looks back (ten minutes at least), and a second keeps at most 1,000
//     samples for percentiles (a uniform sample beyond that).
//   - There is no PutMetricData, GetMetricData or ListMetrics API, no
//     alarm actions (nothing is sent to SNS), no composite alarms (so
//     DescribeAlarms's ChildrenOfAlarmName and ParentsOfAlarmName are not
//     applied) and no dashboards: alarms are defined by the deploy
//     (local/stack), as Terraform defines them.
package cloudwatch

import (
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// Dimensions name a metric's series, e.g. {FunctionName: request-dump-dev}.
type Dimensions map[string]string

// appendKey appends the dimensions, sorted by name, to b.
func (d Dimensions) appendKey(b []byte) []byte {
	var small [8]string
	names := small[:0]
	for k := range d {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, d[k]...)
		b = append(b, ';')
	}
	return b
}

// maxSamples bounds the samples a second keeps for percentiles.
const maxSamples = 1000

// minRetention is how far back data points are kept with no alarm asking
// for more.
const minRetention = 10 * time.Minute

// Store holds metric data points and alarms. It is safe for concurrent use.
type Store struct {
	now func() time.Time

	mu        sync.Mutex
	series    map[string]*series // by namespace, name and dimensions
	alarms    map[string]*alarmState
	retention time.Duration
}

// series is one metric's data points, one bucket per second, oldest first.
type series struct {
	buckets []bucket
}

type bucket struct {
	second        int64
	count         float64
	sum, min, max float64
	samples       []float64
	seen          int // values offered to samples
}

// Option configures NewStore.
type Option func(*Store)

// WithClock makes the store read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// NewStore returns an empty store.
func NewStore(opts ...Option) *Store {
	s := &Store{now: time.Now, series: map[string]*series{}, alarms: map[string]*alarmState{}, retention: minRetention}
	for _, o := range opts {
		o(s)
	}
	return s
}

func seriesKey(namespace, name string, dims Dimensions) string {
	return string(appendSeriesKey(nil, namespace, name, dims))
}

func appendSeriesKey(b []byte, namespace, name string, dims Dimensions) []byte {
	b = append(b, namespace...)
	b = append(b, 0)
	b = append(b, name...)
	b = append(b, 0)
	return dims.appendKey(b)
}

// Datum is one metric's value, for PutAll.
type Datum struct {
	Name  string
	Value float64
}

// Put records one data point of metric name in namespace with dims at at.
func (s *Store) Put(namespace, name string, dims Dimensions, value float64, at time.Time) {
	s.PutAll(namespace, dims, at, Datum{name, value})
}

// PutAll records a data point of each metric in namespace with dims at at,
// as one PutMetricData call does: the stack records a request's metrics
// with it, under one lock.
func (s *Store) PutAll(namespace string, dims Dimensions, at time.Time, data ...Datum) {
	var buf [256]byte
	sec := at.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.now().Add(-s.retention).Unix()
	for _, d := range data {
		key := appendSeriesKey(buf[:0], namespace, d.Name, dims)
		ser := s.series[string(key)] // no allocation for the lookup
		if ser == nil {
			ser = &series{}
			s.series[string(key)] = ser
		}
		ser.add(sec, d.Value)
		ser.trim(before)
	}
}

// add adds value to the bucket of second sec.
func (ser *series) add(sec int64, value float64) {
	b := ser.bucketFor(sec)
	if b.count == 0 || value < b.min {
		b.min = value
	}
	if b.count == 0 || value > b.max {
		b.max = value
	}
	b.count++
	b.sum += value
	b.seen++
	if len(b.samples) < maxSamples {
		b.samples = append(b.samples, value)
	} else if i := rand.IntN(b.seen); i < maxSamples {
		b.samples[i] = value
	}
}

// bucketFor returns the bucket of second sec, adding it in order.
func (ser *series) bucketFor(sec int64) *bucket {
	n := len(ser.buckets)
	if n > 0 && ser.buckets[n-1].second == sec {
		return &ser.buckets[n-1]
	}
	i := sort.Search(n, func(i int) bool { return ser.buckets[i].second >= sec })
	if i < n && ser.buckets[i].second == sec {
		return &ser.buckets[i]
	}
	ser.buckets = append(ser.buckets, bucket{})
	copy(ser.buckets[i+1:], ser.buckets[i:])
	ser.buckets[i] = bucket{second: sec}
	return &ser.buckets[i]
}

func (ser *series) trim(before int64) {
	i := 0
	for i < len(ser.buckets) && ser.buckets[i].second < before {
		i++
	}
	if i > 0 {
		ser.buckets = append(ser.buckets[:0], ser.buckets[i:]...)
	}
}

// Statistic returns stat of a metric over the period that ends with the
// second of end: Sum, SampleCount, Average, Minimum, Maximum or pNN (p99,
// p99.9); ok is false when the metric has no data point in it, as
// CloudWatch returns none.
func (s *Store) Statistic(namespace, name string, dims Dimensions, stat string, end time.Time, period time.Duration) (value float64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statistic(seriesKey(namespace, name, dims), stat, end, period)
}

func (s *Store) statistic(key, stat string, end time.Time, period time.Duration) (float64, bool) {
	ser := s.series[key]
	if ser == nil {
		return 0, false
	}
	last := end.Unix()
	first := last - int64(period/time.Second) + 1
	var count, sum float64
	var lo, hi float64
	var samples []float64
	for i := range ser.buckets {
		b := &ser.buckets[i]
		if b.second < first || b.second > last {
			continue
		}
		if count == 0 || b.min < lo {
			lo = b.min
		}
		if count == 0 || b.max > hi {
			hi = b.max
		}
		count += b.count
		sum += b.sum
		samples = append(samples, b.samples...)
	}
	if count == 0 {
		return 0, false
	}
	switch stat {
	case "Sum":
		return sum, true
	case "SampleCount":
		return count, true
	case "Average":
		return sum / count, true
	case "Minimum":
		return lo, true
	case "Maximum":
		return hi, true
	}
	p, ok := percentile(stat)
	if !ok {
		return 0, false
	}
	sort.Float64s(samples)
	// The nearest rank: the smallest value with at least p of the samples
	// at or below it.
	rank := int(p/100*float64(len(samples))+0.999999) - 1
	return samples[min(max(rank, 0), len(samples)-1)], true
}
