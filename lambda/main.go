// Command bootstrap is the request-dump Lambda function (runtime
// provided.al2023): for every API Gateway proxy request it writes one JSON
// line of the configured fields to stdout, which Lambda sends to CloudWatch
// Logs, and answers with the request ids. See lambda/README.md.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/acme/request-dump/lambda/dump"
)

func main() {
	if err := run(); err != nil {
		// A JSON line at ERROR passes any AWS_LAMBDA_LOG_LEVEL filter; Lambda
		// then reports the failed init as Runtime.ExitError.
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("invalid configuration", "error", err.Error())
		os.Exit(1)
	}
}

func run() error {
	cfg, err := dump.LoadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	lambda.Start(dump.New(cfg).Handle)
	return nil
}
