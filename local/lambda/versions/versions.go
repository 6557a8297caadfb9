// Package versions is the local Lambda service's control plane: functions
// with their $LATEST code and configuration, published versions and aliases
// with weighted routing, as Lambda keeps them. It serves Lambda's REST API
// for them (PublishVersion, ListVersionsByFunction, GetFunctionConfiguration,
// CreateAlias, GetAlias, UpdateAlias, ListAliases, DeleteAlias, Invoke with a
// qualifier) on the edge endpoint, so that the real aws-sdk-go-v2 Lambda
// client drives it, and it invokes by qualifier for the gateway.
//
// Every published version runs in its own pool of execution environments
// (local/lambda), started at its first invocation and stopped once no alias
// routes to it and it is not the newest version. An alias with an
// additional version weight w sends each invocation to that version with
// probability w, drawn independently per invocation, which is Lambda's
// "simple probabilistic model".
//
// Answers and errors follow Lambda's API reference: ResourceNotFoundException
// (404) for a function, version or alias that does not exist,
// ResourceConflictException (409) for an alias that exists,
// PreconditionFailedException (412) for a stale RevisionId,
// InvalidParameterValueException (400) for a routing config Lambda refuses
// (more than one additional version, the alias's own version, $LATEST
// with weights), InvalidRequestContentException (400) for an Invoke payload
// that is not JSON, RequestEntityTooLargeException (413) for an Invoke
// payload over 6 MB or another call's body over 1 MiB, ValidationException (400) for a value outside the API's
// documented constraints (alias name pattern, description length, weights
// outside 0.0-1.0), worded in AWS's "1 validation error detected" form.
// The messages AWS is seen to send are reproduced (Function not found: <ARN>,
// Alias not found: <ARN>, Alias already exists: <ARN>, the RevisionId and
// CodeSHA256 preconditions, $LATEST with weights); where AWS's wording is
// not documented (two additional versions, the alias's own version as the
// additional one), the exception is AWS's and the message is ours.
//
// Not kept: function URLs, layers, provisioned concurrency, event source
// mappings, asynchronous invocation, X-Amz-Log-Type: Tail, and the state
// across a restart of the stack (a saved deployment comes back as version 1
// with every alias on it).
package versions

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/acme/request-dump/local/internal/requestid"
	"github.com/acme/request-dump/local/internal/shutdown"
	"github.com/acme/request-dump/local/lambda"
)

// Latest is the qualifier of a function's unpublished code and configuration.
const Latest = "$LATEST"

// Service holds the functions of one region and account.
type Service struct {
	region, account string
	sink            lambda.LogSink
	lambdaOpts      []lambda.Option
	log             *slog.Logger
	observe         func(Invocation)

	mu        sync.Mutex
	functions map[string]*function
	random    func() float64 // under mu
	closed    bool
	// stopping shuts down in the background the pools of the versions
	// retire retires, each once its invocations in flight are done; Close
	// stops the other pools with it, hurries those, and waits for all, so
	// that no process outlives the service.
	stopping shutdown.Group
}

// Option configures New.
type Option func(*Service)

// WithRegion sets the region in ARNs; "us-east-1" by default.
func WithRegion(region string) Option { return func(s *Service) { s.region = region } }

// WithAccount sets the account in ARNs; "000000000000" by default.
func WithAccount(account string) Option { return func(s *Service) { s.account = account } }

// WithLogger reports versions published, aliases moved and pools stopped.
func WithLogger(log *slog.Logger) Option { return func(s *Service) { s.log = log } }

// WithLambdaOptions passes opts to every execution environment pool.
func WithLambdaOptions(opts ...lambda.Option) Option {
	return func(s *Service) { s.lambdaOpts = append(s.lambdaOpts, opts...) }
}

// WithRandom draws the weighted alias's choice from random (uniform in
// [0, 1)) instead of a randomly seeded generator: tests make it
// deterministic with it.
func WithRandom(random func() float64) Option { return func(s *Service) { s.random = random } }

