// Package dump turns an API Gateway (REST, Lambda proxy) request into one
// log line: the fields chosen by configuration, redacted and bounded, written
// as JSON with log/slog. It answers the request with its ids.
package dump

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Message is the msg of every dump line.
const Message = "request dump"

// maxIDBytes caps each request id in the line; real ones are 36-byte UUIDs.
const maxIDBytes = 128

// envelope is an upper bound of the line's bytes outside the ids, the
// fields object and the absent/truncated lists: the longest time, the
// fixed keys, the longest body_error and the newline.
var envelope = len(`{"time":"","level":"INFO","msg":"`+Message+`","aws_request_id":,"api_request_id":,"fields":,"body_error":}`) +
	len("2006-01-02T15:04:05.999999999-07:00") + stringBound(bodyTooDeep) + len("\n")

// Dumper writes the dump line of each request. It is safe for concurrent use.
type Dumper struct {
	fields   []field
	redact   redactor
	maxValue int
	maxEvent int
	fixed    int   // envelope plus the longest absent/truncated lists
	root     *node // the body fields' paths; nil when there are none
	out      io.Writer
	handler  slog.Handler
	now      func() time.Time
	lines    sync.Pool
}

// field is a configured field with what the Dumper precomputes for it.
type field struct {
	Field
	head     string // `"name":`
	redacted bool   // a key on the path itself is redacted
}

// Option changes a Dumper made by New.
type Option func(*Dumper)

// WithOutput sends the lines to w instead of os.Stdout.
func WithOutput(w io.Writer) Option {
	return func(d *Dumper) { d.out = w }
}

// WithClock sets the clock that stamps the lines.
func WithClock(now func() time.Time) Option {
	return func(d *Dumper) { d.now = now }
}

// New returns a Dumper for cfg, which LoadConfig has checked.
func New(cfg Config, opts ...Option) *Dumper {
	d := &Dumper{
		redact:   redactor(cfg.RedactKeys),
		maxValue: cfg.MaxValueBytes,
		maxEvent: cfg.MaxEventBytes,
		fixed:    envelope + listsBound(cfg.Fields),
		out:      os.Stdout,
		now:      time.Now,
	}
	d.lines.New = func() any { return &line{spans: make([]span, len(cfg.Fields))} }
	for _, f := range cfg.Fields {
		d.fields = append(d.fields, field{
			Field:    f,
			head:     `"` + f.Name + `":`,
			redacted: d.redact.matchAny(f.Path.keys()),
		})
	}
	for i, f := range d.fields {
		if f.Path.src == srcBody {
			if d.root == nil {
				d.root = new(node)
			}
			d.root.add(f.Path.steps, i)
		}
	}
	for _, o := range opts {
		o(d)
	}
	d.handler = newLineHandler(d.out, cfg.Level)
	return d
}

// fieldMin is the room a field always keeps: `,"name":""`.
func fieldMin(name string) int { return len(name) + 6 }

// listsBound is the most the absent and truncated lists can take: a field
// is in at most one of them.
func listsBound(fields []Field) int {
	n := len(`,"absent":[]`) + len(`,"truncated":[]`)
	for _, f := range fields {
		n += len(f.Name) + 3
	}
	return n
}

// minEventBytes is the smallest DUMP_MAX_EVENT_BYTES that fits the fixed
// parts, the longest ids and every field cut to "".
func minEventBytes(fields []Field) int {
	n := envelope + listsBound(fields) + 2*(6*maxIDBytes+2) + len("{}")
	for _, f := range fields {
		n += fieldMin(f.Name)
	}
	return n
}

// Response is the body the function answers with.
type Response struct {
	// RequestID is API Gateway's request id, the line's api_request_id.
	RequestID string `json:"request_id"`
	// AWSRequestID is Lambda's request id, the line's aws_request_id.
	AWSRequestID string `json:"aws_request_id"`
}

