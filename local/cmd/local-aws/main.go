// Command local-aws runs the local AWS stack (S3, CloudWatch Logs, Lambda
// under aws-lambda-rie, API Gateway REST) on one edge endpoint, deploys an
// env onto it from the same envs/<env> files Terraform reads, and tails a
// function's logs.
//
//	local-aws serve  [--addr 127.0.0.1:4566] [--data-dir DIR] [--region R] [--bucket NAME]... [--max-concurrency N] [--emulator qemu-aarch64] [--cpu-profile FILE] [-v]
//	local-aws deploy --env ENV [--endpoint URL] [--zip FILE] [--outputs FILE]
//	local-aws logs   (--env ENV | --group NAME) [--endpoint URL] [--follow] [--filter PATTERN] [--since 10m]
//	local-aws wait   [--endpoint URL] [--timeout 10s]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `usage:
  local-aws serve  [--addr 127.0.0.1:4566] [--data-dir DIR] [--region R] [--bucket NAME]... [--max-concurrency N] [--emulator qemu-aarch64] [--cpu-profile FILE] [-v]
  local-aws deploy --env ENV [--endpoint URL] [--zip FILE] [--outputs FILE]
  local-aws logs   (--env ENV | --group NAME) [--endpoint URL] [--follow] [--filter PATTERN] [--since DURATION]
  local-aws wait   [--endpoint URL] [--timeout DURATION]
Run "local-aws <command> -h" for a command's flags.`

// errUsage marks an error whose message is a usage error.
var errUsage = errors.New("usage")

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "local-aws:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command given", errUsage)
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "deploy":
		return deploy(ctx, args, stdout, stderr)
	case "logs":
		return tail(ctx, args, stdout, stderr)
	case "wait":
		return wait(ctx, args, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("%w: unknown command %q (want serve, deploy, logs or wait)", errUsage, cmd)
	}
}

// parse parses a command's flags and refuses stray arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected argument %q", errUsage, fs.Name(), strings.Join(fs.Args(), " "))
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func defaultEndpoint() string {
	if v := os.Getenv("LOCAL_AWS_ENDPOINT"); v != "" {
		return v
	}
	return "http://127.0.0.1:4566"
}