// WithObserver calls observe after every invocation that reached a pool
// (or was throttled by it), as Lambda's metrics see invocations.
func WithObserver(observe func(Invocation)) Option { return func(s *Service) { s.observe = observe } }

// Invocation is what an observer learns of one invocation.
type Invocation struct {
	Function string
	// Qualifier is what the caller named: an alias, a version or $LATEST.
	Qualifier string
	// ExecutedVersion is the version that ran it.
	ExecutedVersion string
	At              time.Time
	Duration        time.Duration
	// FunctionError is set when the function failed (Lambda's Errors
	// metric); Throttled when Lambda refused it (Throttles).
	FunctionError bool
	Throttled     bool
}

// New returns an empty service whose functions log to sink.
func New(sink lambda.LogSink, opts ...Option) *Service {
	s := &Service{
		region:    "us-east-1",
		account:   "000000000000",
		sink:      sink,
		log:       slog.New(slog.DiscardHandler),
		functions: map[string]*function{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.random == nil {
		s.random = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())).Float64
	}
	return s
}

type function struct {
	name     string
	latest   *version // $LATEST
	versions map[string]*version
	next     int // the number the next published version gets
	aliases  map[string]*alias
}

// version is $LATEST or a published version: its code and configuration,
// and its pool of execution environments once invoked.
type version struct {
	number      string
	spec        lambda.Spec
	codeSHA256  string // base64, as CodeSha256
	fingerprint string // code and configuration: publishing the same twice is a no-op
	description string
	revision    string
	modified    time.Time

	pool     *lambda.Function
	inflight int  // invocations holding pool
	retired  bool // stop pool once inflight is 0
	invoked  int64
	errors   int64
}

type alias struct {
	name, version, description, revision string
	weights                              map[string]float64
}

// Update sets a function's $LATEST code and configuration from spec,
// creating the function the first time (CreateFunction, then
// UpdateFunctionCode and UpdateFunctionConfiguration, as Terraform does).
// spec.Code must be the deployment zip; spec.Version is ignored.
func (s *Service) Update(spec lambda.Spec) error {
	if len(spec.Code) == 0 {
		return fmt.Errorf("versions: function %s: no code (the deployment zip)", spec.FunctionName)
	}
	spec.Version = ""
	sum := sha256.Sum256(spec.Code)
	v := &version{
		number:     Latest,
		spec:       spec,
		codeSHA256: base64.StdEncoding.EncodeToString(sum[:]),
		revision:   requestid.New(),
		modified:   time.Now(),
	}
	v.fingerprint = fingerprint(spec, v.codeSHA256)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("versions: the service is closed")
	}
	f := s.functions[spec.FunctionName]
	if f != nil && f.latest.fingerprint == v.fingerprint {
		return nil
	}
	// Lambda checks the package and settings when the code is uploaded;
	// starting $LATEST's pool does the same checks (no environment starts
	// before the first invocation).
	pool, err := lambda.New(spec, s.sink, s.lambdaOpts...)
	if err != nil {
		return err
	}
	v.pool = pool
	if f == nil {
		f = &function{name: spec.FunctionName, versions: map[string]*version{}, next: 1, aliases: map[string]*alias{}}
		s.functions[spec.FunctionName] = f
	} else {
		s.retire(f.latest)
	}
	f.latest = v
	return nil
}

// fingerprint identifies what a published version freezes: the code and
// every setting of the configuration.
func fingerprint(spec lambda.Spec, codeSHA256 string) string {
	env := make([]string, 0, len(spec.Environment))
	for _, k := range slices.Sorted(maps.Keys(spec.Environment)) {
		env = append(env, strconv.Quote(k)+"="+strconv.Quote(spec.Environment[k]))
	}
	return fmt.Sprintf("%s|%d|%s|%s|%s|%s|%d|%v", codeSHA256, spec.MemorySize, spec.Timeout, spec.LogFormat, spec.LogLevel, spec.Region, spec.ReservedConcurrency, env)
}

