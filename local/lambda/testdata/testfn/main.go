// Command testfn is the function the local/lambda tests deploy: what an
// invocation does depends on the payload's "action".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Action  string `json:"action"`
	Lines   int    `json:"lines"`
	Bytes   int    `json:"bytes"`
	SleepMS int    `json:"sleep_ms"`
	Text    string `json:"text"`
	MB      int    `json:"mb"`
	// Mark names a file "sleep" creates once it is inside the handler, so
	// that a test can act during the invocation without guessing when
	// that is.
	Mark string `json:"mark"`
}

// keep holds memory an "allocate" invocation touched, so that it stays
// resident.
var keep [][]byte

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var req request
	_ = json.Unmarshal(raw, &req)
	id := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		id = lc.AwsRequestID
	}
	switch req.Action {
	case "", "echo":
		return raw, nil
	case "request-id":
		return id, nil
	case "env":
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return env, nil
	case "lines":
		// Numbered lines on stdout and stderr, then one left unterminated.
		for i := range req.Lines {
			out := os.Stdout
			if i%2 == 1 {
				out = os.Stderr
			}
			fmt.Fprintf(out, "%s line %d\n", req.Text, i)
		}
		if req.Text != "" {
			fmt.Print(req.Text + " unterminated")
		}
		return "printed", nil
	case "long-line":
		fmt.Println(strings.Repeat("L", req.Bytes))
		return "printed", nil
	case "json-logs":
		log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug}))
		log.Debug("debug record")
		log.Info("info record")
		log.Warn("warn record")
		log.Error("error record")
		fmt.Println("plain text line")
		fmt.Println(`{"msg":"json without a level"}`)
		return "logged", nil
	case "error":
		return nil, errors.New("handled failure")
	case "panic":
		panic("test panic")
	case "exit":
		os.Exit(3)
	case "exit-later":
		// The runtime dies after answering, while its environment is idle.
		go func() {
			time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
			os.Exit(0)
		}()
		return "exiting soon", nil
	case "sleep":
		fmt.Println("sleeping", req.SleepMS, "ms")
		if req.Mark != "" {
			if err := os.WriteFile(req.Mark, nil, 0o644); err != nil {
				return nil, err
			}
		}
		time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
		fmt.Println("awake")
		return "slept", nil
	case "big":
		return strings.Repeat("x", req.Bytes), nil
	case "allocate":
		b := make([]byte, req.MB<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
		return "allocated", nil
	case "allocate-and-free":
		// A peak the runtime has given back before it answers: only the
		// kernel's high-water mark (VmHWM) still shows it.
		b := make([]byte, req.MB<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		b = nil
		runtime.GC()
		debug.FreeOSMemory()
		return "freed", nil
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}

func main() {
	// INIT_SLEEP_MS lengthens the init phase, to measure cold starts.
	if ms := os.Getenv("INIT_SLEEP_MS"); ms != "" {
		var n int
		fmt.Sscan(ms, &n)
		time.Sleep(time.Duration(n) * time.Millisecond)
	}
	lambda.Start(handle)
}
