package logs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The on-disk format: one file per log group, named after a hash of the
// group's name, holding JSON lines that are only ever appended:
//
//	{"k":"group","n":"/aws/lambda/fn","t":1700000000000}  first line
//	{"k":"stream","n":"2026/11/24/[$LATEST]0f…","t":…}    CreateLogStream
//	{"k":"retention","r":14}                              Put/DeleteRetentionPolicy (0)
//	{"s":"2026/11/24/[$LATEST]0f…","t":…,"i":…,"m":"…"}   an event
//
// Every line is written to the file before the call that made it returns
// (one write for an Append's events), so a local-aws killed with kill -9
// loses no event it acknowledged: the kernel has it. With WithFsync the
// file is also synced to the disk, which a machine crash needs too; see
// local/README.md for what each costs. A crash can tear the last line:
// loading skips it (with a warning) and cuts it off. DeleteLogGroup removes
// the file.
type record struct {
	Kind      string `json:"k,omitempty"`
	Name      string `json:"n,omitempty"`
	Stream    string `json:"s,omitempty"`
	Time      int64  `json:"t"`
	Ingest    int64  `json:"i,omitempty"`
	Message   string `json:"m,omitempty"`
	Retention int32  `json:"r,omitempty"`
}

const (
	kindGroup     = "group"
	kindStream    = "stream"
	kindRetention = "retention"
)

// groupFile is a group's append-only file. Its methods are called with the
// group's mu held.
type groupFile struct {
	path string
	f    *os.File
	// w gathers the lines of one call into one write.
	w *bufio.Writer
	// fsync syncs the file after each write (WithFsync).
	fsync bool
}

func groupFileName(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:16]) + ".jsonl"
}

func createGroupFile(dir, name string, created int64, fsync bool) (*groupFile, error) {
	path := filepath.Join(dir, groupFileName(name))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("logs: create log group file: %w", err)
	}
	gf := &groupFile{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10), fsync: fsync}
	if err := gf.writeThrough(record{Kind: kindGroup, Name: name, Time: created}); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, err
	}
	return gf, nil
}

func (gf *groupFile) write(r record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("logs: encode %s: %w", gf.path, err)
	}
	if _, err := gf.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("logs: write %s: %w", gf.path, err)
	}
	return nil
}

func (gf *groupFile) writeThrough(r record) error {
	if err := gf.write(r); err != nil {
		return err
	}
	return gf.flush()
}

func (gf *groupFile) writeEvents(stream string, evs []*event) error {
	for _, e := range evs {
		if err := gf.write(record{Stream: stream, Time: e.ts, Ingest: e.ingest, Message: e.msg}); err != nil {
			return err
		}
	}
	return gf.flush()
}

func (gf *groupFile) writeStream(name string, created int64) error {
	return gf.writeThrough(record{Kind: kindStream, Name: name, Time: created})
}

func (gf *groupFile) writeRetention(days int32) error {
	return gf.writeThrough(record{Kind: kindRetention, Retention: days})
}

// flush writes the gathered lines out, and syncs them with fsync. A failed
// write stays in w, which fails every later write: the group's calls
// report it from then on.
func (gf *groupFile) flush() error {
	if err := gf.w.Flush(); err != nil {
		return fmt.Errorf("logs: write %s: %w", gf.path, err)
	}
	if gf.fsync {
		if err := gf.f.Sync(); err != nil {
			return fmt.Errorf("logs: sync %s: %w", gf.path, err)
		}
	}
	return nil
}

func (gf *groupFile) close() error {
	ferr := gf.flush()
	if err := gf.f.Close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("logs: close %s: %w", gf.path, err)
	}
	return ferr
}

func (gf *groupFile) remove() error {
	_ = gf.f.Close()
	if err := os.Remove(gf.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("logs: delete log group file: %w", err)
	}
	return nil
}

// load reads every group file in s.dir.
func (s *Store) load() error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("logs: data directory: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("logs: data directory: %w", err)
	}
	for _, de := range entries {
		if de.IsDir() || !strings.HasSuffix(de.Name(), ".jsonl") {
			continue
		}
		g, err := loadGroupFile(filepath.Join(s.dir, de.Name()), s.fsync)
		if err != nil {
			s.closeFiles()
			return err
		}
		if g == nil {
			continue
		}
		if s.groups[g.name] != nil {
			_ = g.file.f.Close()
			s.closeFiles()
			return fmt.Errorf("logs: two files in %s hold log group %q; remove one", s.dir, g.name)
		}
		s.groups[g.name] = g
	}
	return nil
}

func (s *Store) closeFiles() {
	for _, g := range s.groups {
		_ = g.file.f.Close()
	}
}

// loadGroupFile rebuilds a group from its file and opens the file for
// appending. It returns nil for a file whose first line was torn.
func loadGroupFile(path string, fsync bool) (*group, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("logs: read %s: %w", path, err)
	}
	var g *group
	good, line := 0, 0
	for good < len(data) {
		nl := bytes.IndexByte(data[good:], '\n')
		if nl < 0 {
			slog.Warn("logs: skipping a torn last line (the store was not closed cleanly)", "file", path, "bytes", len(data)-good)
			break
		}
		line++
		var r record
		if err := json.Unmarshal(data[good:good+nl], &r); err != nil {
			return nil, fmt.Errorf("logs: %s line %d is damaged (%v); move the file away to start without this log group", path, line, err)
		}
		if g, err = apply(g, r); err != nil {
			return nil, fmt.Errorf("logs: %s line %d: %w", path, line, err)
		}
		good += nl + 1
	}
	if g == nil {
		slog.Warn("logs: removing a log group file with no complete first line", "file", path)
		return nil, os.Remove(path)
	}
	for _, st := range g.streams {
		slices.SortFunc(st.events, cmpEvent)
	}
	if good < len(data) {
		if err := os.Truncate(path, int64(good)); err != nil {
			return nil, fmt.Errorf("logs: cut the torn line off %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("logs: open %s: %w", path, err)
	}
	g.file = &groupFile{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10), fsync: fsync}
	return g, nil
}

// apply adds one record to the group being loaded. Events are appended to
// their streams unsorted; loadGroupFile sorts each stream once at the end.
func apply(g *group, r record) (*group, error) {
	if r.Kind == kindGroup {
		if g != nil {
			return nil, errors.New("a second log group header")
		}
		if err := checkGroupName(r.Name); err != nil {
			return nil, err
		}
		return newGroup(r.Name, r.Time), nil
	}
	if g == nil {
		return nil, errors.New("the file does not start with a log group header")
	}
	switch r.Kind {
	case kindStream:
		if g.streams[r.Name] == nil {
			g.streams[r.Name] = &stream{name: r.Name, created: r.Time}
		}
	case kindRetention:
		g.retention = r.Retention
	case "":
		st := g.streams[r.Stream]
		if st == nil {
			st = &stream{name: r.Stream, created: r.Ingest}
			g.streams[r.Stream] = st
		}
		e := &event{ts: r.Time, ingest: r.Ingest, msg: r.Message}
		g.push(st, e)
		st.events = append(st.events, e)
	default:
		return nil, fmt.Errorf("unknown record kind %q", r.Kind)
	}
	return g, nil
}
