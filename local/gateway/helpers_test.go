package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// fakeFunction is a Function that counts its invocations, keeps their
// payloads and answers with respond (a 200 proxy result by default).
type fakeFunction struct {
	respond func(ctx context.Context, payload []byte) (Result, error)

	mu         sync.Mutex
	payloads   [][]byte
	requestIDs []string
}

func (f *fakeFunction) Invoke(ctx context.Context, requestID string, payload []byte) (Result, error) {
	f.mu.Lock()
	f.payloads = append(f.payloads, bytes.Clone(payload))
	f.requestIDs = append(f.requestIDs, requestID)
	f.mu.Unlock()
	if f.respond != nil {
		return f.respond(ctx, payload)
	}
	return Result{Payload: []byte(`{"statusCode":200,"body":"{\"ok\":true}"}`)}, nil
}

func (f *fakeFunction) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.payloads)
}

func (f *fakeFunction) lastPayload(t *testing.T) []byte {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.payloads, "the function was not invoked")
	return f.payloads[len(f.payloads)-1]
}

// answering returns a respond func that always returns payload.
func answering(payload string) func(context.Context, []byte) (Result, error) {
	return func(context.Context, []byte) (Result, error) { return Result{Payload: []byte(payload)}, nil }
}

// fixtureFunctions are fakes for every function the fixtures name.
type fixtureFunctions struct {
	events, items, files, slow, things *fakeFunction
}

func newFixtureFunctions() *fixtureFunctions {
	return &fixtureFunctions{
		events: &fakeFunction{}, items: &fakeFunction{}, files: &fakeFunction{},
		slow: &fakeFunction{respond: waitForDeadline}, things: &fakeFunction{},
	}
}

func (f *fixtureFunctions) option() Option {
	return WithFunctions(map[string]Function{
		"events-fn": f.events, "items-fn": f.items, "files-fn": f.files, "slow-fn": f.slow, "things": f.things,
	})
}

func (f *fixtureFunctions) total() int {
	return f.events.calls() + f.items.calls() + f.files.calls() + f.slow.calls() + f.things.calls()
}

// waitForDeadline is a function slower than any integration timeout.
func waitForDeadline(ctx context.Context, _ []byte) (Result, error) {
	<-ctx.Done()
	return Result{}, ctx.Err()
}

func loadDoc(t testing.TB, name string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return doc
}

// serve starts the gateway for doc on 127.0.0.1:0.
func serve(t testing.TB, doc *openapi3.T, opts ...Option) *httptest.Server {
	t.Helper()
	h, err := New(doc, append([]Option{WithStage("test")}, opts...)...)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type call struct {
	method, path string
	header       http.Header
	body         []byte
	host         string
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, srv *httptest.Server, c call) reply {
	t.Helper()
	req, err := http.NewRequest(c.method, srv.URL+c.path, bytes.NewReader(c.body))
	require.NoError(t, err)
	for k, vs := range c.header {
		// As written: Go's client sends a name in the case it has in the
		// map, and some tests send names in the case a client chose.
		req.Header[k] = append(req.Header[k], vs...)
	}
	if c.host != "" {
		req.Host = c.host
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: body}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// requireGatewayAnswer checks the headers every answer the gateway makes
// itself carries.
func requireGatewayAnswer(t *testing.T, r reply, errorType string) {
	t.Helper()
	require.Regexp(t, uuidPattern, r.header.Get("X-Amzn-Requestid"), "x-amzn-RequestId")
	require.NotEmpty(t, r.header.Get("X-Amz-Apigw-Id"), "x-amz-apigw-id")
	require.Equal(t, errorType, r.header.Get("X-Amzn-Errortype"), "x-amzn-ErrorType")
}
