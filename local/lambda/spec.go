package lambda

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Lambda's limits that the local run enforces.
const (
	// MaxRequestBytes is the synchronous invocation payload limit (6 MB).
	// RIE silently truncates a bigger request, so it is checked here.
	MaxRequestBytes = 6 * 1024 * 1024
	// MaxResponseBytes is the response limit as Lambda (and RIE) state it
	// in Function.ResponseSizeTooLarge errors.
	MaxResponseBytes = 6291556
	// maxUnzippedBytes is Lambda's limit on a deployment package's
	// unzipped size.
	maxUnzippedBytes = 250 * 1024 * 1024
	// maxEnvironmentBytes is Lambda's limit on the total size of a
	// function's environment variables.
	maxEnvironmentBytes = 4 * 1024
)

// Spec describes a function as it is deployed: the same settings
// Terraform's aws_lambda_function takes.
type Spec struct {
	// FunctionName is the function's name: 1 to 64 letters, digits, '-'
	// or '_'. Its log group is /aws/lambda/<FunctionName>.
	FunctionName string
	// Code is the deployment package: a zip with an executable bootstrap
	// at its root, built for this machine's architecture.
	Code []byte
	// Bootstrap is the path of an unpacked bootstrap executable, used
	// instead of Code. It is copied, so it may be rebuilt while the
	// function runs.
	Bootstrap string
	// MemorySize is in MB (128 to 10,240); 0 means Lambda's default, 128.
	// It is reported, not enforced.
	MemorySize int
	// Timeout is the invocation timeout in whole seconds (1 s to 900 s);
	// 0 means Lambda's default, 3 s.
	Timeout time.Duration
	// Environment holds the function's own variables.
	Environment map[string]string
	// LogFormat is "Text" (the default) or "JSON", as logging_config's
	// log_format.
	LogFormat string
	// LogLevel is the application log level with the JSON format: TRACE,
	// DEBUG, INFO (the default), WARN, ERROR or FATAL.
	LogLevel string
	// Region is the function's region; "" means us-east-1.
	Region string
	// Version is the published version the function runs, "1", "2", …;
	// "" means $LATEST. Lambda names it in AWS_LAMBDA_FUNCTION_VERSION, the
	// START line (or platform.start record) and the log stream names.
	Version string
	// MaxConcurrency caps the execution environments (RIE processes) run
	// at once on this machine; 0 means DefaultMaxConcurrency. Requests
	// beyond it wait for an environment (see Function.Invoke).
	MaxConcurrency int
	// Emulator is a qemu-user binary (qemu-aarch64) that runs a bootstrap
	// built for an architecture this machine does not run, such as the
	// arm64 build Lambda runs on an amd64 host: RIE stays native and starts
	// the bootstrap through it. It is not used for a bootstrap of the
	// host's architecture.
	Emulator string
	// ReservedConcurrency is Lambda's reserved concurrency: with more
	// requests than this in flight, Invoke refuses new ones with
	// TooManyRequestsException. 0 means unreserved (Lambda's default
	// account limit of 1,000 applies).
	ReservedConcurrency int
}

// DefaultMaxConcurrency is the environment cap used when Spec leaves it 0:
// enough to keep two cores busy while an environment waits on I/O.
var DefaultMaxConcurrency = max(4, 2*runtime.NumCPU())

// accountConcurrency is Lambda's default concurrency limit per account and
// region, which an unreserved function shares.
const accountConcurrency = 1000

var (
	functionNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	versionRE      = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
	envKeyRE       = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	logLevels      = map[string]int{"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "ERROR": 4, "FATAL": 5}
)

// reservedKeys are the variables Lambda sets itself and refuses in a
// function's configuration, plus two that only matter to RIE: it reads
// AWS_LAMBDA_FUNCTION_TIMEOUT as the timeout and switches to another mode
// when AWS_LAMBDA_MAX_CONCURRENCY is set.
var reservedKeys = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
	"AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
	"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API",
	"AWS_REGION", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LAMBDA_RUNTIME_DIR",
	"LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_LAMBDA_MAX_CONCURRENCY",
}