// Handle is the Lambda handler: it writes the request's dump line and
// answers 200 with the API Gateway and Lambda request ids.
func (d *Dumper) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	var awsID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		awsID = lc.AwsRequestID
	}
	d.dump(ctx, &req, awsID)
	body, err := json.Marshal(Response{RequestID: req.RequestContext.RequestID, AWSRequestID: awsID})
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}, nil
}

// line holds one request's buffers; Dumpers reuse them.
type line struct {
	fields    rawJSON
	scratch   []byte
	absent    []string
	truncated []string
	scan      scanner
	frames    []frame
	spans     []span    // of the body fields, by field index
	present   []written // the fields in the line, in order
	prev      []written // present before refit
	spare     []byte    // the other fields buffer, for refit
	sizes     []int
}

// written is a field as written in the fields object.
type written struct {
	f          *field
	v          value
	start, end int // of the value in the buffer
	cut        bool
}

// appendField appends `,"name":value` with the value in at most limit bytes.
func (d *Dumper) appendField(l *line, buf []byte, f *field, v value, req *events.APIGatewayProxyRequest, limit int) []byte {
	if len(buf) > 1 {
		buf = append(buf, ',')
	}
	buf = append(buf, f.head...)
	w := written{f: f, v: v, start: len(buf)}
	buf, w.cut = d.appendValue(l, buf, f, v, req, limit)
	w.end = len(buf)
	l.present = append(l.present, w)
	return buf
}

// refit rewrites a fields object longer than budget: values no longer than
// a common cap stay as they are, longer ones are cut to it, and the cap is
// the largest that fits. Small fields thus never lose to a large neighbour.
func (d *Dumper) refit(l *line, buf []byte, req *events.APIGatewayProxyRequest, budget int) []byte {
	avail := budget - len(buf)
	l.sizes = l.sizes[:0]
	for _, p := range l.present {
		avail += p.end - p.start
		l.sizes = append(l.sizes, p.end-p.start)
	}
	limit := fairCap(l.sizes, avail)
	l.prev = append(l.prev[:0], l.present...)
	l.present = l.present[:0]
	out := append(l.spare[:0], '{')
	for _, p := range l.prev {
		if p.end-p.start > limit {
			out = d.appendField(l, out, p.f, p.v, req, limit)
			l.present[len(l.present)-1].cut = true
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, p.f.head...)
		size := p.end - p.start
		out = append(out, buf[p.start:p.end]...)
		p.start, p.end = len(out)-size, len(out)
		l.present = append(l.present, p)
	}
	l.spare = buf
	return append(out, '}')
}

// fairCap returns the largest cap c with sum(min(size, c)) <= avail.
func fairCap(sizes []int, avail int) int {
	slices.Sort(sizes)
	for i, s := range sizes {
		if rest := len(sizes) - i; s*rest > avail {
			return avail / rest
		}
		avail -= s
	}
	return maxInt
}

// rawJSON is an object encoded already, which lineHandler writes as it is.
// As a json.Marshaler it also works with any other slog handler.
type rawJSON struct{ b []byte }

// MarshalJSON returns the encoded object.
func (r *rawJSON) MarshalJSON() ([]byte, error) { return r.b, nil }

