package stack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/local/stacktest"
)

// faultZip builds testdata/faultfn for this machine and zips it as a
// deployment package.
func faultZip(t *testing.T) []byte {
	t.Helper()
	code, err := stacktest.BuildZip("./local/stack/testdata/faultfn", "")
	require.NoError(t, err)
	return code
}

// TestFaultsGetAWSAnswers deploys dev with a function that fails on
// request, behind an integration timeout of 2 s: short enough for a test,
// long enough that a cold start or a runtime restart on a slow machine
// never passes it.
func TestFaultsGetAWSAnswers(t *testing.T) {
	env := stacktest.Start(t, stacktest.WithZip(faultZip(t)), stacktest.WithConfig(func(cfg *envconfig.Config) {
		cfg.API.IntegrationTimeoutMs = 2000
	}))
	apiURL := env.Outputs["api_url"].String()

	tests := []struct {
		name   string
		body   string
		status int
		answer string
	}{
		{"a panic", `{"event_id":"f-1","type":"t","fault":"panic"}`, 502, `{"message": "Internal server error"}`},
		{"the next request after a panic is served", `{"event_id":"f-2","type":"t"}`, 200, `{"ok":true}`},
		{"a handler error", `{"event_id":"f-3","type":"t","fault":"error"}`, 502, `{"message": "Internal server error"}`},
		{"a malformed proxy result", `{"event_id":"f-4","type":"t","fault":"malformed"}`, 502, `{"message": "Internal server error"}`},
		{"past the integration timeout", `{"event_id":"f-5","type":"t","fault":"sleep","sleep_ms":4000}`, 504, `{"message": "Endpoint request timed out"}`},
		{"served again after the timeout", `{"event_id":"f-6","type":"t"}`, 200, `{"ok":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, apiURL+"/events", tt.body)
			assert.Equal(t, tt.status, status)
			assert.JSONEq(t, tt.answer, string(body))
		})
	}
}

// TestExecutionEnvironmentsKilledUnderLoad kills every execution
// environment's RIE while requests are in flight (each invocation takes
// 50 ms, so each environment has one): those get 502, the pool starts new
// environments, and every request answered 200 has its dump in the log group
// exactly once. Each phase waits for what it needs (answers before the kill,
// answers after it) rather than for a fixed time, which a slow machine
// stretches.
func TestExecutionEnvironmentsKilledUnderLoad(t *testing.T) {
	env := stacktest.Start(t, stacktest.WithZip(faultZip(t)), stacktest.WithConfig(func(cfg *envconfig.Config) {
		cfg.API.ThrottlingRateLimit, cfg.API.ThrottlingBurstLimit = 0, 0 // this test is about the pool
	}))
	st, url, apiURL := env.Stack, env.URL, env.Outputs["api_url"].String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

	const (
		clients = 16
		// enough answers before the kill for every client to be busy, and
		// after it to show the pool recovered more than once over
		warmAnswers, afterAnswers = 4 * clients, 2 * clients
		patience                  = 30 * time.Second
	)
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		answered []string // event ids of the 200s
		afterOK  int      // 200s sent after the kill
		killed   = make(chan struct{})
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for c := range clients {
		wg.Go(func() {
			for n := 0; ; n++ {
				after := false
				select {
				case <-stop:
					return
				case <-killed:
					after = true
				default:
				}
				id := fmt.Sprintf("kill-%d-%d", c, n)
				body := fmt.Sprintf(`{"event_id":%q,"type":"load","fault":"sleep","sleep_ms":50}`, id)
				resp, err := client.Post(apiURL+"/events", "application/json", strings.NewReader(body))
				if !assert.NoError(t, err) {
					return
				}
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				if resp.StatusCode == http.StatusOK {
					answered = append(answered, id)
					if after {
						afterOK++
					}
				}
				mu.Unlock()
			}
		})
	}
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad)
	okCount := func() int { mu.Lock(); defer mu.Unlock(); return len(answered) }
	afterCount := func() int { mu.Lock(); defer mu.Unlock(); return afterOK }

	require.Eventually(t, func() bool { return okCount() >= warmAnswers }, patience, 5*time.Millisecond, "the load is served before the kill")
	envs := st.Environments("request-dump-dev")
	require.NotEmpty(t, envs, "the load started execution environments")
	for _, e := range envs {
		require.NoError(t, syscall.Kill(e.PID, syscall.SIGKILL))
	}
	close(killed)
	require.Eventually(t, func() bool { return afterCount() >= afterAnswers }, patience, 5*time.Millisecond, "the pool recovered: requests after the kill were served")
	stopLoad()

	t.Logf("killed %d environments; answers %v", len(envs), statuses)
	for status := range statuses {
		assert.Contains(t, []int{http.StatusOK, http.StatusBadGateway}, status, "an in-flight request of a killed environment gets 502, every other one 200")
	}
	assert.Positive(t, statuses[http.StatusBadGateway], "requests were in flight when their environments were killed")

	seen := map[string]int{}
	for _, m := range filter(t, url, "/aws/lambda/request-dump-dev", `{ $.fields.event_id = "kill-*" }`) {
		var dump struct {
			Fields struct {
				EventID string `json:"event_id"`
			} `json:"fields"`
		}
		require.NoError(t, json.Unmarshal([]byte(m), &dump))
		seen[dump.Fields.EventID]++
	}
	for _, id := range answered {
		assert.Equal(t, 1, seen[id], "the dump of %s, answered 200", id)
	}
}
