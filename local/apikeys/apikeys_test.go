package apikeys_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/apikeys"
)

func service(rate float64, burst, quota int) *apikeys.Service {
	s := apikeys.New()
	s.PutKey(apikeys.Key{ID: "k1", Name: "smoke", Value: "value-1"})
	s.PutKey(apikeys.Key{ID: "k2", Name: "orphan", Value: "value-2"})
	s.PutPlan(apikeys.Plan{ID: "p1", Stages: []apikeys.Stage{{"api", "stg"}, {"api", "candidate"}}, KeyIDs: []string{"k1"}, RateLimit: rate, BurstLimit: burst, QuotaPerDay: quota})
	return s
}

// Who gets in: a key of a plan that covers the stage, and no one else
// (API Gateway answers all the others 403 Forbidden).
func TestCheckKeys(t *testing.T) {
	s := service(100, 100, 0)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, stage, value string
		want               error
	}{
		{"key of the plan, live stage", "stg", "value-1", nil},
		{"key of the plan, candidate stage", "candidate", "value-1", nil},
		{"no key", "stg", "", apikeys.ErrForbidden},
		{"unknown key", "stg", "value-9", apikeys.ErrForbidden},
		{"key of no plan", "stg", "value-2", apikeys.ErrForbidden},
		{"stage the plan does not cover", "prod", "value-1", apikeys.ErrForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := s.Check("api", c.stage, c.value, now)
			assert.ErrorIs(t, err, c.want)
			if c.want == nil {
				assert.Equal(t, "k1", k.ID)
			}
		})
	}
}

// The plan's throttle is a token bucket per key: burst at once, then rate
// per second; the quota counts admitted requests per UTC day.
func TestCheckLimits(t *testing.T) {
	day := time.Date(2026, 12, 4, 23, 59, 0, 0, time.UTC)
	type step struct {
		at   time.Duration // after day
		want error
	}
	for _, c := range []struct {
		name         string
		rate         float64
		burst, quota int
		steps        []step
	}{
		{"burst then throttled", 1, 2, 0, []step{{0, nil}, {0, nil}, {0, apikeys.ErrThrottled}, {time.Second, nil}, {time.Second, apikeys.ErrThrottled}}},
		{"quota used up until 00:00 UTC", 100, 100, 2, []step{{0, nil}, {0, nil}, {0, apikeys.ErrQuotaExceeded}, {59 * time.Second, apikeys.ErrQuotaExceeded}, {60 * time.Second, nil}}},
		{"a throttled request uses no quota", 1, 1, 2, []step{{0, nil}, {0, apikeys.ErrThrottled}, {time.Second, nil}, {2 * time.Second, apikeys.ErrQuotaExceeded}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := service(c.rate, c.burst, c.quota)
			for i, st := range c.steps {
				_, err := s.Check("api", "stg", "value-1", day.Add(st.at))
				require.ErrorIs(t, err, st.want, "request %d", i+1)
				if st.want == nil {
					require.NoError(t, err, "request %d", i+1)
				}
			}
		})
	}
}

// A redeploy (PutPlan again) keeps the day's count.
func TestPutPlanKeepsQuota(t *testing.T) {
	s := service(100, 100, 1)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	_, err := s.Check("api", "stg", "value-1", now)
	require.NoError(t, err)
	s.PutPlan(apikeys.Plan{ID: "p1", Stages: []apikeys.Stage{{"api", "stg"}}, KeyIDs: []string{"k1"}, RateLimit: 100, BurstLimit: 100, QuotaPerDay: 1})
	_, err = s.Check("api", "stg", "value-1", now)
	assert.ErrorIs(t, err, apikeys.ErrQuotaExceeded)
}
