// Command drift writes the drift report of one Terraform root: from the
// plan scripts/drift.sh made (terraform show -json), the resources changed
// outside Terraform and what applying the code would do to each, as the
// Markdown body of the root's drift issue. It names resources and
// attributes, never values: the issue may be read more widely than the
// plan output in the run's log.
//
// Usage: drift -root <root> [-dir <dir>] [-run-url <url>] [-commit <sha>] <plan.json>
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	tfjson "github.com/hashicorp/terraform-json"
)

const usage = `usage: drift -root <root> [-dir <dir>] [-run-url <url>] [-commit <sha>] <plan.json>
  writes the drift report of the plan (terraform show -json) to stdout`

// errUsage marks a command-line error (exit status 2).
var errUsage = errors.New("usage")

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "drift: %v\n", err)
		if errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("drift", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var r Report
	fs.StringVar(&r.Root, "root", "", "")
	fs.StringVar(&r.Dir, "dir", "", "")
	fs.StringVar(&r.RunURL, "run-url", "", "")
	fs.StringVar(&r.Commit, "commit", "", "")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if r.Root == "" || fs.NArg() != 1 {
		return fmt.Errorf("%w: want -root and one plan file", errUsage)
	}
	if r.Dir == "" {
		r.Dir = r.Root
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var plan tfjson.Plan
	if err := json.Unmarshal(data, &plan); err != nil {
		return fmt.Errorf("%s is not a Terraform plan in JSON (terraform show -json): %w", fs.Arg(0), err)
	}
	r.Plan = &plan
	body, err := r.Markdown()
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, body)
	return err
}