// Publish publishes the function's $LATEST as a new version and returns
// its number; when $LATEST has not changed since the newest version, it
// returns that version instead, as PublishVersion does.
func (s *Service) Publish(name, description string) (FunctionConfiguration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.publish(name, description, "", "")
}

func (s *Service) publish(name, description, codeSHA256, revision string) (FunctionConfiguration, error) {
	f, err := s.function(name)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	if codeSHA256 != "" && codeSHA256 != f.latest.codeSHA256 {
		return FunctionConfiguration{}, &Error{Status: 412, Type: "PreconditionFailedException",
			Message: fmt.Sprintf("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.", codeSHA256, f.latest.codeSHA256)}
	}
	if revision != "" && revision != f.latest.revision {
		return FunctionConfiguration{}, errRevision("GetFunction")
	}
	if newest := f.newest(); newest != nil && newest.fingerprint == f.latest.fingerprint {
		return s.configuration(f, newest), nil
	}
	v := *f.latest
	v.number = strconv.Itoa(f.next)
	v.spec.Version = v.number
	v.description = description
	v.revision = requestid.New()
	v.modified = time.Now()
	v.pool, v.inflight, v.retired, v.invoked, v.errors = nil, 0, false, 0, 0
	// Unpacked now, so that the version's first invocation pays for its
	// execution environment's start only, as $LATEST's did before.
	pool, err := lambda.New(v.spec, s.sink, s.lambdaOpts...)
	if err != nil {
		return FunctionConfiguration{}, &Error{Status: 500, Type: "ServiceException", Message: fmt.Sprintf("version %s of %s could not be prepared: %v", v.number, name, err)}
	}
	v.pool = pool
	f.next++
	f.versions[v.number] = &v
	s.log.Info("version published", "function", name, "version", v.number, "code_sha256", v.codeSHA256)
	s.sweep(f)
	return s.configuration(f, &v), nil
}

// newest is the highest published version, nil before the first.
func (f *function) newest() *version {
	if f.next == 1 {
		return nil
	}
	for n := f.next - 1; n >= 1; n-- {
		if v, ok := f.versions[strconv.Itoa(n)]; ok {
			return v
		}
	}
	return nil
}

func (s *Service) function(name string) (*function, error) {
	f := s.functions[name]
	if f == nil {
		return nil, errNotFound("Function not found: " + s.arn(name, ""))
	}
	return f, nil
}

func (s *Service) arn(name, qualifier string) string {
	a := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", s.region, s.account, name)
	if qualifier != "" {
		a += ":" + qualifier
	}
	return a
}

// AliasConfiguration is an alias as Lambda's API returns it.
type AliasConfiguration struct {
	AliasArn        string
	Name            string
	FunctionVersion string
	Description     string
	RoutingConfig   *RoutingConfig `json:",omitempty"`
	RevisionId      string
}

// RoutingConfig is an alias's traffic shifting.
type RoutingConfig struct {
	AdditionalVersionWeights map[string]float64
}

// AliasUpdate changes an alias; nil fields stay as they are. Weights
// non-nil and empty removes the routing config.
type AliasUpdate struct {
	FunctionVersion *string
	Description     *string
	Weights         map[string]float64
	RevisionID      string
}

var aliasNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)

