package core

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/callin-radio/callin/web/feed"
)

// Hub is one show's live side that both audiences share: the show's one
// feed (package feed), the chat (chat.go) and the on-air warning, which
// both audiences show. Each audience keeps its own side of the show, a
// feed subscriber that the hub tells of what changes besides broadcast's
// updates:
//
//   - the console's (package web/console: consoleShow, live.go): the
//     browser clients and their renders (consoles.go), coalesced by the renderer
//     (render.go) to at most one every Config.RenderEvery, each line row
//     rendered once per change (rows.go), with the profiles and notes of
//     the callers shown (callerinfo.go);
//   - the API's event stream (package web/rest: events, events.go):
//     numbered events in a ring for Last-Event-ID, and its clients.
//
// It knows the server's configuration, not the server, nor what an
// audience does with a change.
type Hub struct {
	Cfg *Config
	Log *slog.Logger
	Key string

	feed  *feed.Show
	Chat  *chatLog
	sides []Side

	mu       sync.Mutex // guards airLimit
	airLimit time.Duration
}

// Side is one audience's side of a show: a subscriber of the show's feed,
// told of the show's other changes, served until the hub stops (and then
// ending its clients).
type Side interface {
	feed.Subscriber
	Run(ctx context.Context)
	Changed(c Change)
}

// Change is what changed of a show besides broadcast's updates: a chat
// message, the on-air warning (settings), what is known of a caller's
// number (forgot: fetch it again), or, all zero, the chat as loaded.
type Change struct {
	Chat     *ChatMsg
	Settings bool
	Forgot   string
}

func newHub(cfg *Config, log *slog.Logger, key string) *Hub {
	return &Hub{Cfg: cfg, Log: log, Key: key, Chat: &chatLog{}, airLimit: 10 * time.Minute}
}

// Follow makes the show's feed, handing every update to sides in order,
// and tells them of the show's changes from now on. Call it once, before
// run.
func (h *Hub) Follow(sides ...Side) {
	subs := make([]feed.Subscriber, len(sides))
	for i, s := range sides {
		subs[i] = s
	}
	h.sides = sides
	h.feed = feed.New(h.Key, h.Cfg.Feed, h.Cfg.Retry, h.Log, subs...)
}

// Run follows the show and serves its sides until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if h.Cfg.Chat != nil {
		wg.Go(func() { h.Chat.load(ctx, h.Cfg.Chat, h.Key, h.Cfg.Retry, h.Log, func() { h.tell(Change{}) }) })
	}
	for _, s := range h.sides {
		wg.Go(func() { s.Run(ctx) })
	}
	defer wg.Wait()
	h.feed.Run(ctx)
}

// tell tells every side of a change.
func (h *Hub) tell(c Change) {
	for _, s := range h.sides {
		s.Changed(c)
	}
}

// Forget drops what the consoles know of a number's caller (after a
// block, an unblock or new notes), so the next render fetches it again.
func (h *Hub) Forget(number string) { h.tell(Change{Forgot: number}) }

// AddChat appends a chat message and tells both audiences.
func (h *Hub) AddChat(m ChatMsg) {
	h.Chat.add(m)
	h.tell(Change{Chat: &m})
}

// AirLimitNow is the show's on-air warning.
func (h *Hub) AirLimitNow() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.airLimit
}

// setAirLimit sets the on-air warning and tells both audiences.
func (h *Hub) setAirLimit(d time.Duration) {
	h.mu.Lock()
	h.airLimit = d
	h.mu.Unlock()
	h.tell(Change{Settings: true})
}
