package lambda_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/lambda"
)

// TestCloseStopsTheRuntimeOfADeadRIE: when RIE dies during an invocation,
// the runtime it started (in a process group of its own) is still in the
// handler. The environment is shut down in the background; Close waits for
// that, and the shutdown kills the runtime rather than leaving it to run
// until its handler returns (a minute here, forever for a handler that
// loops).
func TestCloseStopsTheRuntimeOfADeadRIE(t *testing.T) {
	f, _ := deploy(t, lambda.Spec{Timeout: 2 * time.Minute})
	invoke(t, f, "warm", `{"action":"echo"}`)
	env := f.Environments()[0]
	require.NotZero(t, env.RuntimePID)
	mark := filepath.Join(t.TempDir(), "in-handler")
	done := invokeAsync(f, "victim", fmt.Sprintf(`{"action":"sleep","sleep_ms":60000,"mark":%q}`, mark))
	require.Eventually(t, func() bool { _, err := os.Stat(mark); return err == nil }, 30*time.Second, time.Millisecond, "the invocation reached the handler")
	require.NoError(t, syscall.Kill(env.PID, syscall.SIGKILL))
	o := <-done
	require.NoError(t, o.err)
	require.True(t, o.res.Crash)

	require.NoError(t, f.Close())
	assert.False(t, alive(env.PID), "aws-lambda-rie %d outlived Close", env.PID)
	assert.False(t, alive(env.RuntimePID), "the runtime %d of the dead RIE outlived Close", env.RuntimePID)
}