// CreateAlias creates alias name of function fn on version, with weights
// (nil for none).
func (s *Service) CreateAlias(fn, name, version, description string, weights map[string]float64) (AliasConfiguration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.function(fn)
	if err != nil {
		return AliasConfiguration{}, err
	}
	if err := checkAliasName(name); err != nil {
		return AliasConfiguration{}, err
	}
	if _, ok := f.aliases[name]; ok {
		return AliasConfiguration{}, &Error{Status: 409, Type: "ResourceConflictException", Message: "Alias already exists: " + s.arn(fn, name)}
	}
	a := &alias{name: name}
	if err := s.setAlias(f, a, &version, &description, weights); err != nil {
		return AliasConfiguration{}, err
	}
	f.aliases[name] = a
	s.log.Info("alias created", "function", fn, "alias", name, "version", a.version)
	s.sweep(f)
	return s.aliasConfiguration(f, a), nil
}

// GetAlias returns alias name of function fn.
func (s *Service) GetAlias(fn, name string) (AliasConfiguration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, a, err := s.alias(fn, name)
	if err != nil {
		return AliasConfiguration{}, err
	}
	return s.aliasConfiguration(f, a), nil
}

// UpdateAlias changes alias name of function fn.
func (s *Service) UpdateAlias(fn, name string, u AliasUpdate) (AliasConfiguration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, a, err := s.alias(fn, name)
	if err != nil {
		return AliasConfiguration{}, err
	}
	if u.RevisionID != "" && u.RevisionID != a.revision {
		return AliasConfiguration{}, errRevision("GetAlias")
	}
	weights := u.Weights
	if weights == nil && u.FunctionVersion != nil {
		// Moving the alias keeps its routing config, as on Lambda; the
		// checks below then apply to the pair.
		weights = a.weights
	}
	next := *a
	if err := s.setAlias(f, &next, u.FunctionVersion, u.Description, weights); err != nil {
		return AliasConfiguration{}, err
	}
	*a = next
	s.log.Info("alias updated", "function", fn, "alias", name, "version", a.version, "weights", a.weights)
	s.sweep(f)
	return s.aliasConfiguration(f, a), nil
}

// DeleteAlias deletes alias name of function fn.
func (s *Service) DeleteAlias(fn, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, _, err := s.alias(fn, name)
	if err != nil {
		return err
	}
	delete(f.aliases, name)
	s.sweep(f)
	return nil
}

// ListAliases returns the aliases of function fn, by name; with version
// set, only those routing to it.
func (s *Service) ListAliases(fn, version string) ([]AliasConfiguration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.function(fn)
	if err != nil {
		return nil, err
	}
	var out []AliasConfiguration
	for _, name := range slices.Sorted(maps.Keys(f.aliases)) {
		a := f.aliases[name]
		if _, weighted := a.weights[version]; version == "" || a.version == version || weighted {
			out = append(out, s.aliasConfiguration(f, a))
		}
	}
	return out, nil
}

func (s *Service) alias(fn, name string) (*function, *alias, error) {
	f, err := s.function(fn)
	if err != nil {
		return nil, nil, err
	}
	a := f.aliases[name]
	if a == nil {
		return nil, nil, errNotFound("Alias not found: " + s.arn(fn, name))
	}
	return f, a, nil
}

