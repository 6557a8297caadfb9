package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/s3"
	"github.com/acme/request-dump/local/stacktest"
)

// readAll lists the bucket and reads every object back with its SHA-256
// checked, as the deployer does: what a store left by a crash must allow.
func readAll(t *testing.T, c *awss3.Client) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	p := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err, "the bucket can be listed")
		for _, o := range page.Contents {
			got, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key, ChecksumMode: types.ChecksumModeEnabled})
			require.NoError(t, err, "every listed object can be read: %s", aws.ToString(o.Key))
			body, err := io.ReadAll(got.Body)
			got.Body.Close()
			require.NoError(t, err, "%s: its bytes match the checksum stored with it", aws.ToString(o.Key))
			if sum := aws.ToString(got.ChecksumSHA256); sum != "" {
				assert.Equal(t, sum256(body), sum, aws.ToString(o.Key))
			}
			out[aws.ToString(o.Key)] = body
		}
	}
	return out
}

// TestAnObjectWithoutMetadataIsDroppedAtStart: killed between writing an
// object's bytes and its metadata, the store used to answer 500 for that
// object, forever, and fail the listing of its whole bucket.
func TestAnObjectWithoutMetadataIsDroppedAtStart(t *testing.T) {
	dir := t.TempDir()
	st := start(t, dir)
	require.NoError(t, put(t, st.client, "dev/kept.zip", []byte("acknowledged"), sha256In))
	st.stop()
	// What a kill -9 left: the bytes of a PUT that was never answered, in
	// gofakes3's layout (buckets/<bucket>/<key>), without metadata.
	orphan := filepath.Join(dir, "buckets", bucket, "dev", "torn.zip")
	require.NoError(t, os.WriteFile(orphan, []byte("half a zip"), 0o600))

	var log bytes.Buffer
	srv, err := s3.New(dir, s3.WithBucket(bucket), s3.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	assert.Equal(t, map[string][]byte{"dev/kept.zip": []byte("acknowledged")}, readAll(t, client(hs.URL)))
	_, err = os.Stat(orphan)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, log.String(), "s3://"+bucket+"/dev/torn.zip", "the start says what it dropped")
}

func sha256In(in *awss3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 }

// TestKill9DuringPuts kills a process serving the local S3 on a data
// directory while it takes concurrent PUTs, then opens the directory again:
// every object must be readable with the bytes its checksum names, the
// bucket listable, and every PUT that was answered 200 there.
func TestKill9DuringPuts(t *testing.T) {
	for round := range 3 {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			dir := t.TempDir()
			cmd, addr := stacktest.Killable(t, dir)
			c := client("http://" + addr)

			// Each key is written by one worker, one PUT at a time, so at
			// the kill only its last PUT can be in flight.
			type history struct{ acked, last []byte }
			var mu sync.Mutex
			keys := map[string]*history{}
			var wg sync.WaitGroup
			var acked atomic.Int64
			stop := make(chan struct{})
			for w := range 8 {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						key := fmt.Sprintf("dev/w%d-%d.zip", w, i%6) // overwrites too
						body := bytes.Repeat([]byte(fmt.Sprintf("%d/%d.", w, i)), 20_000+i*997%40_000)
						mu.Lock()
						if keys[key] == nil {
							keys[key] = &history{}
						}
						keys[key].last = body
						mu.Unlock()
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						_, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
						cancel()
						if err != nil {
							return // the server is gone
						}
						mu.Lock()
						keys[key].acked = body
						mu.Unlock()
						acked.Add(1)
					}
				})
			}
			// Kill once some PUTs were answered, however slow the machine,
			// at a different point of the traffic each round.
			require.Eventually(t, func() bool { return acked.Load() >= int64(8*(round+1)) }, time.Minute, 5*time.Millisecond, "no PUT was answered")
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			close(stop)
			wg.Wait()
			cmd.Wait()

			st := start(t, dir)
			got := readAll(t, st.client)
			answered := 0
			for key, h := range keys {
				if h.acked == nil {
					continue
				}
				answered++
				if assert.Contains(t, got, key, "an answered PUT is there") {
					assert.True(t, bytes.Equal(got[key], h.acked) || bytes.Equal(got[key], h.last),
						"%s holds the last answered PUT's bytes, or those of the one in flight", key)
				}
			}
			require.NotZero(t, answered, "some PUTs were answered before the kill")
			t.Logf("%d keys answered, %d objects after the restart", answered, len(got))
		})
	}
}

// TestMain serves the bucket for TestKill9DuringPuts when this binary runs
// as the process it kills, and runs the tests otherwise.
func TestMain(m *testing.M) {
	stacktest.ServeKillable(func(dir string) (http.Handler, error) {
		return s3.New(dir, s3.WithBucket(bucket))
	})
	os.Exit(m.Run())
}
