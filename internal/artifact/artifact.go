// Package artifact keeps the function zip in the artifact bucket at its
// content address under each env's prefix (<env>/<sha256 hex>.zip): it
// uploads a build, promotes an env's artifact to the next env's prefix, and
// proves at every step, by hashing the bytes S3 serves, that an object is
// exactly the zip its pointer names.
package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/acme/request-dump/internal/pointer"
)

// Order is the promotion order of the envs: an artifact reaches an env only
// from the env before it.
var Order = []string{"dev", "stg", "prod"}

var (
	// ErrMissing reports that the object a pointer names does not exist.
	ErrMissing = errors.New("artifact missing")
	// ErrMismatch reports an object whose bytes or stored checksum are not
	// the ones its content address and pointer promise.
	ErrMismatch = errors.New("artifact mismatch")
)

// Next returns the env an artifact in env is promoted to, or "" when env is
// the last one.
func Next(env string) (string, error) {
	i := slices.Index(Order, env)
	switch {
	case i < 0:
		return "", notInOrder(env)
	case i == len(Order)-1:
		return "", nil
	}
	return Order[i+1], nil
}

// CheckPromotion accepts from → to only when to directly follows from in
// Order, so that no env is skipped and nothing moves backwards.
func CheckPromotion(from, to string) error {
	next, err := Next(from)
	if err != nil {
		return err
	}
	switch i, j := slices.Index(Order, from), slices.Index(Order, to); {
	case j < 0:
		return notInOrder(to)
	case j <= i:
		return fmt.Errorf("cannot promote %s → %s: artifacts move forward only (%s). To roll an env back, point it at an earlier artifact (docs/runbook.md)", from, to, strings.Join(Order, " → "))
	case to != next:
		return fmt.Errorf("promoting %s → %s would skip %s: promote %s → %s first, apply and smoke-test it, then %s → %s", from, to, next, from, next, next, to)
	}
	return nil
}

func notInOrder(env string) error {
	return fmt.Errorf("env %q is not in the promotion order %s", env, strings.Join(Order, " → "))
}

// Store moves artifacts in S3.
type Store struct {
	client *s3.Client
	log    io.Writer
}

// Option configures a Store.
type Option func(*Store)

// WithLog makes the Store say what it does on w (discarded by default).
func WithLog(w io.Writer) Option { return func(s *Store) { s.log = w } }

// New returns a Store that uses client.
func New(client *s3.Client, opts ...Option) *Store {
	s := &Store{client: client, log: io.Discard}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Store) logf(format string, args ...any) { fmt.Fprintf(s.log, format+"\n", args...) }

func s3url(p pointer.Pointer) string { return "s3://" + p.Bucket + "/" + p.Key }

// Upload stores zip at its content address under env's prefix in bucket and
// returns the pointer that names it. An object already there with the same
// bytes is accepted as is; one with other bytes is never overwritten.
func (s *Store) Upload(ctx context.Context, bucket, env string, zip []byte) (pointer.Pointer, error) {
	p := pointer.New(bucket, env, pointer.Sum(zip))
	if err := p.Validate(env); err != nil {
		return p, err
	}
	done, err := s.existing(ctx, p)
	if err != nil || done {
		return p, err
	}
	s.logf("uploading %d bytes to %s (sha256 %s)", len(zip), s3url(p), p.SHA256)
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(p.Bucket),
		Key:         aws.String(p.Key),
		Body:        bytes.NewReader(zip),
		ContentType: aws.String("application/zip"),
		// S3 checks the body against this digest and rejects the upload
		// (BadDigest) if a byte changed on the way.
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(p.SHA256),
		// Another writer may have created the key since the check above;
		// S3 then answers 412 instead of overwriting it.
		IfNoneMatch: aws.String("*"),
	})
	if isPreconditionFailed(err) {
		s.logf("%s was created by someone else meanwhile; checking its bytes", s3url(p))
		if done, err := s.existing(ctx, p); err != nil || done {
			return p, err
		}
	} else if err != nil {
		return p, fmt.Errorf("upload %s: %w", s3url(p), err)
	}
	if err := s.Verify(ctx, p); err != nil {
		return p, fmt.Errorf("after upload: %w", err)
	}
	s.logf("uploaded %s", s3url(p))
	return p, nil
}