func checkAliasName(name string) error {
	if !aliasNameRE.MatchString(name) || isNumber(name) {
		return errValidation(name, "name", "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")
	}
	return nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// setAlias applies a change to a, checking it as Lambda does.
func (s *Service) setAlias(f *function, a *alias, version, description *string, weights map[string]float64) error {
	if description != nil {
		if len(*description) > 256 {
			return errValidation(*description, "description", "Member must have length less than or equal to 256")
		}
		a.description = *description
	}
	if version != nil {
		if *version != Latest && !isNumber(*version) {
			return errValidation(*version, "functionVersion", `Member must satisfy regular expression pattern: (\$LATEST|[0-9]+)`)
		}
		if *version != Latest && f.versions[*version] == nil {
			return errNotFound("Function not found: " + s.arn(f.name, *version))
		}
		a.version = *version
	}
	if weights != nil {
		for v, w := range weights {
			if w < 0 || w > 1 {
				return errValidation(fmt.Sprintf("{%s=%g}", v, w), "routingConfig.additionalVersionWeights",
					"Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]")
			}
			if !isNumber(v) {
				return errValidation(v, "routingConfig.additionalVersionWeights", "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]+]")
			}
		}
		switch {
		case len(weights) > 1:
			return errParameter(fmt.Sprintf("Number of additional version weights cannot be greater than 1; got %d", len(weights)))
		case len(weights) == 1 && a.version == Latest:
			return errParameter("$LATEST is not supported for an alias pointing to more than 1 version")
		}
		for v := range weights {
			if v == a.version {
				return errParameter(fmt.Sprintf("The additional version %s is the alias's own version: an alias routes to two different versions", v))
			}
			if f.versions[v] == nil {
				return errNotFound("Function not found: " + s.arn(f.name, v))
			}
		}
		a.weights = nil
		if len(weights) > 0 {
			a.weights = maps.Clone(weights)
		}
	}
	a.revision = requestid.New()
	return nil
}

func (s *Service) aliasConfiguration(f *function, a *alias) AliasConfiguration {
	c := AliasConfiguration{
		AliasArn:        s.arn(f.name, a.name),
		Name:            a.name,
		FunctionVersion: a.version,
		Description:     a.description,
		RevisionId:      a.revision,
	}
	if len(a.weights) > 0 {
		c.RoutingConfig = &RoutingConfig{AdditionalVersionWeights: maps.Clone(a.weights)}
	}
	return c
}

// FunctionConfiguration is a version's configuration as Lambda's API
// returns it (the part the local stack knows).
type FunctionConfiguration struct {
	FunctionName     string
	FunctionArn      string
	Runtime          string
	Handler          string
	CodeSha256       string
	CodeSize         int64
	Description      string
	Timeout          int
	MemorySize       int
	LastModified     string
	Version          string
	RevisionId       string
	State            string
	LastUpdateStatus string
	PackageType      string
	Environment      *struct{ Variables map[string]string } `json:",omitempty"`
}

func (s *Service) configuration(f *function, v *version) FunctionConfiguration {
	c := FunctionConfiguration{
		FunctionName:     f.name,
		FunctionArn:      s.arn(f.name, v.number),
		Runtime:          "provided.al2023",
		Handler:          "bootstrap",
		CodeSha256:       v.codeSHA256,
		CodeSize:         int64(len(v.spec.Code)),
		Description:      v.description,
		Timeout:          int(v.spec.Timeout / time.Second),
		MemorySize:       v.spec.MemorySize,
		LastModified:     v.modified.UTC().Format("2006-01-02T15:04:05.000+0000"),
		Version:          v.number,
		RevisionId:       v.revision,
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      "Zip",
	}
	if len(v.spec.Environment) > 0 {
		c.Environment = &struct{ Variables map[string]string }{Variables: maps.Clone(v.spec.Environment)}
	}
	return c
}

// Configuration returns the configuration of function fn at qualifier (a
// version, an alias, or "" / $LATEST).
func (s *Service) Configuration(fn, qualifier string) (FunctionConfiguration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.function(fn)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	v, err := s.resolve(f, qualifier, false)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	return s.configuration(f, v), nil
}

// Versions returns $LATEST and the published versions of function fn, in
// order.
func (s *Service) Versions(fn string) ([]FunctionConfiguration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.function(fn)
	if err != nil {
		return nil, err
	}
	out := []FunctionConfiguration{s.configuration(f, f.latest)}
	for _, v := range f.published() {
		out = append(out, s.configuration(f, v))
	}
	return out, nil
}

func (f *function) published() []*version {
	vs := slices.Collect(maps.Values(f.versions))
	sort.Slice(vs, func(i, j int) bool {
		a, _ := strconv.Atoi(vs[i].number)
		b, _ := strconv.Atoi(vs[j].number)
		return a < b
	})
	return vs
}

// VersionStats is what a version served, for the control API and demos.
type VersionStats struct {
	Version      string   `json:"version"`
	CodeSHA256   string   `json:"code_sha256"`
	Aliases      []string `json:"aliases,omitempty"`
	Invocations  int64    `json:"invocations"`
	Errors       int64    `json:"errors"`
	Environments int      `json:"execution_environments"`
	ColdStarts   int64    `json:"cold_starts"`
}

// Stats returns each published version's counts, in order.
func (s *Service) Stats(fn string) []VersionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.functions[fn]
	if f == nil {
		return nil
	}
	var out []VersionStats
	for _, v := range f.published() {
		st := VersionStats{Version: v.number, CodeSHA256: v.codeSHA256, Invocations: v.invoked, Errors: v.errors}
		if v.pool != nil {
			ps := v.pool.Stats()
			st.Environments, st.ColdStarts = ps.Environments, ps.ColdStarts
		}
		for _, name := range slices.Sorted(maps.Keys(f.aliases)) {
			a := f.aliases[name]
			if _, weighted := a.weights[v.number]; a.version == v.number || weighted {
				st.Aliases = append(st.Aliases, name)
			}
		}
		out = append(out, st)
	}
	return out
}

