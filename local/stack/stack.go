// Package stack assembles the local AWS services (S3, CloudWatch Logs,
// Lambda and API Gateway) behind one edge endpoint, as LocalStack does, and
// deploys an env onto them the way Terraform deploys it to AWS: the function
// from the zip its artifact pointer names in S3, checked against the
// pointer's SHA-256, and the REST API from the same OpenAPI document.
//
// The edge routes by what AWS clients send: X-Amz-Target Logs_20140328.* to
// CloudWatch Logs, AmazonSSM.* to the Parameter Store (package ssm), a
// signature scoped to sts to STS (package sts), /restapis/<id>/<stage>/_user_request_/… to API Gateway,
// /2015-03-31/functions/… to Lambda (versions, aliases, Invoke),
// /service/GraniteServiceVersion20100801/… to CloudWatch (DescribeAlarms),
// /_local/… to the stack's own control API, everything else to S3
// (path-style). Before that it refuses what a web page could send it
// (guard.go): a Host that is not loopback, a cross-site request to anything
// but an API stage, a control call without this start's token.
package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/local/apikeys"
	"github.com/acme/request-dump/local/cloudwatch"
	"github.com/acme/request-dump/local/lambda"
	"github.com/acme/request-dump/local/lambda/versions"
	"github.com/acme/request-dump/local/logs"
	"github.com/acme/request-dump/local/s3"
	"github.com/acme/request-dump/local/sigv4"
	"github.com/acme/request-dump/local/ssm"
	"github.com/acme/request-dump/local/sts"
)

// AccountID is the account every local resource belongs to.
const AccountID = "000000000000"

// DefaultRegion is the region of the local services when Config.Region is
// empty: the region the env roots deploy to.
const DefaultRegion = "ap-northeast-1"

// Config configures New.
type Config struct {
	// DataDir keeps S3 objects, log events and deployments across restarts;
	// "" keeps everything in memory.
	DataDir string
	// Region is the services' region; "" means DefaultRegion.
	Region string
	// Buckets are created at start when missing, as the account-level
	// Terraform root (global/) creates the artifact bucket.
	Buckets []string
	// FsyncLogs syncs log events to the disk before an invocation is
	// answered (logs.WithFsync); without it a crash of the process loses
	// none, a crash of the machine may.
	FsyncLogs bool
	// MaxConcurrency caps each function's execution environments; 0 means
	// local/lambda's default.
	MaxConcurrency int
	// Emulator is a qemu-user binary (qemu-aarch64) that runs a function
	// built for another architecture than this machine's, e.g. the arm64
	// artifact a pointer names, on an amd64 host (see lambda.Spec).
	Emulator string
	// Logger receives the stack's own log; nil discards it.
	Logger *slog.Logger
}

// Stack is the running local AWS stack. It is an http.Handler: serve it on
// one address and point every client at that address.
type Stack struct {
	cfg     Config
	log     *slog.Logger
	s3      *s3.Server
	logs    *logs.Store
	logsAPI http.Handler
	// token authorizes control API calls; each start has its own.
	token string
	// lambda holds the functions, their versions and aliases; the
	// functions log through filters (the metric filters) into logs, and
	// both report to metrics, the local CloudWatch.
	lambda        *versions.Service
	filters       *cloudwatch.FilterSink
	metrics       *cloudwatch.Store
	cloudwatchAPI http.Handler
	// ssm holds the API key values; sts the credentials (the local user's
	// and AssumeRole's), which verifier checks API requests against;
	// apiKeys the keys and usage plans of every deployed API.
	ssm      *ssm.Store
	sts      *sts.Service
	verifier *sigv4.Verifier
	apiKeys  *apikeys.Service

	mu   sync.RWMutex
	apis map[string]*deployment // by API id
}

