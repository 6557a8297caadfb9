package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/acme/request-dump/local/stack"
)

// wait polls the stack's health until it answers ready, for scripts that
// start it in the background.
func wait(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultEndpoint(), "the local stack's edge `URL` (env LOCAL_AWS_ENDPOINT)")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return fmt.Errorf("%w: wait: --timeout %s: want a positive duration", errUsage, *timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &stack.Client{Endpoint: *endpoint}
	delay := 5 * time.Millisecond
	for {
		h, err := client.Health(ctx)
		if err == nil && h.Status == "ready" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the local stack at %s is not ready after %s: %v", *endpoint, *timeout, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}
