package console

import (
	"context"
	"sync"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/stream"
)

// consoleShow is the console's side of one show (a side of its hub): the
// browser clients and their renders (consoles.go), the renderer that
// coalesces the show's changes into renders (render.go) and the profiles
// and notes of the callers shown (callerinfo.go).
type consoleShow struct {
	hub      *core.Hub
	render   *renderer
	consoles *consoles
	callers  *callerInfo
	gone     *goneLog // recent ends, to tell a lost race who won (gone.go)
}

func newConsoleShow(h *core.Hub) *consoleShow {
	cfg := h.Cfg
	cs := &consoleShow{hub: h, gone: newGoneLog(),
		consoles: newConsoles(h.Key, h.Log, cfg.Rendered),
		callers:  newCallerInfo(cfg.History, cfg.Notes, h.Key, h.Log)}
	cs.render = newRenderer(cfg.RenderEvery, cs.renderAll)
	return cs
}

// Subscribed, Update and Lost ask for a render (the renderer's).
func (cs *consoleShow) Subscribed() { cs.render.Subscribed() }
func (cs *consoleShow) Update(u broadcast.Update) {
	if u.Kind == broadcast.UpdateTransition {
		cs.gone.record([]queue.Transition{u.Transition})
	}
	cs.gone.record(u.Transitions)
	cs.render.Update(u)
}
func (cs *consoleShow) Lost(why string) { cs.render.Lost(why) }

// Run renders and fetches the callers' profiles until ctx ends, then
// kicks every client.
func (cs *consoleShow) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if cs.callers.on() {
		wg.Go(func() { cs.callers.run(ctx, cs.nudge) })
	}
	wg.Go(func() { cs.render.run(ctx) })
	<-ctx.Done()
	cs.consoles.closeAll()
	wg.Wait()
}

// Changed asks for a render, having forgotten a caller's profile and
// notes if they changed.
func (cs *consoleShow) Changed(c core.Change) {
	if c.Forgot != "" {
		cs.callers.forget(c.Forgot)
	}
	cs.nudge()
}

// nudge asks for a render soon.
func (cs *consoleShow) nudge() { cs.render.nudge() }

// attach registers a browser client (a console or a host view); the next
// render sends it every part.
func (cs *consoleShow) attach(c *stream.Client) {
	cs.consoles.attach(c)
	cs.nudge()
}

// detach removes a browser client.
func (cs *consoleShow) detach(c *stream.Client) { cs.consoles.detach(c) }

// renderAll renders the show for every audience with a client and sends
// each what changed (consoles.render).
func (cs *consoleShow) renderAll(ctx context.Context) {
	auds := cs.consoles.audiences()
	if len(auds) == 0 {
		return
	}
	h := cs.hub
	snap, err := h.Cfg.Shows.Snapshot(h.Key)
	if err != nil {
		h.Log.Error("web: snapshot", "show", h.Key, "err", err)
		return
	}
	v := cs.view(snap)
	v.Live = true
	cs.consoles.render(ctx, v, auds)
}

// view assembles what the templates show: the snapshot with the profiles
// and notes known so far, the chat, the on-air warning and how many
// waiting callers to list. Those of listed callers not known yet are asked
// for; callers beyond the list are counted, and fetched when they move up.
func (cs *consoleShow) view(snap broadcast.Snapshot) showView {
	h := cs.hub
	v := showView{Snap: snap, Profiles: map[string]queue.Profile{}, Notes: map[string]queue.CallerNotes{},
		Talking: map[string]bool{}, WaitingRows: h.Cfg.WaitingRows, notesOn: h.Cfg.Notes != nil,
		recordingsOn: h.Cfg.Recordings != nil, talkback: h.Cfg.Talkback[h.Key],
		Chat: h.Chat.List(), AirLimit: h.AirLimitNow(), actions: h.Cfg.Actions}
	for _, id := range snap.Talking {
		v.Talking[id] = true
	}
	next, shown := v.line()
	shown, _ = v.waitingShown(shown)
	cs.callers.fill(&v, snap.Lineup.OnAir, next, shown, snap.Lineup.Screening)
	return v
}

// currentView is the view for a full page render.
func (cs *consoleShow) currentView() (showView, error) {
	snap, err := cs.hub.Cfg.Shows.Snapshot(cs.hub.Key)
	if err != nil {
		return showView{}, err
	}
	return cs.view(snap), nil
}
