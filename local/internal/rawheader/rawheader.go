// Package rawheader keeps the header names of HTTP/1.x requests as the
// client spelt them, which net/http canonicalizes (x-api-key becomes
// X-Api-Key) before a handler sees them. API Gateway passes a caller's
// header names to a Lambda proxy integration as sent, so the local gateway
// needs them.
//
// A connection wrapper (Wrap) reads the request stream beside net/http:
// for each request head it queues the names not in canonical form and the
// number of header lines, and skips the body by its framing (Content-Length
// or chunked), so the next head is found where net/http finds it. For each
// request, Handler takes the head the server has read. A head that does not
// agree with what net/http parsed (the two readers disagree on the stream)
// is not used, nor is any later one on that connection: Spelling then
// returns nil and callers keep the canonical names. A client that sends
// canonical names costs no allocation.
//
// Written by hand because net/http keeps no raw names and no library reads
// a request head beside it; it parses only names and framing, never values.
package rawheader

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Wrap makes srv record raw header names for the connections it accepts
// from ln: it chains srv.ConnContext, wraps srv.Handler with Handler, and
// returns the listener to serve.
func Wrap(srv *http.Server, ln net.Listener) net.Listener {
	next := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if next != nil {
			ctx = next(ctx, c)
		}
		if rc, ok := c.(*conn); ok {
			ctx = context.WithValue(ctx, connKey{}, rc)
		}
		return ctx
	}
	h := srv.Handler
	if h == nil {
		h = http.DefaultServeMux
	}
	srv.Handler = Handler(h)
	return listener{ln}
}

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &conn{Conn: c}
	rc.startHead()
	return rc, nil
}

type connKey struct{}

// Handler hands each request the head its connection read for it.
func Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(connKey{}).(*conn); ok {
			c.next(r)
		}
		h.ServeHTTP(w, r)
	})
}

// Spelling maps the canonical name of each header the client did not send
// in canonical form to the name as it first sent it. It is nil when every
// name was canonical, or when the names are not known; either way the
// canonical names are the ones to use.
func Spelling(r *http.Request) map[string]string {
	c, ok := r.Context().Value(connKey{}).(*conn)
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current.req != r.Context() {
		return nil
	}
	return c.current.spelling
}

// head is what a request head said about its headers.
type head struct {
	// lines counts the header lines net/http keeps in Request.Header
	// (all but Host and Transfer-Encoding).
	lines int
	// spelling maps canonical names to the names sent otherwise.
	spelling map[string]string
	// req is the context of the request it was handed to (a handler may
	// pass on a shallow copy of the request, with the same context).
	req context.Context
}

// maxLine bounds a line of a request head or a chunk header; net/http
// refuses heads over 1 MB by default.
const maxLine = 1 << 20

// Reader states.
const (
	stateHead = iota
	stateBody
	stateChunkSize
	stateChunkData
	stateChunkDataEnd
	stateTrailer
	stateLost
)

// conn reads the request stream beside net/http.
type conn struct {
	net.Conn

	// Used by Read only (net/http reads a connection from one goroutine
	// at a time).
	state     int
	line      []byte
	first     bool // the next head line is a request line
	head      head // being read
	length    int64
	chunked   bool
	remaining int64 // body or chunk bytes still to skip

	mu      sync.Mutex
	heads   []head
	current head
	lost    bool
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.scan(p[:n])
	}
	return n, err
}

// next hands r the oldest head not handed out yet, if it agrees with the
// header net/http parsed for r: as many values as header lines, and every
// name sent otherwise than canonically among them.
func (c *conn) next(r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current = head{}
	if c.lost || len(c.heads) == 0 || r.ProtoMajor != 1 {
		c.lost = true
		return
	}
	h := c.heads[0]
	c.heads[0] = head{}
	c.heads = c.heads[1:]
	values := 0
	for _, vs := range r.Header {
		values += len(vs)
	}
	agree := values == h.lines
	for canonical := range h.spelling {
		_, in := r.Header[canonical]
		agree = agree && (in || canonical == "Host" || canonical == "Transfer-Encoding")
	}
	if !agree {
		c.lost = true
		return
	}
	h.req = r.Context()
	c.current = h
}