func (d *Dumper) dump(ctx context.Context, req *events.APIGatewayProxyRequest, awsID string) {
	if !d.handler.Enabled(ctx, slog.LevelInfo) {
		return
	}
	l := d.lines.Get().(*line)
	defer d.lines.Put(l)
	l.absent, l.truncated = l.absent[:0], l.truncated[:0]

	awsID, apiID := cutID(awsID), cutID(req.RequestContext.RequestID)
	budget := d.maxEvent - d.fixed - stringBound(awsID) - stringBound(apiID)
	var b body
	if d.root != nil {
		l.scanBody(&b, req, d.root)
		// Only a whole-body field dumps a body that is not JSON, as text.
		b.redacted = b.err != "" && len(d.root.fields) > 0 && d.redact.matchText(b.text)
	}
	l.present = l.present[:0]
	buf := append(l.fields.b[:0], '{')
	for i := range d.fields {
		f := &d.fields[i]
		v, ok := lookup(f, i, req, &b, l.spans)
		if !ok {
			l.absent = append(l.absent, f.Name)
			continue
		}
		buf = d.appendField(l, buf, f, v, req, d.maxValue)
	}
	buf = append(buf, '}')
	if len(buf) > budget {
		buf = d.refit(l, buf, req, budget)
	}
	l.fields.b = buf
	for _, p := range l.present {
		if p.cut {
			l.truncated = append(l.truncated, p.f.Name)
		}
	}

	r := slog.NewRecord(d.now().UTC(), slog.LevelInfo, Message, 0)
	r.AddAttrs(
		slog.String("aws_request_id", awsID),
		slog.String("api_request_id", apiID),
		slog.Any("fields", &l.fields),
	)
	if len(l.absent) > 0 {
		r.AddAttrs(slog.Any("absent", l.absent))
	}
	if len(l.truncated) > 0 {
		r.AddAttrs(slog.Any("truncated", l.truncated))
	}
	if b.err != "" && d.root.needsJSON() {
		r.AddAttrs(slog.String("body_error", b.err))
	}
	// A failed write to stdout cannot be reported anywhere else.
	_ = d.handler.Handle(ctx, r)
}

func cutID(id string) string {
	if len(id) > maxIDBytes {
		return id[:maxIDBytes]
	}
	return id
}

// appendValue encodes v in at most limit bytes and reports whether it was cut.
func (d *Dumper) appendValue(l *line, dst []byte, f *field, v value, req *events.APIGatewayProxyRequest, limit int) ([]byte, bool) {
	if f.redacted {
		return appendString(dst, redactedText, limit)
	}
	start := len(dst)
	raw := v.str
	switch v.kind {
	case kindString:
		return appendString(dst, v.str, limit)
	case kindHeaders:
		dst = d.appendHeaders(dst, allHeaders(req))
		return l.fit(dst, start, limit)
	case kindGo:
		var err error
		if raw, err = goJSON(v.goValue); err != nil {
			return appendString(dst, "unencodable: "+err.Error(), limit)
		}
	}
	switch c := raw[0]; {
	case c == '{' || c == '[':
		var whole bool
		if dst, whole = d.redact.appendRaw(dst, &l.scan, raw, limit); whole {
			return dst, false
		}
		return l.cut(dst, start, limit)
	case c == '"':
		if len(raw) <= limit && utf8.ValidString(raw) {
			return append(dst, raw...), false
		}
		return appendString(dst, decodeString(raw), limit)
	case len(raw) <= limit:
		return append(dst, raw...), false
	default:
		// A number too long for its room: keep its first digits as a string.
		dst, _ = appendString(dst, raw, limit)
		return dst, true
	}
}

// fit keeps dst[start:] if it is within limit, or else cuts it.
func (l *line) fit(dst []byte, start, limit int) ([]byte, bool) {
	if len(dst)-start <= limit {
		return dst, false
	}
	return l.cut(dst, start, limit)
}

// cut replaces dst[start:] with a JSON string of its first bytes.
func (l *line) cut(dst []byte, start, limit int) ([]byte, bool) {
	l.scratch = append(l.scratch[:0], dst[start:]...)
	dst, _ = appendString(dst[:start], string(l.scratch), limit)
	return dst, true
}

// appendHeaders writes headers as an object in key order, redacted.
func (d *Dumper) appendHeaders(dst []byte, h map[string]string) []byte {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst, _ = appendString(dst, k, stringBound(k))
		dst = append(dst, ':')
		if d.redact.match(k) {
			dst = append(dst, redactedValue...)
		} else {
			dst, _ = appendString(dst, h[k], stringBound(h[k]))
		}
	}
	return append(dst, '}')
}
