package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/s3"
)

const bucket = "acme-request-dump-artifacts"

// stack is one local S3 behind an httptest server and an SDK client.
type stack struct {
	srv    *s3.Server
	http   *httptest.Server
	client *awss3.Client
}

func start(t *testing.T, dir string) *stack {
	t.Helper()
	srv, err := s3.New(dir, s3.WithBucket(bucket))
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	st := &stack{srv: srv, http: hs, client: client(hs.URL)}
	t.Cleanup(st.stop)
	return st
}

func (st *stack) stop() {
	st.http.Close()
	st.srv.Close()
}

func client(endpoint string, opts ...func(*awss3.Options)) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       "ap-northeast-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""),
	}, opts...)
}

func sum256(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// backends runs a test against the in-memory and the on-disk store.
var backends = []struct {
	name string
	dir  func(t *testing.T) string
}{
	{"memory", func(*testing.T) string { return "" }},
	{"disk", func(t *testing.T) string { return t.TempDir() }},
}

func put(t *testing.T, c *awss3.Client, key string, body []byte, in func(*awss3.PutObjectInput)) error {
	t.Helper()
	input := &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
	if in != nil {
		in(input)
	}
	_, err := c.PutObject(context.Background(), input)
	return err
}

func head(t *testing.T, c *awss3.Client, key string) *awss3.HeadObjectOutput {
	t.Helper()
	out, err := c.HeadObject(context.Background(), &awss3.HeadObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled,
	})
	require.NoError(t, err)
	return out
}

func get(t *testing.T, c *awss3.Client, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &awss3.GetObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled,
	})
	require.NoError(t, err)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return b
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func TestChecksums(t *testing.T) {
	body := []byte("PK\x03\x04 a zip, more or less")
	tests := []struct {
		name      string
		in        func(*awss3.PutObjectInput)
		wantSHA   string
		wantCRC32 bool
		wantType  types.ChecksumType
	}{
		{"SHA256 computed by the SDK", func(in *awss3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 }, sum256(body), false, types.ChecksumTypeFullObject},
		{"SHA256 given by the caller", func(in *awss3.PutObjectInput) {
			in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
			in.ChecksumSHA256 = aws.String(sum256(body))
		}, sum256(body), false, types.ChecksumTypeFullObject},
		{"CRC32", func(in *awss3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 }, "", true, types.ChecksumTypeFullObject},
		{"CRC64NVME", func(in *awss3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc64nvme }, "", false, types.ChecksumTypeFullObject},
		// Over plain HTTP the SDK's default checksum would need a trailer,
		// which it sends only over HTTPS: the object gets none.
		{"SDK default over HTTP", nil, "", false, ""},
	}
	for _, be := range backends {
		for _, tt := range tests {
			t.Run(be.name+"/"+tt.name, func(t *testing.T) {
				st := start(t, be.dir(t))
				require.NoError(t, put(t, st.client, "dev/a.zip", body, tt.in))

				h := head(t, st.client, "dev/a.zip")
				assert.Equal(t, tt.wantSHA, aws.ToString(h.ChecksumSHA256))
				assert.Equal(t, tt.wantCRC32, h.ChecksumCRC32 != nil)
				assert.Equal(t, tt.wantType, h.ChecksumType)
				assert.Equal(t, body, get(t, st.client, "dev/a.zip"))

				plain, err := st.client.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("dev/a.zip")})
				require.NoError(t, err)
				assert.Nil(t, plain.ChecksumSHA256, "S3 returns checksums only with ChecksumMode ENABLED")
				assert.Nil(t, plain.ChecksumCRC32)
			})
		}
	}
}

func TestChecksumSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	body := bytes.Repeat([]byte("artifact "), 100_000)
	first := start(t, dir)
	require.NoError(t, put(t, first.client, "dev/b.zip", body, func(in *awss3.PutObjectInput) {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
		in.ContentType = aws.String("application/zip")
		in.Metadata = map[string]string{"commit": "abc123"}
	}))
	first.stop()

	second := start(t, dir)
	h := head(t, second.client, "dev/b.zip")
	assert.Equal(t, sum256(body), aws.ToString(h.ChecksumSHA256))
	assert.Equal(t, "application/zip", aws.ToString(h.ContentType))
	assert.Equal(t, map[string]string{"commit": "abc123"}, h.Metadata)
	assert.Equal(t, body, get(t, second.client, "dev/b.zip"))

	obj, err := second.srv.Object(bucket, "dev/b.zip")
	require.NoError(t, err)
	assert.Equal(t, body, obj.Body)
	assert.Equal(t, sum256(body), obj.ChecksumSHA256)
	assert.Equal(t, aws.ToString(h.ETag), obj.ETag)
}

