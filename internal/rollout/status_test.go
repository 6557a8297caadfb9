package rollout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/rollout"
)

// The rollout/<env> status goes to GitHub's statuses API of the head
// commit, with the token, and a description within GitHub's 140
// characters; an answer other than 201 is reported, not fatal.
func TestCommitStatusPostsToGitHub(t *testing.T) {
	var got []map[string]string
	var auth, path string
	answer := http.StatusCreated
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, path = r.Header.Get("Authorization"), r.URL.Path
		var body map[string]string
		data, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(data, &body))
		got = append(got, body)
		w.WriteHeader(answer)
		_, _ = w.Write([]byte(`{"message":"Resource not accessible by integration"}`))
	}))
	defer srv.Close()
	var log bytes.Buffer
	post := rollout.CommitStatus(srv.Client(), srv.URL+"/", "t0ken", "acme/request-dump", "0123456789abcdef0123", "rollout/prod", "https://github.com/acme/request-dump/pull/7", &log)

	post(context.Background(), "pending", "rolling out version 4: canary 10 % for 5m0s, then 100 %")
	post(context.Background(), "failure", "rolled back: "+strings.Repeat("x", 200))
	require.Len(t, got, 2)
	assert.Equal(t, "/repos/acme/request-dump/statuses/0123456789abcdef0123", path)
	assert.Equal(t, "Bearer t0ken", auth)
	assert.Equal(t, map[string]string{"state": "pending", "context": "rollout/prod", "description": "rolling out version 4: canary 10 % for 5m0s, then 100 %", "target_url": "https://github.com/acme/request-dump/pull/7"}, got[0])
	assert.Len(t, got[1]["description"], 140)
	assert.Contains(t, log.String(), "commit status rollout/prod of 0123456789ab: failure")

	answer = http.StatusForbidden
	post(context.Background(), "success", "promoted")
	assert.Contains(t, log.String(), "commit status rollout/prod not posted: GitHub answered 403 Forbidden: {\"message\":\"Resource not accessible by integration\"} (the token needs statuses: write on acme/request-dump)")
}
