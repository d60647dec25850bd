package web

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// hub is one show's live side. It holds the show's one subscription to the
// broadcast application and hands each update to the jobs that need it,
// each in a file of its own:
//
//   - the API's event stream: numbered events in a ring for Last-Event-ID,
//     and its clients (api_events.go; guarded by mu, with the on-air
//     warning);
//   - the browser clients and their renders (consoles.go), coalesced to at
//     most one every Config.RenderEvery, each line row rendered once per
//     change (rows.go);
//   - the chat (chat.go);
//   - the profiles and notes of the callers shown (callerinfo.go).
//
// It knows the server's configuration, not the server.
type hub struct {
	cfg *Config
	log *slog.Logger
	key string

	poke chan struct{} // something changed that needs a render; cap 1

	consoles *consoles
	chat     *chatLog
	callers  *callerInfo

	mu       sync.Mutex // guards the API's event stream and the on-air warning
	ring     []event    // ring[i%len] for ids in (next-len, next)
	next     int64      // the next event id
	first    int64      // the oldest id still in the ring
	api      map[*client]struct{}
	feed     apiFeed // what the API's show events compare with (api_events.go)
	airLimit time.Duration
}

func newHub(cfg *Config, log *slog.Logger, key string) *hub {
	// Ids start at the clock in microseconds, so a restarted server's ids
	// are above the old ones and a stale Last-Event-ID gets a reset.
	start := cfg.Now().UnixMicro()
	return &hub{cfg: cfg, log: log, key: key,
		poke:     make(chan struct{}, 1),
		consoles: newConsoles(key, log, cfg.rendered),
		chat:     &chatLog{},
		callers:  newCallerInfo(cfg.History, cfg.Notes, key, log),
		ring:     make([]event, cfg.Ring), next: start, first: start,
		api:      map[*client]struct{}{},
		airLimit: 10 * time.Minute}
}

// run subscribes to the show and serves its clients until ctx ends,
// resubscribing (and telling API clients to reset) when the subscription
// is lost.
func (h *hub) run(ctx context.Context) {
	var wg sync.WaitGroup
	if h.callers.on() {
		wg.Go(func() { h.callers.run(ctx, h.nudge) })
	}
	if h.cfg.Chat != nil {
		wg.Go(func() { h.chat.load(ctx, h.cfg.Chat, h.key, h.cfg.retry, h.log, h.nudge) })
	}
	defer wg.Wait()
	defer h.closeAll()
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-retry.C:
		}
		sub, err := h.cfg.Feed.Subscribe(h.key)
		if err != nil {
			h.log.Error("web: subscribe", "show", h.key, "err", err)
			retry.Reset(h.cfg.retry)
			continue
		}
		h.apiSubscribed()
		h.nudge()
		h.consume(ctx, sub)
		sub.Close()
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("web: show subscription lost; resubscribing", "show", h.key, "err", sub.Err())
		h.reset("updates were lost")
		retry.Reset(0)
	}
}

// consume handles one subscription until it closes or ctx ends.
func (h *hub) consume(ctx context.Context, sub Subscription) {
	timer := time.NewTimer(0)
	<-timer.C
	armed := false
	arm := func() {
		if !armed {
			armed = true
			timer.Reset(h.cfg.RenderEvery)
		}
	}
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-sub.Updates():
			if !ok {
				return
			}
			h.apiUpdate(u) // the API's event stream: api_events.go
			arm()
		case <-h.poke:
			arm()
		case <-timer.C:
			armed = false
			h.renderAll(ctx)
		}
	}
}

// nudge asks for a render soon.
func (h *hub) nudge() {
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

// attachConsole registers a browser client (a console or a host view);
// the next render sends it every part.
func (h *hub) attachConsole(c *client) {
	h.consoles.attach(c)
	h.nudge()
}

// detach removes a client, of either kind.
func (h *hub) detach(c *client) {
	h.mu.Lock()
	delete(h.api, c)
	h.mu.Unlock()
	h.consoles.detach(c)
}

// closeAll kicks every client when the hub stops.
func (h *hub) closeAll() {
	h.mu.Lock()
	for c := range h.api {
		close(c.gone)
	}
	clear(h.api)
	h.mu.Unlock()
	h.consoles.closeAll()
}

// renderAll renders the show for every audience with a client and sends
// each what changed (consoles.render).
func (h *hub) renderAll(ctx context.Context) {
	auds := h.consoles.audiences()
	if len(auds) == 0 {
		return
	}
	snap, err := h.cfg.Shows.Snapshot(h.key)
	if err != nil {
		h.log.Error("web: snapshot", "show", h.key, "err", err)
		return
	}
	v := h.view(snap)
	v.Live = true
	h.consoles.render(ctx, v, auds)
}

// view assembles what the templates show: the snapshot with the profiles
// and notes known so far, the chat, the on-air warning and how many
// waiting callers to list. Those of listed callers not known yet are asked
// for; callers beyond the list are counted, and fetched when they move up.
func (h *hub) view(snap broadcast.Snapshot) showView {
	v := showView{Snap: snap, Profiles: map[string]queue.Profile{}, Notes: map[string]queue.CallerNotes{},
		Talking: map[string]bool{}, WaitingRows: h.cfg.WaitingRows, notesOn: h.cfg.Notes != nil,
		recordingsOn: h.cfg.Recordings != nil, talkback: h.cfg.Talkback[h.key],
		Chat: h.chat.list(), AirLimit: h.airLimitNow(), actions: h.cfg.actions}
	for _, id := range snap.Talking {
		v.Talking[id] = true
	}
	next, shown := v.line()
	shown, _ = v.waitingShown(shown)
	h.callers.fill(&v, snap.Lineup.OnAir, next, shown, snap.Lineup.Screening)
	return v
}

// currentView is the view for a full page render.
func (h *hub) currentView() (showView, error) {
	snap, err := h.cfg.Shows.Snapshot(h.key)
	if err != nil {
		return showView{}, err
	}
	return h.view(snap), nil
}

// forget drops what the hub knows of a number's caller (after a block, an
// unblock or new notes), so the next render fetches it again.
func (h *hub) forget(number string) {
	h.callers.forget(number)
	h.nudge()
}

// addChat appends a chat message and tells the API's clients.
func (h *hub) addChat(m chatMsg) {
	h.chat.add(m)
	h.mu.Lock()
	h.publishLocked("chat", messageOf(m))
	h.mu.Unlock()
	h.nudge()
}

// setAirLimit sets the on-air warning and tells the API's clients.
func (h *hub) setAirLimit(d time.Duration) {
	h.mu.Lock()
	h.airLimit = d
	h.publishSettingsLocked()
	h.mu.Unlock()
	h.nudge()
}
