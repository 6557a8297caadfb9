package s3

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// backend wraps a gofakes3 backend (s3mem or s3afero) to keep an object's
// metadata the way S3 does, which gofakes3's backends do not:
//
//   - gofakes3 stores every X-Amz-* request header as metadata and echoes it
//     back (X-Amz-Date, X-Amz-Copy-Source, X-Amz-Sdk-Checksum-Algorithm, …);
//     only user metadata, content headers and checksums are kept here.
//   - gofakes3 stores an X-Amz-Checksum-* value without checking it against
//     the body; here a wrong value is refused with BadDigest, as S3 does, and
//     a checksum asked for by algorithm only (CopyObject, multipart uploads)
//     is computed.
//   - gofakes3's backends merge the previous version's metadata into a new
//     PutObject, so an overwritten object could keep a stale checksum; here
//     keys the new version does not set are stored blank and dropped on read.
//
// On disk, objects are written by fileStore, so that a crash never leaves
// bytes without the metadata that describes them; gofakes3's s3afero reads
// them.
type backend struct {
	gofakes3.Backend
	// files is the on-disk store; nil in memory.
	files *fileStore
}

// keptHeaders are the non-X-Amz-Meta-* metadata S3 keeps with an object.
// Last-Modified is gofakes3's own record of the write time.
var keptHeaders = map[string]bool{
	"Content-Type":        true,
	"Content-Disposition": true,
	"Content-Encoding":    true,
	"Last-Modified":       true,
}

const checksumTypeHeader = "X-Amz-Checksum-Type"

func (b *backend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if b.files != nil {
		if err := checkFileKey(key); err != nil {
			return gofakes3.PutObjectResult{}, err
		}
	}
	// The whole body is read before anything is stored, so that a body
	// whose checksum does not match never replaces the previous version.
	body, err := gofakes3.ReadAll(input, size)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	stored, err := storedMetadata(meta, body)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if b.files != nil {
		return b.putFile(bucket, key, stored, body, conditions)
	}
	if old, err := b.Backend.HeadObject(bucket, key); err == nil {
		old.Contents.Close()
		for k := range old.Metadata {
			if _, ok := stored[k]; !ok {
				stored[k] = ""
			}
		}
	}
	return b.Backend.PutObject(bucket, key, stored, bytes.NewReader(body), size, conditions)
}

// CopyObject copies through this backend's GetObject and PutObject, so the
// source's checksum is verified against the bytes copied.
func (b *backend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	if alg := strings.ToUpper(meta["X-Amz-Checksum-Algorithm"]); alg != "" {
		// A copy that names an algorithm gets that checksum only, computed
		// on the copied bytes, instead of the source's.
		for other, hdr := range checksumHeaders {
			if other != alg {
				delete(meta, hdr)
			}
		}
	}
	return gofakes3.CopyObject(b, srcBucket, srcKey, dstBucket, dstKey, meta)
}

// rlock holds off fileStore's commits while a read looks at an object's
// file and metadata.
func (b *backend) rlock() func() {
	if b.files == nil {
		return func() {}
	}
	b.files.mu.RLock()
	return b.files.mu.RUnlock
}

func (b *backend) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	defer b.rlock()()
	// s3afero lists a prefix ending in a directory by reading that
	// directory: a missing one answered NoSuchBucket (S3: 200, empty), a
	// prefix under an object's key failed, a partial directory name gave
	// "de/dev/" for "dev/", and an empty directory showed as a prefix; s3mem
	// marked a page truncated when any key followed, matching or not. Both
	// list a whole bucket right, so the prefix, delimiter and page are
	// applied here, the same way for both.
	all, err := b.Backend.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		return nil, err
	}
	if page.MaxKeys == 0 {
		// gofakes3 passes 1,000 when the request names no max-keys, so 0
		// was asked for: S3 answers an empty page, not truncated.
		return gofakes3.NewObjectList(), nil
	}
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	slices.SortFunc(all.Contents, func(a, b *gofakes3.Content) int { return strings.Compare(a.Key, b.Key) })
	out := gofakes3.NewObjectList()
	var match gofakes3.PrefixMatch
	var last string
	var n int64
	for _, c := range all.Contents {
		switch {
		case page.Marker != "" && c.Key <= page.Marker, !prefix.Match(c.Key, &match):
			continue
		case match.CommonPrefix && match.MatchedPart == last:
			continue
		case n == page.MaxKeys:
			out.IsTruncated = true
			return out, nil
		case match.CommonPrefix:
			out.AddPrefix(match.MatchedPart)
			last = match.MatchedPart
		default:
			out.Add(c)
		}
		n++
		out.NextMarker = c.Key
	}
	out.NextMarker = ""
	return out, nil
}

