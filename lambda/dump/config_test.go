package dump

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name      string
		vars      map[string]string
		wantNames []string
		wantPaths []string
		wantKeys  []string
		wantValue int
		wantEvent int
		wantLevel slog.Level
	}{
		{
			name:      "defaults when nothing is set",
			wantNames: []string{"event_id", "type"},
			wantPaths: []string{"body.event_id", "body.type"},
			wantKeys:  []string{"password", "token", "secret", "authorization", "cookie", "api-key", "api_key", "apikey", "x-api-key", "x-amz-security-token", "accesskey", "access_key"},
			wantValue: 8192, wantEvent: 65536, wantLevel: slog.LevelInfo,
		},
		{
			name: "what Terraform sets",
			vars: map[string]string{
				EnvFields:        "event_id=body.event_id,ip=requestContext.identity.sourceIp,type=body.type",
				EnvRedactKeys:    "password,token",
				EnvMaxValueBytes: "1024",
				EnvMaxEventBytes: "32768",
				EnvLogLevel:      "WARN",
			},
			wantNames: []string{"event_id", "ip", "type"},
			wantPaths: []string{"body.event_id", "requestContext.identity.sourceIp", "body.type"},
			wantKeys:  []string{"password", "token"},
			wantValue: 1024, wantEvent: 32768, wantLevel: slog.LevelWarn,
		},
		{
			name: "spaces around entries, bare paths, upper-case keys",
			vars: map[string]string{
				EnvFields:     " body.user.id , ua = headers.User-Agent ",
				EnvRedactKeys: " API_KEY , Session ",
			},
			wantNames: []string{"id", "ua"},
			wantPaths: []string{"body.user.id", "headers.User-Agent"},
			wantKeys:  []string{"api_key", "session"},
			wantValue: 8192, wantEvent: 65536, wantLevel: slog.LevelInfo,
		},
		{
			name:      "empty redaction list, empty log level, value cap follows a small event cap",
			vars:      map[string]string{EnvRedactKeys: "", EnvLogLevel: "", EnvMaxEventBytes: "4096"},
			wantNames: []string{"event_id", "type"},
			wantPaths: []string{"body.event_id", "body.type"},
			wantValue: 4096, wantEvent: 4096, wantLevel: slog.LevelInfo,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(env(tt.vars))
			require.NoError(t, err)
			var names, paths []string
			for _, f := range cfg.Fields {
				names = append(names, f.Name)
				paths = append(paths, f.Path.String())
			}
			assert.Equal(t, tt.wantNames, names)
			assert.Equal(t, tt.wantPaths, paths)
			assert.Equal(t, tt.wantKeys, cfg.RedactKeys)
			assert.Equal(t, tt.wantValue, cfg.MaxValueBytes)
			assert.Equal(t, tt.wantEvent, cfg.MaxEventBytes)
			assert.Equal(t, tt.wantLevel, cfg.Level)
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	many := strings.Repeat("a=body.a,", MaxFields) + "a=body.a"
	defaults, err := ParseFields(DefaultFields)
	require.NoError(t, err)
	eventRange := "(want " + itoa(minEventBytes(defaults)) + "..262118: the line's fixed parts and 2 fields need at least " +
		itoa(minEventBytes(defaults)) + " bytes, and Lambda delivers a longer line than 262118 bytes as several CloudWatch Logs events)"
	valueRange := `(want 16..65536: room for "[REDACTED]", and at most DUMP_MAX_EVENT_BYTES)`
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"unknown source", map[string]string{EnvFields: "a=body.a,b=body.b,x=bogus.y"},
			`DUMP_FIELDS entry 3 "x=bogus.y": unknown source "bogus" (want body, headers, queryStringParameters, pathParameters, stageVariables, requestContext, httpMethod, path, resource)`},
		{"empty", map[string]string{EnvFields: " "}, `DUMP_FIELDS is empty: unset it for the default (event_id=body.event_id,type=body.type) or list name=path entries`},
		{"empty entry", map[string]string{EnvFields: "a=body.a,"}, `DUMP_FIELDS entry 2 "": empty entry (want name=path, e.g. event_id=body.event_id)`},
		{"too many", map[string]string{EnvFields: many}, `DUMP_FIELDS has 65 entries: at most 64 (drop some, or dump the object that holds them, e.g. attributes=body.attributes)`},
		{"bad name", map[string]string{EnvFields: "1x=body.a"}, `DUMP_FIELDS entry 1 "1x=body.a": invalid name "1x" (want a letter or _ then letters, digits or _, at most 64 bytes)`},
		{"name with a dash", map[string]string{EnvFields: "user-agent=headers.User-Agent"}, `invalid name "user-agent"`},
		{"empty name", map[string]string{EnvFields: "=body.a"}, `DUMP_FIELDS entry 1 "=body.a": invalid name ""`},
		{"derived name not valid", map[string]string{EnvFields: "headers.User-Agent"},
			`DUMP_FIELDS entry 1 "headers.User-Agent": no name given and "User-Agent" from the path is not a valid one: write name=headers.User-Agent`},
		{"duplicate name", map[string]string{EnvFields: "type=body.type,id=body.id,type=body.kind"},
			`DUMP_FIELDS entry 3 "type=body.kind": name "type" is already used by entry 1`},
		{"duplicate derived name", map[string]string{EnvFields: "body.user.id,body.order.id"},
			`DUMP_FIELDS entry 2 "body.order.id": name "id" is already used by entry 1`},
		{"malformed path", map[string]string{EnvFields: "a=body.items[x]"}, `DUMP_FIELDS entry 1 "a=body.items[x]": index "x" at byte 11 is not a whole number`},
		{"redact key empty entry", map[string]string{EnvRedactKeys: "password,,token"}, `DUMP_REDACT_KEYS entry 2 is empty`},
		{"redact key not ASCII", map[string]string{EnvRedactKeys: "pässword"}, `DUMP_REDACT_KEYS entry 1 "pässword": byte 2 "\xc3" cannot be in a key name (want printable ASCII`},
		{"redact key with a space", map[string]string{EnvRedactKeys: "pass word"},
			`DUMP_REDACT_KEYS entry 1 "pass word": byte 5 " " cannot be in a key name (want printable ASCII without spaces, e.g. api_key)`},
		{"entries joined by a semicolon", map[string]string{EnvFields: "event_id=body.event_id;type=body.type"},
			`DUMP_FIELDS entry 1 "event_id=body.event_id;type=body.type": the path holds "=": separate entries with commas (want name=path,name=path)`},
		{"entries joined by a space", map[string]string{EnvFields: "a=body.a b=body.b"}, `DUMP_FIELDS entry 1 "a=body.a b=body.b": the path holds "="`},
		{"value bytes not a number", map[string]string{EnvMaxValueBytes: "8k"}, `DUMP_MAX_VALUE_BYTES "8k" is not a whole number ` + valueRange},
		{"value bytes too small", map[string]string{EnvMaxValueBytes: "8"}, `DUMP_MAX_VALUE_BYTES 8 is out of range ` + valueRange},
		{"value bytes over the event bytes", map[string]string{EnvMaxValueBytes: "70000"}, `DUMP_MAX_VALUE_BYTES 70000 is out of range ` + valueRange},
		{"event bytes not a number", map[string]string{EnvMaxEventBytes: "64k"}, `DUMP_MAX_EVENT_BYTES "64k" is not a whole number ` + eventRange},
		{"event bytes over CloudWatch's limit", map[string]string{EnvMaxEventBytes: "1048576"}, `DUMP_MAX_EVENT_BYTES 1048576 is out of range ` + eventRange},
		{"event bytes over Lambda's line", map[string]string{EnvMaxEventBytes: "262119"}, `DUMP_MAX_EVENT_BYTES 262119 is out of range ` + eventRange},
		{"event bytes negative", map[string]string{EnvMaxEventBytes: "-1"}, `DUMP_MAX_EVENT_BYTES -1 is out of range ` + eventRange},
		{"event bytes too small for the fields", map[string]string{EnvMaxEventBytes: "1000", EnvMaxValueBytes: "100"},
			`DUMP_MAX_EVENT_BYTES 1000 is out of range ` + eventRange},
		{"log level", map[string]string{EnvLogLevel: "VERBOSE"}, `AWS_LAMBDA_LOG_LEVEL "VERBOSE" is not a Lambda log level (want TRACE, DEBUG, INFO, WARN, ERROR or FATAL)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(env(tt.vars))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestMinEventBytesIsEnough(t *testing.T) {
	fields := "a=body.a,bb=body.b,ccc=body.c"
	probe, err := ParseFields(fields)
	require.NoError(t, err)
	need := minEventBytes(probe)
	_, err = LoadConfig(env(map[string]string{EnvFields: fields, EnvMaxEventBytes: itoa(need - 1), EnvMaxValueBytes: "16"}))
	require.Error(t, err)
	cfg, err := LoadConfig(env(map[string]string{EnvFields: fields, EnvMaxEventBytes: itoa(need), EnvMaxValueBytes: "16"}))
	require.NoError(t, err)

	// The smallest allowed line, with the longest ids and every field too
	// long for it, still holds every field and stays in bounds.
	req := loadEvent(t, "events/signup.json")
	long := strings.Repeat(`\"<&>`, 200)
	req.Body = `{"a":"` + long + `","b":"` + long + `","c":"` + long + `"}`
	req.RequestContext.RequestID = strings.Repeat("\x01", 500)
	_, out, _ := invokeWith(t, cfg, req)
	assert.LessOrEqual(t, len(out), need)
	l := decodeLine(t, out)
	assert.Len(t, l.Fields, 3)
	assert.Equal(t, []string{"a", "bb", "ccc"}, l.Truncated)
}

func TestCheckNames(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    string // "" when the names are fine
	}{
		{"every known name", []string{"DUMP_FIELDS=a=body.a", "DUMP_REDACT_KEYS=x", "DUMP_MAX_VALUE_BYTES=16", "DUMP_MAX_EVENT_BYTES=4096"}, ""},
		{"other variables", []string{"PATH=/usr/bin", "AWS_LAMBDA_LOG_LEVEL=INFO", "DUMPSTER=1", "MY_DUMP_FIELDS=x"}, ""},
		{"misspelt", []string{"PATH=/usr/bin", "DUMP_FEILDS=a=body.a"},
			"unknown variable DUMP_FEILDS: the dump reads DUMP_FIELDS, DUMP_REDACT_KEYS, DUMP_MAX_VALUE_BYTES, DUMP_MAX_EVENT_BYTES; rename or remove it"},
		{"lower case is another name", []string{"DUMP_fields=a=body.a"}, "unknown variable DUMP_fields"},
		{"no value", []string{"DUMP_LEVEL"}, "unknown variable DUMP_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckNames(tt.environ)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
