package main

import (
	"context"

	"github.com/callin-radio/callin/internal/blocklist"
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
	_ web.History       = blocklist.History{}
	_ web.Chat          = (*postgres.Store)(nil)
	_ web.CallerNotes   = (*postgres.Store)(nil)
	_ web.NotesVersions = (*postgres.Store)(nil) // the API's ETag, If-Match and PATCH of notes
)