// normalize checks s and fills in Lambda's defaults.
func (s Spec) normalize() (Spec, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !functionNameRE.MatchString(s.FunctionName) {
		bad("function name %q: use 1 to 64 letters, digits, '-' or '_'", s.FunctionName)
	}
	switch {
	case len(s.Code) > 0 && s.Bootstrap != "":
		bad("give the code either as a zip (Code) or as an unpacked bootstrap (Bootstrap), not both")
	case len(s.Code) == 0 && s.Bootstrap == "":
		bad("no code: give the deployment zip (Code) or the path of a bootstrap executable (Bootstrap)")
	}
	if s.MemorySize == 0 {
		s.MemorySize = 128
	}
	switch {
	case s.Version == "":
		s.Version = "$LATEST"
	case s.Version != "$LATEST" && !versionRE.MatchString(s.Version):
		bad("version %q: want $LATEST or a published version number (1, 2, ...)", s.Version)
	}
	if s.MemorySize < 128 || s.MemorySize > 10240 {
		bad("memory size %d MB: Lambda takes 128 to 10240 MB", s.MemorySize)
	}
	if s.Timeout == 0 {
		s.Timeout = 3 * time.Second
	}
	if s.Timeout < time.Second || s.Timeout > 900*time.Second || s.Timeout%time.Second != 0 {
		bad("timeout %s: Lambda takes whole seconds from 1 to 900", s.Timeout)
	}
	switch strings.ToUpper(s.LogFormat) {
	case "", "TEXT":
		s.LogFormat = "Text"
	case "JSON":
		s.LogFormat = "JSON"
	default:
		bad("log format %q: use Text or JSON", s.LogFormat)
	}
	if s.LogLevel == "" {
		s.LogLevel = "INFO"
	}
	s.LogLevel = strings.ToUpper(s.LogLevel)
	if _, ok := logLevels[s.LogLevel]; !ok {
		bad("log level %q: use TRACE, DEBUG, INFO, WARN, ERROR or FATAL", s.LogLevel)
	}
	if s.LogLevel != "INFO" && s.LogFormat != "JSON" {
		bad("log level %s needs the JSON log format: Lambda filters by level only with log_format = \"JSON\"", s.LogLevel)
	}
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	if s.MaxConcurrency == 0 {
		s.MaxConcurrency = DefaultMaxConcurrency
	}
	if s.MaxConcurrency < 0 {
		bad("max concurrency %d: give a positive number of execution environments, or 0 for the default", s.MaxConcurrency)
	}
	if s.ReservedConcurrency < 0 || s.ReservedConcurrency > accountConcurrency {
		bad("reserved concurrency %d: give 1 to %d, or 0 for unreserved", s.ReservedConcurrency, accountConcurrency)
	}
	size := 0
	for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
		size += len(k) + len(s.Environment[k])
		switch {
		case !envKeyRE.MatchString(k):
			bad("environment variable %q: names start with a letter and hold only letters, digits and '_'", k)
		case slices.Contains(reservedKeys, k):
			bad("environment variable %s is reserved: Lambda sets it itself", k)
		}
	}
	if size > maxEnvironmentBytes {
		bad("environment variables take %d bytes: Lambda allows %d in all", size, maxEnvironmentBytes)
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("lambda: invalid function %q: %w", s.FunctionName, errors.Join(errs...))
	}
	return s, nil
}

// unpack writes the function's code into dir, which must be empty, and
// checks that dir/bootstrap is an executable this machine can run, itself
// or under s.Emulator; foreign reports that it needs the emulator.
func (s Spec) unpack(dir string) (foreign bool, err error) {
	if s.Bootstrap != "" {
		err = copyBootstrap(s.Bootstrap, filepath.Join(dir, "bootstrap"))
	} else {
		err = unzip(s.Code, dir)
	}
	if err != nil {
		return false, err
	}
	return checkBootstrap(filepath.Join(dir, "bootstrap"), s.Emulator)
}

