package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/local/stack"
)

func deploy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := fs.String("env", "", "the env to deploy: a directory under envs/ (required)")
	endpoint := fs.String("endpoint", defaultEndpoint(), "the local stack's edge `URL` (env LOCAL_AWS_ENDPOINT)")
	tokenFile := tokenFileFlag(fs, "read")
	zipFile := fs.String("zip", "", "deploy the build in `FILE` (uploaded to the env's prefix, e.g. a build for this machine) instead of the artifact envs/<env>/"+pointer.FileName+" names")
	outputs := fs.String("outputs", "", "write the env's outputs, in `terraform output -json` shape, to `FILE`")
	keepLive := fs.Bool("keep-live", false, "deploy as terraform apply does: publish a version for the candidate alias (the candidate stage) only and leave the live alias, which the public stage serves, to scripts/rollout.sh --local; without it the live alias moves to the new version at once")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *env == "" {
		return fmt.Errorf("%w: deploy: --env is required (one of the directories under envs/)", errUsage)
	}
	if err := stack.CheckEndpoint(*endpoint); err != nil {
		return fmt.Errorf("%w: deploy: --endpoint: %v", errUsage, err)
	}
	root, err := repo.Root()
	if err != nil {
		return err
	}
	cfg, err := envconfig.LoadRoot(root, *env)
	if err != nil {
		return err
	}
	if *zipFile != "" {
		code, err := os.ReadFile(*zipFile)
		if err != nil {
			return fmt.Errorf("deploy: --zip: %w", err)
		}
		cfg.Artifact = pointer.New(cfg.Artifact.Bucket, *env, pointer.Sum(code))
	}
	spec, err := stack.SpecFor(cfg)
	if err != nil {
		return err
	}
	spec.KeepLive = *keepLive
	fmt.Fprintf(stderr, "local-aws: deploying %s (function %s, artifact s3://%s/%s) to %s\n", *env, spec.Name, spec.Artifact.Bucket, spec.Artifact.Key, *endpoint)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	client := &stack.Client{Endpoint: *endpoint, TokenFile: *tokenFile}
	out, err := client.Deploy(ctx, spec)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if *outputs == "" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*outputs), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*outputs, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "local-aws: %s deployed; api_url %s, candidate_api_url %s; outputs in %s\n", *env, out["api_url"].String(), out["candidate_api_url"].String(), *outputs)
	return nil
}
