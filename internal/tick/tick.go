// Package tick runs a function at a steady interval until a context ends:
// the one shape of callin's background rereads.
package tick

import (
	"context"
	"time"
)

// Every calls f every d until ctx ends (first after d, not at once).
func Every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
