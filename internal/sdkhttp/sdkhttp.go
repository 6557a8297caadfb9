// Package sdkhttp is the HTTP client under the repository's aws-sdk-go-v2
// clients: the SDK's own (or any other), with the request body handed to
// net/http in a wrapper that has no WriteTo method.
//
// Why: smithy-go wraps every request body in a "safe" reader whose WriteTo
// answers io.EOF once the body is closed (io.WriterTo should answer nil at
// the end), and it closes the body as soon as the response headers are in.
// net/http's writeLoop, after copying Content-Length bytes of a body, reads
// it once more to check that nothing is left (io.Copy(io.Discard, body),
// which uses WriteTo). When the server has answered before the writeLoop
// gets there, a moment a loaded machine stretches, that check meets the
// closed body, takes the io.EOF for a failed write, and closes the
// connection while the response body is still being read: the read fails
// with "use of closed network connection". A large response (a 1 MB
// FilterLogEvents page) is read long enough to be caught; the SDK has
// retried the error since v1.33 (aws-sdk-go-v2 #2737, #2949), which hides
// it until the retries run out. Without WriteTo, the check reads through
// Read, whose io.EOF io.Copy takes for the end: the connection stays open
// and is reused.
package sdkhttp

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// New returns the SDK's default HTTP client behind the wrapper; opts change
// its transport, as awshttp.BuildableClient.WithTransportOptions does.
func New(opts ...func(*http.Transport)) aws.HTTPClient {
	return Wrap(awshttp.NewBuildableClient().WithTransportOptions(opts...))
}

// Wrap returns next with request bodies handed over without WriteTo.
func Wrap(next aws.HTTPClient) aws.HTTPClient { return client{next} }

type client struct{ next aws.HTTPClient }

func (c client) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.WithContext(r.Context()) // a shallow copy: the caller keeps its body
		r.Body = readCloser{r.Body}
	}
	return c.next.Do(r)
}

// readCloser exposes Read and Close only.
type readCloser struct{ rc io.ReadCloser }

func (b readCloser) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readCloser) Close() error               { return b.rc.Close() }
