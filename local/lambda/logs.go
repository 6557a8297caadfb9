package lambda

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

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
		return fmt.Sprintf(`{"time":%q,"type":"platform.start","record":{"requestId":%q,"version":%q}}`,
			at.UTC().Format(timestamp), id, f.version)
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
		rec := struct {
			Time   string `json:"time"`
			Type   string `json:"type"`
			Record struct {
				RequestID string `json:"requestId"`
				Metrics   struct {
					DurationMs       float64  `json:"durationMs"`
					BilledDurationMs int64    `json:"billedDurationMs"`
					MemorySizeMB     int      `json:"memorySizeMB"`
					MaxMemoryUsedMB  int      `json:"maxMemoryUsedMB"`
					InitDurationMs   *float64 `json:"initDurationMs,omitempty"`
				} `json:"metrics"`
				Status    string `json:"status"`
				ErrorType string `json:"errorType,omitempty"`
			} `json:"record"`
		}{Time: at.UTC().Format(timestamp), Type: "platform.report"}
		rec.Record.RequestID = r.requestID
		m := &rec.Record.Metrics
		m.DurationMs, m.BilledDurationMs, m.MemorySizeMB, m.MaxMemoryUsedMB = ms(r.duration), r.billed(), r.memorySize, r.maxMemory
		if r.initDuration > 0 {
			init := ms(r.initDuration)
			m.InitDurationMs = &init
		}
		rec.Record.Status, rec.Record.ErrorType = r.status, r.errorType
		b, _ := json.Marshal(rec)
		return string(b)
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
// the key is missing or not a level Lambda knows).
func jsonLevel(s string) (int, bool) {
	if !strings.HasPrefix(s, "{") {
		return 0, false
	}
	var rec struct {
		Level json.RawMessage `json:"level"`
	}
	if json.Unmarshal([]byte(s), &rec) != nil {
		return 0, false
	}
	level := logLevels["INFO"]
	if name, err := strconv.Unquote(string(bytes.TrimSpace(rec.Level))); err == nil {
		name = strings.ToUpper(name)
		if name == "WARNING" {
			name = "WARN"
		}
		if l, ok := logLevels[name]; ok {
			level = l
		}
	}
	return level, true
}
