package logs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/acme/request-dump/local/internal/awsjson"
	"github.com/acme/request-dump/local/internal/requestid"
)

// targetPrefix is the X-Amz-Target prefix of the CloudWatch Logs API.
const targetPrefix = "Logs_20140328."

// maxRequestBytes bounds a request body: a full PutLogEvents batch of
// characters JSON must escape (\u0001 is six bytes) fits.
const maxRequestBytes = 8 * maxBatchBytes

// Option configures the handler returned by New.
type Option func(*handler)

// WithRegion sets the region in the ARNs the API returns (default
// us-east-1).
func WithRegion(region string) Option { return func(h *handler) { h.region = region } }

// WithAccount sets the account ID in the ARNs the API returns (default
// 000000000000).
func WithAccount(id string) Option { return func(h *handler) { h.account = id } }

type handler struct {
	store   *Store
	region  string
	account string
}

type operation func(h *handler, body []byte) (any, error)

// operations are the supported X-Amz-Target operations.
var operations = map[string]operation{
	"CreateLogGroup":        (*handler).createLogGroup,
	"DescribeLogGroups":     (*handler).describeLogGroups,
	"DeleteLogGroup":        (*handler).deleteLogGroup,
	"PutRetentionPolicy":    (*handler).putRetentionPolicy,
	"DeleteRetentionPolicy": (*handler).deleteRetentionPolicy,
	"CreateLogStream":       (*handler).createLogStream,
	"DescribeLogStreams":    (*handler).describeLogStreams,
	"PutLogEvents":          (*handler).putLogEvents,
	"GetLogEvents":          (*handler).getLogEvents,
	"FilterLogEvents":       (*handler).filterLogEvents,
}

// New returns the CloudWatch Logs API over store in the AWS JSON 1.1
// protocol: POST with X-Amz-Target: Logs_20140328.<Operation> and a JSON
// body; errors are {"__type": ..., "message": ...} with a 4xx or 5xx status.
func New(store *Store, opts ...Option) http.Handler {
	h := &handler{store: store, region: "us-east-1", account: "000000000000"}
	for _, o := range opts {
		o(h)
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", awsjson.ContentType)
	w.Header().Set("X-Amzn-Requestid", requestid.New())
	name, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	op := operations[name]
	if r.Method != http.MethodPost || op == nil {
		writeError(w, &awsjson.Error{Type: "UnknownOperationException", Message: unknownOperation(r), Status: http.StatusBadRequest})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		writeError(w, &awsjson.Error{Type: "SerializationException", Message: fmt.Sprintf("could not read the request body: %v", err), Status: http.StatusBadRequest})
		return
	}
	out, err := op(h, body)
	if err != nil {
		writeError(w, err)
		return
	}
	data, err := marshal(out)
	if err != nil {
		writeError(w, err)
		return
	}
	_, _ = w.Write(data)
}

// marshal encodes a response without escaping <, > and & (log messages are
// full of them).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func unknownOperation(r *http.Request) string {
	supported := make([]string, 0, len(operations))
	for name := range operations {
		supported = append(supported, name)
	}
	slices.Sort(supported)
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || target == "" {
		return fmt.Sprintf("CloudWatch Logs expects POST with an X-Amz-Target: %s<Operation> header (got %s with X-Amz-Target %q); supported operations: %s",
			targetPrefix, r.Method, target, strings.Join(supported, ", "))
	}
	return fmt.Sprintf("operation %q is not supported by the local CloudWatch Logs service; supported operations: %s",
		target, strings.Join(supported, ", "))
}

func writeError(w http.ResponseWriter, err error) {
	var ae *awsjson.Error
	if !errors.As(err, &ae) {
		status := http.StatusInternalServerError
		typ := "ServiceUnavailableException"
		if errors.Is(err, ErrClosed) {
			status = http.StatusServiceUnavailable
		}
		slog.Error("logs: request failed", "err", err)
		ae = &awsjson.Error{Type: typ, Message: err.Error(), Status: status}
	}
	awsjson.WriteError(w, ae)
}

// decode reads a JSON request body into in; an empty body is {}.
func decode(body []byte, in any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(in); err != nil {
		return &awsjson.Error{Type: "SerializationException", Message: fmt.Sprintf("the request body is not valid JSON for this operation: %v", err), Status: http.StatusBadRequest}
	}
	if dec.More() {
		return &awsjson.Error{Type: "SerializationException", Message: "the request body has data after its JSON object", Status: http.StatusBadRequest}
	}
	return nil
}
