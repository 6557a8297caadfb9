package dump

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// Environment variables the function reads; docs/architecture.md fixes them.
const (
	EnvFields        = "DUMP_FIELDS"
	EnvRedactKeys    = "DUMP_REDACT_KEYS"
	EnvMaxValueBytes = "DUMP_MAX_VALUE_BYTES"
	EnvMaxEventBytes = "DUMP_MAX_EVENT_BYTES"
	// EnvLogLevel is set by Lambda from the function's logging_config.
	EnvLogLevel = "AWS_LAMBDA_LOG_LEVEL"
)

// Defaults used when a variable is not set at all.
const (
	DefaultFields = "event_id=body.event_id,type=body.type"
	// DefaultRedactKeys also names where API keys, AWS credentials and
	// bearer tokens travel (issue 11: the dump never holds a credential).
	DefaultRedactKeys = "password,token,secret,authorization,cookie," +
		"api-key,api_key,apikey,x-api-key,x-amz-security-token,accesskey,access_key"
	DefaultMaxValueBytes = 8192
	DefaultMaxEventBytes = 65536
)

// Limits on the configuration.
const (
	// MaxFields bounds DUMP_FIELDS so the reserved room per field stays small.
	MaxFields = 64
	// MaxNameBytes bounds an output name.
	MaxNameBytes = 64
	// MinValueBytes is the smallest DUMP_MAX_VALUE_BYTES: room for "[REDACTED]".
	MinValueBytes = 16
	// MaxEventBytesLimit is the longest line Lambda delivers to CloudWatch
	// Logs as one event: 256 KB less the 26 bytes CloudWatch counts per
	// event, where Lambda splits longer output lines (as recorded from
	// Lambda). PutLogEvents itself takes events of up to 1 MB since 2025,
	// but a dump split by Lambda is plain text no JSON filter finds.
	MaxEventBytesLimit = 256<<10 - 26
)

// Config is the function's configuration, read once at init.
type Config struct {
	// Fields are dumped in this order under their names.
	Fields []Field
	// RedactKeys are lower-case key names; a key containing one of them,
	// ignoring case, has its value replaced by "[REDACTED]".
	RedactKeys []string
	// MaxValueBytes caps one dumped value as written in the line.
	MaxValueBytes int
	// MaxEventBytes caps the whole line, newline included.
	MaxEventBytes int
	// Level is the minimum level written (from AWS_LAMBDA_LOG_LEVEL).
	Level slog.Level
}

// Field is one selected field: a place in the request and its output name.
type Field struct {
	// Name is the field's key in the line's fields object.
	Name string
	// Path is where in the request the value is taken from.
	Path Path
}

// LoadConfig reads the configuration from the environment through lookup
// (os.LookupEnv in the function). A variable that is not set takes its
// default; one that is set but wrong is an error naming the bad entry.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	cfg := Config{Level: slog.LevelInfo}
	var err error

	fields, ok := lookup(EnvFields)
	if !ok {
		fields = DefaultFields
	}
	if cfg.Fields, err = ParseFields(fields); err != nil {
		return Config{}, err
	}

	keys, ok := lookup(EnvRedactKeys)
	if !ok {
		keys = DefaultRedactKeys
	}
	if cfg.RedactKeys, err = ParseRedactKeys(keys); err != nil {
		return Config{}, err
	}

	need := minEventBytes(cfg.Fields)
	if cfg.MaxEventBytes, err = intVar(lookup, EnvMaxEventBytes, DefaultMaxEventBytes, need, MaxEventBytesLimit,
		fmt.Sprintf("the line's fixed parts and %d fields need at least %d bytes, and Lambda delivers a longer line than %d bytes as several CloudWatch Logs events",
			len(cfg.Fields), need, MaxEventBytesLimit)); err != nil {
		return Config{}, err
	}
	if cfg.MaxValueBytes, err = intVar(lookup, EnvMaxValueBytes, DefaultMaxValueBytes, MinValueBytes, cfg.MaxEventBytes,
		`room for "[REDACTED]", and at most `+EnvMaxEventBytes); err != nil {
		return Config{}, err
	}

	if lvl, ok := lookup(EnvLogLevel); ok && lvl != "" {
		if cfg.Level, err = ParseLevel(lvl); err != nil {
			return Config{}, err
		}
	}
	return cfg, nil
}

