package sdkhttp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/sdkhttp"
)

// race sets up, without timers, the moment that closed connections under
// the SDK: the server has the request and is halfway through a 1 MB
// answer when net/http's writeLoop comes back from writing the request
// body, and the SDK has closed that body meanwhile.
type race struct {
	closed  chan struct{} // the SDK closed the request body
	written chan struct{} // the writeLoop is back from the body's write
	calls   atomic.Int32
}

func newRace() *race {
	return &race{closed: make(chan struct{}, 1), written: make(chan struct{}, 1)}
}

// server answers a FilterLogEvents page of about 1 MB in two halves, the
// second once the client's writeLoop has moved on.
func (rc *race) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		page := []byte(`{"events":[{"message":"` + strings.Repeat("x", 1<<20) + `"}],"searchedLogStreams":[]}`)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write(page[:len(page)/2])
		w.(http.Flusher).Flush()
		select {
		case <-rc.written:
			time.Sleep(50 * time.Millisecond)
		case <-time.After(5 * time.Second):
		}
		_, _ = w.Write(page[len(page)/2:])
	}))
	t.Cleanup(srv.Close)
	return srv
}

// conn holds the write of a request body until the SDK has closed it.
type conn struct {
	net.Conn
	rc *race
}

func (c conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if !bytes.HasSuffix(p, []byte("\r\n\r\n")) { // the body, not the headers
		select {
		case <-c.rc.closed:
		case <-time.After(5 * time.Second):
		}
		c.rc.written <- struct{}{}
	}
	return n, err
}

func (rc *race) dial(tr *http.Transport) {
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		return conn{c, rc}, err
	}
}

// closeSignal tells the race when the SDK closes its body; it keeps the
// body's WriteTo.
type closeSignal struct {
	io.ReadCloser
	rc *race
}

func (b closeSignal) WriteTo(w io.Writer) (int64, error) {
	return b.ReadCloser.(io.WriterTo).WriteTo(w)
}
func (b closeSignal) Close() error {
	err := b.ReadCloser.Close()
	b.rc.closed <- struct{}{}
	return err
}

type doer func(*http.Request) (*http.Response, error)

func (d doer) Do(r *http.Request) (*http.Response, error) { return d(r) }

// signalling is next with the SDK's request bodies wrapped in closeSignal.
func (rc *race) signalling(next aws.HTTPClient) aws.HTTPClient {
	return doer(func(r *http.Request) (*http.Response, error) {
		r.Body = closeSignal{r.Body, rc}
		return next.Do(r)
	})
}

func filterLogEvents(url string, client aws.HTTPClient, attempts int) error {
	logs := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:           "ap-northeast-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:       client,
		RetryMaxAttempts: attempts,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/x")})
	if err == nil && (len(out.Events) != 1 || len(aws.ToString(out.Events[0].Message)) != 1<<20) {
		return errors.New("the page did not come back whole")
	}
	return err
}

func TestLargeResponseAfterEarlyBodyClose(t *testing.T) {
	t.Run("the SDK alone loses the connection under the reader", func(t *testing.T) {
		// If this fails, smithy-go no longer answers io.EOF from WriteTo
		// after Close, and the wrapper may go.
		rc := newRace()
		srv := rc.server(t)
		err := filterLogEvents(srv.URL, rc.signalling(awshttp.NewBuildableClient().WithTransportOptions(rc.dial)), 1)
		require.Error(t, err)
		assert.ErrorIs(t, err, net.ErrClosed)
	})
	t.Run("through the wrapper the page arrives on the first attempt", func(t *testing.T) {
		rc := newRace()
		srv := rc.server(t)
		inner := sdkhttp.New(rc.dial)
		require.NoError(t, filterLogEvents(srv.URL, rc.signalling(inner), 0))
		assert.Equal(t, int32(1), rc.calls.Load(), "no retry was needed")
	})
}
