package artifact

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/pointer"
	locals3 "github.com/acme/request-dump/local/s3"
)

const bucket = "acme-request-dump-artifacts"

// newS3 serves the local stack's S3 (local/s3: S3-faithful checksums and
// preconditions) with the artifact bucket on 127.0.0.1 and returns a real
// aws-sdk-go-v2 client for it, built the way the CLI builds its own.
func newS3(t *testing.T) *s3.Client {
	t.Helper()
	srv, err := locals3.New("", locals3.WithBucket(bucket))
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	return serve(t, srv)
}

// newLaxS3 serves plain gofakes3, which stores whatever checksum a writer
// claims without checking it against the body: the case where only hashing
// the bytes served catches a tampered object.
func newLaxS3(t *testing.T) *s3.Client {
	t.Helper()
	backend := s3mem.New()
	require.NoError(t, backend.CreateBucket(bucket))
	return serve(t, gofakes3.New(backend).Server())
}

func serve(t *testing.T, h http.Handler) *s3.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	client, err := NewClient(context.Background(), srv.URL, "ap-northeast-1")
	require.NoError(t, err)
	return client
}

func newStore(t *testing.T) (*Store, *s3.Client, *bytes.Buffer) {
	return storeFor(newS3(t))
}

func storeFor(client *s3.Client) (*Store, *s3.Client, *bytes.Buffer) {
	var log bytes.Buffer
	return New(client, WithLog(&log)), client, &log
}

func get(t *testing.T, client *s3.Client, key string) []byte {
	t.Helper()
	out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		func(o *s3.Options) { o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired })
	require.NoError(t, err)
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return data
}

func keys(t *testing.T, client *s3.Client) []string {
	t.Helper()
	out, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, aws.ToString(o.Key))
	}
	return ks
}

// put writes data at key the way an attacker or a broken tool would, with an
// arbitrary claimed SHA-256 checksum ("" lets the SDK compute the real one).
func put(t *testing.T, client *s3.Client, key string, data []byte, claimed string) {
	t.Helper()
	in := &s3.PutObjectInput{
		Bucket:            aws.String(bucket),
		Key:               aws.String(key),
		Body:              bytes.NewReader(data),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	}
	if claimed != "" {
		in.ChecksumSHA256 = aws.String(claimed)
	}
	_, err := client.PutObject(context.Background(), in)
	require.NoError(t, err)
}

func TestUploadLandsAtContentAddressUnderEnvPrefix(t *testing.T) {
	st, client, _ := newStore(t)
	zip := []byte("function zip v1")
	p, err := st.Upload(context.Background(), bucket, "dev", zip)
	require.NoError(t, err)

	assert.Equal(t, pointer.New(bucket, "dev", pointer.Sum(zip)), p)
	assert.Equal(t, []string{p.Key}, keys(t, client))
	assert.True(t, strings.HasPrefix(p.Key, "dev/"))
	assert.Equal(t, zip, get(t, client, p.Key))

	head, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(p.Key), ChecksumMode: types.ChecksumModeEnabled,
	})
	require.NoError(t, err)
	assert.Equal(t, p.SHA256, aws.ToString(head.ChecksumSHA256), "S3's checksum is the value source_code_hash takes")
}

func TestUploadIsIdempotent(t *testing.T) {
	st, client, log := newStore(t)
	zip := []byte("function zip v1")
	first, err := st.Upload(context.Background(), bucket, "dev", zip)
	require.NoError(t, err)
	log.Reset()

	second, err := st.Upload(context.Background(), bucket, "dev", zip)
	require.NoError(t, err)
	assert.Equal(t, first, second)
	assert.Contains(t, log.String(), "already holds these bytes")
	assert.NotContains(t, log.String(), "uploading")
	assert.Len(t, keys(t, client), 1)
}

func TestUploadNeverOverwritesOtherBytes(t *testing.T) {
	zip := []byte("function zip v1")
	key := pointer.Key("dev", pointer.Sum(zip))
	honest := pointer.New(bucket, "dev", pointer.Sum(zip)).SHA256
	tests := []struct {
		name    string
		s3      func(*testing.T) *s3.Client
		claimed string // checksum the tampered object carries
		want    string
	}{
		{"other bytes, their own checksum", newS3, "", "has S3 checksum SHA-256"},
		{"other bytes claiming the right checksum", newLaxS3, honest, "hash to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, client, _ := storeFor(tt.s3(t))
			put(t, client, key, []byte("tampered"), tt.claimed)

			_, err := st.Upload(context.Background(), bucket, "dev", zip)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMismatch)
			assert.Contains(t, err.Error(), "REFUSING to overwrite")
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, []byte("tampered"), get(t, client, key), "the evidence is kept")
		})
	}
}

