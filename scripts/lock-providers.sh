#!/usr/bin/env bash
# Writes (or with --check, verifies) the dependency lock file of every
# Terraform root (envs/<env>, global) for every platform Atlantis and
# developers run on, with the pinned Terraform: `terraform providers lock`
# downloads each platform's provider package from the registry, checks it
# against the registry's signed SHA256SUMS and the hashes already in the
# file, and records h1: and zh: hashes. Needs the registry
# (registry.terraform.io), so `make test` does not run it; the pull-request
# workflow does, with --check, and fails when a lock file is missing,
# incomplete or out of date.
#
# Usage: scripts/lock-providers.sh [--check]
set -euo pipefail

usage() { echo "usage: scripts/lock-providers.sh [--check]"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac

check=false
case $# in
0) ;;
1) [ "$1" = --check ] || die_usage; check=true ;;
*) die_usage ;;
esac
cd "$(dirname "$0")/.."

scripts/tools.sh terraform
# No CLI config file: no mirror or cache stands between the registry and
# the hashes recorded here.
export TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1
platforms=(-platform=linux_amd64 -platform=linux_arm64 -platform=darwin_amd64 -platform=darwin_arm64)

roots=()
for f in envs/*/main.tf global/main.tf; do
  roots+=("$(dirname "$f")")
done
# providers lock reads the modules a root calls from its data directory and
# refuses ("Module not installed") in a fresh checkout; get installs them
# (local paths only: no provider, no network). A data directory of our own
# leaves no .terraform behind, which would pass for an initialised root
# (smoke/target.go).
data_dir=$(mktemp -d)
trap 'rm -rf "$data_dir"' EXIT
for root in "${roots[@]}"; do
  export TF_DATA_DIR=$data_dir/$root
  echo "lock-providers.sh: terraform -chdir=$root get" >&2
  .tools/bin/terraform -chdir="$root" get
  echo "lock-providers.sh: terraform -chdir=$root providers lock ${platforms[*]}" >&2
  .tools/bin/terraform -chdir="$root" providers lock "${platforms[@]}"
done

if $check; then
  locks=()
  for root in "${roots[@]}"; do locks+=("$root/.terraform.lock.hcl"); done
  if [ -n "$(git status --porcelain -- "${locks[@]}")" ]; then
    git --no-pager diff -- "${locks[@]}" >&2
    git status --short -- "${locks[@]}" >&2
    echo "lock-providers.sh: the committed lock files differ from what the registry gives for these constraints (a missing file, a platform's hashes missing, or another version): run scripts/lock-providers.sh with registry access and commit the files" >&2
    exit 1
  fi
  echo "lock-providers.sh: every root's lock file is complete for ${platforms[*]}" >&2
fi
