package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/itchyny/gojq"
)

// The script tests put a stand-in for GitHub's CLI on PATH: this test
// binary, run again with ghStateVar set. It keeps the pull requests in a
// JSON file and answers `gh pr list`, `gh pr create` and `gh pr close` as gh
// does against GitHub: list filters by --head, --base and --state (open by
// default) and prints the --json fields through --jq, evaluated with gojq
// (the jq implementation gh itself embeds); create refuses a head branch
// that is not on origin or already has an open pull request into the base;
// close marks it closed and with --delete-branch deletes the branch on
// origin. It is Go because no shell tool evaluates --jq without jq, which
// the machines that run these tests need not have.
const (
	ghStateVar  = "ARTIFACT_TEST_GH_STATE"  // the directory of prs.json and fail
	ghOriginVar = "ARTIFACT_TEST_GH_ORIGIN" // the origin repository
	ghLogVar    = "ARTIFACT_TEST_GH_LOG"    // every command line, one per line
)

func TestMain(m *testing.M) {
	if state := os.Getenv(ghStateVar); state != "" {
		os.Exit(ghStandIn(state, os.Getenv(ghOriginVar), os.Getenv(ghLogVar), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// pullRequest is a pull request as `gh pr list --json` names its fields.
type pullRequest struct {
	Number      int      `json:"number"`
	State       string   `json:"state"`
	HeadRefName string   `json:"headRefName"`
	BaseRefName string   `json:"baseRefName"`
	Title       string   `json:"title"`
	Body        string   `json:"body"`
	URL         string   `json:"url"`
	Comments    []string `json:"comments"`
}

// ghFlags are the flags the stand-in knows, and whether each takes a value.
var ghFlags = map[string]bool{
	"--head": true, "--base": true, "--state": true, "--json": true, "--jq": true, "--limit": true,
	"--title": true, "--body": true, "--comment": true, "--delete-branch": false,
}

func ghStandIn(state, origin, logPath string, args []string, stdout, stderr io.Writer) int {
	if err := appendLine(logPath, strings.Join(args, " ")); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := gh(state, origin, args, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func gh(state, origin string, args []string, stdout io.Writer) error {
	if len(args) < 2 || args[0] != "pr" {
		return fmt.Errorf("gh stand-in: unexpected command: gh %s", strings.Join(args, " "))
	}
	flags := map[string]string{}
	var positional []string
	for i := 2; i < len(args); i++ {
		name := args[i]
		if !strings.HasPrefix(name, "-") {
			positional = append(positional, name)
			continue
		}
		takesValue, ok := ghFlags[name]
		switch {
		case !ok:
			return fmt.Errorf("unknown flag: %s", name)
		case !takesValue:
			flags[name] = "true"
		case i+1 >= len(args):
			return fmt.Errorf("flag needs an argument: %s", name)
		default:
			flags[name] = args[i+1]
			i++
		}
	}
	prs, err := loadPRs(state)
	if err != nil {
		return err
	}
	switch args[1] {
	case "list":
		return listPRs(prs, flags, stdout)
	case "create":
		if _, err := os.Stat(filepath.Join(state, "fail")); err == nil {
			return errors.New("pull request create failed: GraphQL: GitHub Actions is not permitted to create or approve pull requests (createPullRequest)")
		}
		head, base := flags["--head"], flags["--base"]
		if head == "" || base == "" || flags["--title"] == "" {
			return errors.New("gh stand-in: pr create needs --head, --base and --title")
		}
		if err := exec.Command("git", "--git-dir", origin, "rev-parse", "--verify", "--quiet", "refs/heads/"+head).Run(); err != nil {
			return errors.New("pull request create failed: GraphQL: Head sha can't be blank, Base sha can't be blank, No commits between " + base + " and " + head + ", Head ref must be a branch (createPullRequest)")
		}
		for _, pr := range prs {
			if pr.State == "OPEN" && pr.HeadRefName == head && pr.BaseRefName == base {
				return fmt.Errorf("a pull request for branch %q into branch %q already exists:\n%s", head, base, pr.URL)
			}
		}
		pr := pullRequest{Number: len(prs) + 1, State: "OPEN", HeadRefName: head, BaseRefName: base, Title: flags["--title"], Body: flags["--body"]}
		pr.URL = "https://github.com/acme/request-dump/pull/" + strconv.Itoa(pr.Number)
		fmt.Fprintln(stdout, pr.URL)
		return savePRs(state, append(prs, pr))
	case "close":
		if len(positional) != 1 {
			return errors.New("gh stand-in: pr close takes one pull request number")
		}
		n, err := strconv.Atoi(positional[0])
		if err != nil || n < 1 || n > len(prs) {
			return fmt.Errorf("GraphQL: Could not resolve to a PullRequest with the number of %s. (repository.pullRequest)", positional[0])
		}
		pr := &prs[n-1]
		if pr.State != "OPEN" {
			return fmt.Errorf("! Pull request #%d (%s) is already closed", n, pr.Title)
		}
		pr.State = "CLOSED"
		if c := flags["--comment"]; c != "" {
			pr.Comments = append(pr.Comments, c)
		}
		if flags["--delete-branch"] == "true" {
			if out, err := exec.Command("git", "--git-dir", origin, "update-ref", "-d", "refs/heads/"+pr.HeadRefName).CombinedOutput(); err != nil {
				return fmt.Errorf("deleting branch %s: %v: %s", pr.HeadRefName, err, out)
			}
		}
		return savePRs(state, prs)
	}
	return fmt.Errorf("gh stand-in: unexpected command: gh %s", strings.Join(args, " "))
}

// listPRs prints the pull requests the flags select as gh does: the --json
// fields (as a JSON array) through --jq, one result per line.
func listPRs(prs []pullRequest, flags map[string]string, stdout io.Writer) error {
	state := strings.ToUpper(flags["--state"])
	switch state {
	case "":
		state = "OPEN"
	case "OPEN", "CLOSED", "MERGED", "ALL":
	default:
		return fmt.Errorf("invalid argument %q for \"-s, --state\" flag: valid values are {open|closed|merged|all}", flags["--state"])
	}
	if flags["--json"] == "" {
		return errors.New("gh stand-in: pr list is used with --json here")
	}
	var rows []any
	for _, pr := range prs {
		if state != "ALL" && pr.State != state ||
			flags["--head"] != "" && pr.HeadRefName != flags["--head"] ||
			flags["--base"] != "" && pr.BaseRefName != flags["--base"] {
			continue
		}
		var all map[string]any
		data, _ := json.Marshal(pr)
		if err := json.Unmarshal(data, &all); err != nil {
			return err
		}
		row := map[string]any{}
		for _, field := range strings.Split(flags["--json"], ",") {
			v, ok := all[field]
			if !ok {
				return fmt.Errorf("Unknown JSON field: %q", field)
			}
			row[field] = v
		}
		rows = append(rows, row)
	}
	if rows == nil {
		rows = []any{}
	}
	if flags["--jq"] == "" {
		return json.NewEncoder(stdout).Encode(rows)
	}
	query, err := gojq.Parse(flags["--jq"])
	if err != nil {
		return fmt.Errorf("failed to parse jq expression: %w", err)
	}
	iter := query.Run(rows)
	for {
		v, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, ok := v.(error); ok {
			return err
		}
		if s, ok := v.(string); ok {
			fmt.Fprintln(stdout, s)
			continue
		}
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(data))
	}
}

func loadPRs(state string) ([]pullRequest, error) {
	data, err := os.ReadFile(filepath.Join(state, "prs.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var prs []pullRequest
	return prs, json.Unmarshal(data, &prs)
}

func savePRs(state string, prs []pullRequest) error {
	data, err := json.MarshalIndent(prs, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(state, "prs.json"), data, 0o644)
}
