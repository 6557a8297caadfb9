package s3

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
)

// checksumHeaders maps S3's checksum algorithm names to the canonical header
// (as gofakes3 stores it in the object's metadata) that carries the value.
var checksumHeaders = map[string]string{
	"CRC32":     "X-Amz-Checksum-Crc32",
	"CRC32C":    "X-Amz-Checksum-Crc32c",
	"CRC64NVME": "X-Amz-Checksum-Crc64nvme",
	"SHA1":      "X-Amz-Checksum-Sha1",
	"SHA256":    "X-Amz-Checksum-Sha256",
}

// crc64NVME is the CRC-64/NVME polynomial in the bit-reversed form that
// hash/crc64 takes; S3 uses it for its default CRC64NVME checksum.
const crc64NVME = 0x9a6c9329ac4bc9b5

var crc64NVMETable = crc64.MakeTable(crc64NVME)

func newChecksum(algorithm string) hash.Hash {
	switch algorithm {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "CRC64NVME":
		return crc64.New(crc64NVMETable)
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	}
	return nil
}

// checksum returns S3's encoding of body's checksum with algorithm: the
// base64 of the big-endian digest.
func checksum(algorithm string, body []byte) string {
	h := newChecksum(algorithm)
	h.Write(body)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