func TestBadDigestIsRefusedAndKeepsThePreviousVersion(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			st := start(t, be.dir(t))
			good := []byte("good bytes")
			require.NoError(t, put(t, st.client, "dev/c.zip", good, func(in *awss3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 }))

			err := put(t, st.client, "dev/c.zip", []byte("tampered bytes"), func(in *awss3.PutObjectInput) {
				in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
				in.ChecksumSHA256 = aws.String(sum256(good))
			})
			assert.Equal(t, "BadDigest", errorCode(err), "error: %v", err)

			assert.Equal(t, good, get(t, st.client, "dev/c.zip"))
			assert.Equal(t, sum256(good), aws.ToString(head(t, st.client, "dev/c.zip").ChecksumSHA256))
		})
	}
}

func TestOverwriteReplacesMetadata(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			st := start(t, be.dir(t))
			require.NoError(t, put(t, st.client, "dev/d.zip", []byte("v1"), func(in *awss3.PutObjectInput) {
				in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
				in.Metadata = map[string]string{"old": "1"}
			}))
			require.NoError(t, put(t, st.client, "dev/d.zip", []byte("v2"), func(in *awss3.PutObjectInput) {
				in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
				in.Metadata = map[string]string{"new": "2"}
			}))
			h := head(t, st.client, "dev/d.zip")
			assert.Nil(t, h.ChecksumSHA256, "the first version's SHA-256 must not describe the second")
			assert.NotNil(t, h.ChecksumCRC32)
			assert.Equal(t, map[string]string{"new": "2"}, h.Metadata)
			assert.Equal(t, []byte("v2"), get(t, st.client, "dev/d.zip"))
		})
	}
}

func TestCopyObjectPromotes(t *testing.T) {
	body := []byte("the dev artifact")
	tests := []struct {
		name string
		in   func(*awss3.CopyObjectInput)
	}{
		{"checksum carried from the source", nil},
		{"checksum asked for", func(in *awss3.CopyObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 }},
		{"metadata directive COPY, URL-encoded source", func(in *awss3.CopyObjectInput) {
			in.MetadataDirective = types.MetadataDirectiveCopy
			in.CopySource = aws.String(bucket + "%2Fdev%2Fe.zip")
		}},
	}
	for _, be := range backends {
		for _, tt := range tests {
			t.Run(be.name+"/"+tt.name, func(t *testing.T) {
				st := start(t, be.dir(t))
				require.NoError(t, put(t, st.client, "dev/e.zip", body, func(in *awss3.PutObjectInput) {
					in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
					in.ContentType = aws.String("application/zip")
				}))
				src := head(t, st.client, "dev/e.zip")
				in := &awss3.CopyObjectInput{
					Bucket:            aws.String(bucket),
					Key:               aws.String("stg/e.zip"),
					CopySource:        aws.String(bucket + "/dev/e.zip"),
					CopySourceIfMatch: src.ETag,
					IfNoneMatch:       aws.String("*"),
				}
				if tt.in != nil {
					tt.in(in)
				}
				_, err := st.client.CopyObject(context.Background(), in)
				require.NoError(t, err)

				h := head(t, st.client, "stg/e.zip")
				assert.Equal(t, sum256(body), aws.ToString(h.ChecksumSHA256))
				assert.Equal(t, "application/zip", aws.ToString(h.ContentType))
				assert.Equal(t, src.ETag, h.ETag)
				assert.Equal(t, body, get(t, st.client, "stg/e.zip"))
			})
		}
	}
}