func copyBootstrap(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("bootstrap %s is not a regular file", src)
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, st.Mode().Perm())
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("bootstrap: copy %s: %w", src, err)
	}
	return out.Close()
}

// unzip extracts a deployment package. It refuses entries that would land
// outside dir, links and devices, and more than Lambda's unzipped limit.
func unzip(code []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(code), int64(len(code)))
	if err != nil {
		return fmt.Errorf("deployment package is not a zip file: %w", err)
	}
	var total uint64
	for _, f := range zr.File {
		name := f.Name
		clean := path.Clean(name)
		if name == "" || path.IsAbs(name) || strings.Contains(name, `\`) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("deployment package entry %q points outside the package: rebuild the zip with relative paths", name)
		}
		mode := f.Mode()
		target := filepath.Join(dir, filepath.FromSlash(clean))
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("deployment package: %w", err)
			}
			continue
		case !mode.IsRegular():
			return fmt.Errorf("deployment package entry %q is a %s, not a file: the local run unpacks only files and directories", name, mode.Type())
		}
		total += f.UncompressedSize64
		if total > maxUnzippedBytes {
			return fmt.Errorf("deployment package unzips to more than %d bytes, Lambda's limit", maxUnzippedBytes)
		}
		if err := extract(f, target); err != nil {
			return err
		}
	}
	return nil
}

func extract(f *zip.File, target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("deployment package: %w", err)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("deployment package entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, f.Mode().Perm()|0o400)
	if err != nil {
		return fmt.Errorf("deployment package entry %q: %w", f.Name, err)
	}
	// The declared size bounds the copy, so a lying header cannot fill
	// the disk.
	n, err := io.Copy(out, io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	if err == nil && uint64(n) != f.UncompressedSize64 {
		err = fmt.Errorf("size %d differs from the %d its header declares", n, f.UncompressedSize64)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("deployment package entry %q: %w", f.Name, err)
	}
	return nil
}

// elfMachines maps GOARCH to the ELF machine of its executables.
var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// emulates names the ELF machine each qemu-user binary runs.
var emulates = map[elf.Machine]string{elf.EM_AARCH64: "qemu-aarch64", elf.EM_X86_64: "qemu-x86_64"}

// checkBootstrap refuses a bootstrap that Lambda (or this machine) would
// fail to start, with the reason, instead of a Runtime.InvalidEntrypoint at
// the first invocation. A bootstrap for another architecture is accepted
// when emulator is the qemu-user binary for it (foreign is then true).
func checkBootstrap(p, emulator string) (foreign bool, err error) {
	st, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, errors.New("deployment package has no bootstrap file at its root: a provided.al2023 function's zip holds its executable as 'bootstrap'")
	}
	if err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	if !st.Mode().IsRegular() {
		return false, errors.New("bootstrap is not a regular file")
	}
	if st.Mode().Perm()&0o111 == 0 {
		return false, fmt.Errorf("bootstrap is not executable (mode %04o): build the zip with mode 0755 on it, as Lambda needs", st.Mode().Perm())
	}
	f, err := elf.Open(p)
	if err != nil {
		// Scripts (#!) are valid bootstraps too.
		return false, nil
	}
	defer f.Close()
	if want, ok := elfMachines[runtime.GOARCH]; ok && f.Machine != want {
		built := f.Machine.String()
		for arch, m := range elfMachines {
			if m == f.Machine {
				built = arch + " (" + built + ")"
			}
		}
		if emulator != "" && strings.HasPrefix(filepath.Base(emulator), emulates[f.Machine]) {
			return true, nil
		}
		// Lambda runs arm64; the local run needs the same source built for
		// the host, or qemu-user.
		return false, fmt.Errorf("bootstrap is built for %s, but this machine runs %s and cannot execute it: build it for the host for the local run (scripts/build.sh --arch %s, as scripts/local-up.sh does), or run it under qemu-user (make demo ARCH=arm64; local-aws serve --emulator %s)", built, runtime.GOARCH, runtime.GOARCH, emulates[f.Machine])
	}
	return false, nil
}
