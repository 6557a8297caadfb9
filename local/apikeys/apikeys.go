// Package apikeys is the local stack's API Gateway API keys and usage
// plans: a method that requires an API key takes a request only when its
// x-api-key is a key of a usage plan that covers the stage, within the
// plan's throttle (a token bucket per key: rate per second, burst) and its
// daily quota per key, which starts again at 00:00 UTC.
//
// Not emulated: usage plans per method (throttle overrides by resource
// path), quota periods other than DAY (the repository's plans use DAY
// only) and the quota's offset (requests taken off the first period's
// limit), disabled
// keys, and the usage records (GetUsage); key values are whatever the
// deployer gives, without AWS's length rules.
package apikeys

import (
	"errors"
	"sync"
	"time"
)

// The refusals, each one of API Gateway's answers (the gateway maps them).
var (
	// ErrForbidden: no key, a key that does not exist, or a key of no
	// usage plan of the stage: 403 {"message":"Forbidden"}.
	ErrForbidden = errors.New("apikeys: no valid API key for this stage")
	// ErrThrottled: the key's usage plan throttle: 429 {"message":"Too Many Requests"}.
	ErrThrottled = errors.New("apikeys: the key's usage plan throttle is exceeded")
	// ErrQuotaExceeded: the key's daily quota is used up: 429 {"message":"Limit Exceeded"}.
	ErrQuotaExceeded = errors.New("apikeys: the key's usage plan quota is exhausted")
)

// Key is an API key.
type Key struct {
	// ID is the key's id ($context.identity.apiKeyId); Name its name.
	ID, Name string
	// Value is what callers send in x-api-key.
	Value string
}

// Stage is a deployed stage of a REST API.
type Stage struct{ APIID, Stage string }

// Plan is a usage plan: the stages it covers, its keys and its limits.
type Plan struct {
	ID, Name string
	Stages   []Stage
	// KeyIDs are the ids of the plan's keys.
	KeyIDs []string
	// RateLimit is requests per second per key after BurstLimit at once.
	RateLimit  float64
	BurstLimit int
	// QuotaPerDay is requests per key per UTC day; 0 means no quota.
	QuotaPerDay int
}

// Service holds the keys and plans; its methods are safe for concurrent use.
type Service struct {
	now     func() time.Time
	mu      sync.RWMutex
	byValue map[string]Key
	plans   map[string]*plan
}

// Option configures New.
type Option func(*Service)

// WithClock reads the time of each request from now instead of time.Now:
// the throttle refills and the quota's day starts by it, so that tests
// pin it and cannot straddle 00:00 UTC.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

type plan struct {
	Plan
	mu    sync.Mutex
	usage map[string]*usage // by key id
}

// usage is one key's state in one plan.
type usage struct {
	tokens float64
	last   time.Time
	day    time.Time // the start of the quota period used counts
	used   int
}

// New returns a service without keys or plans.
func New(opts ...Option) *Service {
	s := &Service{now: time.Now, byValue: map[string]Key{}, plans: map[string]*plan{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// PutKey creates or replaces a key (by id).
func (s *Service) PutKey(k Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v, old := range s.byValue {
		if old.ID == k.ID {
			delete(s.byValue, v)
		}
	}
	s.byValue[k.Value] = k
}

// PutPlan creates or replaces a plan (by id). A key that stays in the plan
// keeps what it used of the day's quota, as an update of a usage plan on
// AWS does.
func (s *Service) PutPlan(p Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	np := &plan{Plan: p, usage: map[string]*usage{}}
	if old := s.plans[p.ID]; old != nil {
		old.mu.Lock()
		for id, u := range old.usage {
			np.usage[id] = &usage{day: u.day, used: u.used}
		}
		old.mu.Unlock()
	}
	s.plans[p.ID] = np
}

// Check admits or refuses one request to stage of API apiID carrying the
// API key value (empty when it sent none), at the service clock's time,
// and counts it against the key's plan when it is admitted.
func (s *Service) Check(apiID, stage, value string) (Key, error) {
	s.mu.RLock()
	k, ok := s.byValue[value]
	var p *plan
	if ok && value != "" {
		p = s.planFor(k.ID, Stage{apiID, stage})
	}
	s.mu.RUnlock()
	if p == nil {
		return Key{}, ErrForbidden
	}
	return k, p.take(k.ID, s.now())
}

// planFor is the plan of key id that covers st (a key is in at most one
// plan per stage on AWS).
func (s *Service) planFor(id string, st Stage) *plan {
	for _, p := range s.plans {
		if contains(p.KeyIDs, id) && containsStage(p.Stages, st) {
			return p
		}
	}
	return nil
}

// take counts one request of key id at now: the quota first (a request
// over it is refused even when tokens are left), then the throttle, which
// refuses without using any quota.
func (p *plan) take(id string, now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.usage[id]
	if u == nil {
		u = &usage{}
		p.usage[id] = u
	}
	if u.last.IsZero() {
		u.tokens, u.last = float64(p.BurstLimit), now
	}
	if day := quotaDay(now); !u.day.Equal(day) {
		u.day, u.used = day, 0
	}
	if p.QuotaPerDay > 0 && u.used >= p.QuotaPerDay {
		return ErrQuotaExceeded
	}
	if p.RateLimit > 0 {
		// A token bucket, written here as the gateway's stage throttle is:
		// no module the repository requires provides one.
		if elapsed := now.Sub(u.last).Seconds(); elapsed > 0 {
			u.tokens = min(float64(p.BurstLimit), u.tokens+elapsed*p.RateLimit)
			u.last = now
		}
		if u.tokens < 1 {
			return ErrThrottled
		}
		u.tokens--
	}
	u.used++
	return nil
}

// quotaDay is the start of the quota period (DAY) that now falls in:
// 00:00 UTC of now's UTC date, whatever now's location.
func quotaDay(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsStage(list []Stage, s Stage) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
