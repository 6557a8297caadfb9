// Package shutdown keeps the shutdowns an owner runs in the background (a
// dead execution environment, the pool of a retired Lambda version), so
// that the owner's Close can hurry them and wait for them: nothing the
// owner started outlives it.
package shutdown

import (
	"context"
	"sync"
)

// Group is a set of shutdowns under way. The zero Group is ready to use;
// it is safe for concurrent use.
type Group struct {
	mu     sync.Mutex
	hurry  context.Context // cancelled by Close
	cancel context.CancelFunc
	closed bool
	// running counts the shutdowns under way; Add is called under mu
	// while not closed only, so that every Add comes before Close's Wait.
	running sync.WaitGroup
}

// Go runs stop on a goroutine of its own. stop's context is cancelled when
// Close begins: a shutdown that waits (for invocations in flight to end)
// must then stop at once. Once Close has begun, Go runs stop on the
// caller's goroutine, with its context cancelled already, so that no
// shutdown escapes Close.
func (g *Group) Go(stop func(hurry context.Context)) {
	g.mu.Lock()
	g.init()
	hurry := g.hurry
	if g.closed {
		g.mu.Unlock()
		stop(hurry)
		return
	}
	g.running.Add(1)
	g.mu.Unlock()
	go func() {
		defer g.running.Done()
		stop(hurry)
	}()
}

// Close cancels the context of the shutdowns under way and waits until
// they have all returned. Calling it again waits for nothing more.
func (g *Group) Close() {
	g.mu.Lock()
	g.init()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
	g.running.Wait()
}

// init makes the hurry context on first use; g.mu is held.
func (g *Group) init() {
	if g.hurry == nil {
		g.hurry, g.cancel = context.WithCancel(context.Background())
	}
}
