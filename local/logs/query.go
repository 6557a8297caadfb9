package logs

import (
	"container/heap"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/acme/request-dump/local/logs/filter"
)

// maxIndexes bounds the selectors indexed per group: each index holds one
// entry per JSON event.
const maxIndexes = 8

// filterQuery is a FilterLogEvents request once validated.
type filterQuery struct {
	streams func(name string) bool // nil: every stream
	start   int64                  // inclusive
	end     int64                  // inclusive
	pattern *filter.Pattern        // nil: every event
	limit   int
	desc    bool
	after   *key // continue after this key (before it when desc)
}

// page is one page of results; next is nil when there is nothing more.
type page struct {
	events []*event
	next   *key
}

// filter returns the next page of a FilterLogEvents query. Events are
// ordered by key, so a page ends at a key and the next page starts right
// after it: events ingested meanwhile are returned once if they sort after
// the cursor, and never make a page repeat or skip what was already there.
func (g *group) filter(q filterQuery) page {
	if q.pattern != nil {
		if path, text, ok := q.pattern.IndexTerm(); ok {
			if idx := g.index(path); idx != nil {
				return q.collectCandidates(idx.lookup(g, text))
			}
		}
	}
	g.mu.RLock()
	var lists [][]*event
	for name, st := range g.streams {
		if q.streams == nil || q.streams(name) {
			lists = append(lists, st.events)
		}
	}
	g.mu.RUnlock()
	return q.collectMerged(lists)
}

// inRange reports whether an event is within the query's time range and
// after its cursor.
func (q *filterQuery) inRange(e *event) bool {
	if e.ts < q.start || e.ts > q.end {
		return false
	}
	if q.after == nil {
		return true
	}
	if q.desc {
		return e.key().less(*q.after)
	}
	return q.after.less(e.key())
}

func (q *filterQuery) matches(e *event) bool {
	return q.pattern == nil || q.pattern.Match(e.msg)
}

// pageBuilder fills a page up to the event count and byte limits.
type pageBuilder struct {
	limit int
	bytes int
	p     page
}

// add takes an event unless the page is full, in which case it reports
// false and the page continues after the last event taken.
func (b *pageBuilder) add(e *event) bool {
	n := len(b.p.events)
	if n == b.limit || n > 0 && b.bytes+e.size() > maxPageBytes {
		k := b.p.events[n-1].key()
		b.p.next = &k
		return false
	}
	b.p.events = append(b.p.events, e)
	b.bytes += e.size()
	return true
}

// collectCandidates builds a page from the events an index returned.
func (q *filterQuery) collectCandidates(cands []*event) page {
	kept := cands[:0]
	for _, e := range cands {
		if (q.streams == nil || q.streams(e.stream.name)) && q.inRange(e) {
			kept = append(kept, e)
		}
	}
	slices.SortFunc(kept, cmpEvent)
	if q.desc {
		slices.Reverse(kept)
	}
	b := pageBuilder{limit: q.limit}
	for _, e := range kept {
		if q.matches(e) && !b.add(e) {
			break
		}
	}
	return b.p
}

