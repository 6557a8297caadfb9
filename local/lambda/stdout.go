package lambda

import (
	"bytes"
	"syscall"
	"time"
)

// RIE's stdout (its START/END/REPORT lines and the runtime's output) is a
// pipe that nobody reads continuously: collect reads it on the invoking
// caller's goroutine once the response is in, and drainStdout empties it
// now and then in case a function writes more than the pipe holds (64 KiB)
// during an invocation, or writes while idle. A reader goroutine waking at
// every line the function printed, then handing the lines over at the
// fence, cost several goroutine wake-ups per invocation (a tenth of
// local-aws's CPU under load) and two of them on the answer's path.

// The drain's pause: drainMin after it found output, doubling up to
// drainMax while it finds none. A function writing more than the pipe
// holds waits for a drain at most that long for each 64 KiB.
const (
	drainMin = 10 * time.Millisecond
	drainMax = 200 * time.Millisecond
)

// lineSplitter cuts what is read from the pipe into lines.
type lineSplitter struct {
	pending []byte // the start of a line not ended yet
	lines   []line // lines not collected yet
}

// add splits b, read at at, into lines; a line longer than maxLine is cut
// into parts of maxLine bytes, as Lambda splits function output.
func (s *lineSplitter) add(b []byte, at time.Time) {
	s.pending = append(s.pending, b...)
	start := 0
	for {
		rest := s.pending[start:]
		end := bytes.IndexByte(rest, '\n') + 1
		switch {
		case end > 0 && end <= maxLine:
		case len(rest) >= maxLine:
			end = maxLine
		default:
			s.pending = append(s.pending[:0], rest...)
			return
		}
		s.lines = append(s.lines, line{at: at, text: string(rest[:end])})
		start += end
	}
}

// takeBatch returns the lines before the fence (token) and keeps those
// after it, or reports false when the fence has not been read yet.
func (s *lineSplitter) takeBatch(token string) ([]line, bool) {
	for i, l := range s.lines {
		if l.text != token {
			continue
		}
		batch := s.lines[:i]
		// The fence starts with "\n" so that it never joins a line the
		// runtime left unterminated; when there was none, that "\n" is
		// an empty line of its own: drop it.
		if n := len(batch); n > 0 && batch[n-1].text == "\n" {
			batch = batch[:n-1]
		}
		s.lines = append([]line(nil), s.lines[i+1:]...)
		return batch, true
	}
	return nil, false
}

// collect returns the lines the environment wrote since the last collect.
//
// RIE's response can overtake its own output: the response travels over
// TCP, the lines through the pipe. Once the response is in, though,
// everything RIE and the runtime wrote for the invocation is already in the
// pipe; a fence written now into the same pipe therefore arrives after the
// last of those lines, and reading up to it gets exactly the lines before
// it. No line is lost, none is counted twice, nothing waits on a timer, and
// the reads find the pipe filled: they do not wait either.
func (e *env) collect() []line {
	e.outMu.Lock()
	defer e.outMu.Unlock()
	if e.outClosed {
		return nil
	}
	if _, err := e.fenceW.Write(e.fence); err != nil {
		return nil
	}
	for {
		if batch, ok := e.stdout.takeBatch(e.token); ok {
			return batch
		}
		n, err := e.out.Read(e.readBuf)
		e.stdout.add(e.readBuf[:n], time.Now())
		if err != nil {
			return nil // shutdown hands what was read on as leftover lines
		}
	}
}

// drainStdout reads what is in the pipe now and then, until stop closes.
func (e *env) drainStdout() {
	rc, err := e.out.SyscallConn()
	if err != nil {
		return
	}
	pause := drainMin
	t := time.NewTimer(pause)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		e.outMu.Lock()
		found := false
		for !e.outClosed {
			// One non-blocking read: the pipe is in non-blocking mode for
			// Go's poller, and returning true does not wait for it.
			var n int
			var rerr error
			if rc.Read(func(fd uintptr) bool { n, rerr = syscall.Read(int(fd), e.readBuf); return true }) != nil || rerr != nil || n <= 0 {
				break
			}
			e.stdout.add(e.readBuf[:n], time.Now())
			found = true
		}
		e.outMu.Unlock()
		if found {
			pause = drainMin
		} else {
			pause = min(2*pause, drainMax)
		}
		t.Reset(pause)
	}
}

// closeStdout reads the pipe to its end (once no process holds its write
// end; a runtime that escaped the kill cannot keep it waiting past
// deadline), closes it, and returns the lines not collected, the last one
// perhaps unterminated.
func (e *env) closeStdout(deadline time.Time) []line {
	e.outMu.Lock()
	defer e.outMu.Unlock()
	if e.outClosed {
		return nil
	}
	_ = e.out.SetReadDeadline(deadline)
	for {
		n, err := e.out.Read(e.readBuf)
		e.stdout.add(e.readBuf[:n], time.Now())
		if err != nil {
			break
		}
	}
	e.out.Close()
	e.outClosed = true
	left := e.stdout.lines
	if len(e.stdout.pending) > 0 {
		left = append(left, line{at: time.Now(), text: string(e.stdout.pending)})
	}
	e.stdout = lineSplitter{}
	return left
}
