package lambda

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestRunsInline: an invocation runs on the caller's goroutine only when
// its ctx cannot end before the function's timeout has, and the exchange
// with RIE never outlives the ctx's deadline.
func TestRunsInline(t *testing.T) {
	f := &Function{spec: Spec{Timeout: 3 * time.Second}}
	cancelled, cancel := context.WithCancel(context.Background())
	defer cancel()
	tests := []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		inline bool
		// bound is the exchange's deadline from now, when inline.
		bound time.Duration
	}{
		{"never ends", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }, true, 3*time.Second + hungRIE},
		{"cancellable, no deadline", func() (context.Context, context.CancelFunc) { return cancelled, func() {} }, false, 0},
		{"deadline before the timeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 2*time.Second)
		}, false, 0},
		{"deadline within the margin", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 3*time.Second+inlineMargin/2)
		}, false, 0},
		{"API Gateway's 29 s", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.WithoutCancel(cancelled), 29*time.Second)
		}, true, 29 * time.Second},
		{"far deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Hour)
		}, true, 3*time.Second + hungRIE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			now := time.Now()
			bound, inline := f.runsInline(ctx)
			assert.Equal(t, tt.inline, inline)
			if tt.inline {
				assert.WithinDuration(t, now.Add(tt.bound), bound, time.Second)
			}
		})
	}
}