func (c *conn) lose() {
	c.state = stateLost
	c.mu.Lock()
	c.lost = true
	c.mu.Unlock()
}

// scan advances the reader over b.
func (c *conn) scan(b []byte) {
	for len(b) > 0 {
		switch c.state {
		case stateLost:
			return
		case stateBody, stateChunkData:
			skip := min(int64(len(b)), c.remaining)
			b = b[skip:]
			c.remaining -= skip
			if c.remaining == 0 {
				if c.state == stateBody {
					c.startHead()
				} else {
					c.state = stateChunkDataEnd
				}
			}
		default:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				c.line = append(c.line, b...)
				if len(c.line) > maxLine {
					c.lose()
				}
				return
			}
			if len(c.line) > 0 {
				c.line = append(c.line, b[:i]...)
				c.endLine(c.line)
				c.line = c.line[:0]
			} else {
				c.endLine(b[:i])
			}
			b = b[i+1:]
		}
	}
}

func (c *conn) startHead() {
	c.state, c.first, c.head, c.length, c.chunked = stateHead, true, head{}, -1, false
}

// endLine takes one line, without its '\n'.
func (c *conn) endLine(line []byte) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	switch c.state {
	case stateHead:
		c.headLine(line)
	case stateChunkSize:
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		switch {
		case err != nil || n < 0:
			c.lose()
		case n == 0:
			c.state = stateTrailer
		default:
			c.state, c.remaining = stateChunkData, n
		}
	case stateChunkDataEnd:
		if len(line) != 0 {
			c.lose()
			return
		}
		c.state = stateChunkSize
	case stateTrailer:
		if len(line) == 0 {
			c.startHead()
		}
	}
}

func (c *conn) headLine(line []byte) {
	switch {
	case c.first:
		if len(line) == 0 {
			return // blank lines before a request line
		}
		c.first = false
		return
	case len(line) == 0:
		c.endHead()
		return
	case line[0] == ' ' || line[0] == '\t':
		return // a continuation of the previous header's value
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 {
		c.lose()
		return
	}
	// The canonical name, for the names sent otherwise and the ones that
	// matter below.
	canonical := ""
	switch {
	case !isCanonical(name):
		raw := string(name)
		canonical = http.CanonicalHeaderKey(raw)
		if c.head.spelling == nil {
			c.head.spelling = map[string]string{}
		}
		if _, seen := c.head.spelling[canonical]; !seen {
			c.head.spelling[canonical] = raw
		}
	case string(name) == "Host", string(name) == "Transfer-Encoding", string(name) == "Content-Length":
		canonical = string(name)
	}
	if canonical != "Host" && canonical != "Transfer-Encoding" {
		c.head.lines++
	}
	switch canonical {
	case "Content-Length":
		n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
		if err != nil || (c.length >= 0 && n != c.length) {
			c.lose()
			return
		}
		c.length = n
	case "Transfer-Encoding":
		codings := strings.Split(string(value), ",")
		c.chunked = strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked")
	}
}

func (c *conn) endHead() {
	c.mu.Lock()
	c.heads = append(c.heads, c.head)
	c.mu.Unlock()
	switch {
	case c.chunked:
		c.state = stateChunkSize
	case c.length > 0:
		c.state, c.remaining = stateBody, c.length
	default:
		c.startHead()
	}
}

// isCanonical reports whether name is in the form CanonicalHeaderKey gives
// a valid name: each word capitalised, the rest in lower case.
func isCanonical(name []byte) bool {
	upper := true
	for _, c := range name {
		switch {
		case upper && 'a' <= c && c <= 'z', !upper && 'A' <= c && c <= 'Z':
			return false
		case c == ' ' || c >= 0x80:
			return false
		}
		upper = c == '-'
	}
	return true
}