func (b *backend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	defer b.rlock()()
	obj, err := b.Backend.HeadObject(bucket, key)
	if err != nil {
		return nil, err
	}
	obj.Metadata = visibleMetadata(obj.Metadata, false)
	return obj, nil
}

func (b *backend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	defer b.rlock()()
	obj, err := b.Backend.GetObject(bucket, key, rng)
	if err != nil {
		return nil, err
	}
	// A ranged read gets no whole-object checksum, as on S3; the SDK would
	// otherwise check the part it read against it and fail.
	obj.Metadata = visibleMetadata(obj.Metadata, obj.Range != nil)
	return obj, nil
}

// storedMetadata returns the metadata S3 keeps for an object with body,
// written with the request metadata meta, after checking every checksum
// the writer sent.
func storedMetadata(meta map[string]string, body []byte) (map[string]string, error) {
	stored := make(map[string]string, len(meta))
	for k, v := range meta {
		switch {
		case strings.HasPrefix(k, "X-Amz-Meta-"):
			stored[k] = v
		case k == "Content-Encoding":
			// aws-chunked describes the upload's framing, not the object.
			if v = withoutAWSChunked(v); v != "" {
				stored[k] = v
			}
		case keptHeaders[k]:
			stored[k] = v
		}
	}
	for alg, hdr := range checksumHeaders {
		sent, ok := meta[hdr]
		if !ok {
			continue
		}
		if got := checksum(alg, body); got != sent {
			return nil, gofakes3.ErrorMessagef(gofakes3.ErrBadDigest,
				"The %s you specified did not match the calculated checksum (sent %s, body has %s).", alg, sent, got)
		}
		stored[hdr] = sent
	}
	for _, name := range []string{"X-Amz-Checksum-Algorithm", "X-Amz-Sdk-Checksum-Algorithm"} {
		alg := strings.ToUpper(meta[name])
		if alg == "" {
			continue
		}
		hdr, ok := checksumHeaders[alg]
		if !ok {
			return nil, gofakes3.ErrorInvalidArgument(name, meta[name],
				"Value for x-amz-checksum-algorithm header is invalid: use one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256.")
		}
		if _, ok := stored[hdr]; !ok {
			stored[hdr] = checksum(alg, body)
		}
	}
	for _, hdr := range checksumHeaders {
		if _, ok := stored[hdr]; ok {
			stored[checksumTypeHeader] = "FULL_OBJECT"
			break
		}
	}
	return stored, nil
}

// visibleMetadata returns a copy of meta without blank values (see backend)
// and, with noChecksums, without checksums.
func visibleMetadata(meta map[string]string, noChecksums bool) map[string]string {
	out := maps.Clone(meta)
	maps.DeleteFunc(out, func(k, v string) bool {
		return v == "" || (noChecksums && strings.HasPrefix(k, "X-Amz-Checksum-"))
	})
	return out
}

func withoutAWSChunked(enc string) string {
	var keep []string
	for _, e := range strings.Split(enc, ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			keep = append(keep, e)
		}
	}
	return strings.Join(keep, ",")
}

// maxFileKey keeps s3afero's metadata file name (the key with '/' replaced,
// plus a 33-byte hash suffix) within the 255 bytes a file name may have.
const maxFileKey = 255 - 33

// checkFileKey rejects keys that s3afero would map outside the bucket's
// directory or that a file system cannot hold.
func checkFileKey(key string) error {
	if len(key) > maxFileKey {
		return gofakes3.ErrorMessagef(gofakes3.ErrKeyTooLong,
			"The local S3's on-disk store takes keys of at most %d bytes; this one has %d. Use a shorter key, or run the local stack without --data-dir.", maxFileKey, len(key))
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument,
				fmt.Sprintf("The local S3's on-disk store cannot hold the key %q: keys with empty, '.' or '..' path segments (or a trailing '/') need the in-memory store (run without --data-dir).", key))
		}
	}
	return nil
}
