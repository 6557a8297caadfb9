package s3

import (
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/spf13/afero"
)

// ErrNotFound is wrapped by Object's error when the bucket or the key does
// not exist.
var ErrNotFound = errors.New("not found")

// Server is the local S3 service. It is an http.Handler for path-style
// requests (http://host/<bucket>/<key>) and has a Go API for the parts of
// the local stack that read artifacts directly.
type Server struct {
	backend *backend
	faker   http.Handler
	// writes serialises the requests that change objects, so that the
	// preconditions checked here (see preconditions) hold when gofakes3
	// performs the write.
	writes sync.Mutex
	lock   *os.File
}

// Option configures New.
type Option func(*settings)

type settings struct {
	buckets []string
	log     *slog.Logger
}

// WithBucket creates the bucket named name when it does not exist yet.
func WithBucket(name string) Option {
	return func(s *settings) { s.buckets = append(s.buckets, name) }
}

// WithLogger logs what New repairs in a data directory a crash left (see
// fileStore); by default nothing is logged.
func WithLogger(log *slog.Logger) Option {
	return func(s *settings) { s.log = log }
}

// New starts a local S3. With dir "" objects live in memory; otherwise they
// are stored under dir (buckets/ and metadata/) and survive a restart. Only
// one Server may use a dir at a time.
func New(dir string, opts ...Option) (*Server, error) {
	set := settings{log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&set)
	}
	s := &Server{backend: &backend{}}
	if dir == "" {
		s.backend.Backend = s3mem.New()
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("s3: data directory: %w", err)
		}
		lock, err := lockDir(dir)
		if err != nil {
			return nil, err
		}
		s.lock = lock
		// s3afero refuses a bare OsFs (it would own "/"); a BasePathFs
		// confines it to dir.
		fs, err := s3afero.MultiBucket(afero.NewBasePathFs(afero.NewOsFs(), dir))
		if err != nil {
			lock.Close()
			return nil, fmt.Errorf("s3: open %s: %w", dir, err)
		}
		s.backend.Backend = fs
		s.backend.files = &fileStore{dir: dir, log: set.log}
		if err := s.backend.files.recover(); err != nil {
			lock.Close()
			return nil, fmt.Errorf("s3: repair %s after a crash: %w", dir, err)
		}
	}
	// Versioning stays off: the backend wrapper does not implement
	// gofakes3.VersionedBackend, and the artifact keys are content-addressed.
	s.faker = gofakes3.New(s.backend).Server()
	for _, b := range set.buckets {
		if err := s.CreateBucket(b); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// lockDir takes an exclusive lock on dir, so that two local stacks never
// write the same files.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("s3: lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("s3: %s is in use by another process (another local stack?): stop it (make local-down) or use another data directory: %w", dir, err)
	}
	return f, nil
}

// Close releases the data directory. The Server must not be used after.
func (s *Server) Close() error {
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close()
	s.lock = nil
	return err
}

// CreateBucket creates a bucket; one that exists already is left as it is.
func (s *Server) CreateBucket(name string) error {
	if err := gofakes3.ValidateBucketName(name); err != nil {
		return fmt.Errorf("s3: bucket name %q: %w", name, err)
	}
	ok, err := s.backend.BucketExists(name)
	if err != nil {
		return fmt.Errorf("s3: bucket %s: %w", name, err)
	}
	if ok {
		return nil
	}
	if err := s.backend.CreateBucket(name); err != nil && !gofakes3.IsAlreadyExists(err) {
		return fmt.Errorf("s3: create bucket %s: %w", name, err)
	}
	return nil
}

// Object is an object read through the Go API.
type Object struct {
	Bucket, Key string
	Body        []byte
	// ETag is S3's quoted ETag (the hex MD5 for a single-part upload).
	ETag string
	// ChecksumSHA256 is the base64 SHA-256 stored with the object, "" when
	// it was written without one.
	ChecksumSHA256 string
	ContentType    string
}

// Object reads a whole object. A missing bucket or key gives an error that
// wraps ErrNotFound.
func (s *Server) Object(bucket, key string) (*Object, error) {
	obj, err := s.backend.GetObject(bucket, key, nil)
	switch {
	case gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket):
		return nil, fmt.Errorf("s3: bucket %s: %w", bucket, ErrNotFound)
	case gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey):
		return nil, fmt.Errorf("s3: s3://%s/%s: %w", bucket, key, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("s3: get s3://%s/%s: %w", bucket, key, err)
	}
	defer obj.Contents.Close()
	body, err := gofakes3.ReadAll(obj.Contents, obj.Size)
	if err != nil {
		return nil, fmt.Errorf("s3: read s3://%s/%s: %w", bucket, key, err)
	}
	return &Object{
		Bucket:         bucket,
		Key:            key,
		Body:           body,
		ETag:           `"` + hex.EncodeToString(obj.Hash) + `"`,
		ChecksumSHA256: obj.Metadata[checksumHeaders["SHA256"]],
		ContentType:    obj.Metadata["Content-Type"],
	}, nil
}

