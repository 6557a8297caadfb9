#!/usr/bin/env bash
# Opens the promotion pull request <from> → <to> against the base branch as
# it is now (origin's main): points envs/<to>/artifact.auto.tfvars.json at
# the <from> artifact's content address in the <to> prefix (offline;
# scripts/promote.sh copies the object), commits only that file on branch
# promote/<to>-<source commit>, pushes it, opens the pull request with gh,
# and closes every other open promotion pull request into <to>, which this
# one supersedes.
#
# - It promotes what the checkout's envs/<from> pointer names, and only if
#   the base branch's envs/<from> still names the same artifact: a run for
#   an older merge (or an artifact <from> was rolled back from) is refused,
#   as the run for the newer change promotes what <from> runs now.
# - The source commit is the base branch's last commit that changed
#   envs/<from>'s pointer, so every change of <from> gets its own branch:
#   a branch is never reused for another promotion, even of the same
#   artifact.
# - Idempotent: a branch without a pull request (an earlier run stopped
#   after the push) gets one; an open or closed one is left as it is.
#
# In CI GH_TOKEN and the push use a GitHub App's installation token
# (promote-pair.yml), so the pull request starts its checks like any other;
# one opened with a workflow's GITHUB_TOKEN would start none. Needs GH_TOKEN
# (or gh auth) and an origin.
set -euo pipefail

usage() { echo "usage: scripts/open-promotion-pr.sh <from-env> <to-env>   e.g. scripts/open-promotion-pr.sh dev stg"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 2 ] || die_usage
case $1 in -* | '') die_usage ;; esac
case $2 in -* | '') die_usage ;; esac
from=$1 to=$2
base=${BASE_BRANCH:-main}

cd "$(dirname "$0")/.."
path=envs/$to/artifact.auto.tfvars.json
source_path=envs/$from/artifact.auto.tfvars.json
if [ -n "$(git status --porcelain)" ]; then
  echo "open-promotion-pr.sh: the working tree has changes; run from a clean checkout of $base" >&2
  git status --short >&2
  exit 1
fi

go build -o .local/bin/artifact ./cmd/artifact
# Refuses, before any git, a pair that is not one promotion step: an
# unknown env, a skipped env or a step backwards.
.local/bin/artifact check-step "$from" "$to"
[ -f "$source_path" ] || { echo "open-promotion-pr.sh: there is no $source_path to promote" >&2; exit 1; }

echo "open-promotion-pr.sh: fetching $base from origin" >&2
git fetch -q origin "$base"
tip=$(git rev-parse FETCH_HEAD)
if ! git show "$tip:$source_path" | cmp -s - "$source_path"; then
  echo "open-promotion-pr.sh: NOT promoting: $from on $base (${tip:0:12}) no longer names the artifact this checkout does" >&2
  echo "  this checkout: $(grep '"key"' "$source_path" | tr -d ' ,')" >&2
  echo "  $base now:     $(git show "$tip:$source_path" | grep '"key"' | tr -d ' ,')" >&2
  echo "  $from moved on (a newer change, or a rollback) after this run started; the promotion run for that change promotes what $from runs now" >&2
  exit 1
fi
source=$(git log -1 --format=%H "$tip" -- "$source_path")
[ -n "$source" ] || { echo "open-promotion-pr.sh: no commit on $base changed $source_path" >&2; exit 1; }

# Work on the base as it is now, and come back to where we were.
start=$(git symbolic-ref -q --short HEAD || git rev-parse HEAD)
trap 'git checkout -q -- . 2>/dev/null; git switch -q "$start" 2>/dev/null || git switch -q --detach "$start"' EXIT
git switch -q --detach "$tip"

.local/bin/artifact set-pointer "$to" --from "$from"
if git diff --quiet -- "$path"; then
  echo "open-promotion-pr.sh: $path on $base already names the $from artifact; no pull request needed" >&2
  exit 0
fi
changed=$(git status --porcelain | sed 's/^...//')
if [ "$changed" != "$path" ]; then
  echo "open-promotion-pr.sh: expected only $path to change, got:" >&2
  echo "$changed" >&2
  exit 1
fi

hex=$(sed -n "s|.*\"key\": *\"$to/\\([0-9a-f]\\{64\\}\\)\\.zip\".*|\\1|p" "$path")
[ -n "$hex" ] || { echo "open-promotion-pr.sh: no content-addressed key in $path" >&2; exit 1; }
branch=promote/$to-${source:0:12}
title="Promote $from → $to: artifact ${hex:0:12}"

url=
if git ls-remote --exit-code --heads origin "$branch" >/dev/null; then
  git checkout -q -- "$path"
  # The branch alone does not mean the pull request exists: a run that
  # pushed it may have stopped before gh opened it.
  prs=$(gh pr list --head "$branch" --base "$base" --state all --json state,url --jq '.[] | .state + " " + .url')
  if [ -n "$prs" ]; then
    echo "open-promotion-pr.sh: $branch already has a pull request: $prs" >&2
    if ! grep -q '^OPEN ' <<<"$prs"; then
      echo "  (a closed one stays closed: reopen it, or delete the branch on origin and run this again)" >&2
    fi
    url=$(sed -n 's/^OPEN //p' <<<"$prs" | head -1)
  else
    echo "open-promotion-pr.sh: branch $branch is on origin without a pull request (an earlier run stopped after pushing it)" >&2
  fi
else
  if [ -z "$(git config user.email || true)" ]; then
    [ "${GITHUB_ACTIONS:-}" = true ] ||
      { echo "open-promotion-pr.sh: set git user.name and user.email first" >&2; exit 1; }
    # The App that pushes (APP_SLUG, from create-github-app-token) authors.
    bot="${APP_SLUG:-github-actions}[bot]"
    git config user.name "$bot"
    git config user.email "$bot@users.noreply.github.com"
  fi

  echo "open-promotion-pr.sh: committing $path on $branch (on $base at ${tip:0:12})" >&2
  git commit -q -m "$title" -m "$from's pointer was set by ${source:0:12}." -- "$path"
  git push -q origin "HEAD:refs/heads/$branch"
  prs=
fi

if [ -z "$prs" ]; then
  body="Points \`$path\` at the artifact promoted from $from (\`$to/$hex.zip\`, copied and verified by scripts/promote.sh), which $from runs since ${source:0:12}.

Only this file changes. Read the Atlantis plan, then comment \`atlantis apply -p $to\`; the apply runs the smoke tests for $to. Merging promotes $to to the next env. A newer change of $from closes this pull request and opens its own."
  echo "open-promotion-pr.sh: opening the pull request $branch → $base" >&2
  url=$(gh pr create --base "$base" --head "$branch" --title "$title" --body "$body")
  echo "$url"
fi

# Every other open promotion into <to> names an artifact <from> ran before
# this one: merging it would deploy what <from> has moved away from.
superseded=$(gh pr list --base "$base" --state open --json number,headRefName \
  --jq ".[] | select(.headRefName | startswith(\"promote/$to-\")) | select(.headRefName != \"$branch\") | \"\\(.number) \\(.headRefName)\"")
while read -r number head; do
  [ -n "$number" ] || continue
  echo "open-promotion-pr.sh: closing #$number ($head): superseded by $branch" >&2
  gh pr close "$number" --delete-branch \
    --comment "Superseded by ${url:-$branch}: $from now runs artifact ${hex:0:12} (since ${source:0:12}), which that pull request promotes to $to instead."
done <<<"$superseded"
