// Command local-aws runs the local AWS stack (S3, CloudWatch Logs, Lambda
// under aws-lambda-rie, API Gateway REST, CloudWatch, SSM Parameter Store,
// STS) on one edge endpoint, deploys an env onto it from the same
// envs/<env> files Terraform reads, and tails a function's logs.
//
//	local-aws serve  [--addr 127.0.0.1:4566] [--data-dir DIR] [--fsync-logs] [--token-file FILE] [--region R] [--bucket NAME]... [--max-concurrency N] [--emulator qemu-aarch64] [--cpu-profile FILE] [-v]
//	local-aws deploy --env ENV [--endpoint URL] [--token-file FILE] [--zip FILE] [--outputs FILE] [--keep-live]
//	local-aws logs   (--env ENV | --group NAME) [--endpoint URL] [--follow] [--filter PATTERN] [--since 10m]
//	local-aws wait   [--endpoint URL] [--token-file FILE] [--timeout 10s] [--pid PID]
//
// serve writes a new control token at every start to --token-file
// (default .local/control-token in the repository, or $LOCAL_AWS_TOKEN_FILE),
// readable by its user only; deploy and wait send it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/local/stack"
)

const usage = `usage:
  local-aws serve  [--addr 127.0.0.1:4566] [--data-dir DIR] [--fsync-logs] [--token-file FILE] [--region R] [--bucket NAME]... [--max-concurrency N] [--emulator qemu-aarch64] [--cpu-profile FILE] [-v]
  local-aws deploy --env ENV [--endpoint URL] [--token-file FILE] [--zip FILE] [--outputs FILE] [--keep-live]
  local-aws logs   (--env ENV | --group NAME) [--endpoint URL] [--follow] [--filter PATTERN] [--since DURATION]
  local-aws wait   [--endpoint URL] [--token-file FILE] [--timeout DURATION] [--pid PID]
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

// defaultTokenFile is where serve writes the control token and deploy and
// wait read it: $LOCAL_AWS_TOKEN_FILE, else .local/control-token in the
// repository (in the working directory outside one).
func defaultTokenFile() string {
	if v := os.Getenv("LOCAL_AWS_TOKEN_FILE"); v != "" {
		return v
	}
	if root, err := repo.Root(); err == nil {
		return filepath.Join(root, stack.DefaultTokenFile)
	}
	return stack.DefaultTokenFile
}

// tokenFileFlag adds --token-file to fs.
func tokenFileFlag(fs *flag.FlagSet, what string) *string {
	return fs.String("token-file", defaultTokenFile(), what+" the control token in `FILE` (env LOCAL_AWS_TOKEN_FILE)")
}

func defaultEndpoint() string {
	if v := os.Getenv("LOCAL_AWS_ENDPOINT"); v != "" {
		return v
	}
	return "http://127.0.0.1:4566"
}
