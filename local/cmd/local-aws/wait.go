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
	tokenFile := tokenFileFlag(fs, "read")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return fmt.Errorf("%w: wait: --timeout %s: want a positive duration", errUsage, *timeout)
	}
	if err := stack.CheckEndpoint(*endpoint); err != nil {
		return fmt.Errorf("%w: wait: --endpoint: %v", errUsage, err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &stack.Client{Endpoint: *endpoint, TokenFile: *tokenFile}
	if err := client.WaitReady(ctx, 10*time.Millisecond); err != nil {
		return fmt.Errorf("the local stack at %s is not ready after %s: %v", *endpoint, *timeout, err)
	}
	return nil
}