// Environments lists the running execution environments of the version
// qualifier names (an alias: its main version), for diagnostics and fault
// tests; nil when there are none.
func (s *Service) Environments(fn, qualifier string) []lambda.Environment {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.functions[fn]
	if f == nil {
		return nil
	}
	v, err := s.resolve(f, qualifier, false)
	if err != nil || v.pool == nil {
		return nil
	}
	return v.pool.Environments()
}

// LogGroup is the log group of function fn.
func LogGroup(fn string) string { return "/aws/lambda/" + fn }

// resolve returns the version qualifier names; for an alias with weights
// and choose set, the version this invocation goes to.
func (s *Service) resolve(f *function, qualifier string, choose bool) (*version, error) {
	switch {
	case qualifier == "" || qualifier == Latest:
		return f.latest, nil
	case isNumber(qualifier):
		if v := f.versions[qualifier]; v != nil {
			return v, nil
		}
	default:
		if a := f.aliases[qualifier]; a != nil {
			number := a.version
			if choose {
				for extra, w := range a.weights {
					if s.random() < w {
						number = extra
					}
				}
			}
			if number == Latest {
				return f.latest, nil
			}
			return f.versions[number], nil
		}
	}
	return nil, errNotFound("Function not found: " + s.arn(f.name, qualifier))
}

// sweep retires the pools of the versions nothing routes to any more: not
// an alias's version or additional version, not the newest.
func (s *Service) sweep(f *function) {
	keep := map[string]bool{}
	if n := f.newest(); n != nil {
		keep[n.number] = true
	}
	for _, a := range f.aliases {
		keep[a.version] = true
		for v := range a.weights {
			keep[v] = true
		}
	}
	for number, v := range f.versions {
		if keep[number] {
			v.retired = false
			continue
		}
		s.retire(v)
	}
}

// retire stops v's pool once its invocations in flight are done. Once the
// service is closed the pool stays with v, for Close to stop.
func (s *Service) retire(v *version) {
	v.retired = true
	if v.inflight == 0 && v.pool != nil && !s.closed {
		pool, timeout := v.pool, v.spec.Timeout
		v.pool = nil
		s.log.Info("execution environments stopped: nothing routes to the version", "version", v.number)
		s.stopping.Go(func(hurry context.Context) {
			// Invocations in flight that callers gave up on get the
			// function's timeout to end, unless Close hurries them.
			ctx, cancel := context.WithTimeout(hurry, timeout+time.Second)
			defer cancel()
			_ = pool.Shutdown(ctx)
		})
	}
}

// Result is the outcome of Invoke.
type Result struct {
	lambda.Result
	// ExecutedVersion is the version that ran the invocation.
	ExecutedVersion string
}

