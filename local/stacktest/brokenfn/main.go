// Command brokenfn is the request-dump function with one deliberate fault,
// chosen when it is built (go build -ldflags "-X main.fault=<fault>"): a
// build that passes the smoke test, which sends no such event, but fails
// real traffic, so that only the canary and the env's alarms can catch it.
// The rollout's tests and make demo-rollout deploy it; it is never built
// into an artifact.
//
//	error-on:<type>    an event of that type gets a function error (API Gateway answers 502)
//	no-dump-on:<type>  an event of that type is answered 200 without its dump line
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/acme/request-dump/lambda/dump"
)

// fault is set at build time.
var fault string

func main() {
	if err := run(); err != nil {
		slog.Error("invalid configuration", "error", err.Error())
		os.Exit(1)
	}
}

func run() error {
	kind, eventType, ok := strings.Cut(fault, ":")
	if !ok || eventType == "" || (kind != "error-on" && kind != "no-dump-on") {
		return fmt.Errorf("brokenfn was built with fault %q: build it with -ldflags \"-X main.fault=error-on:<type>\" or \"-X main.fault=no-dump-on:<type>\"", fault)
	}
	cfg, err := dump.LoadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	d := dump.New(cfg)
	lambda.Start(func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		var body struct{ Type string }
		if json.Unmarshal([]byte(req.Body), &body) != nil || body.Type != eventType {
			return d.Handle(ctx, req)
		}
		if kind == "error-on" {
			return events.APIGatewayProxyResponse{}, errors.New("brokenfn: " + eventType + " events are broken in this build")
		}
		lc, _ := lambdacontext.FromContext(ctx)
		answer, err := json.Marshal(dump.Response{RequestID: req.RequestContext.RequestID, AWSRequestID: lc.AwsRequestID})
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(answer)}, err
	})
	return nil
}