// TestWritesNeverReplaceARacingWriter: another writer puts other bytes at
// the content address after the existence check and before the write. The
// write is conditional (If-None-Match), so the other object stays, and the
// upload or promotion fails as a mismatch instead of reporting success.
func TestWritesNeverReplaceARacingWriter(t *testing.T) {
	zip := []byte("function zip v1")
	for _, tt := range []struct {
		name string
		key  string
		do   func(st *Store) error
	}{
		{"upload", pointer.Key("dev", pointer.Sum(zip)), func(st *Store) error {
			_, err := st.Upload(context.Background(), bucket, "dev", zip)
			return err
		}},
		{"promote", pointer.Key("stg", pointer.Sum(zip)), func(st *Store) error {
			dev, err := st.Upload(context.Background(), bucket, "dev", zip)
			if err != nil {
				return err
			}
			_, err = st.Promote(context.Background(), dev, "dev", bucket, "stg")
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := locals3.New("", locals3.WithBucket(bucket))
			require.NoError(t, err)
			t.Cleanup(func() { srv.Close() })
			raced := false
			racing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut && r.URL.Path == "/"+bucket+"/"+tt.key && !raced {
					raced = true
					put := httptest.NewRequest(http.MethodPut, r.URL.Path, strings.NewReader("tampered"))
					put.Header.Set("Content-Length", "8")
					other := httptest.NewRecorder()
					srv.ServeHTTP(other, put)
					assert.Equal(t, http.StatusOK, other.Code, other.Body.String())
				}
				srv.ServeHTTP(w, r)
			})
			st, client, log := storeFor(serve(t, racing))

			err = tt.do(st)
			require.True(t, raced, "the test wrote nothing at %s", tt.key)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMismatch)
			assert.ErrorContains(t, err, "REFUSING to overwrite s3://"+bucket+"/"+tt.key, "the refusal says what to do, as when the object was there before")
			assert.ErrorContains(t, err, "keep it for investigation")
			assert.Contains(t, log.String(), "meanwhile")
			assert.Equal(t, []byte("tampered"), get(t, client, tt.key), "the racing writer's object is not replaced")
		})
	}
}