// CheckNames returns an error naming the first variable of environ (in
// os.Environ's KEY=value form) that starts with DUMP_ but is none that
// LoadConfig reads: a misspelt DUMP_FEILDS would otherwise leave the
// defaults in force without a word.
func CheckNames(environ []string) error {
	known := []string{EnvFields, EnvRedactKeys, EnvMaxValueBytes, EnvMaxEventBytes}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "DUMP_") && !slices.Contains(known, name) {
			return fmt.Errorf("unknown variable %s: the dump reads %s; rename or remove it", name, strings.Join(known, ", "))
		}
	}
	return nil
}

// ParseFields parses DUMP_FIELDS: comma-separated name=path entries. A bare
// path takes its last key as the name when that is a valid name.
func ParseFields(s string) ([]Field, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%s is empty: unset it for the default (%s) or list name=path entries", EnvFields, DefaultFields)
	}
	entries := strings.Split(s, ",")
	if len(entries) > MaxFields {
		return nil, fmt.Errorf("%s has %d entries: at most %d (drop some, or dump the object that holds them, e.g. attributes=body.attributes)", EnvFields, len(entries), MaxFields)
	}
	fields := make([]Field, 0, len(entries))
	seen := make(map[string]int, len(entries))
	for i, raw := range entries {
		entry := strings.TrimSpace(raw)
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s entry %d %q: %s", EnvFields, i+1, entry, fmt.Sprintf(format, args...))
		}
		if entry == "" {
			return nil, bad("empty entry (want name=path, e.g. event_id=body.event_id)")
		}
		name, pathText, named := strings.Cut(entry, "=")
		name, pathText = strings.TrimSpace(name), strings.TrimSpace(pathText)
		if !named {
			pathText, name = name, ""
		}
		// Body keys may hold "=", but one in a path is far more likely two
		// entries joined by something other than a comma.
		if strings.Contains(pathText, "=") {
			return nil, bad(`the path holds "=": separate entries with commas (want name=path,name=path)`)
		}
		p, err := ParsePath(pathText)
		if err != nil {
			return nil, bad("%v", err)
		}
		if !named {
			name = p.defaultName()
			if !validName(name) {
				return nil, bad("no name given and %q from the path is not a valid one: write name=%s", name, pathText)
			}
		}
		if !validName(name) {
			return nil, bad("invalid name %q (want a letter or _ then letters, digits or _, at most %d bytes)", name, MaxNameBytes)
		}
		if first, dup := seen[name]; dup {
			return nil, bad("name %q is already used by entry %d", name, first)
		}
		seen[name] = i + 1
		fields = append(fields, Field{Name: name, Path: p})
	}
	return fields, nil
}

// validName accepts names that CloudWatch filter patterns can select as
// $.fields.<name> without quoting.
func validName(s string) bool {
	if s == "" || len(s) > MaxNameBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ParseRedactKeys parses DUMP_REDACT_KEYS: comma-separated key names,
// returned in lower case. An empty value turns redaction off.
func ParseRedactKeys(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var keys []string
	for i, raw := range strings.Split(s, ",") {
		key := strings.TrimSpace(raw)
		if key == "" {
			return nil, fmt.Errorf("%s entry %d is empty (want comma-separated key names, e.g. %s)", EnvRedactKeys, i+1, DefaultRedactKeys)
		}
		for j := 0; j < len(key); j++ {
			// Matching folds ASCII case only, so keys are printable ASCII.
			if key[j] <= ' ' || key[j] > '~' {
				return nil, fmt.Errorf("%s entry %d %q: byte %d %q cannot be in a key name (want printable ASCII without spaces, e.g. api_key)",
					EnvRedactKeys, i+1, key, j+1, key[j:j+1])
			}
		}
		keys = append(keys, strings.ToLower(key))
	}
	return keys, nil
}

// intVar reads a whole number in lo..hi; why says where the bounds come
// from, for the error.
func intVar(lookup func(string) (string, bool), name string, def, lo, hi int, why string) (int, error) {
	s, ok := lookup(name)
	if !ok {
		return min(def, hi), nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a whole number (want %d..%d: %s)", name, s, lo, hi, why)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s %d is out of range (want %d..%d: %s)", name, n, lo, hi, why)
	}
	return n, nil
}

// LevelFatal is Lambda's FATAL, which slog has no name for.
const LevelFatal = slog.LevelError + 4

// ParseLevel maps Lambda's log levels (TRACE, DEBUG, INFO, WARN, ERROR,
// FATAL; any case) to slog levels.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "TRACE":
		return slog.LevelDebug - 4, nil
	case "DEBUG":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARN":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "FATAL":
		return LevelFatal, nil
	}
	return 0, fmt.Errorf("%s %q is not a Lambda log level (want TRACE, DEBUG, INFO, WARN, ERROR or FATAL)", EnvLogLevel, s)
}
