// Package requestid makes the request ids the local services hand out:
// random (version 4) UUIDs, the form of API Gateway's requestId, Lambda's
// request ids and the x-amzn-RequestId of every AWS API. Written by hand:
// the module has no UUID library, and this is all that is needed.
package requestid

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a random version 4 UUID, e.g. c6af9ac6-7b61-41a4-9c2d-7e3b5f0a1d2e.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
