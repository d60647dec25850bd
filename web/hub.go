package web

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// hub is one show's live side: it holds the one subscription to the
// broadcast application, numbers transitions for the API's event stream
// (kept in a ring for Last-Event-ID), and renders the console fragments
// once per role for every console, coalescing updates within RenderEvery.
type hub struct {
	s   *Server
	key string

	poke chan struct{} // something changed that needs a render; cap 1
	want chan string   // numbers whose profile to fetch

	mu       sync.Mutex
	ring     []event // ring[i%len] for ids in (next-len, next)
	next     int64   // the next event id
	first    int64   // the oldest id still in the ring
	api      map[*client]struct{}
	feed     apiFeed // what the API's show events compare with (api_events.go)
	consoles map[*client]struct{}
	frags    map[auth.Role]rendered  // last render sent, per role
	rows     map[auth.Role]*rowCache // line rows per role; renderAll's alone, no lock
	chat     []chatMsg
	airLimit time.Duration
	profiles map[string]*queue.Profile // nil value: fetch in progress
}

// chatMsg is one message of the show chat; ID is the Chat store's (0 when
// the chat is in memory only).
type chatMsg struct {
	ID   int64
	At   time.Time
	From string
	Text string
}

// client is one SSE connection. Messages are pre-encoded and shared; a
// client whose buffer is full is kicked: gone closes and it is removed.
type client struct {
	ch       chan []byte
	gone     chan struct{}
	role     auth.Role
	needFull bool // send every fragment at the next render
}

func newClient(role auth.Role, n int) *client {
	return &client{ch: make(chan []byte, n), gone: make(chan struct{}), role: role, needFull: true}
}

// send queues msg for c without blocking; false when c was kicked for
// being too slow. The hub's lock is held.
func (c *client) send(msg []byte) bool {
	select {
	case c.ch <- msg:
		return true
	default:
		close(c.gone)
		return false
	}
}

const (
	chatKeep     = 50     // chat messages kept per show
	profileLimit = 20_000 // profiles cached per show before the cache is cleared
)

func newHub(s *Server, key string) *hub {
	// Ids start at the clock in microseconds, so a restarted server's ids
	// are above the old ones and a stale Last-Event-ID gets a reset.
	start := s.cfg.Now().UnixMicro()
	return &hub{s: s, key: key,
		poke: make(chan struct{}, 1), want: make(chan string, 1024),
		ring: make([]event, s.cfg.Ring), next: start, first: start,
		api: map[*client]struct{}{}, consoles: map[*client]struct{}{},
		frags: map[auth.Role]rendered{}, rows: map[auth.Role]*rowCache{}, profiles: map[string]*queue.Profile{},
		airLimit: 10 * time.Minute}
}

// run subscribes to the show and serves its clients until ctx ends,
// resubscribing (and telling API clients to reset) when the subscription
// is lost.
func (h *hub) run(ctx context.Context) {
	var wg sync.WaitGroup
	if h.s.cfg.History != nil {
		wg.Go(func() { h.fetchProfiles(ctx) })
	}
	if h.s.cfg.Chat != nil {
		wg.Go(func() { h.loadChat(ctx) })
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
		sub, err := h.s.cfg.Feed.Subscribe(h.key)
		if err != nil {
			h.s.log.Error("web: subscribe", "show", h.key, "err", err)
			retry.Reset(h.s.cfg.retry)
			continue
		}
		h.apiSubscribed()
		h.nudge()
		h.consume(ctx, sub)
		sub.Close()
		if ctx.Err() != nil {
			return
		}
		h.s.log.Warn("web: show subscription lost; resubscribing", "show", h.key, "err", sub.Err())
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
			timer.Reset(h.s.cfg.RenderEvery)
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

// attachConsole registers a console client; the next render sends it every
// fragment.
func (h *hub) attachConsole(c *client) {
	h.mu.Lock()
	h.consoles[c] = struct{}{}
	h.mu.Unlock()
	h.nudge()
}

// detach removes a client.
func (h *hub) detach(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.api, c)
	delete(h.consoles, c)
}

// closeAll kicks every client when the hub stops.
func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.api {
		close(c.gone)
	}
	for c := range h.consoles {
		close(c.gone)
	}
	clear(h.api)
	clear(h.consoles)
}