// ServeHTTP serves the S3 REST API, path-style.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.refused(w, r) {
		return
	}
	switch r.Method {
	case http.MethodPut, http.MethodPost, http.MethodDelete:
		s.writes.Lock()
		defer s.writes.Unlock()
	}
	if s.preconditions(w, r) {
		return
	}
	// gofakes3 answers every request with Access-Control-Allow-Origin: *,
	// which would let any web page read the local S3; S3 sends CORS headers
	// only for a bucket whose CORS configuration allows the origin, and the
	// local S3 has none. It also returns an object's checksum only when
	// asked for it.
	ww := &strippedHeaders{ResponseWriter: w, checksums: (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		!strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED")}
	s.faker.ServeHTTP(ww, r)
	// A HEAD answer may be sent without WriteHeader being called.
	ww.strip()
}

// refused answers, and reports whether it did, the requests gofakes3 would
// answer otherwise than S3: a CreateBucket of a bucket that exists, a
// listing with a max-keys that is not an integer from 0 to 2147483647, a
// CORS preflight (no bucket has a CORS configuration, so S3 answers 403) and
// a browser-based upload, an HTML form POST, which any web page can send
// without a preflight; S3 takes one only with a policy signed by the bucket
// owner's credentials, which the local S3 cannot check.
func (s *Server) refused(w http.ResponseWriter, r *http.Request) bool {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "":
		writeError(w, r, http.StatusForbidden, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")
		return true
	case r.Method == http.MethodGet && bucket != "" && key == "" && r.URL.Query().Has("max-keys") && !validMaxKeys(r.URL.Query().Get("max-keys")):
		// gofakes3 reads a negative max-keys as 0, which lists every key.
		writeError(w, r, http.StatusBadRequest, "InvalidArgument",
			"Argument maxKeys must be an integer between 0 and 2147483647 (got "+strconv.Quote(r.URL.Query().Get("max-keys"))+").")
		return true
	case r.Method == http.MethodPut && bucket != "" && key == "" && len(r.URL.Query()) == 0 && s.bucketExists(bucket):
		// Every local bucket is the caller's: S3 answers BucketAlreadyOwnedByYou,
		// or 200 and nothing done in us-east-1, where gofakes3 answered
		// BucketAlreadyExists (another account's bucket).
		if scopeRegion(r) == "us-east-1" {
			w.Header().Set("Location", "/"+bucket)
			w.WriteHeader(http.StatusOK)
			return true
		}
		writeErrorBody(w, r, http.StatusConflict, struct {
			XMLName    xml.Name `xml:"Error"`
			Code       string
			Message    string
			BucketName string
		}{Code: "BucketAlreadyOwnedByYou", Message: "Your previous request to create the named bucket succeeded and you already own it.", BucketName: bucket})
		return true
	case r.Method == http.MethodPost && bucket != "" && key == "" && len(r.URL.Query()) == 0:
		writeError(w, r, http.StatusForbidden, "AccessDenied",
			"The local S3 does not take browser-based uploads (a form POST to the bucket): any web page could send one. Upload with PutObject (aws s3 cp, scripts/upload.sh).")
		return true
	}
	return false
}

func (s *Server) bucketExists(name string) bool {
	ok, err := s.backend.BucketExists(name)
	return err == nil && ok
}

// scopeRegion is the region of a SigV4 request's credential scope
// (Credential=<key>/<date>/<region>/s3/aws4_request), "" when unsigned.
func scopeRegion(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	parts := strings.Split(strings.SplitN(cred, ",", 2)[0], "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

// validMaxKeys reports whether v is a max-keys S3 takes: an integer from 0
// to 2147483647.
func validMaxKeys(v string) bool {
	n, err := strconv.ParseInt(v, 10, 32)
	return err == nil && n >= 0
}

// preconditions answers 412 for the conditional requests gofakes3 does not
// check itself: CopyObject's x-amz-copy-source-if-(none-)match and
// If-None-Match/If-Match on the target, and If-Match and If-Unmodified-Since
// on GET and HEAD. It reports whether it answered.
func (s *Server) preconditions(w http.ResponseWriter, r *http.Request) bool {
	bucket, key, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || key == "" {
		return false
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" && !q.Has("uploadId"):
		srcBucket, srcKey, ok := copySource(r.Header.Get("X-Amz-Copy-Source"))
		if !ok {
			return false // gofakes3 answers InvalidArgument
		}
		if src, found := s.etag(srcBucket, srcKey); found {
			if h := r.Header.Get("X-Amz-Copy-Source-If-Match"); h != "" && !etagMatches(h, src) {
				return preconditionFailed(w, r, "x-amz-copy-source-If-Match")
			}
			if h := r.Header.Get("X-Amz-Copy-Source-If-None-Match"); h != "" && etagMatches(h, src) {
				return preconditionFailed(w, r, "x-amz-copy-source-If-None-Match")
			}
		}
		dst, found := s.etag(bucket, key)
		if h := r.Header.Get("If-None-Match"); h != "" && found && etagMatches(h, dst) {
			return preconditionFailed(w, r, "If-None-Match")
		}
		if h := r.Header.Get("If-Match"); h != "" && (!found || !etagMatches(h, dst)) {
			return preconditionFailed(w, r, "If-Match")
		}
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.Header.Get("If-Match") != "":
		// If-Match decides alone: when it holds, S3 serves the object
		// whatever If-Unmodified-Since says (GetObject's API reference).
		if etag, found := s.etag(bucket, key); found && !etagMatches(r.Header.Get("If-Match"), etag) {
			return preconditionFailed(w, r, "If-Match")
		}
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.Header.Get("If-Unmodified-Since") != "":
		since, err := http.ParseTime(r.Header.Get("If-Unmodified-Since"))
		if modified, found := s.lastModified(bucket, key); err == nil && found && modified.After(since) {
			return preconditionFailed(w, r, "If-Unmodified-Since")
		}
	}
	return false
}

// lastModified is an object's Last-Modified, to the second as HTTP dates
// carry it.
func (s *Server) lastModified(bucket, key string) (time.Time, bool) {
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil {
		return time.Time{}, false
	}
	obj.Contents.Close()
	t, err := http.ParseTime(obj.Metadata["Last-Modified"])
	return t, err == nil
}

func (s *Server) etag(bucket, key string) (string, bool) {
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil {
		return "", false
	}
	obj.Contents.Close()
	return `"` + hex.EncodeToString(obj.Hash) + `"`, true
}

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=…]", URL-encoded.
func copySource(v string) (bucket, key string, ok bool) {
	v, _, _ = strings.Cut(v, "?")
	dec, err := url.PathUnescape(strings.TrimPrefix(v, "/"))
	if err != nil {
		return "", "", false
	}
	bucket, key, ok = strings.Cut(dec, "/")
	return bucket, key, ok && bucket != "" && key != ""
}

// etagMatches reports whether an If-Match style header (a list of quoted
// ETags, or "*") names etag.
func etagMatches(header, etag string) bool {
	for _, h := range strings.Split(header, ",") {
		h = strings.TrimSpace(h)
		if h == "*" || strings.Trim(h, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

func preconditionFailed(w http.ResponseWriter, r *http.Request, condition string) bool {
	writeErrorBody(w, r, http.StatusPreconditionFailed, struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		Condition string
	}{
		Code:      string(gofakes3.ErrPreconditionFailed),
		Message:   "At least one of the pre-conditions you specified did not hold",
		Condition: condition,
	})
	return true
}

// writeError sends an S3 error document.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	writeErrorBody(w, r, status, struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: code, Message: message})
}

func writeErrorBody(w http.ResponseWriter, r *http.Request, status int, body any) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(body)
}

// strippedHeaders drops the Access-Control-* response headers and, with
// checksums, the x-amz-checksum-* ones.
type strippedHeaders struct {
	http.ResponseWriter
	checksums bool
	done      bool
}

func (w *strippedHeaders) strip() {
	if w.done {
		return
	}
	w.done = true
	h := w.ResponseWriter.Header()
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") || (w.checksums && strings.HasPrefix(k, "X-Amz-Checksum-")) {
			delete(h, k)
		}
	}
}

func (w *strippedHeaders) WriteHeader(code int) {
	w.strip()
	w.ResponseWriter.WriteHeader(code)
}

func (w *strippedHeaders) Write(p []byte) (int, error) {
	w.strip()
	return w.ResponseWriter.Write(p)
}

func (w *strippedHeaders) Unwrap() http.ResponseWriter { return w.ResponseWriter }
