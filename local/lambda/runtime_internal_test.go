package lambda

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRuntimeExit: hasExited is false (sample true) while the runtime runs
// and true once it has exited, as a zombie and once reaped; each check reads
// the kept-open /proc/<pid>/stat (or status) afresh.
func TestRuntimeExit(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := watchRuntime(cmd.Process.Pid)
	t.Cleanup(r.close)
	require.NotNil(t, r.stat)

	assert.False(t, r.hasExited())
	assert.False(t, r.hasExited(), "a second check looks afresh")
	assert.True(t, r.sample(), "sample sees it run")
	assert.Positive(t, r.peakMB, "and reads its peak memory (VmHWM)")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	require.Eventually(t, r.hasExited, 5*time.Second, time.Millisecond, "a zombie counts as exited")
	assert.False(t, r.sample(), "sample sees the zombie too")
	_ = cmd.Wait()
	assert.True(t, r.hasExited(), "so does a reaped process")
	assert.False(t, r.sample())
}