func TestPreconditions(t *testing.T) {
	st := start(t, "")
	require.NoError(t, put(t, st.client, "dev/f.zip", []byte("f"), nil))
	require.NoError(t, put(t, st.client, "stg/f.zip", []byte("existing"), nil))
	ctx := context.Background()
	h := head(t, st.client, "dev/f.zip")
	written := aws.ToTime(h.LastModified)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"copy source changed", func() error {
			_, err := st.client.CopyObject(ctx, &awss3.CopyObjectInput{
				Bucket: aws.String(bucket), Key: aws.String("stg/g.zip"),
				CopySource: aws.String(bucket + "/dev/f.zip"), CopySourceIfMatch: aws.String(`"0123"`),
			})
			return err
		}, "PreconditionFailed"},
		{"copy source unchanged is refused by If-None-Match", func() error {
			_, err := st.client.CopyObject(ctx, &awss3.CopyObjectInput{
				Bucket: aws.String(bucket), Key: aws.String("stg/g.zip"),
				CopySource: aws.String(bucket + "/dev/f.zip"), CopySourceIfNoneMatch: aws.String("*"),
			})
			return err
		}, "PreconditionFailed"},
		{"copy onto an existing key with If-None-Match *", func() error {
			_, err := st.client.CopyObject(ctx, &awss3.CopyObjectInput{
				Bucket: aws.String(bucket), Key: aws.String("stg/f.zip"),
				CopySource: aws.String(bucket + "/dev/f.zip"), IfNoneMatch: aws.String("*"),
			})
			return err
		}, "PreconditionFailed"},
		{"put onto an existing key with If-None-Match *", func() error {
			return put(t, st.client, "stg/f.zip", []byte("other"), func(in *awss3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
		}, "PreconditionFailed"},
		{"get with a stale If-Match", func() error {
			_, err := st.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dev/f.zip"), IfMatch: aws.String(`"0123"`)})
			return err
		}, "PreconditionFailed"},
		{"get modified since If-Unmodified-Since", func() error {
			_, err := st.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dev/f.zip"), IfUnmodifiedSince: aws.Time(written.Add(-time.Hour))})
			return err
		}, "PreconditionFailed"},
		{"head modified since If-Unmodified-Since", func() error {
			_, err := st.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("dev/f.zip"), IfUnmodifiedSince: aws.Time(written.Add(-time.Hour))})
			return err
		}, "PreconditionFailed"},
		{"copy from a missing key", func() error {
			_, err := st.client.CopyObject(ctx, &awss3.CopyObjectInput{
				Bucket: aws.String(bucket), Key: aws.String("stg/h.zip"), CopySource: aws.String(bucket + "/dev/missing.zip"),
			})
			return err
		}, "NoSuchKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			assert.Equal(t, tt.want, errorCode(err), "error: %v", err)
		})
	}
	// GetObject's If-Unmodified-Since (API reference): the object unless it
	// was modified after the time, and always when If-Match holds.
	for _, in := range []*awss3.GetObjectInput{
		{IfUnmodifiedSince: aws.Time(written)},
		{IfUnmodifiedSince: aws.Time(written.Add(time.Hour))},
		{IfUnmodifiedSince: aws.Time(written.Add(-time.Hour)), IfMatch: h.ETag},
	} {
		in.Bucket, in.Key = aws.String(bucket), aws.String("dev/f.zip")
		_, err := st.client.GetObject(ctx, in)
		assert.NoError(t, err, "If-Unmodified-Since %v, If-Match %v", in.IfUnmodifiedSince, aws.ToString(in.IfMatch))
	}
	assert.Equal(t, []byte("existing"), get(t, st.client, "stg/f.zip"), "a refused write changes nothing")
	_, err := st.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("stg/g.zip")})
	assert.Error(t, err, "a refused copy creates nothing")
}

func TestRangeReadWithChecksumMode(t *testing.T) {
	st := start(t, "")
	require.NoError(t, put(t, st.client, "dev/r.zip", []byte("0123456789"), func(in *awss3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 }))
	out, err := st.client.GetObject(context.Background(), &awss3.GetObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("dev/r.zip"), Range: aws.String("bytes=2-4"), ChecksumMode: types.ChecksumModeEnabled,
	})
	require.NoError(t, err)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	require.NoError(t, err, "the SDK must not check a part against the whole object's checksum")
	assert.Equal(t, "234", string(b))
	assert.Nil(t, out.ChecksumSHA256)
}

func TestObjectNotFound(t *testing.T) {
	st := start(t, "")
	for _, tt := range []struct{ bucket, key string }{{bucket, "dev/none.zip"}, {"no-such-bucket", "dev/x.zip"}} {
		_, err := st.srv.Object(tt.bucket, tt.key)
		assert.ErrorIs(t, err, s3.ErrNotFound)
	}
}

