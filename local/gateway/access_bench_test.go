package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/local/apikeys"
	"github.com/acme/request-dump/local/sigv4"
)

// The gateway's own cost for an accepted POST /events in each access mode
// (compare with BenchmarkPostEvent, mode none, in the same run):
//
//	go test -run '^$' -bench 'PostEvent$|PostEventAPIKey|PostEventIAM' -benchmem ./local/gateway
func accessBenchHandler(b *testing.B, mode string, opts ...Option) http.Handler {
	b.Helper()
	vars := deployedVars
	vars.AccessMode = mode
	doc, err := apispec.Load(vars)
	require.NoError(b, err)
	h, err := New(doc, append([]Option{WithStage("dev"), WithFunctions(map[string]Function{"request-dump-dev": benchFunction{}}),
		WithThrottle(1e12, 1<<30), WithAccessLog(discardSink{}, "g", "s", deployedAccessLogFormat(b))}, opts...)...)
	require.NoError(b, err)
	return h
}

func BenchmarkPostEventAPIKey(b *testing.B) {
	keys := apikeys.New()
	keys.PutKey(apikeys.Key{ID: "k", Value: "bench-key"})
	keys.PutPlan(apikeys.Plan{ID: "p", Stages: []apikeys.Stage{{APIID: APIID("request-dump-dev"), Stage: "dev"}}, KeyIDs: []string{"k"}, RateLimit: 1e12, BurstLimit: 1 << 30})
	h := accessBenchHandler(b, apispec.AccessAPIKey, WithAPIKeys(keys))
	body := readTestdata(b, "event-body.json")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/events", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("x-api-key", "bench-key")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

func BenchmarkPostEventIAM(b *testing.B) {
	h := accessBenchHandler(b, apispec.AccessIAM, WithSigV4(sigv4.New(credentialMap{caller.AccessKeyID: caller}, "execute-api", "ap-northeast-1")))
	body := readTestdata(b, "event-body.json")
	// One signed request, replayed: the signer's cost is the client's.
	signed := httptest.NewRequest("POST", "/events", bytes.NewReader(body))
	signed.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: caller.AccessKeyID, SecretAccessKey: caller.SecretAccessKey, SessionToken: caller.SessionToken}
	require.NoError(b, v4.NewSigner().SignHTTP(context.Background(), creds, signed, hex.EncodeToString(sum[:]), "execute-api", "ap-northeast-1", time.Now()))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/events", bytes.NewReader(body))
			req.Header = signed.Header.Clone()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
