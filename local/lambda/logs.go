package lambda

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/acme/request-dump/local/internal/jsonstr"
	"github.com/acme/request-dump/local/internal/jsontop"
	"github.com/acme/request-dump/local/logs"
)

// LogSink receives a function's log events: the local CloudWatch Logs
// store (*logs.Store) implements it.
type LogSink interface {
	Append(group, stream string, events ...logs.Event) error
}

// line is one line of an environment's stdout, as read.
type line struct {
	at   time.Time
	text string // with its '\n', except for a long line's first parts
}

// report is what an invocation's REPORT line (or platform.report record) says.
type report struct {
	requestID    string
	duration     time.Duration
	initDuration time.Duration // 0 unless cold
	memorySize   int
	maxMemory    int // MB
	status       string
	errorType    string // with status "error"
}

const (
	statusSuccess = "success"
	statusError   = "error"
	statusTimeout = "timeout"
)

// ms is a duration in milliseconds with Lambda's two decimals.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// billed is Lambda's billed duration: init plus invocation, rounded up to
// the millisecond.
func (r report) billed() int64 {
	return int64(math.Ceil(ms(r.duration + r.initDuration)))
}

// formatter writes the platform lines and filters the application lines of
// one log format.
type formatter struct {
	json    bool
	level   int    // minimum application level, JSON only
	version string // $LATEST or the published version
}

func newFormatter(spec Spec) formatter {
	return formatter{json: spec.LogFormat == "JSON", level: logLevels[spec.LogLevel], version: spec.Version}
}

// timestamp is the time format of Lambda's JSON records and timeout line.
const timestamp = "2006-01-02T15:04:05.000Z"

func (f formatter) start(id string, at time.Time) string {
	if f.json {
		b := make([]byte, 0, 128)
		b = append(b, `{"time":`...)
		b = jsonstr.Append(b, at.UTC().Format(timestamp))
		b = append(b, `,"type":"platform.start","record":{"requestId":`...)
		b = jsonstr.Append(b, id)
		b = append(b, `,"version":`...)
		b = jsonstr.Append(b, f.version)
		return string(append(b, "}}"...))
	}
	return "START RequestId: " + id + " Version: " + f.version + "\n"
}

// end is the END line; the JSON format has no record for it.
func (f formatter) end(id string) (string, bool) {
	if f.json {
		return "", false
	}
	return "END RequestId: " + id + "\n", true
}

func (f formatter) report(r report, at time.Time) string {
	if f.json {
		// Appended rather than json.Marshal'ed: one record per invocation
		// (logs_test.go holds the two equal).
		b := make([]byte, 0, 256)
		b = append(b, `{"time":`...)
		b = jsonstr.Append(b, at.UTC().Format(timestamp))
		b = append(b, `,"type":"platform.report","record":{"requestId":`...)
		b = jsonstr.Append(b, r.requestID)
		b = append(b, `,"metrics":{"durationMs":`...)
		b = appendJSONFloat(b, ms(r.duration))
		b = append(b, `,"billedDurationMs":`...)
		b = strconv.AppendInt(b, r.billed(), 10)
		b = append(b, `,"memorySizeMB":`...)
		b = strconv.AppendInt(b, int64(r.memorySize), 10)
		b = append(b, `,"maxMemoryUsedMB":`...)
		b = strconv.AppendInt(b, int64(r.maxMemory), 10)
		if r.initDuration > 0 {
			b = append(b, `,"initDurationMs":`...)
			b = appendJSONFloat(b, ms(r.initDuration))
		}
		b = append(b, `},"status":`...)
		b = jsonstr.Append(b, r.status)
		if r.errorType != "" {
			b = append(b, `,"errorType":`...)
			b = jsonstr.Append(b, r.errorType)
		}
		return string(append(b, "}}"...))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
		r.requestID, ms(r.duration), r.billed(), r.memorySize, r.maxMemory)
	if r.initDuration > 0 {
		fmt.Fprintf(&b, "Init Duration: %.2f ms\t", ms(r.initDuration))
	}
	switch r.status {
	case statusTimeout:
		b.WriteString("Status: timeout\t")
	case statusError:
		fmt.Fprintf(&b, "Status: error\tError Type: %s\t", r.errorType)
	}
	b.WriteString("\n")
	return b.String()
}

// appendJSONFloat appends f as encoding/json writes a float64.
func appendJSONFloat(b []byte, f float64) []byte {
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		j, _ := json.Marshal(f) // exponent form, never for a duration in ms
		return append(b, j...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// timedOut is the line Lambda logs before END when an invocation times out.
func (f formatter) timedOut(id string, d time.Duration, at time.Time) (string, bool) {
	if f.json {
		return "", false
	}
	return fmt.Sprintf("%s %s Task timed out after %.2f seconds\n\n", at.UTC().Format(timestamp), id, d.Seconds()), true
}

// exited is the line Lambda logs when the runtime exits during an
// invocation: "RequestId: … Error: Runtime exited …" and the error type.
func (f formatter) exited(message, errorType string) (string, bool) {
	if f.json || message == "" {
		return "", false
	}
	return message + "\n" + errorType + "\n", true
}

// app returns the message for one line of the function's output, or false
// when the JSON format's level filter drops it.
func (f formatter) app(text, id string, at time.Time) (string, bool) {
	if !f.json {
		return text, true
	}
	trimmed := strings.TrimRight(text, "\r\n")
	if trimmed == "" {
		return "", false
	}
	if level, ok := jsonLevel(trimmed); ok {
		return trimmed, level >= f.level
	}
	// A plain-text line becomes an INFO record, as Lambda wraps the output
	// of runtimes that do not write JSON themselves.
	if logLevels["INFO"] < f.level {
		return "", false
	}
	b, _ := json.Marshal(struct {
		Timestamp string `json:"timestamp"`
		Level     string `json:"level"`
		RequestID string `json:"requestId"`
		Message   string `json:"message"`
	}{at.UTC().Format(timestamp), "INFO", id, trimmed})
	return string(b), true
}

// jsonLevel reports whether s is a JSON object, and its "level" (INFO when
// the key is missing or not a level Lambda knows). It reads the top-level
// members without decoding them: every line a function logs comes here.
func jsonLevel(s string) (int, bool) {
	if !strings.HasPrefix(s, "{") {
		return 0, false
	}
	var raw string
	if !jsontop.Members(s, func(key, value string) bool {
		// Any case, the last of several: as encoding/json read it into a
		// struct field before.
		if strings.EqualFold(key, "level") {
			raw = value
		}
		return true
	}) {
		return 0, false
	}
	name, _ := jsontop.Unquote(raw)
	return levelNamed(name), true
}

// levelNamed is the level a record's "level" names, in any case (WARNING
// for WARN): INFO for a name Lambda does not know, or none.
func levelNamed(name string) int {
	name = strings.ToUpper(name)
	if name == "WARNING" {
		name = "WARN"
	}
	if l, ok := logLevels[name]; ok {
		return l
	}
	return logLevels["INFO"]
}
