package s3

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"

	"github.com/acme/request-dump/internal/atomicfile"
)

// fileStore writes objects into the data directory of gofakes3's s3afero
// backend (buckets/<bucket>/<key> and metadata/<bucket>/<name>), which
// reads them, so that a kill -9 never leaves an object without the
// metadata that describes it. s3afero writes the object's file in place and
// its metadata after; killed in between, it left bytes that GET and HEAD
// answered 500 for, forever, and that failed the listing of the bucket.
//
// A write here goes through a staging directory on the same file system:
//
//  1. the bytes go to staging/<id>.obj;
//  2. staging/<id>.target names the bucket and key;
//  3. the metadata, describing the staged file (size, time, MD5), replaces
//     the old metadata in one rename;
//  4. the staged file replaces the object in one rename (which keeps its
//     time); then the target file is removed.
//
// At start, recover finishes a write whose metadata was in place (steps 3-4)
// and drops one that had not got there, then drops any object no metadata
// describes and metadata with no object, each with a log line. Nothing is
// synced to the disk: the stack survives its own crash, not the machine's.
type fileStore struct {
	dir string
	log *slog.Logger
	// mu keeps readers from seeing step 3 without step 4: s3afero would
	// take the old bytes for a changed file and rewrite the metadata.
	mu sync.RWMutex
}

const stagingDir = "staging"

func (f *fileStore) objectPath(bucket, key string) string {
	return filepath.Join(f.dir, "buckets", bucket, filepath.FromSlash(key))
}

