package cluster

import (
	"context"
	"log/slog"
	"time"

	"github.com/callin-radio/callin/internal/blocklist"
)

// Callers tells of every caller whose profile changes through any
// instance; *postgres.Store does (postgres.Store.ListenCallers).
type Callers interface {
	ListenCallers(ctx context.Context, changed func(number string, mine bool)) error
}

// Follower hears of every caller whose profile changes through another
// instance (a block, an unblock, new caller notes): the consoles fetch
// the number again (Changed), and a block or unblock reaches the call
// path at once (Blocklist is read again, which flags or unflags callers
// in line through App).
type Follower struct {
	Callers   Callers
	Blocklist blocklist.List
	App       blocklist.Flagger
	// Changed says that a number changed elsewhere
	// (web.Server.CallerChanged).
	Changed func(number string)
	// Every is how often the blocklist is read again in any case.
	Every time.Duration
	Log   *slog.Logger
	// Retry is how long Run waits to listen again after listening
	// stopped (0: 2 s).
	Retry time.Duration
}

// Run follows the changes until ctx ends. After a failure it listens
// again, reading the blocklist anew for what it may have missed; it also
// reads it every f.Every, in case.
func (f Follower) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() { f.Blocklist.Keep(ctx, f.App, f.Every, f.Log); close(done) }() // and every so often, in any case
	defer func() { <-done }()
	reload := func(why string) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := f.Blocklist.Reload(rctx, f.App); err != nil {
			f.Log.Debug("blocklist not read again", "after", why, "err", err)
		}
	}
	changed := func(number string, mine bool) {
		if mine {
			return // made here: the console and the blocklist know already
		}
		f.Changed(number)
		reload("a caller changed elsewhere")
	}
	retry := f.Retry
	if retry <= 0 {
		retry = 2 * time.Second
	}
	for {
		err := f.Callers.ListenCallers(ctx, changed)
		if ctx.Err() != nil {
			return
		}
		f.Log.Debug("listening for caller changes stopped; again shortly", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
		reload("listening stopped") // for the changes missed meanwhile
	}
}
