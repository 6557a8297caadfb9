package lambda

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// marshalledReport is the platform.report record as json.Marshal writes
// it: the reference for formatter.report's hand-appended JSON.
func marshalledReport(t *testing.T, r report, at time.Time) string {
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
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	return string(b)
}

func TestJSONPlatformRecordsAreJSONMarshal(t *testing.T) {
	at := time.Date(2026, 12, 4, 15, 4, 5, 123456789, time.FixedZone("x", 3600))
	f := formatter{json: true, version: "$LATEST"}
	for name, r := range map[string]report{
		"warm":    {requestID: "c6af9ac6-7b61-41a4-9c2d-7e3b5f0a1d2e", duration: 1234567 * time.Nanosecond, memorySize: 128, maxMemory: 21, status: statusSuccess},
		"cold":    {requestID: "id", duration: 3 * time.Millisecond, initDuration: 45678 * time.Microsecond, memorySize: 3008, maxMemory: 30, status: statusSuccess},
		"error":   {requestID: "id", duration: time.Microsecond, memorySize: 128, status: statusError, errorType: "Runtime.ExitError"},
		"timeout": {requestID: "id", duration: 10 * time.Second, memorySize: 128, maxMemory: 1, status: statusTimeout},
		"zero":    {},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, marshalledReport(t, r, at), f.report(r, at))
		})
	}
	start, err := json.Marshal(map[string]any{"time": at.UTC().Format(timestamp), "type": "platform.start",
		"record": map[string]string{"requestId": "id", "version": "$LATEST"}})
	require.NoError(t, err)
	assert.JSONEq(t, string(start), f.start("id", at))
}

// unmarshalledLevel is jsonLevel as it was written with json.Unmarshal:
// the reference for the version that reads the members without decoding
// (both map the name with levelNamed).
func unmarshalledLevel(s string) (int, bool) {
	if !strings.HasPrefix(s, "{") {
		return 0, false
	}
	var rec struct {
		Level json.RawMessage `json:"level"`
	}
	if json.Unmarshal([]byte(s), &rec) != nil {
		return 0, false
	}
	var name string
	if json.Unmarshal(rec.Level, &name) != nil {
		name = ""
	}
	return levelNamed(name), true
}

func TestJSONLevelIsUnmarshalled(t *testing.T) {
	for _, s := range []string{
		`{"level":"DEBUG","msg":"x"}`, `{"Level":"warn"}`, `{"LEVEL":"warning"}`, `{"msg":"no level"}`,
		`{"level":5}`, `{"level":"nope"}`, `{"level":"DEBUG","level":"ERROR"}`, `{"level":null}`,
		`{"level":"ERR\u004fR"}`, `{bad`, `plain text`, `{"level":"ERROR"} trailing`, `{}`, `{"a":{"level":"ERROR"}}`,
	} {
		level, ok := jsonLevel(s)
		wantLevel, wantOK := unmarshalledLevel(s)
		assert.Equal(t, wantOK, ok, s)
		assert.Equal(t, wantLevel, level, s)
	}
}

func FuzzJSONLevelIsUnmarshalled(f *testing.F) {
	f.Add(`{"level":"WARN","msg":"x"}`)
	f.Add(`{"LeVeL":"error","x":[1,{"level":"DEBUG"}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		level, ok := jsonLevel(s)
		wantLevel, wantOK := unmarshalledLevel(s)
		if ok != wantOK || level != wantLevel {
			t.Fatalf("jsonLevel(%q) = %d, %v; json.Unmarshal: %d, %v", s, level, ok, wantLevel, wantOK)
		}
	})
}

func TestLevelNamed(t *testing.T) {
	for name, want := range map[string]string{
		"DEBUG": "DEBUG", "debug": "DEBUG", "Warn": "WARN", "WARNING": "WARN", "warning": "WARN",
		"error": "ERROR", "FATAL": "FATAL", "TRACE": "TRACE", "nope": "INFO", "": "INFO",
	} {
		assert.Equal(t, logLevels[want], levelNamed(name), name)
	}
}