// metadataPath is where s3afero keeps an object's metadata: the key with
// its separators replaced, then the FNV-128a of the key (its metaPath).
func (f *fileStore) metadataPath(bucket, key string) string {
	h := fnv.New128a()
	h.Write([]byte(key))
	name := strings.NewReplacer("/", "_", `\`, "_").Replace(key) + "-" + hex.EncodeToString(h.Sum(nil))
	return filepath.Join(f.dir, "metadata", bucket, name)
}

func (f *fileStore) put(bucket, key string, meta map[string]string, body []byte) error {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	staged := filepath.Join(f.dir, stagingDir, hex.EncodeToString(id[:]))
	obj, target := staged+".obj", staged+".target"
	done := false
	defer func() {
		if !done {
			os.Remove(obj)
			os.Remove(target)
		}
	}()
	if err := os.WriteFile(obj, body, 0o600); err != nil {
		return err
	}
	st, err := os.Stat(obj)
	if err != nil {
		return err
	}
	data, err := json.Marshal(s3afero.Metadata{File: path.Join(bucket, key), ModTime: st.ModTime(), Size: st.Size(), Hash: md5Sum(body), Meta: meta})
	if err != nil {
		return err
	}
	if err := os.WriteFile(target, []byte(bucket+"\n"+key), 0o600); err != nil {
		return err
	}
	dst := f.objectPath(bucket, key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.replace(f.metadataPath(bucket, key), data); err != nil {
		return err
	}
	if err := os.Rename(obj, dst); err != nil {
		return err
	}
	done = true
	os.Remove(target)
	return nil
}

// replace writes data to dst through a file staged in the staging
// directory and one rename.
func (f *fileStore) replace(dst string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(dst, data, 0o600, filepath.Join(f.dir, stagingDir))
}

// describes reports whether the metadata at metaPath describes the file at
// objPath: its size and time, and with hash, its MD5 too.
func describes(metaPath, objPath string, hash bool) bool {
	data, err := os.ReadFile(metaPath)
	if err != nil {
		return false
	}
	var m s3afero.Metadata
	if json.Unmarshal(data, &m) != nil || len(m.Hash) == 0 {
		return false
	}
	st, err := os.Stat(objPath)
	if err != nil || st.Size() != m.Size || !st.ModTime().Equal(m.ModTime) {
		return false
	}
	if !hash {
		return true
	}
	body, err := os.ReadFile(objPath)
	return err == nil && bytes.Equal(md5Sum(body), m.Hash)
}

// md5Sum is the MD5 of body, which gofakes3 keeps as the object's ETag.
func md5Sum(body []byte) []byte {
	sum := md5.Sum(body)
	return sum[:]
}

// recover brings the data directory back to a state where every object has
// the metadata that describes it (see fileStore).
func (f *fileStore) recover() error {
	staging := filepath.Join(f.dir, stagingDir)
	if err := os.MkdirAll(staging, 0o700); err != nil {
		return err
	}
	targets, err := filepath.Glob(filepath.Join(staging, "*.target"))
	if err != nil {
		return err
	}
	for _, target := range targets {
		data, err := os.ReadFile(target)
		if err != nil {
			return err
		}
		obj := strings.TrimSuffix(target, ".target") + ".obj"
		bucket, key, ok := strings.Cut(string(data), "\n")
		_, statErr := os.Stat(obj)
		switch {
		case !ok || statErr != nil:
			// Cut short while naming its target, or done but for
			// removing this file.
		case describes(f.metadataPath(bucket, key), obj, true):
			if err := os.MkdirAll(filepath.Dir(f.objectPath(bucket, key)), 0o700); err != nil {
				return err
			}
			if err := os.Rename(obj, f.objectPath(bucket, key)); err != nil {
				return err
			}
			f.log.Warn("s3: finished a PutObject that a crash interrupted after its metadata was stored", "object", "s3://"+bucket+"/"+key)
		default:
			f.log.Warn("s3: dropped a PutObject that a crash interrupted before it was stored (it was never answered); the previous version stays", "object", "s3://"+bucket+"/"+key)
		}
		os.Remove(obj)
		if err := os.Remove(target); err != nil {
			return err
		}
	}
	// What is left in staging was never named as any object's new bytes.
	left, err := os.ReadDir(staging)
	if err != nil {
		return err
	}
	for _, e := range left {
		if err := os.Remove(filepath.Join(staging, e.Name())); err != nil {
			return err
		}
	}
	return f.dropOrphans()
}

// dropOrphans removes the objects no metadata describes (left by a crash,
// e.g. of a local stack from before fileStore) and the metadata of objects
// that are gone.
func (f *fileStore) dropOrphans() error {
	buckets, err := os.ReadDir(filepath.Join(f.dir, "buckets"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, b := range buckets {
		if !b.IsDir() {
			continue
		}
		bucket := b.Name()
		root := filepath.Join(f.dir, "buckets", bucket)
		described := map[string]bool{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			meta := f.metadataPath(bucket, key)
			if describes(meta, p, false) {
				described[meta] = true
				return nil
			}
			f.log.Warn("s3: dropped an object no metadata describes, left by a crash during its PutObject (which was never answered); upload it again", "object", "s3://"+bucket+"/"+key)
			if err := os.Remove(p); err != nil {
				return err
			}
			removeEmptyDirs(filepath.Dir(p), root)
			return nil
		})
		if err != nil {
			return err
		}
		metas, err := os.ReadDir(filepath.Join(f.dir, "metadata", bucket))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, m := range metas {
			p := filepath.Join(f.dir, "metadata", bucket, m.Name())
			if m.IsDir() || described[p] {
				continue
			}
			if err := os.Remove(p); err != nil {
				return err
			}
			f.log.Info("s3: removed the metadata of an object that is gone", "file", p)
		}
	}
	return nil
}

// removeEmptyDirs removes dir and its parents up to (not including) root
// while they are empty: s3afero would list an empty directory as a prefix.
func removeEmptyDirs(dir, root string) {
	for dir != root && strings.HasPrefix(dir, root) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// putFile is backend.PutObject for the on-disk store: gofakes3's checks on
// the bucket and the preconditions, then fileStore.put.
func (b *backend) putFile(bucket, key string, meta map[string]string, body []byte, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	ok, err := b.Backend.BucketExists(bucket)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if !ok {
		return gofakes3.PutObjectResult{}, gofakes3.BucketNotFound(bucket)
	}
	if conditions != nil {
		info := &gofakes3.ConditionalObjectInfo{}
		if obj, err := b.HeadObject(bucket, key); err == nil {
			info.Exists, info.Hash = true, obj.Hash
		}
		if err := gofakes3.CheckPutConditions(conditions, info); err != nil {
			return gofakes3.PutObjectResult{}, err
		}
	}
	return gofakes3.PutObjectResult{}, b.files.put(bucket, key, meta, body)
}
