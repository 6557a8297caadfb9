package apikeys_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/apikeys"
)

// clock is the time the service reads; a test moves it.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func service(c *clock, rate float64, burst, quota int) *apikeys.Service {
	s := apikeys.New(apikeys.WithClock(c.now))
	s.PutKey(apikeys.Key{ID: "k1", Name: "smoke", Value: "value-1"})
	s.PutKey(apikeys.Key{ID: "k2", Name: "orphan", Value: "value-2"})
	s.PutPlan(apikeys.Plan{ID: "p1", Stages: []apikeys.Stage{{"api", "stg"}, {"api", "candidate"}}, KeyIDs: []string{"k1"}, RateLimit: rate, BurstLimit: burst, QuotaPerDay: quota})
	return s
}

// Who gets in: a key of a plan that covers the stage, and no one else
// (API Gateway answers all the others 403 Forbidden).
func TestCheckKeys(t *testing.T) {
	s := service(&clock{time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}, 100, 100, 0)
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
			k, err := s.Check("api", c.stage, c.value)
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
			clk := &clock{}
			s := service(clk, c.rate, c.burst, c.quota)
			for i, st := range c.steps {
				clk.t = day.Add(st.at)
				_, err := s.Check("api", "stg", "value-1")
				require.ErrorIs(t, err, st.want, "request %d", i+1)
				if st.want == nil {
					require.NoError(t, err, "request %d", i+1)
				}
			}
		})
	}
}

// TestQuotaStartsAgainAtTheDayBoundary: a quota of period DAY, used up,
// holds until the next 00:00 UTC and no longer, whatever the month, the
// year or the location of the clock. DAY is the period the repository's
// usage plans set (terraform/service/access.tf), and the only one
// emulated: API Gateway's reference
// (https://docs.aws.amazon.com/apigateway/latest/api/API_QuotaSettings.html)
// lists DAY, WEEK and MONTH as the periods and defines offset as requests
// taken off the first period's limit, not as a shift of the period's
// start; it does not say when a WEEK starts.
func TestQuotaStartsAgainAtTheDayBoundary(t *testing.T) {
	utc := func(y int, m time.Month, d, h, min, s, ns int) time.Time {
		return time.Date(y, m, d, h, min, s, ns, time.UTC)
	}
	jst := time.FixedZone("JST", 9*60*60)
	for _, c := range []struct {
		name     string
		used, at time.Time // the request that uses the quota, the next one
		want     error
	}{
		{"later the same day", utc(2026, 12, 4, 0, 0, 0, 0), utc(2026, 12, 4, 23, 59, 59, 999999999), apikeys.ErrQuotaExceeded},
		{"at 00:00 UTC", utc(2026, 12, 4, 23, 59, 59, 999999999), utc(2026, 12, 5, 0, 0, 0, 0), nil},
		{"days later", utc(2026, 12, 4, 12, 0, 0, 0), utc(2026, 12, 9, 12, 0, 0, 0), nil},
		{"into the next month", utc(2026, 11, 30, 23, 0, 0, 0), utc(2026, 12, 1, 0, 0, 0, 0), nil},
		{"into the next year", utc(2026, 12, 31, 23, 0, 0, 0), utc(2027, 1, 1, 0, 0, 0, 0), nil},
		{"into a leap day", utc(2028, 2, 28, 23, 0, 0, 0), utc(2028, 2, 29, 0, 0, 0, 0), nil},
		{"a clock in JST, before 09:00 JST", time.Date(2026, 12, 5, 0, 30, 0, 0, jst), time.Date(2026, 12, 5, 8, 59, 59, 0, jst), apikeys.ErrQuotaExceeded},
		{"a clock in JST, at 09:00 JST", time.Date(2026, 12, 5, 8, 59, 59, 0, jst), time.Date(2026, 12, 5, 9, 0, 0, 0, jst), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := &clock{c.used}
			s := service(clk, 100, 100, 1)
			_, err := s.Check("api", "stg", "value-1")
			require.NoError(t, err)
			_, err = s.Check("api", "stg", "value-1")
			require.ErrorIs(t, err, apikeys.ErrQuotaExceeded, "the quota of 1 is used up")
			clk.t = c.at
			_, err = s.Check("api", "stg", "value-1")
			if c.want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, c.want)
			}
		})
	}
}

// A redeploy (PutPlan again) keeps the day's count.
func TestPutPlanKeepsQuota(t *testing.T) {
	s := service(&clock{time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}, 100, 100, 1)
	_, err := s.Check("api", "stg", "value-1")
	require.NoError(t, err)
	s.PutPlan(apikeys.Plan{ID: "p1", Stages: []apikeys.Stage{{"api", "stg"}}, KeyIDs: []string{"k1"}, RateLimit: 100, BurstLimit: 100, QuotaPerDay: 1})
	_, err = s.Check("api", "stg", "value-1")
	assert.ErrorIs(t, err, apikeys.ErrQuotaExceeded)
}
