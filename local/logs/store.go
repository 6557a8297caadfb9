package logs

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/acme/request-dump/local/internal/awsjson"
)

// Event is one log event.
type Event struct {
	Timestamp time.Time
	Message   string
}

// event is a stored log event. It never changes once stored, so readers
// may hold it without a lock.
type event struct {
	ts     int64  // event time, ms since the epoch
	ingest int64  // ingestion time, ms since the epoch
	seq    uint64 // 1-based position in its group's ingestion order
	msg    string
	stream *stream
}

// key orders events as AWS returns them: by timestamp, then by ingestion.
type key struct {
	ts  int64
	seq uint64
}

func (e *event) key() key     { return key{e.ts, e.seq} }
func (e *event) size() int    { return len(e.msg) + eventOverhead }
func (a key) less(b key) bool { return a.ts < b.ts || a.ts == b.ts && a.seq < b.seq }

func lessEvent(a, b *event) bool { return a.key().less(b.key()) }

func cmpEvent(a, b *event) int {
	switch {
	case lessEvent(a, b):
		return -1
	case lessEvent(b, a):
		return 1
	}
	return 0
}

func nowMS() int64 { return time.Now().UnixMilli() }

// insertSorted merges two slices sorted by key into a new one.
func insertSorted(a, b []*event) []*event {
	out := make([]*event, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if lessEvent(b[0], a[0]) {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// stream is a log stream. Its fields other than name and created are
// guarded by its group's mu.
type stream struct {
	name    string
	created int64
	// events is sorted by key. Appending in order writes past the length
	// readers have seen; an out-of-order insert builds a new array. So a
	// reader may keep a slice taken under the lock and read it without one.
	events     []*event
	lastIngest int64
}

// group is a log group.
type group struct {
	name    string
	created int64

	mu        sync.RWMutex
	deleted   bool
	closed    bool  // the store was closed
	retention int32 // days; 0 means never expire
	streams   map[string]*stream
	log       []*event // ingestion order; same append-only rule as stream.events
	bytes     int64
	file      *groupFile // nil for an in-memory store

	idxMu   sync.Mutex
	indexes map[string]*valueIndex
}

// Store holds log groups, streams and events; it is safe for concurrent use.
// With a directory, every group is one append-only file of JSON lines in it
// (see persist.go), so its events survive Close and a new NewStore.
type Store struct {
	dir   string
	fsync bool

	mu     sync.RWMutex
	groups map[string]*group
	closed bool
}

// StoreOption configures NewStore.
type StoreOption func(*Store)

// WithFsync syncs a group's file to the disk before each call that wrote
// to it returns, so that a machine crash loses no acknowledged event
// either; without it a kill -9 of the process loses none, and the kernel
// writes the file out within its writeback delay.
func WithFsync() StoreOption { return func(s *Store) { s.fsync = true } }

// NewStore opens a store. With dir "" everything is kept in memory;
// otherwise the groups, streams, retention settings and events written to
// dir by an earlier store are loaded, and new ones are written there.
func NewStore(dir string, opts ...StoreOption) (*Store, error) {
	s := &Store{dir: dir, groups: map[string]*group{}}
	for _, o := range opts {
		o(s)
	}
	if dir == "" {
		return s, nil
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Append adds events to a stream, creating the group and the stream if they
// are missing, as Lambda does, and stamps them with the ingestion time. An
// event with a zero Timestamp gets the ingestion time. Events may come in
// any order; readers see them sorted by timestamp.
func (s *Store) Append(group, stream string, events ...Event) error {
	if err := checkGroupName(group); err != nil {
		return fmt.Errorf("logs: append: %w", err)
	}
	if err := checkStreamName(stream); err != nil {
		return fmt.Errorf("logs: append: %w", err)
	}
	now := nowMS()
	evs := make([]*event, len(events))
	for i, e := range events {
		ts := now
		if !e.Timestamp.IsZero() {
			ts = e.Timestamp.UnixMilli()
		}
		evs[i] = &event{ts: ts, ingest: now, msg: e.Message}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].ts < evs[j].ts })
	for {
		g, err := s.ensureGroup(group)
		if err != nil {
			return err
		}
		done, err := g.append(stream, evs, true)
		if done || err != nil {
			return err
		}
		// The group was deleted between the lookup and the append: Lambda
		// would recreate it, and so does the retry.
	}
}

// EnsureGroup creates a log group if it is missing and sets its retention
// in days (0: never expire), as Terraform's aws_cloudwatch_log_group does
// before the function first logs.
func (s *Store) EnsureGroup(name string, retentionDays int) error {
	if err := checkGroupName(name); err != nil {
		return err
	}
	if retentionDays != 0 {
		if err := checkRetention(retentionDays); err != nil {
			return err
		}
	}
	g, err := s.ensureGroup(name)
	if err != nil {
		return err
	}
	return g.setRetention(int32(retentionDays))
}

// Close closes every group's file. The store cannot be used afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	groups := make([]*group, 0, len(s.groups))
	for _, g := range s.groups {
		groups = append(groups, g)
	}
	s.mu.Unlock()
	var first error
	for _, g := range groups {
		g.mu.Lock()
		g.closed = true
		if g.file != nil {
			if err := g.file.close(); err != nil && first == nil {
				first = err
			}
			g.file = nil
		}
		g.mu.Unlock()
	}
	return first
}

// lookup returns a group, or ResourceNotFoundException.
func (s *Store) lookup(name string) (*group, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	g := s.groups[name]
	if g == nil {
		return nil, errGroupNotFound()
	}
	return g, nil
}

// ensureGroup returns a group, creating it if it is missing.
func (s *Store) ensureGroup(name string) (*group, error) {
	s.mu.RLock()
	g, closed := s.groups[name], s.closed
	s.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if g != nil {
		return g, nil
	}
	g, err := s.createGroup(name)
	if apiErr, ok := err.(*awsjson.Error); ok && apiErr.Type == "ResourceAlreadyExistsException" {
		return s.lookup(name)
	}
	return g, err
}

// createGroup creates a group, or fails with ResourceAlreadyExistsException.
func (s *Store) createGroup(name string) (*group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.groups[name] != nil {
		return nil, errGroupExists()
	}
	g := newGroup(name, nowMS())
	if s.dir != "" {
		f, err := createGroupFile(s.dir, name, g.created, s.fsync)
		if err != nil {
			return nil, err
		}
		g.file = f
	}
	s.groups[name] = g
	return g, nil
}

func newGroup(name string, created int64) *group {
	return &group{name: name, created: created, streams: map[string]*stream{}, indexes: map[string]*valueIndex{}}
}

// deleteGroup removes a group, its streams and its events.
func (s *Store) deleteGroup(name string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	g := s.groups[name]
	if g == nil {
		s.mu.Unlock()
		return errGroupNotFound()
	}
	delete(s.groups, name)
	g.mu.Lock()
	g.deleted = true
	f := g.file
	g.file = nil
	g.mu.Unlock()
	s.mu.Unlock()
	if f != nil {
		return f.remove()
	}
	return nil
}

// sortedGroups returns the groups sorted by name.
func (s *Store) sortedGroups() ([]*group, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	out := make([]*group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// append adds sorted events to a stream. With create, a missing stream is
// created; without, it is ResourceNotFoundException. done is false if the
// group was deleted meanwhile.
func (g *group) append(name string, evs []*event, create bool) (done bool, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return true, ErrClosed
	}
	if g.deleted {
		return false, nil
	}
	st := g.streams[name]
	if st == nil {
		if !create {
			return true, errStreamNotFound()
		}
		if st, err = g.addStream(name, nowMS()); err != nil {
			return true, err
		}
	}
	if len(evs) == 0 {
		return true, nil
	}
	// Written before they become visible: a failed write stores nothing, so
	// a caller that retries does not duplicate events.
	if g.file != nil {
		if err := g.file.writeEvents(st.name, evs); err != nil {
			return true, err
		}
	}
	for _, e := range evs {
		g.push(st, e)
	}
	g.insert(st, evs)
	return true, nil
}

// push gives an event its sequence number and adds it to the ingestion log.
// The caller holds g.mu and inserts it into its stream.
func (g *group) push(st *stream, e *event) {
	e.stream = st
	e.seq = uint64(len(g.log)) + 1
	g.log = append(g.log, e)
	g.bytes += int64(len(e.msg))
	st.lastIngest = max(st.lastIngest, e.ingest)
}

// insert merges events sorted by timestamp into a stream's sorted events.
func (g *group) insert(st *stream, evs []*event) {
	if n := len(st.events); n == 0 || !lessEvent(evs[0], st.events[n-1]) {
		st.events = append(st.events, evs...)
		return
	}
	st.events = insertSorted(st.events, evs)
}

// addStream creates a stream; the caller holds g.mu.
func (g *group) addStream(name string, created int64) (*stream, error) {
	st := &stream{name: name, created: created}
	if g.file != nil {
		if err := g.file.writeStream(name, created); err != nil {
			return nil, err
		}
	}
	g.streams[name] = st
	return st, nil
}

func (g *group) createStream(name string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	if g.deleted {
		return errGroupNotFound()
	}
	if g.streams[name] != nil {
		return errStreamExists()
	}
	_, err := g.addStream(name, nowMS())
	return err
}

func (g *group) setRetention(days int32) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	if g.deleted {
		return errGroupNotFound()
	}
	g.retention = days
	if g.file != nil {
		return g.file.writeRetention(days)
	}
	return nil
}

// streamEvents returns a stream's events, sorted by key.
func (g *group) streamEvents(name string) ([]*event, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	st := g.streams[name]
	if st == nil {
		return nil, errStreamNotFound()
	}
	return st.events, nil
}

// hasStreams reports whether every named stream exists.
func (g *group) hasStreams(names []string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for _, n := range names {
		if g.streams[n] == nil {
			return false
		}
	}
	return true
}

// streamInfo is what DescribeLogStreams reports about a stream.
type streamInfo struct {
	name                  string
	created               int64
	firstEvent, lastEvent int64
	lastIngest            int64
	hasEvents             bool
	count                 int
}

func (g *group) streamInfos() []streamInfo {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]streamInfo, 0, len(g.streams))
	for _, st := range g.streams {
		si := streamInfo{name: st.name, created: st.created, lastIngest: st.lastIngest, count: len(st.events)}
		if n := len(st.events); n > 0 {
			si.hasEvents, si.firstEvent, si.lastEvent = true, st.events[0].ts, st.events[n-1].ts
		}
		out = append(out, si)
	}
	return out
}

// groupInfo is what DescribeLogGroups reports about a group.
type groupInfo struct {
	name      string
	created   int64
	retention int32
	bytes     int64
}

func (g *group) info() groupInfo {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return groupInfo{name: g.name, created: g.created, retention: g.retention, bytes: g.bytes}
}

// retentionDays reads the retention under the lock.
func (g *group) retentionDays() int32 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.retention
}