// Promote copies the artifact src names (in env from) to the content address
// under env to's prefix in bucket, and returns the pointer for env to. The
// source is verified byte for byte before the copy and the copy after it; the
// copy is conditional on the source being the object just verified.
func (s *Store) Promote(ctx context.Context, src pointer.Pointer, from, bucket, to string) (pointer.Pointer, error) {
	if err := CheckPromotion(from, to); err != nil {
		return pointer.Pointer{}, err
	}
	if err := src.Validate(from); err != nil {
		return pointer.Pointer{}, fmt.Errorf("%s pointer: %w", from, err)
	}
	digest, err := src.Digest()
	if err != nil {
		return pointer.Pointer{}, err
	}
	dst := pointer.New(bucket, to, digest)
	if err := dst.Validate(to); err != nil {
		return dst, err
	}
	s.logf("verifying the %s artifact %s", from, s3url(src))
	etag, err := s.verify(ctx, src)
	if err != nil {
		return dst, fmt.Errorf("not promoting %s → %s: %w", from, to, err)
	}
	done, err := s.existing(ctx, dst)
	if err != nil || done {
		return dst, err
	}
	s.logf("copying %s to %s", s3url(src), s3url(dst))
	_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:            aws.String(dst.Bucket),
		Key:               aws.String(dst.Key),
		CopySource:        aws.String(src.Bucket + "/" + src.Key),
		CopySourceIfMatch: aws.String(etag),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		IfNoneMatch:       aws.String("*"),
		MetadataDirective: types.MetadataDirectiveCopy,
	})
	if isPreconditionFailed(err) {
		s.logf("copy precondition failed (the source changed or the target appeared meanwhile); checking the target")
		if done, err := s.existing(ctx, dst); err != nil || done {
			return dst, err
		}
	} else if err != nil {
		return dst, fmt.Errorf("copy %s to %s: %w", s3url(src), s3url(dst), err)
	}
	if err := s.Verify(ctx, dst); err != nil {
		return dst, fmt.Errorf("after copy: %w", err)
	}
	s.logf("promoted %s → %s: %s", from, to, s3url(dst))
	return dst, nil
}

// existing reports whether p's object is already in place with the right
// bytes (true), absent (false), or present with other bytes (an error, since
// a content address never legitimately holds other bytes).
func (s *Store) existing(ctx context.Context, p pointer.Pointer) (bool, error) {
	_, err := s.verify(ctx, p)
	switch {
	case err == nil:
		s.logf("%s already holds these bytes (sha256 %s); nothing to write", s3url(p), p.SHA256)
		return true, nil
	case errors.Is(err, ErrMissing):
		return false, nil
	case errors.Is(err, ErrMismatch):
		return false, fmt.Errorf("REFUSING to overwrite %s: %w. A content-addressed key never changes its bytes, so the object was tampered with or corrupted: keep it for investigation (S3 object versions, CloudTrail) and delete it deliberately before uploading again", s3url(p), err)
	default:
		return false, err
	}
}

// restoreHint says how the object p names comes to exist: dev's by an
// upload of the build, a later env's by a promotion from the env before it.
func restoreHint(p pointer.Pointer) string {
	env, _, _ := strings.Cut(p.Key, "/")
	switch i := slices.Index(Order, env); {
	case i == 0:
		return "Upload the build to " + env + " with scripts/upload.sh " + env
	case i > 0:
		return fmt.Sprintf("Copy it from %[1]s with scripts/promote.sh %[1]s %[2]s", Order[i-1], env)
	}
	return "Upload the build to dev with scripts/upload.sh dev, or copy it from the env before with scripts/promote.sh <from> <to>"
}

// Verify checks that the object p names exists, carries p's SHA-256 as its
// S3 checksum, and that its bytes hash to that digest.
func (s *Store) Verify(ctx context.Context, p pointer.Pointer) error {
	_, err := s.verify(ctx, p)
	return err
}

// verify is Verify returning the ETag of the object it hashed.
//
// The stored checksum alone is not proof: S3 records what the writer sent,
// and a writer (or a fake S3) may send a checksum that does not belong to the
// body. Hashing the bytes served is the guarantee; the checksum is checked
// too because Terraform and Lambda rely on it (source_code_hash).
func (s *Store) verify(ctx context.Context, p pointer.Pointer) (string, error) {
	want, err := p.Digest()
	if err != nil {
		return "", err
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket:       aws.String(p.Bucket),
		Key:          aws.String(p.Key),
		ChecksumMode: types.ChecksumModeEnabled,
	})
	switch {
	case isNotFound(err):
		return "", fmt.Errorf("%w: %s does not exist. %s", ErrMissing, s3url(p), restoreHint(p))
	case headStatus(err) == http.StatusForbidden || headStatus(err) == http.StatusBadRequest:
		return "", s.refused(ctx, p, headStatus(err))
	}
	if err != nil {
		return "", fmt.Errorf("head %s: %w", s3url(p), err)
	}
	if got := aws.ToString(head.ChecksumSHA256); got != p.SHA256 {
		if got == "" {
			got = "none"
		}
		return "", fmt.Errorf("%w: %s has S3 checksum SHA-256 %s, want %s (the pointer's sha256)", ErrMismatch, s3url(p), got, p.SHA256)
	}
	obj, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket:  aws.String(p.Bucket),
		Key:     aws.String(p.Key),
		IfMatch: head.ETag,
	}, func(o *s3.Options) {
		// The digest below is the check; the SDK's own response validation
		// would stop at the stored checksum with a less helpful error.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if err != nil {
		return "", fmt.Errorf("get %s: %w", s3url(p), err)
	}
	defer obj.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, obj.Body); err != nil {
		return "", fmt.Errorf("read %s: %w", s3url(p), err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
		return "", fmt.Errorf("%w: the bytes of %s hash to %s (hex %s), not the %s its key and checksum claim",
			ErrMismatch, s3url(p), base64.StdEncoding.EncodeToString(got), hex.EncodeToString(got), p.SHA256)
	}
	return aws.ToString(head.ETag), nil
}

