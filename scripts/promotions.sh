#!/usr/bin/env bash
# Prints, as a JSON array for a GitHub Actions matrix, the promotions a push
# to main calls for: one {"from": <env>, "to": <next env>} for every env
# whose artifact pointer changed between <before> and <after>, e.g.
# [{"from":"dev","to":"stg"}]. The last env (prod) promotes nowhere.
set -euo pipefail

usage() { echo "usage: scripts/promotions.sh <before-commit> <after-commit>"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 2 ] || die_usage
before=$1 after=$2

cd "$(dirname "$0")/.."
git rev-parse --verify --quiet "$after^{commit}" >/dev/null ||
  { echo "promotions.sh: '$after' is not a commit here" >&2; exit 1; }
# A push that creates the branch has no before commit (all zeros).
if [[ $before =~ ^0+$ ]] || ! git rev-parse --verify --quiet "$before^{commit}" >/dev/null; then
  echo "promotions.sh: no usable before commit '$before'; comparing with the parent of $after" >&2
  before="$after^"
fi

go build -o .local/bin/artifact ./cmd/artifact
echo "promotions.sh: pointers changed between $before and $after:" >&2
out=
while IFS= read -r file; do
  [ -n "$file" ] || continue
  env=$(basename "$(dirname "$file")")
  [ -f "$file" ] || { echo "  $file (deleted; nothing to promote)" >&2; continue; }
  next=$(.local/bin/artifact next "$env")
  if [ -z "$next" ]; then
    echo "  $file ($env is the last env)" >&2
    continue
  fi
  echo "  $file → promote $env to $next" >&2
  out+="${out:+,}{\"from\":\"$env\",\"to\":\"$next\"}"
done < <(git diff --name-only "$before" "$after" -- 'envs/*/artifact.auto.tfvars.json')
echo "[$out]"
