package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/callin-radio/callin/blocklist"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web"
)

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
	_ web.History     = blocklist.History{}
	_ web.Chat        = (*postgres.Store)(nil)
	_ web.CallerNotes = (*postgres.Store)(nil)
)

// followCallers hears of every caller whose profile changes through any
// instance (postgres.ListenCallers): the consoles fetch the number again,
// and a block or unblock reaches the call path at once (the blocklist is
// read again, which flags or unflags callers in line). After a failure it
// listens again, reading the blocklist anew for what it may have missed;
// it also reads it every every, in case.
func followCallers(ctx context.Context, store *postgres.Store, console *web.Server, b blocklist.List, app *broadcast.App,
	every time.Duration, log *slog.Logger) {
	done := make(chan struct{})
	go func() { b.Keep(ctx, app, every, log); close(done) }() // and every so often, in any case
	defer func() { <-done }()
	reload := func(why string) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := b.Reload(rctx, app); err != nil {
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
