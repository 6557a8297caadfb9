package main

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/logs"
)

// TestFollowWindow: following, each round reads from a second before the
// newest event printed, never further back when nothing new came, prints
// nothing twice, and forgets the events it can no longer read again.
func TestFollowWindow(t *testing.T) {
	store, err := logs.NewStore("")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	srv := httptest.NewServer(logs.New(store))
	t.Cleanup(srv.Close)
	client, err := logsClient(context.Background(), srv.URL, "us-east-1")
	require.NoError(t, err)
	const group = "/aws/lambda/tail"

	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i := range 6 {
		require.NoError(t, store.Append(group, "s", logs.Event{Timestamp: t0.Add(time.Duration(i) * time.Second), Message: "event " + string(rune('a'+i))}))
	}
	w := newWindow(t0)
	var out bytes.Buffer
	require.NoError(t, w.read(context.Background(), client, group, "", &out))
	assert.Equal(t, 6, strings.Count(out.String(), "\n"))
	assert.Equal(t, t0.Add(4*time.Second).UnixMilli(), w.start.UnixMilli(), "a second before the newest event")
	assert.Len(t, w.seen, 2, "only the events at or after the start are remembered")

	out.Reset()
	for range 3 {
		require.NoError(t, w.read(context.Background(), client, group, "", &out))
	}
	assert.Empty(t, out.String(), "nothing printed twice")
	assert.Equal(t, t0.Add(4*time.Second).UnixMilli(), w.start.UnixMilli(), "an idle round does not move the start back")

	require.NoError(t, store.Append(group, "s", logs.Event{Timestamp: t0.Add(5 * time.Second), Message: "late, same second"}))
	require.NoError(t, w.read(context.Background(), client, group, "", &out))
	assert.Equal(t, 1, strings.Count(out.String(), "\n"))
	assert.Contains(t, out.String(), " s late, same second\n", "an event ingested late within the window")
}

func TestShortStreamKeepsTheVersion(t *testing.T) {
	assert.Equal(t, "[3]0e36d99d", shortStream("2026/12/04/[3]0e36d99ddd7eb26e3956d8b447100c8a"), "a canary's versions stay apart")
	assert.Equal(t, "[$LATEST]0e36d99d", shortStream("2026/12/04/[$LATEST]0e36d99ddd7eb26e3956d8b447100c8a"))
	assert.Equal(t, "short", shortStream("short"))
}

// TestLogsWithoutAStackSaysHowToStartOne: with nothing listening at the
// endpoint, logs names it and the command that starts a stack, instead of
// the SDK's retry error alone.
func TestLogsWithoutAStackSaysHowToStartOne(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	endpoint := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"env", []string{"--env", "stg"}, "start one with make local-up ENV=stg, or point --endpoint (LOCAL_AWS_ENDPOINT) at the one running"},
		{"group", []string{"--group", "/aws/lambda/x"}, "start one with make local-up, or point --endpoint (LOCAL_AWS_ENDPOINT) at the one running"},
		{"following", []string{"--env", "dev", "--follow"}, "start one with make local-up ENV=dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"logs", "--endpoint", endpoint}, tt.args...), &bytes.Buffer{}, &bytes.Buffer{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "logs: no local stack answers at "+endpoint+" (")
			assert.Contains(t, err.Error(), "connection refused")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
