package rollout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// CommitStatus posts a rollout's progress and verdict as the commit status
// context (rollout/<env>) of commit sha in repo ("owner/name") through
// GitHub's REST API at api, so that branch protection can require it. A
// status that cannot be posted is reported to log, and the rollout goes
// on: the verdict still fails the apply.
func CommitStatus(client *http.Client, api, token, repo, sha, statusContext, targetURL string, log io.Writer) func(ctx context.Context, state, description string) {
	url := strings.TrimRight(api, "/") + "/repos/" + repo + "/statuses/" + sha
	return func(ctx context.Context, state, description string) {
		if len(description) > 140 {
			description = description[:137] + "..."
		}
		body, _ := json.Marshal(map[string]string{"state": state, "description": description, "context": statusContext, "target_url": targetURL})
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			fmt.Fprintf(log, "rollout: commit status %s not posted: %v\n", statusContext, err)
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/vnd.github+json")
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		resp, err := client.Do(req)
		if err != nil {
			fmt.Fprintf(log, "rollout: commit status %s not posted: %v\n", statusContext, err)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			fmt.Fprintf(log, "rollout: commit status %s not posted: GitHub answered %s: %s (the token needs statuses: write on %s)\n", statusContext, resp.Status, bytes.TrimSpace(msg), repo)
			return
		}
		fmt.Fprintf(log, "rollout: commit status %s of %.12s: %s\n", statusContext, sha, state)
	}
}