// collectMerged walks the streams' sorted events in key order (a k-way
// merge) from the cursor and builds a page.
func (q *filterQuery) collectMerged(lists [][]*event) page {
	h := &mergeHeap{desc: q.desc}
	for _, evs := range lists {
		var i int
		if q.desc {
			i = sort.Search(len(evs), func(k int) bool {
				e := evs[k]
				return e.ts > q.end || q.after != nil && !e.key().less(*q.after)
			}) - 1
		} else {
			i = sort.Search(len(evs), func(k int) bool {
				e := evs[k]
				return e.ts >= q.start && (q.after == nil || q.after.less(e.key()))
			})
		}
		if i >= 0 && i < len(evs) {
			h.items = append(h.items, cursor{evs, i})
		}
	}
	heap.Init(h)
	b := pageBuilder{limit: q.limit}
	for h.Len() > 0 {
		c := &h.items[0]
		e := c.evs[c.i]
		if e.ts < q.start || e.ts > q.end {
			break
		}
		if q.matches(e) && !b.add(e) {
			break
		}
		if q.desc {
			c.i--
		} else {
			c.i++
		}
		if c.i < 0 || c.i >= len(c.evs) {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
	return b.p
}

type cursor struct {
	evs []*event
	i   int
}

// mergeHeap orders stream cursors by their current event's key.
type mergeHeap struct {
	items []cursor
	desc  bool
}

func (h *mergeHeap) Len() int { return len(h.items) }
func (h *mergeHeap) Less(i, j int) bool {
	a, b := h.items[i].evs[h.items[i].i], h.items[j].evs[h.items[j].i]
	if h.desc {
		return lessEvent(b, a)
	}
	return lessEvent(a, b)
}
func (h *mergeHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *mergeHeap) Push(x any)    { h.items = append(h.items, x.(cursor)) }
func (h *mergeHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// valueIndex maps the text at one JSON selector to the events that have it.
// It is built on first use and brought up to date from the group's
// ingestion log on every lookup, so Append never parses JSON.
type valueIndex struct {
	path    *filter.Path
	mu      sync.Mutex
	covered int
	events  map[string][]*event
}

// index returns the group's index for a selector, creating it unless the
// group already has maxIndexes.
func (g *group) index(path *filter.Path) *valueIndex {
	g.idxMu.Lock()
	defer g.idxMu.Unlock()
	idx := g.indexes[path.String()]
	if idx == nil && len(g.indexes) < maxIndexes {
		idx = &valueIndex{path: path, events: map[string][]*event{}}
		g.indexes[path.String()] = idx
	}
	return idx
}

// lookup returns a copy of the events whose selector has text.
func (idx *valueIndex) lookup(g *group, text string) []*event {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	g.mu.RLock()
	log := g.log
	g.mu.RUnlock()
	for _, e := range log[idx.covered:] {
		if t, ok := idx.path.Text(e.msg); ok {
			idx.events[t] = append(idx.events[t], e)
		}
	}
	idx.covered = len(log)
	return slices.Clone(idx.events[text])
}

// getQuery is a GetLogEvents request once validated.
type getQuery struct {
	start, end int64 // start inclusive, end exclusive (AWS's GetLogEvents rule)
	limit      int
	forward    bool // read forward from after (or from the start)
	after      *key // forward: events after this key; backward: before it
}

// get returns a page of one stream's events in ascending order. Reading
// backward returns the events just before the cursor (or the newest ones).
func (q getQuery) get(evs []*event) []*event {
	b := pageBuilder{limit: q.limit}
	if q.forward {
		i := sort.Search(len(evs), func(k int) bool {
			e := evs[k]
			return e.ts >= q.start && (q.after == nil || q.after.less(e.key()))
		})
		for ; i < len(evs) && evs[i].ts < q.end; i++ {
			if !b.add(evs[i]) {
				break
			}
		}
		return b.p.events
	}
	i := sort.Search(len(evs), func(k int) bool {
		e := evs[k]
		return e.ts >= q.end || q.after != nil && !e.key().less(*q.after)
	}) - 1
	for ; i >= 0 && evs[i].ts >= q.start; i-- {
		if !b.add(evs[i]) {
			break
		}
	}
	slices.Reverse(b.p.events)
	return b.p.events
}

// streamSelector builds the stream filter of FilterLogEvents.
func streamSelector(names []string, prefix string) func(string) bool {
	switch {
	case len(names) > 0:
		set := make(map[string]bool, len(names))
		for _, n := range names {
			set[n] = true
		}
		return func(n string) bool { return set[n] }
	case prefix != "":
		return func(n string) bool { return strings.HasPrefix(n, prefix) }
	}
	return nil
}

// noLimit values for an absent time bound.
const (
	minTime = math.MinInt64
	maxTime = math.MaxInt64
)
