package web

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/feed"
	"github.com/callin-radio/callin/web/stream"
)

// hub is one show's live side: the show's one feed (package feed) and
// its two subscribers, the console's renderer and the API's event stream,
// with what both show of the show besides broadcast's updates:
//
//   - the feed: the show's one subscription to the broadcast application,
//     resubscribed when lost (web/feed);
//   - the API's event stream: numbered events in a ring for Last-Event-ID,
//     and its clients (api_events.go);
//   - the browser clients and their renders (consoles.go), coalesced by
//     the renderer (render.go) to at most one every Config.RenderEvery,
//     each line row rendered once per change (rows.go);
//   - the chat (chat.go) and the on-air warning, which both audiences
//     show;
//   - the profiles and notes of the callers shown (callerinfo.go).
//
// It knows the server's configuration, not the server.
type hub struct {
	cfg *Config
	log *slog.Logger
	key string

	feed     *feed.Show
	render   *renderer
	events   *events
	consoles *consoles
	chat     *chatLog
	callers  *callerInfo

	mu       sync.Mutex // guards airLimit
	airLimit time.Duration
}

func newHub(cfg *Config, log *slog.Logger, key string) *hub {
	h := &hub{cfg: cfg, log: log, key: key,
		consoles: newConsoles(key, log, cfg.rendered),
		chat:     &chatLog{},
		callers:  newCallerInfo(cfg.History, cfg.Notes, key, log),
		airLimit: 10 * time.Minute}
	h.render = newRenderer(cfg.RenderEvery, h.renderAll)
	h.events = newEvents(cfg, log, key, h.airLimitNow)
	h.feed = feed.New(key, cfg.Feed, cfg.retry, log, h.events, h.render)
	return h
}

// run follows the show and serves its clients until ctx ends.
func (h *hub) run(ctx context.Context) {
	var wg sync.WaitGroup
	if h.callers.on() {
		wg.Go(func() { h.callers.run(ctx, h.nudge) })
	}
	if h.cfg.Chat != nil {
		wg.Go(func() { h.chat.load(ctx, h.cfg.Chat, h.key, h.cfg.retry, h.log, h.nudge) })
	}
	wg.Go(func() { h.render.run(ctx) })
	defer wg.Wait()
	defer h.closeAll()
	h.feed.Run(ctx)
}

// nudge asks for a render soon.
func (h *hub) nudge() { h.render.nudge() }

// attachConsole registers a browser client (a console or a host view);
// the next render sends it every part.
func (h *hub) attachConsole(c *stream.Client) {
	h.consoles.attach(c)
	h.nudge()
}

// detach removes a client, of either kind.
func (h *hub) detach(c *stream.Client) {
	h.events.detach(c)
	h.consoles.detach(c)
}

// closeAll kicks every client when the hub stops.
func (h *hub) closeAll() {
	h.events.closeAll()
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
	h.events.publish("chat", messageOf(m))
	h.nudge()
}

// airLimitNow is the show's on-air warning.
func (h *hub) airLimitNow() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.airLimit
}

// setAirLimit sets the on-air warning and tells the API's clients.
func (h *hub) setAirLimit(d time.Duration) {
	h.mu.Lock()
	h.airLimit = d
	h.mu.Unlock()
	h.events.settingsChanged()
	h.nudge()
}
