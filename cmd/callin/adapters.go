package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/tick"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web"
)

// blocklist is the call path's in-memory view of blocked numbers, keyed by
// the store's normalised form so "+1 (202) 555-0100" and "+12025550100"
// are one number.
type blocklist struct{ m *broadcast.MemoryBlocklist }

func newBlocklist(numbers map[string]string) blocklist {
	return blocklist{broadcast.NewMemoryBlocklist(numbers)}
}

func (b blocklist) IsBlocked(number string) (bool, string) {
	return b.m.IsBlocked(queue.NormalizeNumber(number))
}

// reload makes the call path's blocklist what the database says, and flags
// or unflags the callers in line whose number changed: blocks made through
// another callin instance reach this one (every phonebook.Every, and when it
// takes a node over). It returns how many numbers changed.
func (b blocklist) reload(ctx context.Context, store *postgres.Store, app *broadcast.App) (int, error) {
	fresh, err := store.BlockedNumbers(ctx)
	if err != nil {
		return 0, err
	}
	added, removed := b.m.Replace(fresh)
	for n, reason := range added {
		app.SetBlocked(n, true, reason, queue.System)
	}
	for _, n := range removed {
		app.SetBlocked(n, false, "", queue.System)
	}
	return len(added) + len(removed), nil
}

// keep reloads the blocklist every every until ctx ends.
func (b blocklist) keep(ctx context.Context, store *postgres.Store, app *broadcast.App, every time.Duration, log *slog.Logger) {
	tick.Every(ctx, every, func() {
		rctx, cancel := context.WithTimeout(ctx, every)
		defer cancel()
		if n, err := b.reload(rctx, store, app); err != nil {
			log.Debug("blocklist not reloaded; keeping the one in memory", "err", err)
		} else if n > 0 {
			log.Info("blocklist reloaded: blocks made elsewhere", "changed", n)
		}
	})
}

// history is the store as the console sees it: blocking a number also
// updates the call path's blocklist, so the next call is turned away at
// once without a database read.
type history struct {
	*postgres.Store
	blocklist blocklist
}

func (h history) Block(ctx context.Context, number, by, reason string) error {
	if err := h.Store.Block(ctx, number, by, reason); err != nil {
		return err
	}
	h.blocklist.m.Block(queue.NormalizeNumber(number), reason)
	return nil
}

func (h history) Unblock(ctx context.Context, number, by string) error {
	if err := h.Store.Unblock(ctx, number, by); err != nil {
		return err
	}
	h.blocklist.m.Unblock(queue.NormalizeNumber(number))
	return nil
}

// recall gives broadcast the stored open calls of a show, so a restarted
// service readmits each caller with its call id, arrival time and Seq.
type recall struct{ store *postgres.Store }

func (r recall) OpenCalls(ctx context.Context, show string) ([]queue.Stored, error) {
	calls, err := r.store.OpenCalls(ctx, show)
	if err != nil {
		return nil, err
	}
	out := make([]queue.Stored, len(calls))
	for i, c := range calls {
		out[i] = queue.Stored{
			CallID: c.ID, Number: c.Number, Name: c.Name, Node: c.Node, ChannelID: c.ChannelID, State: c.State, Seq: c.LastSeq,
			ArrivedAt: c.ArrivedAt, Notes: c.Notes, WasOnAir: !c.OnAirAt.IsZero(),
		}
	}
	return out, nil
}

// The store, as wired, satisfies web's interfaces.
var (
	_ web.History     = history{}
	_ web.Chat        = (*postgres.Store)(nil)
	_ web.CallerNotes = (*postgres.Store)(nil)
)

// followCallers hears of every caller whose profile changes through any
// instance (postgres.ListenCallers): the consoles fetch the number again,
// and a block or unblock reaches the call path at once (the blocklist is
// read again, which flags or unflags callers in line). After a failure it
// listens again, reading the blocklist anew for what it may have missed;
// it also reads it every every, in case.
func followCallers(ctx context.Context, store *postgres.Store, console *web.Server, b blocklist, app *broadcast.App,
	every time.Duration, log *slog.Logger) {
	done := make(chan struct{})
	go func() { b.keep(ctx, store, app, every, log); close(done) }() // and every so often, in any case
	defer func() { <-done }()
	reload := func(why string) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := b.reload(rctx, store, app); err != nil {
			log.Debug("blocklist not read again", "after", why, "err", err)
		}
	}
	changed := func(number string, mine bool) {
		if mine {
			return // made here: the console and the blocklist know already
		}
		console.CallerChanged(number)
		reload("a caller changed elsewhere")
	}
	for {
		err := store.ListenCallers(ctx, changed)
		if ctx.Err() != nil {
			return
		}
		log.Debug("listening for caller changes stopped; again shortly", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
		reload("listening stopped") // for the changes missed meanwhile
	}
}
