package stack

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/acme/request-dump/internal/atomicfile"
)

// The stack listens on loopback, but a web page the developer opens can
// still send it requests: a form POST or a text/plain POST needs no CORS
// preflight, and after DNS rebinding the page's own name resolves to
// 127.0.0.1. So, before any service sees a request:
//
//   - its Host must name a loopback address (127.0.0.0/8, ::1, localhost):
//     a rebound page sends its own name;
//   - a browser request from another origin (an Origin header that is not a
//     loopback origin) reaches only the API Gateway stages, which AWS serves
//     to any origin too: S3, CloudWatch Logs and the control API refuse it
//     (S3's DeleteObjects, for one, is a POST a page can send as text/plain);
//   - the control API takes only application/json (which a page cannot send
//     without a preflight, which is never answered) carrying this start's
//     token, which only the user who started the stack can read.
//
// S3 itself answers no CORS and refuses form uploads (package s3).

// DefaultTokenFile is where `local-aws serve` writes the control token and
// where the scripts and the local-aws commands read it, relative to the
// repository root they run in.
const DefaultTokenFile = ".local/control-token"

func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("stack: control token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// WriteTokenFile writes token to path, readable by its owner only, replacing
// the file in one rename so that a reader never sees half a token.
func WriteTokenFile(path, token string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("control token: %w", err)
	}
	if err := atomicfile.Write(path, []byte(token+"\n"), 0o600, ""); err != nil {
		return fmt.Errorf("control token: %w", err)
	}
	return nil
}

// ReadTokenFile reads the control token that `local-aws serve` wrote to path.
func ReadTokenFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("no control token at %s: the local stack writes it there when it starts (make local-up); pass --token-file if it was started with another one", path)
	}
	if err != nil {
		return "", fmt.Errorf("control token: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("control token file %s is empty: restart the local stack (make local-down local-up)", path)
	}
	return token, nil
}

// loopbackHost reports whether a Host header value names a loopback
// address: an IP literal in 127.0.0.0/8 or ::1, or localhost, with or
// without a port. Names that resolve to loopback through DNS do not count:
// those are what DNS rebinding uses.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackOrigin reports whether an Origin header value is a page served
// from a loopback host ("null", sent by sandboxed and file: pages, is not).
func loopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && loopbackHost(u.Host)
}

// guard answers the requests no service may see and reports whether it did.
func (s *Stack) guard(w http.ResponseWriter, r *http.Request, api bool) bool {
	if !loopbackHost(r.Host) {
		writeJSON(w, http.StatusMisdirectedRequest, map[string]string{"message": fmt.Sprintf(
			"the local stack answers requests addressed to a loopback host only (127.0.0.1, [::1] or localhost), not Host %q: a web page that reaches it through DNS rebinding sends its own name; use http://127.0.0.1:<port>", r.Host)})
		return true
	}
	// A preflight (OPTIONS) changes nothing; the services refuse it.
	if origin := r.Header.Get("Origin"); origin != "" && !api && r.Method != http.MethodOptions && !loopbackOrigin(origin) {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": fmt.Sprintf(
			"the local stack's S3, CloudWatch Logs and control API refuse requests that a web page at %q sends; AWS SDKs and the AWS CLI send no Origin", origin)})
		return true
	}
	return false
}

// authorizeControl checks a control API request: for a request with a body,
// application/json; and this start's token. It reports whether it
// answered the request instead.
func (s *Stack) authorizeControl(w http.ResponseWriter, r *http.Request) bool {
	const how = "the control API takes the token `local-aws serve` writes to " + DefaultTokenFile +
		" (or its --token-file) as Authorization: Bearer <token>, as local-aws deploy and the scripts send it"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"message": fmt.Sprintf(
				"the control API takes Content-Type application/json only, not %q", r.Header.Get("Content-Type"))})
			return true
		}
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(bearer)), []byte(s.token)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "missing or wrong control token: " + how})
		return true
	}
	return false
}
