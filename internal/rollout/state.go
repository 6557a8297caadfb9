package rollout

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A rollout keeps its state where AWS keeps the traffic it moves: in the
// live alias. Its routing config holds the share, its description this
// record, rewritten at every poll (the heartbeat) with the RevisionId of
// the previous write, so that two writers never both succeed:
//
//	rollout r20261204T053100-4f2a 3->4 canary 10% since=2026-12-04T05:31:00Z beat=2026-12-04T05:31:42Z by=alice host=atlantis-0 pid=812
//
// A description that does not start with "rollout " means no rollout is in
// progress. Lambda caps descriptions at 256 characters.
type state struct {
	ID       string
	Old, New string
	Phase    string // smoke, canary, linear, promoted (verifying the public stage)
	Percent  int
	Since    time.Time // when the phase began
	Beat     time.Time // the last heartbeat
	By       string
	Host     string
	PID      int
}

// The phases of a rollout in progress.
const (
	phaseSmoke    = "smoke"
	phaseShare    = "share"
	phaseVerify   = "verify"
	maxDescLength = 256
)

var stateRE = regexp.MustCompile(`^rollout (r[0-9T]+-[0-9a-f]{4}) ([0-9]+)->([0-9]+) ([a-z]+) ([0-9]{1,3})% since=(\S+) beat=(\S+) by=(\S+) host=(\S+) pid=([0-9]+)$`)

func (s state) String() string {
	return fmt.Sprintf("rollout %s %s->%s %s %d%% since=%s beat=%s by=%s host=%s pid=%d",
		s.ID, s.Old, s.New, s.Phase, s.Percent, s.Since.UTC().Format(time.RFC3339), s.Beat.UTC().Format(time.RFC3339), s.By, s.Host, s.PID)
}

// parseState reads a live alias's description; ok is false when it records
// no rollout in progress.
func parseState(desc string) (s state, ok bool) {
	m := stateRE.FindStringSubmatch(desc)
	if m == nil {
		return state{}, false
	}
	s = state{ID: m[1], Old: m[2], New: m[3], Phase: m[4], By: m[8], Host: m[9]}
	s.Percent, _ = strconv.Atoi(m[5])
	s.PID, _ = strconv.Atoi(m[10])
	var err1, err2 error
	s.Since, err1 = time.Parse(time.RFC3339, m[6])
	s.Beat, err2 = time.Parse(time.RFC3339, m[7])
	return s, err1 == nil && err2 == nil
}

// describe is how a state reads in a message.
func (s state) describe(now time.Time) string {
	what := fmt.Sprintf("%d %% of the traffic on version %s", s.Percent, s.New)
	switch s.Phase {
	case phaseSmoke:
		what = "smoke-testing version " + s.New + " on the candidate stage"
	case phaseVerify:
		what = "version " + s.New + " live, smoke-testing the public stage"
	}
	return fmt.Sprintf("rollout %s of version %s over %s (%s since %s, last heartbeat %s ago, run by %s on %s, pid %d)",
		s.ID, s.New, s.Old, what, s.Since.UTC().Format(time.RFC3339), now.Sub(s.Beat).Round(time.Second), s.By, s.Host, s.PID)
}

// abandoned reports why a rollout in progress can be taken over: its
// process is gone from this host, or its heartbeat is older than stale.
func (s state) abandoned(now time.Time, stale time.Duration) (string, bool) {
	if host, _ := os.Hostname(); ownerField(host) == s.Host && !alive(s.PID) {
		return fmt.Sprintf("its process %d on this host is gone", s.PID), true
	}
	if age := now.Sub(s.Beat); age > stale {
		return fmt.Sprintf("its last heartbeat is %s old, more than %s", age.Round(time.Second), stale), true
	}
	return "", false
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

func newID(now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return "r" + now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}

// ownerField makes a name fit the record: no spaces, at most 40 bytes.
func ownerField(s string) string {
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r == '=' || r > '~' {
			return '_'
		}
		return r
	}, s)
	if s == "" {
		s = "unknown"
	}
	return s[:min(len(s), 40)]
}

// clip fits a description into Lambda's limit.
func clip(s string) string {
	if len(s) <= maxDescLength {
		return s
	}
	return s[:maxDescLength-3] + "..."
}
