package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/acme/request-dump/local/stack"
)

// wait polls the stack's health until it answers ready, for scripts that
// start it in the background. With --pid it gives up as soon as that
// process, the stack being started, has exited: a serve that failed at once
// (its port taken) is not waited for until the timeout, and what answers on
// the port meanwhile (another checkout's stack) is not mistaken for it.
func wait(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultEndpoint(), "the local stack's edge `URL` (env LOCAL_AWS_ENDPOINT)")
	tokenFile := tokenFileFlag(fs, "read")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	pid := fs.Int("pid", 0, "give up as soon as process `PID` (the local-aws serve being started) has exited")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return fmt.Errorf("%w: wait: --timeout %s: want a positive duration", errUsage, *timeout)
	}
	if *pid < 0 {
		return fmt.Errorf("%w: wait: --pid %d: want a process id", errUsage, *pid)
	}
	if err := stack.CheckEndpoint(*endpoint); err != nil {
		return fmt.Errorf("%w: wait: --endpoint: %v", errUsage, err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	exited := fmt.Errorf("the local stack's process %d exited before it was ready (its log says why)", *pid)
	if *pid > 0 {
		var stop context.CancelCauseFunc
		ctx, stop = context.WithCancelCause(ctx)
		defer stop(nil)
		go func() {
			for running(*pid) {
				select {
				case <-ctx.Done():
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
			stop(exited)
		}()
	}
	client := &stack.Client{Endpoint: *endpoint, TokenFile: *tokenFile}
	if err := client.WaitReady(ctx, 10*time.Millisecond); err != nil {
		if errors.Is(context.Cause(ctx), exited) {
			return exited
		}
		return fmt.Errorf("the local stack at %s is not ready after %s: %v", *endpoint, *timeout, err)
	}
	return nil
}

// running reports whether process pid exists: signal 0 checks without
// sending anything, and EPERM means it exists under another user.
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
