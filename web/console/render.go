package console

import (
	"context"
	"time"

	"github.com/callin-radio/callin/broadcast"
)

// renderer is the console's subscriber to a show's feed: every update,
// and every nudge (a chat message, a caller's profile fetched), asks for a
// render, and renders are coalesced to at most one every every.
type renderer struct {
	every  time.Duration
	render func(ctx context.Context)
	poke   chan struct{} // something changed that needs a render; cap 1
}

func newRenderer(every time.Duration, render func(ctx context.Context)) *renderer {
	return &renderer{every: every, render: render, poke: make(chan struct{}, 1)}
}

// Subscribed asks for a render: what was missed while unsubscribed shows.
func (r *renderer) Subscribed() { r.nudge() }

// Update asks for a render.
func (r *renderer) Update(broadcast.Update) { r.nudge() }

// Lost needs nothing: the render after the next subscription shows the
// show as it is.
func (r *renderer) Lost(string) {}

// nudge asks for a render soon.
func (r *renderer) nudge() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

// run renders, at most once every r.every after a nudge, until ctx ends.
func (r *renderer) run(ctx context.Context) {
	timer := time.NewTimer(0)
	<-timer.C
	armed := false
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.poke:
			if !armed {
				armed = true
				timer.Reset(r.every)
			}
		case <-timer.C:
			armed = false
			r.render(ctx)
		}
	}
}
