package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/api/from"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/stream"
)

// The API's event stream (GET /api/v1/shows/{show}/events): every event
// of a show is numbered by the show's events, the API's subscriber to its
// feed (web/feed), and kept in a ring of the last
// Config.Ring for Last-Event-ID; the kinds and their data are the
// document's Event schema. Transitions come from broadcast's updates, and
// so do the show-level events (lines, settings, recording, talkback,
// node) and the screenings on phones (screening.go); chat messages and the
// on-air warning come from the hub (hub.addChat, hub.setAirLimit, told
// through changed).

// event is one numbered event as the API streams it.
type event struct {
	id   int64
	name string
	data []byte
}

// apiFeed is what the event stream last told API clients of the show, to
// send only changes; reset from a snapshot at every subscription.
type apiFeed struct {
	settings broadcast.Settings
	talkback api.TalkbackEvent
	hosts    []broadcast.HostLine
}

// events is the API's subscriber to a show's feed: it numbers the show's
// events, keeps the last Config.Ring of them and sends them to its
// clients. Its lock guards all of it.
type events struct {
	cfg      *core.Config
	log      *slog.Logger
	key      string
	airLimit func() time.Duration // the show's on-air warning, for settings events

	mu      sync.Mutex
	ring    []event // ring[i%len] for ids in (next-len, next)
	next    int64   // the next event id
	first   int64   // the oldest id still in the ring
	clients stream.Set
	last    apiFeed

	// The marks tying snapshots to event ids (asof.go): applied is the
	// Seq of the last update handled, marks the last marks (nmarks in
	// all), moved is closed when applied moves (nil: nobody waits).
	applied uint64
	marks   [marks]mark
	nmarks  int
	moved   chan struct{}
	// sent is the settings last sent (nil: none yet), so that the same
	// settings are not sent twice; holding counts the PATCHes under way
	// (holdSettings), owed says a settings event waits for their end.
	sent    *api.Settings
	holding int
	owed    bool
}

func newEvents(cfg *core.Config, log *slog.Logger, key string, airLimit func() time.Duration) *events {
	// Ids start at the clock in microseconds, so a restarted server's ids
	// are above the old ones and a stale Last-Event-ID gets a reset.
	start := cfg.Now().UnixMicro()
	return &events{cfg: cfg, log: log, key: key, airLimit: airLimit,
		ring: make([]event, cfg.Ring), next: start, first: start, clients: map[*stream.Client]struct{}{}}
}

// Subscribed takes what the stream compares with from a snapshot taken
// after subscribing.
func (h *events) Subscribed() {
	snap, err := h.cfg.Shows.Snapshot(h.key)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = apiFeed{settings: snap.Settings, talkback: talkbackOf(snap.Media), hosts: snap.Media.HostLines}
	st := from.Settings(snap.Settings, h.airLimit())
	h.sent = &st
	if !snap.Resyncing {
		h.appliedLocked(snap.Seq)
	}
}

func talkbackOf(m broadcast.MediaState) api.TalkbackEvent {
	if !m.Talkback {
		return api.TalkbackEvent{} // the pool's size changes are not talkback events
	}
	return api.TalkbackEvent{Active: true, Line: m.TalkbackLine, Bridges: m.TalkbackBridges, HoldBridges: max(m.HoldBridges, 1), By: m.TalkbackBy}
}

// Update turns one broadcast update into the API's events.
func (h *events) Update(u broadcast.Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	defer h.appliedLocked(u.Seq)
	switch u.Kind {
	case broadcast.UpdateTransition:
		h.publishLocked("transition", from.Transition(u.Transition))
	case broadcast.UpdateResync: // one update however many callers it readmitted
		if len(u.Transitions) <= h.cfg.ClientBuffer/2 {
			for _, t := range u.Transitions {
				h.publishLocked("transition", from.Transition(t))
			}
			break
		}
		// More than a client's buffer takes at once: the transitions go
		// to the ring, and each client is told to reload (or to resume
		// from its last id, which the ring still holds).
		for _, t := range u.Transitions {
			h.ringLocked("transition", from.Transition(t))
		}
		msg := h.resetMsg(fmt.Sprintf("resynchronised with Asterisk: %d transitions", len(u.Transitions)))
		for c := range h.clients {
			if !c.Send(msg) {
				delete(h.clients, c)
			}
		}
	case broadcast.UpdateSettings:
		if u.Settings.LinesOpen != h.last.settings.LinesOpen {
			h.publishLocked("lines", api.LinesEvent{Open: u.Settings.LinesOpen})
		}
		h.last.settings = u.Settings
		h.publishSettingsLocked()
	case broadcast.UpdateRecording:
		h.publishLocked("recording", from.RecordingState(u.Recording))
	case broadcast.UpdateMedia:
		if tb := talkbackOf(u.Media); tb != h.last.talkback {
			h.last.talkback = tb
			h.publishLocked("talkback", tb)
		}
		if !slices.Equal(u.Media.HostLines, h.last.hosts) {
			h.last.hosts = u.Media.HostLines
			h.publishLocked("host", api.HostLines{HostLines: from.HostLines(u.Media.HostLines)})
		}
	case broadcast.UpdateNode:
		h.publishLocked("node", api.NodeEvent{Node: u.Node.Node, State: u.Node.State, Since: u.Node.Since})
	case broadcast.UpdateScreening:
		h.publishLocked("screening", screeningEventOf(u.Screening))
	case broadcast.UpdateLoad:
		h.publishLocked("load", from.NodeLoad(u.Load))
	case broadcast.UpdateStudio:
		h.publishLocked("studio", from.Studio(u.Studio))
	}
}

