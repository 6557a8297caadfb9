package rawheader

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// server records, for each request, what Spelling returned.
type server struct {
	mu        sync.Mutex
	spellings []map[string]string
	url       string
}

func start(t *testing.T) *server {
	t.Helper()
	s := &server{}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		// As http.StripPrefix passes it on: a copy of the request.
		r2 := new(http.Request)
		*r2 = *r
		s.mu.Lock()
		s.spellings = append(s.spellings, Spelling(r2))
		s.mu.Unlock()
	}))
	ts.Listener = Wrap(ts.Config, ts.Listener)
	ts.Start()
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

// send writes raw requests on one connection and reads as many answers.
func (s *server) send(t *testing.T, raw string, answers int) []int {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(c, raw)
	require.NoError(t, err)
	br := bufio.NewReader(c)
	var codes []int
	for range answers {
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	return codes
}

func TestSpellingAsSent(t *testing.T) {
	s := start(t)
	chunked := "POST /b HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\nx-Chunked: 1\r\n\r\n" +
		"5;ext=1\r\nhello\r\n6\r\n\r\nGET \r\n0\r\nx-trailer: t\r\n\r\n"
	raw := "GET /a HTTP/1.1\r\nHost: x\r\ntEsT-HEADeR: aValUE\r\nx-api-key: k\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\n" +
		// A body that looks like a request is skipped by its length.
		"POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 28\r\nContent-Type: text/plain\r\n\r\nGET /c HTTP/1.1\r\nHost: y\r\n\r\n" +
		chunked +
		"GET /d HTTP/1.1\nHost: x\nbare-LF: yes\n\n" +
		"GET /e HTTP/1.1\r\nHost: x\r\nUser-Agent: canonical\r\n\r\n"
	codes := s.send(t, raw, 5)
	assert.Equal(t, []int{200, 200, 200, 200, 200}, codes)
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Equal(t, []map[string]string{
		{"Test-Header": "tEsT-HEADeR", "X-Api-Key": "x-api-key", "X-Multi": "x-multi"},
		{"Host": "host", "Content-Length": "content-length"},
		{"Transfer-Encoding": "transfer-encoding", "X-Chunked": "x-Chunked"},
		{"Bare-Lf": "bare-LF"},
		nil,
	}, s.spellings)
}

func TestSpellingIsDroppedWhenTheReadersDisagree(t *testing.T) {
	c := &conn{}
	c.startHead()
	c.scan([]byte("GET / HTTP/1.1\r\nHost: x\r\nx-seen: 1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nx-seen: 1\r\n\r\n"))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header = http.Header{"X-Other": {"1"}}
	c.next(r)
	assert.Nil(t, c.current.spelling, "a head that is not the parsed request's")
	r.Header = http.Header{"X-Seen": {"1"}}
	c.next(r)
	assert.Nil(t, c.current.spelling, "and none after it on that connection")
}

func TestSpellingWithoutTheWrapper(t *testing.T) {
	assert.Nil(t, Spelling(httptest.NewRequest("GET", "/", nil)))
}
