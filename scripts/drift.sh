#!/usr/bin/env bash
# Checks one Terraform root for drift: plans the code of this checkout
# against AWS (refreshing every resource, without taking the state lock)
# and keeps one GitHub issue per root, labelled drift, up to date:
#   no changes  the root's open drift issue, if any, is closed;
#   changes     the issue is opened, or the open one updated, with the
#               drifted resource addresses and a link to the run;
#   plan error  the script fails loudly and leaves the issue as it is: an
#               error is never reported as drift, nor as its end.
# .github/workflows/drift.yml runs it daily for each root with a read-only
# role; it runs the same way on a developer's machine.
#
# Usage: scripts/drift.sh <root> [--report-only]
#   <root>         an env under envs/ (dev, stg, prod) or global
#   --report-only  print the report; open, update or close no issue
# Env:   TERRAFORM_PATH  the terraform binary (default .tools/bin/terraform,
#                        else terraform on PATH if it is ~> 1.5.7, as the roots require)
#        GH_TOKEN        for gh (issues: write); GITHUB_SERVER_URL,
#                        GITHUB_REPOSITORY and GITHUB_RUN_ID make the link
#                        to the run (GitHub Actions sets them)
# Exit:  0 no drift, 1 the plan (or gh) failed, 2 usage error, 3 drift
#        found and reported.
set -euo pipefail

cd "$(dirname "$0")/.."
roots=$(for f in envs/*/main.tf; do basename "$(dirname "$f")"; done | tr '\n' ' ')global
usage() { echo "usage: scripts/drift.sh <root> [--report-only]   (root: one of ${roots// /, })"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 1 ] || { echo "drift.sh: missing root" >&2; die_usage; }
root=$1
shift
report_only=false
for arg in "$@"; do
  case $arg in
    --report-only) report_only=true ;;
    *) echo "drift.sh: unknown argument '$arg'" >&2; die_usage ;;
  esac
done
case $root in
  global) dir=global ;;
  -*) echo "drift.sh: the root comes first, then options (got '$root')" >&2; die_usage ;;
  *)
    if ! [[ $root =~ ^[a-z0-9][a-z0-9_-]*$ ]] || [ ! -f "envs/$root/main.tf" ]; then
      echo "drift.sh: unknown root '$root'" >&2
      die_usage
    fi
    dir=envs/$root
    ;;
esac

source scripts/lib/terraform-path.sh
terraform_path drift.sh || exit 2
tf=$TERRAFORM_PATH
export TF_IN_AUTOMATION=1 TF_INPUT=0

run_url="(a run outside GitHub Actions)"
if [ -n "${GITHUB_RUN_ID:-}" ] && [ -n "${GITHUB_REPOSITORY:-}" ]; then
  run_url=${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID
fi
commit=${GITHUB_SHA:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
title="Drift: $root no longer matches the code"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "drift.sh: terraform init ($dir)" >&2
if ! "$tf" -chdir="$dir" init -input=false -no-color >"$tmp/init.log" 2>&1; then
  cat "$tmp/init.log" >&2
  echo "drift.sh: terraform init of $dir failed: that is an error, not drift; nothing was reported" >&2
  exit 1
fi

echo "drift.sh: terraform plan -detailed-exitcode -lock=false ($dir)" >&2
status=0
"$tf" -chdir="$dir" plan -detailed-exitcode -lock=false -input=false -no-color -out="$tmp/drift.tfplan" >&2 || status=$?
case $status in
  0) drifted=false ;;
  2) drifted=true ;;
  *)
    echo "drift.sh: terraform plan of $dir failed (exit $status): that is an error, not drift; the drift issue is left as it is" >&2
    exit 1
    ;;
esac

body=$tmp/report.md
if $drifted; then
  "$tf" -chdir="$dir" show -json "$tmp/drift.tfplan" >"$tmp/plan.json" ||
    { echo "drift.sh: terraform show -json of the plan failed" >&2; exit 1; }
  go build -o "$tmp/drift" ./cmd/drift
  "$tmp/drift" -root "$root" -dir "$dir" -run-url "$run_url" -commit "$commit" "$tmp/plan.json" >"$body"
  echo "drift.sh: $root has drifted:" >&2
  cat "$body"
else
  echo "drift.sh: no drift in $root" >&2
fi
if $report_only; then
  $drifted && exit 3
  exit 0
fi

github() {
  gh "$@" || { echo "drift.sh: gh $1 $2 failed; the drift issue of $root may be out of date" >&2; exit 1; }
}

# The root's open drift issue, found by its exact title among the open
# issues labelled drift.
issues=$(github issue list --label drift --state open --limit 100 --json number,title --jq '.[] | "\(.number)\t\(.title)"')
open=$(awk -F '\t' -v t="$title" '$2 == t { print $1; exit }' <<<"$issues")
if ! $drifted; then
  if [ -n "$open" ]; then
    echo "drift.sh: closing issue #$open" >&2
    github issue close "$open" --comment "No drift in $root any more: $run_url (commit \`$commit\`)."
  fi
  exit 0
fi
if [ -n "$open" ]; then
  echo "drift.sh: updating issue #$open" >&2
  github issue edit "$open" --body-file "$body"
else
  echo "drift.sh: opening an issue: $title" >&2
  github label create drift --color D93F0B --description "AWS no longer matches the code (scripts/drift.sh)" --force
  github issue create --title "$title" --label drift --body-file "$body"
fi
exit 3
