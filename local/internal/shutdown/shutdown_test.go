package shutdown

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCloseHurriesAndWaitsForTheShutdownsUnderWay: a shutdown that waits
// for its context (as a pool waits for invocations in flight) is told to
// stop by Close, and Close returns only once it has.
func TestCloseHurriesAndWaitsForTheShutdownsUnderWay(t *testing.T) {
	var g Group
	var done [3]atomic.Bool
	for i := range done {
		g.Go(func(hurry context.Context) {
			<-hurry.Done()
			done[i].Store(true)
		})
	}
	g.Close()
	for i := range done {
		assert.True(t, done[i].Load(), "shutdown %d was still running when Close returned", i)
	}
}

// TestShutdownsDoNotWaitForClose: until Close, a shutdown's context is live
// and the shutdown runs on its own goroutine.
func TestShutdownsDoNotWaitForClose(t *testing.T) {
	var g Group
	ran := make(chan error)
	g.Go(func(hurry context.Context) { ran <- hurry.Err() })
	require.NoError(t, <-ran, "the context was cancelled before Close")
	g.Close()
}

func TestGoAfterCloseStopsAtOnceOnTheCaller(t *testing.T) {
	for name, g := range map[string]*Group{
		"closed once":  closed(1),
		"closed twice": closed(2),
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			g.Go(func(hurry context.Context) { err = hurry.Err() })
			assert.ErrorIs(t, err, context.Canceled, "stop did not run, or ran with a live context")
		})
	}
}

func closed(times int) *Group {
	g := &Group{}
	for range times {
		g.Close()
	}
	return g
}

// TestNoShutdownEscapesAConcurrentClose: whether a Go comes before Close or
// races it, its shutdown has returned once both Go and Close have (run
// with -race).
func TestNoShutdownEscapesAConcurrentClose(t *testing.T) {
	const n = 200
	var g Group
	var stopped atomic.Int64
	var callers sync.WaitGroup
	for range n {
		callers.Go(func() { g.Go(func(context.Context) { stopped.Add(1) }) })
	}
	g.Close()
	callers.Wait()
	assert.EqualValues(t, n, stopped.Load())
}
