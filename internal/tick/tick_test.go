package tick_test

import (
	"context"
	"testing"
	"time"

	"github.com/callin-radio/callin/internal/tick"
)

// TestEvery: f runs again and again, and Every returns once ctx ends.
func TestEvery(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan struct{})
	done := make(chan struct{})
	go func() {
		tick.Every(ctx, time.Millisecond, func() { calls <- struct{}{} })
		close(done)
	}()
	for range 3 {
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatal("f was not called")
		}
	}
	cancel()
	for {
		select {
		case <-calls: // a tick that raced the cancel
		case <-done:
			return
		case <-time.After(10 * time.Second):
			t.Fatal("Every did not return after ctx ended")
		}
	}
}
