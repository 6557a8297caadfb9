package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// hogVar set in its environment makes this program a CPU hog: one busy
// thread until its parent dies, and never longer than hogLimit.
const (
	hogVar   = "LOCAL_BENCH_HOG"
	hogLimit = 30 * time.Minute
)

func hog() {
	deadline := time.Now().Add(hogLimit)
	for n := 0; ; n++ {
		if n%(1<<20) == 0 && (time.Now().After(deadline) || os.Getppid() == 1) {
			return
		}
	}
}

// backgroundLoad starts n hogs (this program again, with GOMAXPROCS=1) and
// returns what stops them. They also die with this process.
func backgroundLoad(n int) (func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var cmds []*exec.Cmd
	stop := func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	for range n {
		c := exec.Command(self)
		c.Env = []string{hogVar + "=1", "GOMAXPROCS=1"}
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("background load: %w", err)
		}
		cmds = append(cmds, c)
	}
	return stop, nil
}