// publishSettingsLocked sends the show's settings as last known, with
// the on-air warning, unless they are the settings last sent, or a PATCH
// of them is under way (holdSettings: it sends them once done); h.mu
// held. One change, one settings event (issue 22, point 6).
func (h *events) publishSettingsLocked() {
	if h.holding > 0 {
		h.owed = true
		return
	}
	st := from.Settings(h.last.settings, h.airLimit())
	if h.sent != nil && *h.sent == st {
		return
	}
	h.sent = &st
	h.publishLocked("settings", st)
}

// settingsChanged sends the show's settings (the on-air warning changed).
func (h *events) settingsChanged() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.publishSettingsLocked()
}

// publish numbers an event, keeps it in the ring and sends it to the API
// clients (publishLocked).
func (h *events) publish(name string, v any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.publishLocked(name, v)
}

// publishLocked numbers an event, keeps it in the ring and sends it to
// the API clients; h.mu held. A client too slow to take it is
// disconnected.
func (h *events) publishLocked(name string, v any) {
	msg := h.ringLocked(name, v)
	if msg == nil {
		return
	}
	for c := range h.clients {
		if !c.Send(msg) {
			delete(h.clients, c)
			h.log.Warn("web: API event client too slow, disconnected", "show", h.key)
		}
	}
}

// ringLocked numbers an event and keeps it in the ring, and returns it
// encoded (nil if it cannot be); h.mu held.
func (h *events) ringLocked(name string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		h.log.Error("web: encode event", "show", h.key, "event", name, "err", err)
		return nil
	}
	ev := event{id: h.next, name: name, data: data}
	h.next++
	h.ring[ev.id%int64(len(h.ring))] = ev
	if h.next-h.first > int64(len(h.ring)) {
		h.first = h.next - int64(len(h.ring))
	}
	return stream.Encode(ev.id, name, data)
}

// Lost tells every API client that events were lost.
func (h *events) Lost(why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	msg := h.resetMsg(why)
	for c := range h.clients {
		if !c.Send(msg) {
			delete(h.clients, c)
		}
	}
}

// resetMsg is the event telling a client to reload its state; h.mu held.
// It carries the newest event id as its id, so that a client (a browser's
// EventSource) reconnects from there rather than from the stale id that
// got it the reset, which would get it another (issue 22, point 6).
func (h *events) resetMsg(why string) []byte {
	data, _ := json.Marshal(api.ResetEvent{Reason: why, LastID: h.next - 1})
	return stream.Encode(h.next-1, "reset", data)
}

// attach registers an API client, first queueing the ring's events after
// lastID, or a reset when lastID is out of the ring. lastID < 0: none. A
// client made without a buffer gets one of ClientBuffer messages plus
// room for its replay, so a stream costs the ring only when it replays it.
func (h *events) attach(c *stream.Client, lastID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	replay := int64(1) // a reset
	if lastID >= h.first-1 && lastID < h.next {
		replay = h.next - 1 - lastID
	}
	c.EnsureBuffer(h.cfg.ClientBuffer + int(replay))
	switch {
	case lastID < 0:
	case lastID < h.first-1 || lastID >= h.next:
		c.Send(h.resetMsg(fmt.Sprintf("event %d is not in the last %d", lastID, len(h.ring))))
	default:
		for id := lastID + 1; id < h.next; id++ {
			ev := h.ring[id%int64(len(h.ring))]
			if !c.Send(stream.Encode(ev.id, ev.name, ev.data)) {
				return
			}
		}
	}
	h.clients[c] = struct{}{}
}

// detach removes a client.
func (h *events) detach(c *stream.Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
}

// Run waits for the show's hub to stop, then kicks every client.
func (h *events) Run(ctx context.Context) {
	<-ctx.Done()
	h.closeAll()
}

// Changed sends a chat message, or the show's settings when the on-air
// warning changed; the API shows no other change of the hub's.
func (h *events) Changed(c core.Change) {
	if c.Chat != nil {
		h.publish("chat", messageOf(*c.Chat))
	}
	if c.Settings {
		h.settingsChanged()
	}
}

// closeAll kicks every client when the show's hub stops.
func (h *events) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clients.KickAll()
}

func screeningEventOf(sc broadcast.Screening) api.ScreeningEvent {
	e := api.ScreeningEvent{CallID: sc.CallID, Screener: sc.Screener, Phone: sc.Phone, State: string(sc.State),
		Message: core.ScreeningWords(sc), Cause: sc.Cause, Started: sc.Started}
	if sc.State != broadcast.ScreenRinging {
		r, end := from.Seconds(sc.Rang), sc.Ended
		e.Rang, e.Ended = &r, &end
	}
	return e
}
