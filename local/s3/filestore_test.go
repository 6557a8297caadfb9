package s3

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testBucket = "acme-request-dump-artifacts"

// stageTo leaves the data directory as a crash during fileStore.put leaves
// it: the new bytes staged and named, and with metadataStored, the new
// metadata in place too (crashed between steps 3 and 4).
func stageTo(t *testing.T, f *fileStore, key string, body []byte, metadataStored bool) {
	t.Helper()
	obj := filepath.Join(f.dir, stagingDir, "0123.obj")
	require.NoError(t, os.WriteFile(obj, body, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, stagingDir, "0123.target"), []byte(testBucket+"\n"+key), 0o600))
	if metadataStored {
		st, err := os.Stat(obj)
		require.NoError(t, err)
		sum := md5Sum(body)
		data, err := json.Marshal(s3afero.Metadata{File: path.Join(testBucket, key), ModTime: st.ModTime(), Size: st.Size(), Hash: sum, Meta: map[string]string{"Content-Type": "application/zip"}})
		require.NoError(t, err)
		require.NoError(t, f.replace(f.metadataPath(testBucket, key), data))
	}
}

func TestRecoverFinishesOrDropsAnInterruptedPut(t *testing.T) {
	for _, tt := range []struct {
		name           string
		metadataStored bool
		want           string
		wantLog        string
	}{
		{"crashed before its metadata was stored", false, "v1", "dropped a PutObject"},
		{"crashed after its metadata was stored", true, "v2", "finished a PutObject"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			srv, err := New(dir, WithBucket(testBucket))
			require.NoError(t, err)
			_, err = srv.backend.PutObject(testBucket, "dev/a.zip", map[string]string{}, bytes.NewReader([]byte("v1")), 2, nil)
			require.NoError(t, err)
			stageTo(t, srv.backend.files, "dev/a.zip", []byte("v2"), tt.metadataStored)
			require.NoError(t, srv.Close())

			var log bytes.Buffer
			srv, err = New(dir, WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
			require.NoError(t, err)
			defer srv.Close()
			obj, err := srv.Object(testBucket, "dev/a.zip")
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(obj.Body))
			assert.Contains(t, log.String(), tt.wantLog)
			assert.Contains(t, log.String(), "s3://"+testBucket+"/dev/a.zip")
			left, err := os.ReadDir(filepath.Join(dir, stagingDir))
			require.NoError(t, err)
			assert.Empty(t, left, "nothing stays staged")
			list, err := srv.backend.ListBucket(testBucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{MaxKeys: gofakes3.DefaultMaxBucketKeys})
			require.NoError(t, err)
			require.Len(t, list.Contents, 1)
			assert.Equal(t, obj.ETag, list.Contents[0].ETag, "the listing and the object agree")
		})
	}
}
