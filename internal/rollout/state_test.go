package rollout

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The record fits Lambda's description limit with the longest fields, reads
// back as written, and tells an abandoned rollout from a running one.
func TestStateRecord(t *testing.T) {
	now := time.Date(2026, 12, 4, 5, 31, 42, 0, time.UTC)
	host, _ := os.Hostname()
	s := state{
		ID: newID(now), Old: "4294967295", New: "4294967296", Phase: phaseShare, Percent: 99,
		Since: now.Add(-time.Minute), Beat: now, By: ownerField(strings.Repeat("alice b=", 20)), Host: ownerField(host), PID: os.Getpid(),
	}
	assert.LessOrEqual(t, len(s.String()), maxDescLength)
	assert.NotContains(t, s.By, " ")
	got, ok := parseState(s.String())
	require.True(t, ok, s.String())
	assert.Equal(t, s, got)

	_, running := got.abandoned(now.Add(time.Second), time.Minute)
	assert.False(t, running, "this process, fresh heartbeat")
	why, gone := got.abandoned(now.Add(2*time.Minute), time.Minute)
	assert.True(t, gone)
	assert.Equal(t, "its last heartbeat is 2m0s old, more than 1m0s", why)
	dead := got
	dead.PID = 1 << 30
	why, gone = dead.abandoned(now, time.Hour)
	assert.True(t, gone)
	assert.Equal(t, "its process 1073741824 on this host is gone", why)

	for _, desc := range []string{"", "Serves the public stage.", "live: version 3 since 2026-12-04T05:31:00Z, promoted by rollout r1", "rollout r1 3->4"} {
		_, ok := parseState(desc)
		assert.False(t, ok, desc)
	}
}
