# Entry points for developers and CI. Each target calls one script in
# scripts/, which can also be run directly with the same arguments.
SHELL := /usr/bin/env bash
ENV ?= dev
# ARCH=arm64 runs the local stack on the exact artifact the env's pointer
# names, under qemu-user on a non-arm64 host (make demo ARCH=arm64).
ARCH ?=
export LOCAL_ARCH := $(ARCH)

.DEFAULT_GOAL := help
.PHONY: help tools build test bench bench-local fuzz demo demo-rollout rollout rollout-local local-up local-down logs smoke smoke-local test-awscli check-workflows check-terraform

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

tools: ## Build the pinned tools into .tools/bin (reused once built).
	scripts/tools.sh

build: ## Build dist/function.zip and dist/function.zip.sha256 reproducibly.
	scripts/build.sh

test: ## Run every test and check (what CI runs).
	scripts/test.sh

test-awscli: ## Drive the local stack with the AWS CLI (needs aws on PATH; not part of make test).
	go test -count=1 -tags awscli -run AWSCLI ./local/...

check-terraform: ## terraform fmt, tflint, tfsec (offline).
	scripts/check-terraform.sh

check-workflows: ## actionlint and the Atlantis/workflow checks (offline).
	scripts/check-workflows.sh

bench: ## Go benchmarks of the function's dump path.
	scripts/bench.sh

bench-local: ## Load-test the local stack (start, latency, throughput, no lost dump).
	scripts/bench-local.sh

fuzz: ## Fuzz the body selector for a while (FUZZTIME, default 60s).
	scripts/fuzz.sh

demo: ## Run the whole service end to end on the local stack.
	scripts/demo.sh $(ENV)

demo-rollout: ## A canary rollout on the local stack: a healthy change promoted, a broken build rolled back.
	scripts/demo-rollout.sh

rollout: ## Roll out to ENV on AWS what its last apply published (what Atlantis runs after apply).
	scripts/rollout.sh $(ENV)

rollout-local: ## Roll out to ENV on the local stack (after local-aws deploy --keep-live).
	scripts/rollout.sh $(ENV) --local

local-up: ## Start the local AWS stack in the background and deploy ENV.
	scripts/local-up.sh $(ENV)

local-down: ## Stop the local AWS stack.
	scripts/local-down.sh

logs: ## Follow the function's log events on the local stack (like sam logs --tail).
	scripts/logs.sh $(ENV) --follow

smoke: ## Smoke-test ENV on AWS (what Atlantis runs after apply).
	scripts/smoke.sh $(ENV)

smoke-local: ## Smoke-test ENV on the local stack (after make local-up).
	scripts/smoke.sh $(ENV) --local