// s3Error writes S3's REST error response: the status, and for any method
// but HEAD the XML body with the code (S3's "Error responses" reference).
func s3Error(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`, code, message)
	}
}

// forbidMissing serves an S3 that answers 403 AccessDenied to HEAD and GET
// of a missing key, as S3 does for a role whose s3:ListBucket does not cover
// the request: the deploy roles may list only with an s3:prefix condition,
// which a request for a key does not carry.
func forbidMissing(t *testing.T) *s3.Client {
	t.Helper()
	srv, err := locals3.New("", locals3.WithBucket(bucket))
	require.NoError(t, err)
	return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, isObject := strings.CutPrefix(r.URL.Path, "/"+bucket+"/")
		if isObject && (r.Method == http.MethodHead || r.Method == http.MethodGet) {
			if _, err := srv.Object(bucket, key); errors.Is(err, locals3.ErrNotFound) {
				s3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
				return
			}
		}
		srv.ServeHTTP(w, r)
	}))
}

// TestRefusedHeadIsToldApartByGet: a HEAD that S3 refuses has no body to say
// why; the store asks again with a one-byte GET and reads the error code. Only
// a missing key (or one it may not tell from missing) counts as missing: a
// refused credential, session token, signature or clock is an error that
// stops an upload before it writes anything. Each GET answers with the
// status S3's error-code list gives the code; the HEAD answers with the
// same status and no body, except for NoSuchKey, which follows a HEAD's 403
// (a HEAD's 404 is read as missing without asking). That an expired token
// makes HEAD answer a bare 400 is reported in HADOOP-18353.
func TestRefusedHeadIsToldApartByGet(t *testing.T) {
	tests := []struct {
		code      string
		head, get int
		missing   bool
		want      []string
	}{
		{"AccessDenied", 403, 403, true, []string{"AccessDenied", "the role may not list its prefix", "s3:GetObject", "s3:ListBucket"}},
		{"NoSuchKey", 403, 404, true, []string{"does not exist (S3 answered 403 to HEAD and NoSuchKey to GET)"}},
		{"ExpiredToken", 400, 400, false, []string{"S3 refused the session token (ExpiredToken: message from S3)", "have expired; refresh them"}},
		{"TokenRefreshRequired", 400, 400, false, []string{"(TokenRefreshRequired: ", "refresh them"}},
		{"InvalidToken", 400, 400, false, []string{"(InvalidToken: ", "AWS_SESSION_TOKEN from the same session"}},
		{"InvalidAccessKeyId", 403, 403, false, []string{"S3 refused the credentials (InvalidAccessKeyId: ", "check AWS_ACCESS_KEY_ID"}},
		{"InvalidSecurity", 403, 403, false, []string{"S3 refused the credentials (InvalidSecurity: ", "check AWS_ACCESS_KEY_ID"}},
		{"SignatureDoesNotMatch", 403, 403, false, []string{"refused the request's signature (SignatureDoesNotMatch: ", "check AWS_SECRET_ACCESS_KEY"}},
		{"RequestTimeTooSkewed", 403, 403, false, []string{"refused the request's time (RequestTimeTooSkewed: ", "clock is more than 15 minutes off"}},
		{"AccountProblem", 403, 403, false, []string{"S3 answered 403 (AccountProblem: message from S3)"}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			var writes, ranges []string
			client := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.Method {
				case http.MethodHead:
					s3Error(w, r, tt.head, tt.code, "")
				case http.MethodGet:
					ranges = append(ranges, r.Header.Get("Range"))
					s3Error(w, r, tt.get, tt.code, "message from S3")
				default:
					writes = append(writes, r.Method+" "+r.URL.Path)
					s3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
				}
			}))
			st, _, _ := storeFor(client)

			err := st.Verify(context.Background(), pointer.New(bucket, "dev", pointer.Sum([]byte("v1"))))
			require.Error(t, err)
			assert.Equal(t, tt.missing, errors.Is(err, ErrMissing), "taken for missing: %v", err)
			for _, want := range tt.want {
				assert.ErrorContains(t, err, want)
			}
			require.NotEmpty(t, ranges, "the refused HEAD is asked again with a GET")
			assert.Equal(t, "bytes=0-0", ranges[0], "the GET asks for one byte only")

			_, err = st.Upload(context.Background(), bucket, "dev", []byte("v1"))
			require.Error(t, err)
			if tt.missing {
				assert.NotEmpty(t, writes, "a missing target is written (conditionally)")
				return
			}
			assert.False(t, errors.Is(err, ErrMissing), "an upload does not take the refusal for a missing target: %v", err)
			for _, want := range tt.want {
				assert.ErrorContains(t, err, want)
			}
			assert.Empty(t, writes, "nothing is written when S3 refused the request")
		})
	}
}

// TestRefusedHeadServedToGet: a bucket policy that refuses HEAD but lets
// GET through is neither "missing" nor a credential problem, and says so.
func TestRefusedHeadServedToGet(t *testing.T) {
	client := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Range", "bytes 0-0/10")
			w.WriteHeader(http.StatusPartialContent)
			fmt.Fprint(w, "f")
			return
		}
		s3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
	}))
	st, _, _ := storeFor(client)
	err := st.Verify(context.Background(), pointer.New(bucket, "dev", pointer.Sum([]byte("v1"))))
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrMissing)
	assert.ErrorContains(t, err, "answered 403 to HEAD but served the object to GET")
}

// TestUploadWithoutListPermission: a 403 for the missing target is taken
// for "missing", and the upload goes through its conditional PUT.
func TestUploadWithoutListPermission(t *testing.T) {
	st, client, log := storeFor(forbidMissing(t))
	zip := []byte("function zip v1")
	p, err := st.Upload(context.Background(), bucket, "dev", zip)
	require.NoError(t, err)
	assert.Equal(t, zip, get(t, client, p.Key))
	assert.Contains(t, log.String(), "uploaded")

	err = st.Verify(context.Background(), pointer.New(bucket, "dev", pointer.Sum([]byte("never uploaded"))))
	assert.ErrorIs(t, err, ErrMissing)
	assert.ErrorContains(t, err, "s3:ListBucket")
}

// TestPromoteWithoutListPermission: promotion, too, takes a 403 for a
// missing object: into a target that is not there yet it copies (the copy
// stays conditional), and from a source that is not there it refuses with
// the reason.
func TestPromoteWithoutListPermission(t *testing.T) {
	st, client, log := storeFor(forbidMissing(t))
	zip := []byte("function zip v1")
	dev, err := st.Upload(context.Background(), bucket, "dev", zip)
	require.NoError(t, err)

	stg, err := st.Promote(context.Background(), dev, "dev", bucket, "stg")
	require.NoError(t, err)
	assert.Equal(t, zip, get(t, client, stg.Key))
	assert.Contains(t, log.String(), "copying")

	gone := pointer.New(bucket, "dev", pointer.Sum([]byte("never uploaded")))
	_, err = st.Promote(context.Background(), gone, "dev", bucket, "stg")
	assert.ErrorIs(t, err, ErrMissing)
	assert.ErrorContains(t, err, "not promoting dev → stg")
	assert.ErrorContains(t, err, "403 Forbidden")
	assert.NotContains(t, keys(t, client), pointer.Key("stg", pointer.Sum([]byte("never uploaded"))))
}

func TestUploadRejectsBadInput(t *testing.T) {
	st, _, _ := newStore(t)
	_, err := st.Upload(context.Background(), "Bad_Bucket", "dev", []byte("x"))
	assert.ErrorContains(t, err, "is not an S3 bucket name")
	_, err = st.Upload(context.Background(), bucket, "Dev!", []byte("x"))
	assert.ErrorContains(t, err, "is not an env name")
}

func TestPromoteCopiesTheSameBytes(t *testing.T) {
	st, client, log := newStore(t)
	zip := []byte("function zip v1")
	dev, err := st.Upload(context.Background(), bucket, "dev", zip)
	require.NoError(t, err)

	stg, err := st.Promote(context.Background(), dev, "dev", bucket, "stg")
	require.NoError(t, err)
	assert.Equal(t, pointer.New(bucket, "stg", pointer.Sum(zip)), stg)
	assert.Equal(t, zip, get(t, client, stg.Key))
	require.NoError(t, st.Verify(context.Background(), stg), "the copy carries the SHA-256 checksum too")

	prod, err := st.Promote(context.Background(), stg, "stg", bucket, "prod")
	require.NoError(t, err)
	assert.Equal(t, zip, get(t, client, prod.Key))
	assert.ElementsMatch(t, []string{dev.Key, stg.Key, prod.Key}, keys(t, client))

	log.Reset()
	again, err := st.Promote(context.Background(), dev, "dev", bucket, "stg")
	require.NoError(t, err, "promotion is idempotent")
	assert.Equal(t, stg, again)
	assert.NotContains(t, log.String(), "copying")
}

// TestMissingObjectSaysHowToRestoreIt: a missing object's error names the
// command that puts it there for its env, not a template to fill in.
func TestMissingObjectSaysHowToRestoreIt(t *testing.T) {
	tests := []struct {
		env  string
		want string
	}{
		{"dev", "does not exist. Upload the build to dev with scripts/upload.sh dev"},
		{"stg", "does not exist. Copy it from dev with scripts/promote.sh dev stg"},
		{"prod", "does not exist. Copy it from stg with scripts/promote.sh stg prod"},
	}
	st, _, _ := newStore(t)
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			err := st.Verify(context.Background(), pointer.New(bucket, tt.env, pointer.Sum([]byte("never uploaded"))))
			require.ErrorIs(t, err, ErrMissing)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestPromoteRefusesABadSource(t *testing.T) {
	zip := []byte("function zip v1")
	src := pointer.New(bucket, "dev", pointer.Sum(zip))
	tests := []struct {
		name    string
		s3      func(*testing.T) *s3.Client
		prepare func(t *testing.T, client *s3.Client)
		is      error
		want    string
	}{
		{"missing object", newS3, func(*testing.T, *s3.Client) {}, ErrMissing, "does not exist"},
		{"tampered bytes, honest checksum", newS3, func(t *testing.T, c *s3.Client) {
			put(t, c, src.Key, []byte("tampered"), "")
		}, ErrMismatch, "has S3 checksum SHA-256"},
		{"tampered bytes claiming the pointer's checksum", newLaxS3, func(t *testing.T, c *s3.Client) {
			put(t, c, src.Key, []byte("tampered"), src.SHA256)
		}, ErrMismatch, "hash to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, client, _ := storeFor(tt.s3(t))
			tt.prepare(t, client)
			_, err := st.Promote(context.Background(), src, "dev", bucket, "stg")
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), "not promoting dev → stg")
			assert.Contains(t, err.Error(), tt.want)
			for _, k := range keys(t, client) {
				assert.False(t, strings.HasPrefix(k, "stg/"), "nothing reaches stg: %s", k)
			}
		})
	}
}

func TestPromoteRefusesOtherBytesAtTheTarget(t *testing.T) {
	st, client, _ := newStore(t)
	zip := []byte("function zip v1")
	dev, err := st.Upload(context.Background(), bucket, "dev", zip)
	require.NoError(t, err)
	stgKey := pointer.Key("stg", pointer.Sum(zip))
	put(t, client, stgKey, []byte("tampered"), "")

	_, err = st.Promote(context.Background(), dev, "dev", bucket, "stg")
	assert.ErrorIs(t, err, ErrMismatch)
	assert.ErrorContains(t, err, "REFUSING to overwrite s3://"+bucket+"/"+stgKey)
	assert.Equal(t, []byte("tampered"), get(t, client, stgKey))
}

func TestPromoteRejectsBadPointers(t *testing.T) {
	st, _, _ := newStore(t)
	good := pointer.New(bucket, "dev", pointer.Sum([]byte("x")))
	digest, err := good.Digest()
	require.NoError(t, err)
	tests := []struct {
		name     string
		src      pointer.Pointer
		from, to string
		want     string
	}{
		{"key outside the from prefix", pointer.New(bucket, "stg", digest), "dev", "stg", "outside the dev/ prefix"},
		{"hex hash", pointer.Pointer{Bucket: bucket, Key: good.Key, SHA256: strings.TrimSuffix(strings.TrimPrefix(good.Key, "dev/"), ".zip")}, "dev", "stg", "is hex"},
		{"skips an env", good, "dev", "prod", "would skip stg"},
		{"backwards", good, "stg", "dev", "forward only"},
		{"unknown env", good, "qa", "stg", "not in the promotion order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.Promote(context.Background(), tt.src, tt.from, bucket, tt.to)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestNext(t *testing.T) {
	for env, want := range map[string]string{"dev": "stg", "stg": "prod", "prod": ""} {
		next, err := Next(env)
		require.NoError(t, err, env)
		assert.Equal(t, want, next, env)
	}
	_, err := Next("qa")
	assert.ErrorContains(t, err, `env "qa" is not in the promotion order dev → stg → prod`)
}

func TestCheckPromotion(t *testing.T) {
	tests := []struct {
		from, to string
		want     string // "" when allowed
	}{
		{"dev", "stg", ""},
		{"stg", "prod", ""},
		{"dev", "prod", "would skip stg: promote dev → stg first"},
		{"prod", "stg", "forward only"},
		{"stg", "stg", "forward only"},
		{"prod", "dev", "forward only"},
		{"stg", "qa", `env "qa" is not in the promotion order`},
		{"qa", "stg", `env "qa" is not in the promotion order`},
	}
	for _, tt := range tests {
		t.Run(tt.from+"→"+tt.to, func(t *testing.T) {
			err := CheckPromotion(tt.from, tt.to)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestNewClientRejectsBadSettings(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	_, err := NewClient(context.Background(), "", "")
	assert.ErrorContains(t, err, "no AWS region")
	_, err = NewClient(context.Background(), "127.0.0.1:4566", "ap-northeast-1")
	assert.ErrorContains(t, err, "is not an http(s) URL")

	// No credentials anywhere in the chain: said at once, not taken for a
	// missing object later.
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(name, "")
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	_, err = NewClient(context.Background(), "http://127.0.0.1:4566", "ap-northeast-1")
	assert.ErrorContains(t, err, "no AWS credentials")
	assert.ErrorContains(t, err, "AWS_ACCESS_KEY_ID=local")
}

func writeZip(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	path := filepath.Join(dir, "function.zip")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	sum := pointer.Sum(buf.Bytes())
	require.NoError(t, os.WriteFile(path+".sha256", []byte(base64.StdEncoding.EncodeToString(sum[:])+"\n"), 0o644))
	return path
}

func TestLoadBuild(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) string
		want    string
	}{
		{"good", func(t *testing.T, dir string) string {
			return writeZip(t, dir, map[string]string{"bootstrap": "binary"})
		}, ""},
		{"missing", func(t *testing.T, dir string) string { return filepath.Join(dir, "function.zip") }, "run make build"},
		{"not a zip", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "function.zip")
			require.NoError(t, os.WriteFile(p, []byte("text"), 0o644))
			return p
		}, "is not a zip"},
		{"no bootstrap", func(t *testing.T, dir string) string {
			return writeZip(t, dir, map[string]string{"main": "binary"})
		}, "has no bootstrap"},
		{"stale sha256 file", func(t *testing.T, dir string) string {
			p := writeZip(t, dir, map[string]string{"bootstrap": "binary"})
			require.NoError(t, os.WriteFile(p+".sha256", []byte("AAAA\n"), 0o644))
			return p
		}, "come from different builds"},
		{"no sha256 file", func(t *testing.T, dir string) string {
			p := writeZip(t, dir, map[string]string{"bootstrap": "binary"})
			require.NoError(t, os.Remove(p+".sha256"))
			return p
		}, ".sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.prepare(t, t.TempDir())
			b, err := LoadBuild(path)
			if tt.want != "" {
				assert.ErrorContains(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, pointer.Sum(b.Zip), b.Digest)
		})
	}
}
