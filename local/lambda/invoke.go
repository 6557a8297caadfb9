package lambda

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/acme/request-dump/local/logs"
)

// invocation is what RIE made of one request.
type invocation struct {
	id            string
	began, ended  time.Time
	status        int // RIE's HTTP status, 0 when the request failed
	body          []byte
	err           error         // the request's failure
	rieDuration   time.Duration // from RIE's REPORT line, 0 when absent
	sawRIEReport  bool
	initDuration  time.Duration // from RIE's INIT REPORT, on a cold start
	cold          bool
	memorySizeMB  int
	timeoutPeriod time.Duration
}

// invoke runs one job on this environment (only the caller that acquired
// it from the pool).
func (e *env) invoke(j *job) outcome {
	f := e.f
	inv := invocation{id: j.id, cold: e.invocations == 0, memorySizeMB: f.spec.MemorySize, timeoutPeriod: f.spec.Timeout}
	inv.began = time.Now()
	inv.status, inv.body, inv.err = e.roundTrip(j)
	inv.ended = time.Now()
	if inv.err != nil {
		e.broken.Store(true)
		// RIE is gone: wait for its exit, so that the pipe holds all it
		// wrote. Past the job's deadline it is hung instead, and the
		// caller is owed its answer now.
		if !errors.Is(inv.err, os.ErrDeadlineExceeded) {
			select {
			case <-e.exited:
			case <-time.After(2 * time.Second):
			}
		}
	}
	batch := e.collect()
	if inv.err != nil && !started(batch, j.id) {
		// RIE died before it started the invocation (it prints START
		// first): nothing ran, so the request may run elsewhere.
		f.append(e.stream, e.events(inv, report{}, false, "", batch, false))
		return outcome{retry: true}
	}
	e.invocations++
	f.invocations.Add(1)
	if inv.cold {
		f.coldStarts.Add(1)
		select {
		case inv.initDuration = <-e.stderr.inits:
		case <-e.stderr.done:
			// RIE is gone; take the init time if it logged one.
			select {
			case inv.initDuration = <-e.stderr.inits:
			default:
			}
		case <-time.After(2 * time.Second):
			// Already written when RIE answered; this bound only
			// guards against a log line that never comes, and is long
			// enough for a starved reader of one that did.
		}
	}
	inv.rieDuration, inv.sawRIEReport = rieDuration(batch, j.id)
	res, rep, exitedMsg, err := inv.classify()
	res.LogStream = e.stream

	switch {
	case inv.err != nil:
		// RIE died (or hung): the environment is shut down, and rt names
		// the runtime to kill with it, which RIE, gone, no longer can; the
		// runtime runs in a process group of its own and would otherwise
		// outlive RIE until its handler returned.
	case res.Crash || res.Timeout:
		// RIE restarts the runtime lazily after a timeout or a crash;
		// until then there is no runtime process to watch.
		if rt := e.rt.Swap(nil); rt != nil {
			rt.close()
		}
	case e.rt.Load() == nil:
		if pid := runtimeOf(e.cmd.Process.Pid); pid > 0 {
			e.rt.Store(watchRuntime(pid))
		}
	}
	runtimeExited := false
	if rt := e.rt.Load(); rt != nil {
		runtimeExited = !rt.sample()
		e.maxMemoryMB = max(e.maxMemoryMB, rt.peakMB)
	}
	rep.maxMemory = e.maxMemoryMB
	if err != nil {
		e.broken.Store(true)
	}
	f.append(e.stream, e.events(inv, rep, res.Timeout, exitedMsg, batch, true))
	return outcome{res: res, err: err, runtimeExited: runtimeExited}
}

// started reports whether RIE printed the invocation's START line.
func started(batch []line, id string) bool {
	start := "START RequestId: " + id + " Version: "
	for _, l := range batch {
		if strings.Contains(l.text, start) {
			return true
		}
	}
	return false
}

