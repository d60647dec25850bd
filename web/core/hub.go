package core

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/callin-radio/callin/web/feed"
)

// hub is one show's live side that both audiences share: the show's one
// feed (package feed), the chat (chat.go) and the on-air warning, which
// both audiences show. Each audience keeps its own side of the show, a
// feed subscriber that the hub tells of what changes besides broadcast's
// updates:
//
//   - the console's (consoleShow, console_live.go): the browser clients
//     and their renders (consoles.go), coalesced by the renderer
//     (render.go) to at most one every Config.RenderEvery, each line row
//     rendered once per change (rows.go), with the profiles and notes of
//     the callers shown (callerinfo.go);
//   - the API's event stream (events, api_events.go): numbered events in
//     a ring for Last-Event-ID, and its clients.
//
// It knows the server's configuration, not the server, nor what an
// audience does with a change.
type hub struct {
	cfg *Config
	log *slog.Logger
	key string

	feed  *feed.Show
	chat  *chatLog
	sides []side

	mu       sync.Mutex // guards airLimit
	airLimit time.Duration
}

// side is one audience's side of a show: a subscriber of the show's feed,
// told of the show's other changes, served until the hub stops (and then
// ending its clients).
type side interface {
	feed.Subscriber
	run(ctx context.Context)
	changed(c change)
}

// change is what changed of a show besides broadcast's updates: a chat
// message, the on-air warning (settings), what is known of a caller's
// number (forgot: fetch it again), or, all zero, the chat as loaded.
type change struct {
	chat     *chatMsg
	settings bool
	forgot   string
}

func newHub(cfg *Config, log *slog.Logger, key string) *hub {
	return &hub{cfg: cfg, log: log, key: key, chat: &chatLog{}, airLimit: 10 * time.Minute}
}

// follow makes the show's feed, handing every update to sides in order,
// and tells them of the show's changes from now on. Call it once, before
// run.
func (h *hub) follow(sides ...side) {
	subs := make([]feed.Subscriber, len(sides))
	for i, s := range sides {
		subs[i] = s
	}
	h.sides = sides
	h.feed = feed.New(h.key, h.cfg.Feed, h.cfg.retry, h.log, subs...)
}

// run follows the show and serves its sides until ctx ends.
func (h *hub) run(ctx context.Context) {
	var wg sync.WaitGroup
	if h.cfg.Chat != nil {
		wg.Go(func() { h.chat.load(ctx, h.cfg.Chat, h.key, h.cfg.retry, h.log, func() { h.tell(change{}) }) })
	}
	for _, s := range h.sides {
		wg.Go(func() { s.run(ctx) })
	}
	defer wg.Wait()
	h.feed.Run(ctx)
}

// tell tells every side of a change.
func (h *hub) tell(c change) {
	for _, s := range h.sides {
		s.changed(c)
	}
}

// forget drops what the consoles know of a number's caller (after a
// block, an unblock or new notes), so the next render fetches it again.
func (h *hub) forget(number string) { h.tell(change{forgot: number}) }

// addChat appends a chat message and tells both audiences.
func (h *hub) addChat(m chatMsg) {
	h.chat.add(m)
	h.tell(change{chat: &m})
}

// airLimitNow is the show's on-air warning.
func (h *hub) airLimitNow() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.airLimit
}

// setAirLimit sets the on-air warning and tells both audiences.
func (h *hub) setAirLimit(d time.Duration) {
	h.mu.Lock()
	h.airLimit = d
	h.mu.Unlock()
	h.tell(change{settings: true})
}