func TestDiskStore(t *testing.T) {
	dir := t.TempDir()
	st := start(t, dir)

	_, err := s3.New(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in use by another process")

	for _, key := range []string{"dev//x.zip", "dev/./x.zip", "dev/", strings.Repeat("k", 300)} {
		err := put(t, st.client, key, []byte("x"), nil)
		assert.Error(t, err, key)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "buckets", bucket))
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing was written for a refused key")
}

func TestBucketNames(t *testing.T) {
	_, err := s3.New("", s3.WithBucket("Not_A_Bucket"))
	assert.ErrorContains(t, err, "Not_A_Bucket")
}

func TestHTTPErrorsAreS3Errors(t *testing.T) {
	st := start(t, "")
	resp, err := http.Get(st.http.URL + "/" + bucket + "/dev/none.zip")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, string(b), "<Code>NoSuchKey</Code>")
}

// A listing's max-keys is an integer from 0 to 2147483647 on S3
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html),
// and 0 asks for an empty page; gofakes3 alone took -1 and 0 as "no limit"
// and listed every key.
func TestListMaxKeys(t *testing.T) {
	st := start(t, "")
	require.NoError(t, put(t, st.client, "dev/a.zip", []byte("a"), nil))
	for _, v := range []string{"-1", "abc", "2147483648"} {
		t.Run(v, func(t *testing.T) {
			resp, err := http.Get(st.http.URL + "/" + bucket + "?list-type=2&max-keys=" + v)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Contains(t, string(b), "<Code>InvalidArgument</Code>")
			assert.Contains(t, string(b), `between 0 and 2147483647 (got &#34;`+v+`&#34;)`)
		})
	}
	resp, err := http.Get(st.http.URL + "/" + bucket + "?list-type=2&max-keys=1")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	assert.Contains(t, string(b), "<Key>dev/a.zip</Key>")

	for _, op := range []string{"ListObjectsV2", "ListObjects"} {
		t.Run("max-keys 0 through "+op, func(t *testing.T) {
			var keys int
			var truncated *bool
			if op == "ListObjectsV2" {
				out, err := st.client.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(0)})
				require.NoError(t, err)
				keys, truncated = len(out.Contents), out.IsTruncated
				assert.Zero(t, aws.ToInt32(out.KeyCount))
				assert.Nil(t, out.NextContinuationToken)
			} else {
				out, err := st.client.ListObjects(context.Background(), &awss3.ListObjectsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(0)})
				require.NoError(t, err)
				keys, truncated = len(out.Contents), out.IsTruncated
			}
			assert.Zero(t, keys, "max-keys=0 asks for no key")
			assert.False(t, aws.ToBool(truncated), "an empty page asked for is not truncated")
		})
	}
}

// Creating a bucket the caller already owns is 409 BucketAlreadyOwnedByYou,
// except in us-east-1 where S3 answers 200 and does nothing (the
// BucketAlreadyOwnedByYou error of the API reference; AWS's message as
// scality/Arsenal#2276 and ceph/s3-tests#30 quote it). gofakes3 answered
// BucketAlreadyExists, which S3 keeps for a bucket of another account.
func TestCreateExistingBucket(t *testing.T) {
	st := start(t, "")
	for _, tc := range []struct {
		region, bucket string
		status         int
		code           string
	}{
		{"ap-northeast-1", bucket, http.StatusConflict, "BucketAlreadyOwnedByYou"},
		{"us-east-1", bucket, http.StatusOK, ""},
		{"ap-northeast-1", "a-new-bucket", http.StatusOK, ""},
	} {
		t.Run(tc.region+" "+tc.bucket, func(t *testing.T) {
			c := client(st.http.URL, func(o *awss3.Options) { o.Region = tc.region })
			_, err := c.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(tc.bucket)})
			if tc.code == "" {
				require.NoError(t, err)
				_, err = c.HeadBucket(context.Background(), &awss3.HeadBucketInput{Bucket: aws.String(tc.bucket)})
				require.NoError(t, err)
				return
			}
			var owned *types.BucketAlreadyOwnedByYou
			require.True(t, errors.As(err, &owned), "%v", err)
			assert.Equal(t, "Your previous request to create the named bucket succeeded and you already own it.", owned.ErrorMessage())
			var re *smithyhttp.ResponseError
			require.True(t, errors.As(err, &re))
			assert.Equal(t, tc.status, re.HTTPStatusCode())
		})
	}
}