// Invoke runs function fn at qualifier (an alias, a version, or "" for
// $LATEST) once with payload, as Lambda's synchronous Invoke does. An alias
// with weights picks the version per invocation. The errors are those of
// local/lambda's Function.Invoke, and *Error for an unknown function or
// qualifier.
func (s *Service) Invoke(ctx context.Context, fn, qualifier, requestID string, payload []byte) (Result, error) {
	v, pool, err := s.acquire(fn, qualifier)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	res, err := pool.Invoke(ctx, requestID, payload)
	s.release(v, err == nil && res.FunctionError != "")
	if s.observe != nil && (err == nil || isThrottle(err)) {
		s.observe(Invocation{
			Function: fn, Qualifier: qualifierOrLatest(qualifier), ExecutedVersion: v.number,
			At: start, Duration: res.Duration, FunctionError: err == nil && res.FunctionError != "", Throttled: err != nil,
		})
	}
	return Result{Result: res, ExecutedVersion: v.number}, err
}

func qualifierOrLatest(q string) string {
	if q == "" {
		return Latest
	}
	return q
}

func isThrottle(err error) bool {
	se, ok := err.(*lambda.ServiceError)
	return ok && se.StatusCode == 429
}

// acquire picks the version an invocation runs on and holds its pool,
// starting it on the version's first invocation.
func (s *Service) acquire(fn, qualifier string) (*version, *lambda.Function, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, errNotFound("Function not found: " + s.arn(fn, qualifier) + " (the local stack is shutting down)")
	}
	f, err := s.function(fn)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.resolve(f, qualifier, true)
	if err != nil {
		return nil, nil, err
	}
	if v.pool == nil {
		pool, err := lambda.New(v.spec, s.sink, s.lambdaOpts...)
		if err != nil {
			return nil, nil, &Error{Status: 500, Type: "ServiceException", Message: fmt.Sprintf("version %s of %s could not start: %v", v.number, fn, err)}
		}
		v.pool = pool
	}
	v.retired = v.retired && qualifier != v.number
	v.inflight++
	v.invoked++
	return v, v.pool, nil
}

func (s *Service) release(v *version, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v.inflight--
	if failed {
		v.errors++
	}
	if v.retired {
		s.retire(v)
	}
}

// Close stops every pool at once, those of retired versions too, and
// waits for their processes to exit.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, f := range s.functions {
		for _, v := range append(f.published(), f.latest) {
			if pool := v.pool; pool != nil {
				v.pool = nil
				s.stopping.Go(func(context.Context) { _ = pool.Close() })
			}
		}
	}
	s.mu.Unlock()
	// Pools retired before may still wait for invocations a caller gave
	// up on: they stop now too.
	s.stopping.Close()
	return nil
}

// Shutdown stops taking invocations and lets those in flight finish (or
// ctx end), then closes every pool.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	var pools []*lambda.Function
	for _, f := range s.functions {
		for _, v := range append(f.published(), f.latest) {
			if v.pool != nil {
				pools = append(pools, v.pool)
			}
		}
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range pools {
		wg.Go(func() { _ = p.Shutdown(ctx) })
	}
	wg.Wait()
	return s.Close()
}

// Error is an error answer of Lambda's API.
type Error struct {
	Status  int
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

func errNotFound(msg string) error {
	return &Error{Status: 404, Type: "ResourceNotFoundException", Message: msg}
}

func errParameter(msg string) error {
	return &Error{Status: 400, Type: "InvalidParameterValueException", Message: msg}
}

func errRevision(getter string) error {
	return &Error{Status: 412, Type: "PreconditionFailedException",
		Message: "The Revision Id provided does not match the latest Revision Id. Call the " + getter + " API to retrieve the latest Revision Id"}
}

// errValidation words a value outside the API's documented constraints as
// AWS's request validation does.
func errValidation(value, member, constraint string) error {
	return &Error{Status: 400, Type: "ValidationException",
		Message: fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)}
}
