package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/acme/request-dump/local/lambda/versions"
)

// The control API, under /_local/, is the stack's own: what Terraform does
// through the AWS APIs (create the function, import the REST API, deploy
// the stage) is one call here. Every call carries the stack's token, and a
// body is application/json (guard.go).
//
//	GET  /_local/health   {"status":"ready","region":…,"deployments":[…]}
//	POST /_local/deploy   a Spec; answers the env's Outputs
func (s *Stack) serveControl(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_local/health" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.health(baseURL(r)))
	case r.URL.Path == "/_local/deploy" && r.Method == http.MethodPost:
		s.serveDeploy(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "the control API has GET /_local/health and POST /_local/deploy"})
	}
}

// Health is the answer of GET /_local/health.
type Health struct {
	Status      string             `json:"status"`
	Region      string             `json:"region"`
	Deployments []DeploymentStatus `json:"deployments"`
}

// DeploymentStatus describes one deployed env in Health.
type DeploymentStatus struct {
	Env          string `json:"env"`
	FunctionName string `json:"function_name"`
	APIURL       string `json:"api_url"`
	Artifact     string `json:"artifact"`
	Environments int    `json:"execution_environments"`
	Invocations  int64  `json:"invocations"`
	ColdStarts   int64  `json:"cold_starts"`
	// CandidateAPIURL is the candidate stage's URL; Versions what each
	// published version served.
	CandidateAPIURL string                  `json:"candidate_api_url"`
	Versions        []versions.VersionStats `json:"versions"`
}

func (s *Stack) health(base string) Health {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := Health{Status: "ready", Region: s.cfg.Region, Deployments: []DeploymentStatus{}}
	for _, d := range s.apis {
		st := DeploymentStatus{
			Env:             d.Spec.Env,
			FunctionName:    d.Spec.Name,
			APIURL:          d.APIURL(base),
			Artifact:        "s3://" + d.Spec.Artifact.Bucket + "/" + d.Spec.Artifact.Key,
			CandidateAPIURL: d.CandidateAPIURL(base),
			Versions:        s.lambda.Stats(d.Spec.Name),
		}
		for _, v := range st.Versions {
			st.Environments += v.Environments
			st.Invocations += v.Invocations
			st.ColdStarts += v.ColdStarts
		}
		h.Deployments = append(h.Deployments, st)
	}
	sort.Slice(h.Deployments, func(i, j int) bool { return h.Deployments[i].FunctionName < h.Deployments[j].FunctionName })
	return h
}

func (s *Stack) serveDeploy(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(io.LimitReader(r.Body, 16<<20))
	dec.DisallowUnknownFields()
	var spec Spec
	if err := dec.Decode(&spec); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "deploy takes a JSON Spec (see local/stack.Spec): " + err.Error()})
		return
	}
	d, err := s.Deploy(r.Context(), spec)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, d.Outputs(baseURL(r)))
}

func baseURL(r *http.Request) string { return "http://" + r.Host }

// Client calls a running stack's control API.
type Client struct {
	// Endpoint is the edge endpoint, e.g. http://127.0.0.1:4566: http on a
	// loopback address, as the stack serves it, so that the token never
	// leaves the machine.
	Endpoint string
	// Token is the stack's control token (Stack.Token). When it is "", the
	// token is read from TokenFile (DefaultTokenFile when that is "") at
	// every call, so that a client waiting for a stack that is starting
	// reads the token of this start.
	Token     string
	TokenFile string
	// HTTP is the client to use; nil means http.DefaultClient.
	HTTP *http.Client
}

// Health asks whether the stack is ready, and what it runs.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	err := c.call(ctx, http.MethodGet, "/_local/health", nil, &h)
	return h, err
}

// WaitReady asks for Health every poll until the stack answers ready. When
// ctx ends first, it returns the last failure, which says why (connection
// refused, not ready yet).
func (c *Client) WaitReady(ctx context.Context, poll time.Duration) error {
	var last error
	for {
		h, err := c.Health(ctx)
		if err == nil && h.Status == "ready" {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("local stack at %s: status %q", c.Endpoint, h.Status)
		}
		// A call cut short by ctx says nothing about the stack: keep the
		// reason the one before it failed.
		if ctx.Err() == nil || last == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return last
		case <-time.After(poll):
		}
	}
}

// Deploy deploys spec and returns the env's outputs.
func (c *Client) Deploy(ctx context.Context, spec Spec) (Outputs, error) {
	body, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var out Outputs
	err = c.call(ctx, http.MethodPost, "/_local/deploy", body, &out)
	return out, err
}

// CheckEndpoint refuses an edge endpoint that is not http on a loopback
// address (127.0.0.0/8, [::1], localhost), where the stack listens: a
// Client sends its control token nowhere else.
func CheckEndpoint(endpoint string) error {
	if u, err := url.Parse(endpoint); err != nil || u.Scheme != "http" || !loopbackHost(u.Host) {
		return fmt.Errorf("local stack endpoint %q: want http://<loopback address>:<port>, e.g. http://127.0.0.1:4566 (the stack listens on loopback only, and its control token is not sent elsewhere)", endpoint)
	}
	return nil
}

func (c *Client) call(ctx context.Context, method, path string, body []byte, out any) error {
	if err := CheckEndpoint(c.Endpoint); err != nil {
		return err
	}
	token, tokenErr := c.Token, error(nil)
	if token == "" {
		file := c.TokenFile
		if file == "" {
			file = DefaultTokenFile
		}
		// Sent without one all the same: that nothing listens is the
		// better answer when the stack is not running.
		token, tokenErr = ReadTokenFile(file)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("local stack at %s: %w (is it running? make local-up)", c.Endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized && tokenErr != nil {
		return fmt.Errorf("local stack at %s: %w", c.Endpoint, tokenErr)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Message string }
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			return fmt.Errorf("local stack: %s", e.Message)
		}
		return fmt.Errorf("local stack: %s %s: %s", method, path, resp.Status)
	}
	return json.Unmarshal(data, out)
}
