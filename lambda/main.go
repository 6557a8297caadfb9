// Command bootstrap is the request-dump Lambda function (runtime
// provided.al2023): for every API Gateway proxy request it writes one JSON
// line of the configured fields to stdout, which Lambda sends to CloudWatch
// Logs, and answers with the request ids. See lambda/README.md.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/acme/request-dump/lambda/dump"
)

func main() {
	if err := run(); err != nil {
		// A JSON line at FATAL passes every AWS_LAMBDA_LOG_LEVEL filter (one
		// at ERROR is dropped under FATAL); Lambda then reports the failed
		// init as Runtime.ExitError.
		h := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.LevelKey {
				a.Value = slog.StringValue("FATAL")
			}
			return a
		}})
		slog.New(h).Log(context.Background(), dump.LevelFatal, "invalid configuration", "error", err.Error())
		os.Exit(1)
	}
}

func run() error {
	if err := dump.CheckNames(os.Environ()); err != nil {
		return err
	}
	cfg, err := dump.LoadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	lambda.Start(dump.New(cfg).Handle)
	return nil
}