// errorDocument is Lambda's error payload.
type errorDocument struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// functionError parses a response that is an error document. RIE answers a
// handler's error with 200 and the document, where Lambda would add
// X-Amz-Function-Error: a JSON object with an errorType and an
// errorMessage is taken for one.
func functionError(body []byte) (errorDocument, bool) {
	var doc errorDocument
	if !bytes.Contains(body, []byte(`"errorType"`)) || json.Unmarshal(body, &doc) != nil {
		return doc, false
	}
	return doc, doc.ErrorType != "" && bytes.Contains(body, []byte(`"errorMessage"`))
}

func errorPayload(errorType, message string) []byte {
	b, _ := json.Marshal(errorDocument{ErrorMessage: message, ErrorType: errorType})
	return b
}

// classify turns RIE's answer into the Result, the REPORT and, for a
// runtime that exited, the "RequestId: … Error: …" line Lambda logs. An
// error means the environment itself failed.
func (inv invocation) classify() (Result, report, string, error) {
	res := Result{ColdStart: inv.cold, Duration: inv.ended.Sub(inv.began)}
	if inv.sawRIEReport {
		res.Duration = inv.rieDuration
	}
	if inv.cold {
		// RIE's REPORT has a meaningless Init Duration and counts the init
		// in Duration; its INIT REPORT has the real one.
		res.InitDuration = inv.initDuration
		res.Duration = max(0, res.Duration-inv.initDuration)
	}
	rep := report{requestID: inv.id, duration: res.Duration, initDuration: res.InitDuration,
		memorySize: inv.memorySizeMB, status: statusSuccess}
	fail := func(errorType string, payload []byte) {
		res.FunctionError, res.ErrorType, res.Payload = "Unhandled", errorType, payload
	}
	var exited string
	var err error
	switch {
	case inv.err != nil:
		// RIE died (or hung past the timeout) during the invocation.
		exited = "RequestId: " + inv.id + " Error: Runtime exited without providing a reason"
		fail("Runtime.ExitError", errorPayload("Runtime.ExitError", exited))
		res.Crash = true
		rep.status, rep.errorType = statusError, "Runtime.ExitError"
	case inv.status == 200 && bytes.HasPrefix(inv.body, []byte("Task timed out after ")):
		// RIE answers a timeout with 200 and plain text, and kills the
		// runtime; Lambda answers Sandbox.Timedout.
		fail("Sandbox.Timedout", errorPayload("Sandbox.Timedout", "RequestId: "+inv.id+" Error: "+string(inv.body)))
		res.Timeout = true
		res.Duration, rep.duration = inv.timeoutPeriod, inv.timeoutPeriod
		rep.status = statusTimeout
	case inv.status == 200 && len(inv.body) > MaxResponseBytes:
		fail("Function.ResponseSizeTooLarge", errorPayload("Function.ResponseSizeTooLarge",
			"Response payload size exceeded maximum allowed payload size ("+strconv.Itoa(MaxResponseBytes)+" bytes)."))
		rep.status, rep.errorType = statusError, "Function.ResponseSizeTooLarge"
	case inv.status == 200:
		res.Payload = inv.body
		if doc, ok := functionError(inv.body); ok {
			res.FunctionError, res.ErrorType = "Unhandled", doc.ErrorType
			rep.status, rep.errorType = statusError, doc.ErrorType
		}
	case inv.status == 502:
		// The runtime exited (panic, exit, oversized response) or failed
		// to start; RIE answers with the error document and restarts the
		// runtime on the next invocation.
		doc, _ := functionError(inv.body)
		if doc.ErrorType == "" {
			doc = errorDocument{ErrorType: "Runtime.ExitError", ErrorMessage: "RequestId: " + inv.id + " Error: Runtime exited without providing a reason"}
			inv.body = errorPayload(doc.ErrorType, doc.ErrorMessage)
		}
		fail(doc.ErrorType, inv.body)
		res.Crash = true
		rep.status, rep.errorType = statusError, doc.ErrorType
		if !strings.HasPrefix(doc.ErrorType, "Runtime.") && !strings.HasPrefix(doc.ErrorType, "Function.") {
			// A panic: the runtime reported the error, then exited.
			rep.errorType = "Runtime.ExitError"
		}
		if doc.ErrorType == "Runtime.ExitError" {
			exited = doc.ErrorMessage
		}
	default:
		// RIE refuses a second invocation while one runs (400) and has a
		// few internal failures; the pool never overlaps invocations, so
		// the environment is in a state it cannot serve from.
		msg := "the execution environment failed: aws-lambda-rie answered " + strconv.Itoa(inv.status) + " " + strings.TrimSpace(string(inv.body))
		fail("Runtime.Unknown", errorPayload("Runtime.Unknown", msg))
		res.Crash = true
		rep.status, rep.errorType = statusError, "Runtime.Unknown"
		err = &ServiceError{StatusCode: 500, Type: "ServiceException", Message: msg}
	}
	return res, rep, exited, err
}

