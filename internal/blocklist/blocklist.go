// Package blocklist keeps the call path's view of the blocked numbers in
// memory, so that turning a blocked caller away never waits on the
// database, and keeps it current: a block made through this instance's
// console at once (History), one made elsewhere when the list is read
// again (Reload, Keep), which also flags or unflags the callers in line.
package blocklist

import (
	"context"
	"log/slog"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/tick"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
)

// Store is where the blocked numbers are kept; *postgres.Store has it.
type Store interface {
	BlockedNumbers(ctx context.Context) (map[string]string, error)
}

// Flagger flags and unflags the callers in line whose number a reload
// finds blocked or unblocked; *broadcast.App is one.
type Flagger interface {
	SetBlocked(number string, blocked bool, note string, actor queue.Actor) int
}

// List is the in-memory blocklist (broadcast.Blocklist), keyed by the
// store's normalised form so "+1 (202) 555-0100" and "+12025550100" are
// one number. It is safe for concurrent use; copies share the list.
type List struct {
	m     *broadcast.MemoryBlocklist
	store Store
}

var _ broadcast.Blocklist = List{}

// Load reads the blocked numbers from store.
func Load(ctx context.Context, store Store) (List, error) {
	blocked, err := store.BlockedNumbers(ctx)
	if err != nil {
		return List{}, err
	}
	return List{m: broadcast.NewMemoryBlocklist(blocked), store: store}, nil
}

// IsBlocked reports whether number is blocked, and why.
func (l List) IsBlocked(number string) (bool, string) {
	return l.m.IsBlocked(queue.NormalizeNumber(number))
}

// Reload makes the list what the store says, and flags or unflags the
// callers in line (through app) whose number changed: blocks made through
// another callin instance reach this one. It returns how many numbers
// changed.
func (l List) Reload(ctx context.Context, app Flagger) (int, error) {
	fresh, err := l.store.BlockedNumbers(ctx)
	if err != nil {
		return 0, err
	}
	added, removed := l.m.Replace(fresh)
	for n, reason := range added {
		app.SetBlocked(n, true, reason, queue.System)
	}
	for _, n := range removed {
		app.SetBlocked(n, false, "", queue.System)
	}
	return len(added) + len(removed), nil
}

// Keep reloads the list every every until ctx ends; a failed reload keeps
// the list in memory.
func (l List) Keep(ctx context.Context, app Flagger, every time.Duration, log *slog.Logger) {
	tick.Every(ctx, every, func() {
		rctx, cancel := context.WithTimeout(ctx, every)
		defer cancel()
		if n, err := l.Reload(rctx, app); err != nil {
			log.Debug("blocklist not reloaded; keeping the one in memory", "err", err)
		} else if n > 0 {
			log.Info("blocklist reloaded: blocks made elsewhere", "changed", n)
		}
	})
}

// History is the history store as the console sees it (web.History):
// blocking a number also updates the call path's list, so the next call
// is turned away at once without a database read.
type History struct {
	*postgres.Store
	list List
}

// NewHistory is store, its blocks and unblocks also made in list.
func NewHistory(store *postgres.Store, list List) History { return History{Store: store, list: list} }

// Block blocks number in the store and then in the list.
func (h History) Block(ctx context.Context, number, by, reason string) error {
	if err := h.Store.Block(ctx, number, by, reason); err != nil {
		return err
	}
	h.list.m.Block(queue.NormalizeNumber(number), reason)
	return nil
}

// Unblock unblocks number in the store and then in the list.
func (h History) Unblock(ctx context.Context, number, by string) error {
	if err := h.Store.Unblock(ctx, number, by); err != nil {
		return err
	}
	h.list.m.Unblock(queue.NormalizeNumber(number))
	return nil
}