// refused tells what a 403 or 400 to HEAD meant. S3 answers 403, not 404,
// for a missing key when the caller may not list the bucket, but also 403
// for credentials it refuses (an unknown key, a bad signature, a skewed
// clock) and 400 for an expired or malformed session token, and a HEAD's
// answer has no body to say which. A one-byte GET gets the same answer with
// its error code. The codes and their statuses are those of S3's list
// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList);
// only NoSuchKey and AccessDenied may mean "missing", every other code is
// an error of its own, so an upload never goes ahead on a refusal.
func (s *Store) refused(ctx context.Context, p pointer.Pointer, status int) error {
	obj, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(p.Bucket),
		Key:    aws.String(p.Key),
		Range:  aws.String("bytes=0-0"),
	}, func(o *s3.Options) {
		// One byte has no whole-object checksum to validate; the SDK would
		// only log that it found none.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if err == nil {
		obj.Body.Close()
		return fmt.Errorf("head %s: S3 answered %d to HEAD but served the object to GET: a bucket policy treats the two differently; the artifact tool needs both (s3:GetObject covers them)", s3url(p), status)
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return fmt.Errorf("head %s: S3 answered %d, and a GET to tell why failed: %w", s3url(p), status, err)
	}
	code, msg := api.ErrorCode(), api.ErrorMessage()
	switch code {
	case "NoSuchKey":
		return fmt.Errorf("%w: %s does not exist (S3 answered %d to HEAD and NoSuchKey to GET)", ErrMissing, s3url(p), status)
	case "AccessDenied":
		// A write after this stays conditional (If-None-Match), so taking
		// it for missing never overwrites anything.
		return fmt.Errorf("%w: %s: S3 answered 403 Forbidden (AccessDenied): the object does not exist and the role may not list its prefix, or the role may not read it (it needs s3:GetObject on the prefix, and s3:ListBucket on it to tell a missing key apart)", ErrMissing, s3url(p))
	case "ExpiredToken", "TokenRefreshRequired":
		return fmt.Errorf("head %s: S3 refused the session token (%s: %s): the temporary credentials have expired; refresh them (aws sso login, a fresh role session, or rerun the CI job) and run again", s3url(p), code, msg)
	case "InvalidToken":
		return fmt.Errorf("head %s: S3 refused the session token (%s: %s): it is malformed or does not belong to the access key; set AWS_SESSION_TOKEN from the same session as AWS_ACCESS_KEY_ID, or unset it for a long-term key", s3url(p), code, msg)
	case "InvalidAccessKeyId", "InvalidSecurity":
		return fmt.Errorf("head %s: S3 refused the credentials (%s: %s): S3 does not accept the access key (mistyped, deleted or inactive, or from another partition); check AWS_ACCESS_KEY_ID or the profile (aws sts get-caller-identity shows which key is used)", s3url(p), code, msg)
	case "SignatureDoesNotMatch":
		return fmt.Errorf("head %s: S3 refused the request's signature (%s: %s): the secret key does not belong to the access key; check AWS_SECRET_ACCESS_KEY or the profile", s3url(p), code, msg)
	case "RequestTimeTooSkewed":
		return fmt.Errorf("head %s: S3 refused the request's time (%s: %s): this machine's clock is more than 15 minutes off; synchronise it (timedatectl, chrony) and run again", s3url(p), code, msg)
	default:
		return fmt.Errorf("head %s: S3 answered %d (%s: %s)", s3url(p), status, code, msg)
	}
}

func isNotFound(err error) bool {
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	return errors.As(err, &nf) || errors.As(err, &nsk)
}

// headStatus is the HTTP status of S3's answer in err, or 0 if S3 did not
// answer.
func headStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func isPreconditionFailed(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "PreconditionFailed"
}
