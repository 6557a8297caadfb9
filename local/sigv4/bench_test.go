package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/acme/request-dump/local/sigv4"
)

// The verifier's cost per request beside its baseline, the SDK signer
// signing the same request (which the verifier does once more, plus
// parsing the header and hashing the body):
//
//	go test -run '^$' -bench . -benchmem ./local/sigv4
var benchBody = []byte(`{"event_id":"bench-000001","type":"signup","user":{"id":"u-1","email":"a@example.com"},"attributes":{"plan":"pro"}}`)

func benchRequest(b *testing.B, creds aws.Credentials, at time.Time) *http.Request {
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:4566/restapis/abc/stg/_user_request_/events", bytes.NewReader(benchBody))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(benchBody)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", "ap-northeast-1", at); err != nil {
		b.Fatal(err)
	}
	req.RequestURI = req.URL.RequestURI()
	return req
}

func BenchmarkSignBaseline(b *testing.B) {
	creds := aws.Credentials{AccessKeyID: session.AccessKeyID, SecretAccessKey: session.SecretAccessKey, SessionToken: session.SessionToken}
	signer := v4.NewSigner()
	at := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:4566/restapis/abc/stg/_user_request_/events", bytes.NewReader(benchBody))
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256(benchBody)
		if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", "ap-northeast-1", at); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	creds := aws.Credentials{AccessKeyID: session.AccessKeyID, SecretAccessKey: session.SecretAccessKey, SessionToken: session.SessionToken}
	at := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	req := benchRequest(b, creds, at)
	v := sigv4.New(keys{session.AccessKeyID: session}, "execute-api", "ap-northeast-1")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(req, benchBody, at); err != nil {
			b.Fatal(err)
		}
	}
}
