#!/usr/bin/env bash
# Static checks of every Terraform module and root that run without a cloud
# account or the provider registry: `terraform fmt` (1.5.7), tflint with the
# bundled terraform ruleset (.tflint.hcl), and tfsec with no HIGH or
# CRITICAL finding, where an ignore must give its reason on the same line.
# `terraform init/validate/plan` need the AWS provider and run in Atlantis;
# the Go tests in terraform/ check the HCL's invariants and validations.
#
# Usage: scripts/check-terraform.sh   (builds the pinned tools on first use)
set -euo pipefail
usage() { echo "usage: scripts/check-terraform.sh (no arguments)"; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 0 ] || { usage >&2; exit 2; }
cd "$(dirname "$0")/.."
root=$(pwd)
bin="$root/.tools/bin"

scripts/tools.sh terraform tflint tfsec

# No CLI config file, no version checkpoint calls: the checks stay offline.
export TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1

dirs=()
for d in terraform/*/ global/ envs/*/; do
  compgen -G "$d*.tf" >/dev/null && dirs+=("${d%/}")
done
[ ${#dirs[@]} -gt 0 ] || { echo "check-terraform.sh: no Terraform directories found" >&2; exit 1; }

step() { printf '\n--> %s\n' "$*"; }

step "terraform fmt -check (terraform $("$bin/terraform" version | head -1 | cut -d' ' -f2)): ${dirs[*]}"
"$bin/terraform" fmt -check -recursive -diff "${dirs[@]}"

for d in "${dirs[@]}"; do
  step "tflint $d"
  "$bin/tflint" --chdir="$d" --config="$root/.tflint.hcl" --format=compact
done

step "tfsec ignores give a reason on the same line"
if unexplained=$(grep -rnE 'tfsec:ignore:[A-Za-z0-9-]+[[:space:]]*$' --include='*.tf' "${dirs[@]}"); then
  echo "$unexplained" >&2
  echo "check-terraform.sh: write why after each tfsec:ignore:<rule>" >&2
  exit 1
fi

for d in "${dirs[@]}"; do
  step "tfsec $d (HIGH and CRITICAL fail)"
  "$bin/tfsec" "$d" --minimum-severity HIGH --no-module-downloads --no-color --concise-output --no-code
done

step "terraform checks passed: ${#dirs[@]} directories"
