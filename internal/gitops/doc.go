// Package gitops checks the repository's GitOps wiring where it cannot run:
// atlantis.yaml and the server-side atlantis/repos.yaml are parsed and
// validated with Atlantis's own parser and cross-checked against the env
// roots (one project per env, autoplan patterns that reach the modules they
// use, the smoke test after every apply), and the GitHub Actions workflows
// are held to this repository's rules (actions pinned to commit SHAs,
// id-token only in jobs that reach AWS, steps that call scripts/). The
// server's policy checks and its image (atlantis/Dockerfile, read with
// BuildKit's parser) are checked against the same config. The package has
// tests only; scripts/check-workflows.sh runs them after actionlint.
package gitops
