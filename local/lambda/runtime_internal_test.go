package lambda

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestRuntimeExit: hasExited is false while the runtime runs and true once
// it has exited, as a zombie and once reaped, both through its pidfd and
// through the /proc/<pid>/stat fallback for kernels without pidfd_open.
func TestRuntimeExit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pidfd bool
	}{{"pidfd", true}, {"proc stat", false}} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("sleep", "60")
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			r := watchRuntime(cmd.Process.Pid)
			t.Cleanup(r.close)
			require.GreaterOrEqual(t, r.pidfd, 0, "pidfd_open works on Linux 5.3 and later")
			if !tc.pidfd {
				require.NoError(t, unix.Close(r.pidfd))
				r.pidfd = -1
				var err error
				r.stat, err = os.Open("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
				require.NoError(t, err)
			}

			assert.False(t, r.hasExited())
			assert.False(t, r.hasExited(), "a second check looks afresh")
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			require.Eventually(t, r.hasExited, 5*time.Second, time.Millisecond, "a zombie counts as exited")
			_ = cmd.Wait()
			assert.True(t, r.hasExited(), "so does a reaped process")
		})
	}
}
