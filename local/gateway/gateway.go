package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acme/request-dump/local/apikeys"
	"github.com/acme/request-dump/local/logs"
	"github.com/acme/request-dump/local/sigv4"
)

// Function is a Lambda function behind an aws_proxy integration.
//
// Invoke runs the function once with payload (the JSON event) as the
// invocation with id requestID, and returns what the function returned. It
// must return promptly once ctx is done: ctx carries the integration
// timeout. A non-nil error means the invocation did not produce a result:
// wrap ErrRequestTooLarge when the payload is over the function's limit and
// ErrInvokeRejected when the Lambda service refused to run it (throttled,
// not deployed); any other error is taken as the runtime failing during the
// invocation.
type Function interface {
	Invoke(ctx context.Context, requestID string, payload []byte) (Result, error)
}

// Result is what a function returned from one invocation.
type Result struct {
	// Payload is the response document: the proxy result, or the error
	// document when FunctionError is set.
	Payload []byte
	// FunctionError reports that the function failed (Lambda's
	// X-Amz-Function-Error): an unhandled error, a panic, a timeout.
	FunctionError bool
}

var (
	// ErrRequestTooLarge is wrapped by a Function whose invocation payload is
	// over its limit; the caller gets 413 {"message": "Request Too Long"}.
	ErrRequestTooLarge = errors.New("gateway: invocation payload is over the function's limit")
	// ErrInvokeRejected is wrapped by a Function when the Lambda service
	// refused the invocation; the caller gets 500 (INTEGRATION_FAILURE).
	ErrInvokeRejected = errors.New("gateway: the Lambda service rejected the invocation")
)

// LogSink receives access log events; *logs.Store is one.
type LogSink interface {
	Append(group, stream string, events ...logs.Event) error
}

// Option configures the gateway returned by New.
type Option func(*config)

type config struct {
	stage          string
	stageVariables map[string]string
	apiID          string
	accountID      string
	functions      map[string]Function
	throttle       *throttleSettings
	accessLog      *accessLogSettings
	apiKeys        *apikeys.Service
	sigv4          *sigv4.Verifier
}

type throttleSettings struct {
	rate  float64
	burst int
}

type accessLogSettings struct {
	sink          LogSink
	group, stream string
	format        string
}

// WithStage names the deployed stage (required): it is the first segment of
// requestContext.path and $context.stage.
func WithStage(name string) Option {
	return func(c *config) { c.stage = name }
}

// WithStageVariables sets the stage's variables ($stageVariables, the
// event's stageVariables).
func WithStageVariables(vars map[string]string) Option {
	return func(c *config) { c.stageVariables = vars }
}

// WithAPIID sets the REST API's id ($context.apiId). By default it is
// APIID of the document's title.
func WithAPIID(id string) Option {
	return func(c *config) { c.apiID = id }
}

// WithAccountID sets the API owner's account id ($context.accountId);
// "000000000000" by default.
func WithAccountID(id string) Option {
	return func(c *config) { c.accountID = id }
}

// WithFunctions provides the functions the integrations call, by the name
// in the function ARN inside the integration's invoke ARN (after its
// ${stageVariables.*} are resolved): "name:qualifier" serves the
// integrations that name that alias or version, and takes precedence over
// "name", which serves the function whatever the qualifier.
func WithFunctions(functions map[string]Function) Option {
	return func(c *config) { c.functions = functions }
}

// WithThrottle enables the stage's default method throttling: each method
// may take burst requests at once and rate requests per second after that.
func WithThrottle(rate float64, burst int) Option {
	return func(c *config) { c.throttle = &throttleSettings{rate: rate, burst: burst} }
}

// WithAccessLog writes one access log event per request to group/stream in
// sink, rendered from format (the stage's access log format, e.g. JSON with
// $context variables).
func WithAccessLog(sink LogSink, group, stream, format string) Option {
	return func(c *config) {
		c.accessLog = &accessLogSettings{sink: sink, group: group, stream: stream, format: format}
	}
}

// New compiles doc into a handler serving one stage of the API. It rejects a
// document the local gateway cannot serve as AWS would, naming the path,
// method and extension at fault.
//
// The handler takes the request path as the resource path: mount it under
// the stage's base path with http.StripPrefix.
func New(doc *openapi3.T, opts ...Option) (http.Handler, error) {
	if doc == nil {
		return nil, errors.New("gateway: no OpenAPI document")
	}
	c := config{accountID: "000000000000"}
	for _, o := range opts {
		o(&c)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return compile(doc, &c)
}

func (c *config) check() error {
	if c.stage == "" {
		return errors.New("gateway: no stage name: pass WithStage(name), e.g. the api.stage_name of the env")
	}
	if !validStageName(c.stage) {
		return fmt.Errorf("gateway: stage name %q: use letters, digits, - and _ only", c.stage)
	}
	for k := range c.stageVariables {
		if !validStageVariable(k) {
			return fmt.Errorf("gateway: stage variable %q: use letters, digits and _ only", k)
		}
	}
	if t := c.throttle; t != nil && (t.rate <= 0 || t.burst < 1) {
		return fmt.Errorf("gateway: throttle rate %g and burst %d: both must be positive", t.rate, t.burst)
	}
	if a := c.accessLog; a != nil && (a.sink == nil || a.group == "" || a.stream == "" || a.format == "") {
		return errors.New("gateway: access log needs a sink, a group, a stream and a format")
	}
	return nil
}

func validStageName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}

func validStageVariable(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == ""
}

// Limits API Gateway and Lambda apply to a request.
const (
	// maxRequestBytes is API Gateway's payload limit (10 MB).
	maxRequestBytes = 10 << 20
	// maxInvokeBytes is Lambda's synchronous invocation payload limit.
	maxInvokeBytes = 6 << 20
	// defaultTimeout is the integration timeout when the document sets none.
	defaultTimeout = 29 * time.Second
)