// New starts the services. With a DataDir, the deployments made before a
// restart are deployed again.
func New(cfg Config) (*Stack, error) {
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s3Dir, logsDir, ssmFile := "", "", ""
	if cfg.DataDir != "" {
		s3Dir, logsDir = filepath.Join(cfg.DataDir, "s3"), filepath.Join(cfg.DataDir, "logs")
		ssmFile = filepath.Join(cfg.DataDir, "ssm", "parameters.json")
		for _, d := range []string{s3Dir, logsDir, filepath.Join(cfg.DataDir, "deployments")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, fmt.Errorf("stack: data dir: %w", err)
			}
		}
	}
	s3Opts := []s3.Option{s3.WithLogger(log)}
	for _, b := range cfg.Buckets {
		s3Opts = append(s3Opts, s3.WithBucket(b))
	}
	objects, err := s3.New(s3Dir, s3Opts...)
	if err != nil {
		return nil, fmt.Errorf("stack: s3: %w", err)
	}
	var logsOpts []logs.StoreOption
	if cfg.FsyncLogs {
		logsOpts = append(logsOpts, logs.WithFsync())
	}
	store, err := logs.NewStore(logsDir, logsOpts...)
	if err != nil {
		objects.Close()
		return nil, fmt.Errorf("stack: logs: %w", err)
	}
	token, err := newToken()
	if err != nil {
		objects.Close()
		store.Close()
		return nil, err
	}
	metrics := cloudwatch.NewStore()
	filters, err := cloudwatch.NewFilterSink(store, metrics)
	if err != nil {
		objects.Close()
		store.Close()
		return nil, err
	}
	parameters, err := ssm.NewStore(cfg.Region, AccountID, ssmFile)
	if err != nil {
		objects.Close()
		store.Close()
		return nil, err
	}
	tokens := sts.New(cfg.Region, AccountID)
	s := &Stack{
		ssm:      parameters,
		sts:      tokens,
		verifier: sigv4.New(tokens, "execute-api", cfg.Region),
		apiKeys:  apikeys.New(),
		cfg:      cfg,
		log:      log,
		s3:       objects,
		logs:     store,
		logsAPI:  logs.New(store, logs.WithRegion(cfg.Region), logs.WithAccount(AccountID)),
		lambda: versions.New(filters,
			versions.WithRegion(cfg.Region), versions.WithAccount(AccountID), versions.WithLogger(log),
			versions.WithLambdaOptions(lambda.WithLogger(log)), versions.WithObserver(observeLambda(metrics))),
		filters:       filters,
		metrics:       metrics,
		cloudwatchAPI: cloudwatch.NewAPI(metrics, cfg.Region, AccountID),
		apis:          map[string]*deployment{},
		token:         token,
	}
	if err := s.redeploy(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Token is the control API's token for this start of the stack: clients
// send it as Authorization: Bearer <token>. `local-aws serve` writes it to
// a file only its user can read (WriteTokenFile).
func (s *Stack) Token() string { return s.token }

// ServeHTTP routes a request to the service it is for.
func (s *Stack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api := strings.HasPrefix(r.URL.Path, "/restapis/")
	if s.guard(w, r, api) {
		return
	}
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Logs_20140328."):
		s.logsAPI.ServeHTTP(w, r)
	case api:
		s.serveAPI(w, r)
	case strings.HasPrefix(r.URL.Path, versions.PathPrefix):
		s.lambda.ServeHTTP(w, r)
	case strings.HasPrefix(r.URL.Path, cloudwatch.PathPrefix):
		s.cloudwatchAPI.ServeHTTP(w, r)
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), ssm.TargetPrefix):
		s.ssm.ServeHTTP(w, r)
	case credentialService(r) == "sts":
		s.sts.ServeHTTP(w, r)
	case strings.HasPrefix(r.URL.Path, "/_local/"):
		if !s.authorizeControl(w, r) {
			s.serveControl(w, r)
		}
	default:
		s.s3.ServeHTTP(w, r)
	}
}

// serveAPI serves /restapis/<id>/<stage>/_user_request_/<path>, the
// LocalStack form of https://<id>.execute-api.<region>.amazonaws.com/<stage>/<path>.
func (s *Stack) serveAPI(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/restapis/"), "/", 4)
	if len(parts) < 3 || parts[2] != "_user_request_" {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "API requests go to /restapis/<api id>/<stage>/_user_request_/<path>"})
		return
	}
	s.mu.RLock()
	d := s.apis[parts[0]]
	s.mu.RUnlock()
	var gw http.Handler
	if d != nil {
		gw = d.gateways[parts[1]]
	}
	if gw == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": fmt.Sprintf("no stage %q of REST API %q is deployed; deployed: %s", parts[1], parts[0], s.deployedList())})
		return
	}
	prefix := "/restapis/" + parts[0] + "/" + parts[1] + "/_user_request_"
	http.StripPrefix(prefix, gw).ServeHTTP(w, r)
}

func (s *Stack) deployedList() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.apis) == 0 {
		return "none (deploy with local-aws deploy or make local-up)"
	}
	var names []string
	for id, d := range s.apis {
		names = append(names, id+"/"+d.Spec.Stage+" and "+id+"/"+envconfig.CandidateStage+" ("+d.Spec.Name+")")
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Environments lists the running execution environments of a deployed
// function's live version, for diagnostics and fault tests; nil when it is
// not deployed.
func (s *Stack) Environments(function string) []lambda.Environment {
	return s.lambda.Environments(function, envconfig.LiveAlias)
}

// Versions returns what each published version of function served.
func (s *Stack) Versions(function string) []versions.VersionStats {
	return s.lambda.Stats(function)
}

// Close stops every function and flushes the stores.
func (s *Stack) Close() error {
	s.mu.Lock()
	s.apis = map[string]*deployment{}
	s.mu.Unlock()
	return errors.Join(s.lambda.Close(), s.logs.Close(), s.s3.Close())
}

// Shutdown stops taking invocations, lets those in flight finish (or ctx
// end), then closes the stack.
func (s *Stack) Shutdown(ctx context.Context) error {
	_ = s.lambda.Shutdown(ctx)
	return s.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
