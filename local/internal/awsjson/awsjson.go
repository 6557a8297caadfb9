// Package awsjson is the error answer of the AWS JSON 1.1 protocol, which
// the local CloudWatch Logs and Parameter Store services both speak: a 4xx
// or 5xx status and {"__type": ..., "message": ...}, from which the SDKs
// build their typed errors. Other protocols (Lambda's REST JSON, STS's
// Query XML, CloudWatch's CBOR) answer errors in other shapes and keep
// their own writers.
package awsjson

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// ContentType is the media type of every AWS JSON 1.1 answer.
const ContentType = "application/x-amz-json-1.1"

// Error is an API error in the AWS JSON 1.1 shape: Type is the __type the
// SDKs decode into their typed errors (types.ParameterNotFound,
// types.ResourceNotFoundException, …), Status the HTTP status it comes with.
type Error struct {
	Type    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// WriteError answers e: its Status, Content-Type ContentType and the body
// {"__type": Type, "message": Message}, with <, > and & unescaped as AWS
// sends them. The caller sets the request id header first.
func WriteError(w http.ResponseWriter, e *Error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Type, e.Message})
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(e.Status)
	_, _ = w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
