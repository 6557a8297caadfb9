package stack_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/lambda/dump"
	"github.com/acme/request-dump/local/stacktest"
)

// TestTheLargestDumpIsOneEventAFilterFinds deploys dev with the largest
// dump line its settings allow and a body far larger: the line must reach
// CloudWatch Logs as one event, which the JSON filter pattern finds. With
// the earlier cap of 1,048,550 bytes the line passed Lambda's 256 KB and
// was split into plain-text events no filter could find.
func TestTheLargestDumpIsOneEventAFilterFinds(t *testing.T) {
	env := stacktest.Start(t, stacktest.WithConfig(func(cfg *envconfig.Config) {
		cfg.Dump.Fields = map[string]string{"event_id": "body.event_id", "whole": "body"}
		cfg.Dump.MaxEventBytes = dump.MaxEventBytesLimit
		cfg.Dump.MaxValueBytes = dump.MaxEventBytesLimit
	}))
	body := fmt.Sprintf(`{"event_id":"largest-1","type":"t","attributes":{"pad":%q}}`, strings.Repeat("x", 2<<20))
	status, answer := post(t, env.Outputs["api_url"].String()+"/events", body)
	require.Equal(t, http.StatusOK, status, string(answer))
	got := filter(t, env.URL, env.Outputs["log_group_name"].String(), `{ $.fields.event_id = "largest-1" }`)
	require.Len(t, got, 1, "one event, found by the filter")
	assert.Contains(t, got[0], `"truncated":["whole"]`)
	assert.LessOrEqual(t, len(got[0]), dump.MaxEventBytesLimit)
}
