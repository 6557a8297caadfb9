// Package s3 is the local stack's Amazon S3: github.com/johannesboyne/gofakes3
// served path-style (http://host/<bucket>/<key>), so that aws-sdk-go-v2's S3
// client (with UsePathStyle and its default checksums) and the AWS CLI
// (--endpoint-url) work against it unchanged.
//
// Objects live in memory, or on disk under a data directory (gofakes3's
// s3afero backend) so that they survive a restart. On top of gofakes3 it
// keeps object metadata the way S3 does: checksums sent with an upload
// (x-amz-checksum-sha256, the value Terraform's source_code_hash takes) are
// verified against the body and returned by HeadObject/GetObject with
// ChecksumMode ENABLED; a checksum named only by algorithm (CopyObject with
// ChecksumAlgorithm, multipart uploads) is computed; an overwrite never keeps
// the previous version's checksum; and the conditional headers of CopyObject
// and GetObject's If-Match and If-Unmodified-Since answer 412 when they do
// not hold; CreateBucket of an existing bucket answers
// BucketAlreadyOwnedByYou. Unlike gofakes3 it answers no CORS (no bucket
// has a CORS configuration, so a preflight gets 403) and refuses
// browser-based (form POST) uploads: the stack must not be writable by a
// web page the developer opens.
//
// ListObjects and ListObjectsV2 apply the prefix, delimiter and page the
// same way on both stores, as S3 does: a prefix nothing is under is an
// empty 200, not NoSuchBucket; max-keys=0 is an empty page, not
// truncated, and a negative or non-integer max-keys is refused with
// InvalidArgument.
//
// On disk, PutObject writes through fileStore so that a crash never leaves
// an object's bytes without the metadata that describes them.
//
// The deployer reads artifacts through Server.Object.
package s3
