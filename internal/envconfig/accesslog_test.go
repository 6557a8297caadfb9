package envconfig

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAccessLogIsTheStages(t *testing.T) {
	cfg, err := LoadRoot(repoRoot(t), "dev")
	require.NoError(t, err)
	group, format, err := cfg.AccessLog()
	require.NoError(t, err)
	assert.Equal(t, "/aws/apigateway/request-dump-dev/access", group)

	var fields map[string]string
	require.NoError(t, json.Unmarshal([]byte(format), &fields), "the stage logs JSON lines")
	assert.Equal(t, "$context.requestId", fields["requestId"])
	assert.Equal(t, "$context.status", fields["status"])
}
