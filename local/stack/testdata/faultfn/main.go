// Command faultfn is a Lambda proxy-integration function that fails on
// request, for the local stack's fault tests: the body's "fault" picks
// what it does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

type body struct {
	EventID string `json:"event_id"`
	Fault   string `json:"fault"`
	SleepMS int    `json:"sleep_ms"`
}

func handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	var b body
	_ = json.Unmarshal([]byte(req.Body), &b)
	switch b.Fault {
	case "panic":
		panic("fault: panic")
	case "error":
		return events.APIGatewayProxyResponse{}, errors.New("fault: error")
	case "malformed":
		return events.APIGatewayProxyResponse{StatusCode: 7}, nil
	case "sleep":
		select {
		case <-time.After(time.Duration(b.SleepMS) * time.Millisecond):
		case <-ctx.Done():
		}
	}
	fmt.Printf("{\"msg\":\"request dump\",\"fields\":{\"event_id\":%q}}\n", b.EventID)
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: `{"ok":true}`}, nil
}

func main() { lambda.Start(handle) }