// renderAll renders the fragments for every role with a console and sends
// what changed: a line group's changed rows alone (one "rows" event of
// out-of-band swaps) when rowOps can, else the changed fragments whole.
// New consoles get every fragment whole. Line rows come from each role's
// rowCache, so a render costs the rows that changed, not the whole line;
// a group is assembled whole only when a console needs it whole.
func (h *hub) renderAll(ctx context.Context) {
	h.mu.Lock()
	roles := map[auth.Role]bool{}
	for c := range h.consoles {
		roles[c.role] = true
	}
	h.mu.Unlock()
	if len(roles) == 0 {
		return
	}
	snap, err := h.s.cfg.Shows.Snapshot(h.key)
	if err != nil {
		h.s.log.Error("web: snapshot", "show", h.key, "err", err)
		return
	}
	v := h.view(snap)
	v.Live = true
	for role := range h.rows { // no console of the role left: free its rows
		if !roles[role] {
			delete(h.rows, role)
		}
	}
	now := map[auth.Role]rendered{}
	for role := range roles {
		rc := h.rows[role]
		if rc == nil {
			rc = newRowCache(permsOf(role))
			h.rows[role] = rc
		}
		before := rc.renders
		now[role] = renderFragments(ctx, v, rc)
		if h.s.cfg.rendered != nil {
			h.s.cfg.rendered(role, rc.renders-before)
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	type part struct {
		role auth.Role
		name string
	}
	wholes := map[part][]byte{} // fragments whole, each assembled once
	whole := func(role auth.Role, name string) []byte {
		b, ok := wholes[part{role, name}]
		if !ok {
			b = now[role].whole(ctx, name)
			wholes[part{role, name}] = b
		}
		return b
	}
	msgs := map[auth.Role][][]byte{} // what changed, per role
	for role, r := range now {
		old, had := h.frags[role]
		var rows []byte
		for _, name := range fragmentNames {
			g, line := r.rows[name]
			switch {
			case !had:
			case !line:
				if bytes.Equal(old.frags[name], r.frags[name]) {
					continue
				}
			default:
				pm := h.rows[role].perms
				ops, ok := rowOps(name, old.rows[name], g, func(c queue.Call, oob string) []byte {
					return renderBytes(ctx, callRow(v, pm, c, oob))
				})
				if ok {
					rows = append(rows, ops...)
					continue
				}
				if g.same(old.rows[name]) { // both empty, say
					continue
				}
			}
			msgs[role] = append(msgs[role], encodeEvent(0, name, whole(role, name)))
		}
		if len(rows) > 0 {
			msgs[role] = append(msgs[role], encodeEvent(0, "rows", rows))
		}
		h.frags[role] = r
	}
	full := map[auth.Role][][]byte{} // every fragment whole, made when needed
	for c := range h.consoles {
		send := msgs[c.role]
		if c.needFull {
			if _, ok := now[c.role]; !ok {
				continue // attached after the roles were counted: the next render
			}
			f, ok := full[c.role]
			if !ok {
				for _, name := range fragmentNames {
					f = append(f, encodeEvent(0, name, whole(c.role, name)))
				}
				full[c.role] = f
			}
			send, c.needFull = f, false
		}
		for _, m := range send {
			if !c.send(m) {
				delete(h.consoles, c)
				h.s.log.Warn("web: console too slow, disconnected", "show", h.key)
				break
			}
		}
	}
}

// view assembles what the templates show: the snapshot with the profiles
// known so far, the chat, the on-air limit and how many waiting callers
// to list. Missing profiles of listed callers are asked for.
func (h *hub) view(snap broadcast.Snapshot) showView {
	v := showView{Snap: snap, Profiles: map[string]queue.Profile{}, Talking: map[string]bool{}, WaitingRows: h.s.cfg.WaitingRows}
	for _, id := range snap.Talking {
		v.Talking[id] = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	v.Chat = append([]chatMsg(nil), h.chat...)
	v.AirLimit = h.airLimit
	if h.s.cfg.History == nil {
		return v
	}
	if len(h.profiles) > profileLimit {
		clear(h.profiles)
	}
	// Only listed callers show a badge: those beyond v.WaitingRows are
	// counted, and their profiles are fetched when they move up.
	next, shown := v.line()
	shown, _ = v.waitingShown(shown)
	for _, calls := range [][]queue.Call{next, shown, snap.Lineup.Screening, snap.Lineup.OnAir} {
		for _, c := range calls {
			p, seen := h.profiles[c.Number]
			switch {
			case p != nil:
				v.Profiles[c.Number] = *p
			case !seen:
				select {
				case h.want <- c.Number:
					h.profiles[c.Number] = nil
				default: // asked again at the next render
				}
			}
		}
	}
	return v
}

// fetchProfiles loads the profiles views ask for, one at a time.
func (h *hub) fetchProfiles(ctx context.Context) {
	for {
		var number string
		select {
		case <-ctx.Done():
			return
		case number = <-h.want:
		}
		// A slow database must not hold profiles back for long; a failed
		// one is retried at a later render.
		fctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		p, err := h.s.cfg.History.CallerProfile(fctx, number)
		cancel()
		h.mu.Lock()
		if err != nil {
			delete(h.profiles, number)
		} else {
			h.profiles[number] = &p
		}
		h.mu.Unlock()
		if err != nil {
			h.s.log.Warn("web: caller profile", "show", h.key, "err", err)
			continue
		}
		h.nudge()
	}
}

// forget drops the cached profiles of a number (after a block or
// unblock): every caller ID that normalises to it.
func (h *hub) forget(number string) {
	h.mu.Lock()
	for k := range h.profiles {
		if k == number || queue.NormalizeNumber(k) == number {
			delete(h.profiles, k)
		}
	}
	h.mu.Unlock()
	h.nudge()
}

// addChat appends a chat message.
func (h *hub) addChat(m chatMsg) {
	h.mu.Lock()
	h.chat = lastChat(append(h.chat, m))
	h.publishLocked("chat", messageOf(m))
	h.mu.Unlock()
	h.nudge()
}

// lastChat keeps the last chatKeep messages.
func lastChat(msgs []chatMsg) []chatMsg {
	if len(msgs) > chatKeep {
		return append([]chatMsg(nil), msgs[len(msgs)-chatKeep:]...)
	}
	return msgs
}

// chatOf is a stored message as the console shows it.
func chatOf(m queue.ShowMessage) chatMsg {
	return chatMsg{ID: m.ID, At: m.At, From: m.Author, Text: m.Body}
}

// loadChat puts the show's recent messages from the Chat store before
// those posted since the hub started, retrying until the store answers or
// ctx ends.
func (h *hub) loadChat(ctx context.Context) {
	wait := time.NewTimer(0)
	defer wait.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
		// A slow database must not hold a retry back for long.
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		msgs, err := h.s.cfg.Chat.ShowMessages(lctx, h.key, chatKeep)
		cancel()
		if err != nil {
			h.s.log.Warn("web: load chat", "show", h.key, "err", err)
			wait.Reset(h.s.cfg.retry)
			continue
		}
		h.mu.Lock()
		all := make([]chatMsg, 0, len(msgs)+len(h.chat))
		seen := map[int64]bool{}
		for _, m := range msgs {
			all = append(all, chatOf(m))
			seen[m.ID] = true
		}
		for _, m := range h.chat { // posted while loading; maybe loaded too
			if !seen[m.ID] {
				all = append(all, m)
			}
		}
		h.chat = lastChat(all)
		h.mu.Unlock()
		h.nudge()
		return
	}
}

// setAirLimit sets the soft limit of time on air.
func (h *hub) setAirLimit(d time.Duration) {
	h.mu.Lock()
	h.airLimit = d
	h.publishSettingsLocked()
	h.mu.Unlock()
	h.nudge()
}

// currentView is the view for a full page render.
func (h *hub) currentView() (showView, error) {
	snap, err := h.s.cfg.Shows.Snapshot(h.key)
	if err != nil {
		return showView{}, err
	}
	return h.view(snap), nil
}

// encodeEvent encodes one SSE message; id 0 means none. Every line of data
// gets its own "data:" field.
func encodeEvent(id int64, name string, data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data) + len(name) + 32 + 7*bytes.Count(data, []byte("\n")))
	if id != 0 {
		b.WriteString("id: " + strconv.FormatInt(id, 10) + "\n")
	}
	b.WriteString("event: " + name + "\n")
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(bytes.TrimSuffix(line, []byte("\r")))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}
