package main

import (
	"context"

	"github.com/callin-radio/callin/broadcast"
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