// rieDuration finds the Duration of RIE's REPORT line for id.
func rieDuration(batch []line, id string) (time.Duration, bool) {
	prefix := "REPORT RequestId: " + id + "\t"
	for i := len(batch) - 1; i >= 0; i-- {
		t := batch[i].text
		if !strings.HasPrefix(t, prefix) {
			continue
		}
		_, rest, ok := strings.Cut(t, "\tDuration: ")
		if !ok {
			return 0, false
		}
		v, _, _ := strings.Cut(rest, " ms")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		return time.Duration(f * float64(time.Millisecond)), true
	}
	return 0, false
}

// events turns the lines an invocation collected into its log events: RIE's
// START/END/REPORT lines give way to Lambda's, in the same places, and the
// function's lines pass through the format's filter. Timestamps never go
// backwards within the stream.
func (e *env) events(inv invocation, rep report, timedOut bool, exited string, batch []line, platform bool) []logs.Event {
	fm := e.f.format
	evs := make([]logs.Event, 0, len(batch)+3)
	add := func(at time.Time, msg string) {
		if at.Before(e.lastEvent) {
			at = e.lastEvent
		}
		e.lastEvent = at
		evs = append(evs, logs.Event{Timestamp: at, Message: msg})
	}
	startLine := "START RequestId: " + inv.id + " Version: "
	endLine := "END RequestId: " + inv.id + "\n"
	reportLine := "REPORT RequestId: " + inv.id + "\t"
	var started, ended, reported bool
	start := func(at time.Time) {
		started = true
		add(at, fm.start(inv.id, at))
	}
	end := func(at time.Time) {
		ended = true
		if timedOut {
			if msg, ok := fm.timedOut(inv.id, inv.timeoutPeriod, at); ok {
				add(at, msg)
			}
		}
		if msg, ok := fm.exited(exited, rep.errorType); ok {
			add(at, msg)
		}
		if msg, ok := fm.end(inv.id); ok {
			add(at, msg)
		}
	}
	app := func(l line) {
		if msg, ok := fm.app(l.text, inv.id, l.at); ok {
			add(l.at, msg)
		}
	}
	for _, l := range batch {
		// RIE's line follows a line the runtime left unterminated on the
		// same line of output: split them.
		if i := strings.Index(l.text, startLine); i > 0 && !started {
			app(line{l.at, l.text[:i]})
			l.text = l.text[i:]
		} else if i := strings.Index(l.text, endLine); i > 0 && started && !ended && i+len(endLine) == len(l.text) {
			app(line{l.at, l.text[:i]})
			l.text = l.text[i:]
		}
		switch {
		case !platform:
			app(l)
		case !started && strings.HasPrefix(l.text, startLine):
			start(l.at)
		case started && !ended && l.text == endLine:
			end(l.at)
		case started && !reported && strings.HasPrefix(l.text, reportLine):
			if !ended {
				end(l.at)
			}
			reported = true
			add(l.at, fm.report(rep, l.at))
		default:
			app(l)
		}
	}
	if !platform {
		return evs
	}
	if !started {
		start(inv.began)
	}
	if !ended {
		end(inv.ended)
	}
	if !reported {
		add(inv.ended, fm.report(rep, inv.ended))
	}
	return evs
}
