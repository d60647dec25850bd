package broadcast

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/callin-radio/callin/ari"
)

// DefaultHoldBridgeSize is how many callers a holding bridge of the pool
// takes by default. On a real Asterisk every join and leave costs work for
// each member of the bridge and each bridge event carries the whole member
// list: at 600 callers in one bridge, promotes were 3 times slower and a
// burst of arrivals stalled; 50 per bridge kept both flat (lab, Asterisk
// 22.10.1, 2026-11-30).
const DefaultHoldBridgeSize = 50

// holding is a show's holding media on one node: the pool of holding
// bridges callers wait in, their music, and the talkback that speaks in
// them (talkback.go). A show has one today, on its node; one per node is
// the way to a show across nodes (issue 24), so nothing here assumes the
// show's node: it uses its own.
//
// mu guards the pool, every holdBridge's fields and the talkback; musicMu
// is held across the requests that start and stop music, and taken before
// mu. Lock order: musicMu, mu, then show.mu (to tell subscribers: a
// holding change emits its media state under both), then air.mu and
// node.mu. Nothing holding show.mu takes mu.
type holding struct {
	s     *show
	node  *node
	first string // the pool's first bridge, always kept: "callin-<show>-hold"

	// musicMu orders the requests that start and stop the holding bridges'
	// music (held across them, unlike mu): a start that is in flight when a
	// talkback begins lands before the talkback's stop, never after it.
	musicMu sync.Mutex

	mu       sync.Mutex
	holds    []*holdBridge          // the pool of holding bridges; the first is first
	holdByID map[string]*holdBridge // the same, by bridge id
	talkback talkback               // nil when none is on
	// talkbackBy names who started the talkback on (TalkbackOptions.By);
	// read only while talkback is not nil.
	talkbackBy string
}

func newHolding(s *show, n *node, first string) *holding {
	hm := &holding{s: s, node: n, first: first, holdByID: map[string]*holdBridge{}}
	// The first holding bridge is created by the resync that opens the
	// show, or by the first caller who finds it missing (joinHold).
	b := newHoldBridge(first)
	close(b.ready)
	hm.addHold(b)
	return hm
}

// emitMedia tells the show's subscribers the media state. Callers hold
// hm.mu.
//
// The studio's holding tells the media state (UpdateMedia), as a show on
// one node always has; in a show across nodes every holding also tells
// its node's load (UpdateLoad).
func (hm *holding) emitMedia() {
	studio := hm == hm.s.studioHold()
	var m MediaState
	if studio {
		m = hm.media()
	}
	var l NodeLoad
	if hm.s.spread() {
		l = hm.load()
	}
	hm.s.mu.Lock()
	if studio {
		hm.s.emit(Update{Kind: UpdateMedia, Media: m})
	}
	if hm.s.spread() {
		hm.s.emit(Update{Kind: UpdateLoad, Load: l})
	}
	hm.s.mu.Unlock()
	hm.node.roomChanged()
}

// load is the show's load on the holding's node. Callers hold hm.mu.
func (hm *holding) load() NodeLoad {
	l := NodeLoad{Node: hm.node.name, Studio: hm == hm.s.studioHold(), State: hm.node.healthNow().State,
		Held: hm.holdMembers(), Bridges: hm.holdsInUse(), Music: hm.musicOn(), Capacity: hm.node.cfg.Capacity,
		Full: hm.node.room.full.Load()}
	if hm.talkback != nil {
		l.Talkback, l.TalkbackBridges = true, hm.talkback.reach()
	}
	return l
}

// loadNow is load, taking hm.mu.
func (hm *holding) loadNow() NodeLoad {
	hm.mu.Lock()
	defer hm.mu.Unlock()
	return hm.load()
}

// tell tells the show's subscribers the media state, after a change of
// another part (the hosts on air).
func (hm *holding) tell() {
	hm.mu.Lock()
	defer hm.mu.Unlock()
	hm.emitMedia()
}

// media is the show's media state: the pool's, the talkback's and the
// hosts on air. Callers hold hm.mu.
func (hm *holding) media() MediaState {
	m := MediaState{Music: hm.musicOn(), Talkback: hm.talkback != nil, HoldMembers: hm.holdMembers(),
		HoldBridges: hm.holdsInUse(), Hosts: hm.s.air.hostList(), HostLines: hm.s.air.hostLines()}
	if hm.talkback != nil {
		m.TalkbackBridges = hm.talkback.reach()
		m.TalkbackBy = hm.talkbackBy
		if lt, ok := hm.talkback.(*liveTalkback); ok && lt.joined {
			m.TalkbackLine = lt.line
		}
	}
	return m
}

// holdBridge is one holding bridge of a show's pool. Its fields are guarded
// by holding.mu.
type holdBridge struct {
	id    string
	ready chan struct{} // closed once the bridge exists in Asterisk (or failed to)
	err   error         // why creating it failed; set before ready is closed

	members int             // channels in it, from its Entered/Left events
	joining map[string]bool // callers on their way in, until their Entered: counted when choosing a bridge
	// spare: created ahead of need, taken only when every other bridge is
	// full (see pickHold); never removed for being empty while spare.
	spare bool

	// Bridge music on hold stops for good whenever the bridge loses its
	// last member (no event says so, and the Left events' member lists may
	// still name the music's own channel: traces 12b-d), so POST /moh, which
	// is idempotent, is owed after every join (trace 12's rule).
	musicWant uint64 // bumped by each join, and when a talkback ends
	musicDone uint64 // the musicWant the last successful POST /moh covered
	playing   bool   // music started and the bridge not emptied since: for the console
	// heldBy is the talkback line, relay or playback that stopped the
	// music to speak here: no music until it has gone (talkback.go).
	heldBy string
}

func newHoldBridge(id string) *holdBridge {
	return &holdBridge{id: id, ready: make(chan struct{}), joining: map[string]bool{}}
}

// load is how full the bridge is for choosing one.
func (h *holdBridge) load() int { return h.members + len(h.joining) }

// holdSize is the most callers per holding bridge; a negative size means
// one bridge for the whole line.
func (hm *holding) holdSize() int {
	switch {
	case hm.s.cfg.HoldBridgeSize < 0:
		return int(^uint(0) >> 1)
	case hm.s.cfg.HoldBridgeSize == 0:
		return DefaultHoldBridgeSize
	}
	return hm.s.cfg.HoldBridgeSize
}

// holdPoolID names the n-th holding bridge of the pool (n from 1; the first
// keeps the name a single holding bridge has always had).
func (hm *holding) holdPoolID(n int) string {
	if n == 1 {
		return hm.first
	}
	return hm.first + "-" + strconv.Itoa(n)
}

// isHold reports whether a bridge id is one of the show's holding bridges,
// whether or not the pool has it now (after a restart it may not yet).
func (hm *holding) isHold(id string) bool {
	if id == hm.first {
		return true
	}
	rest, ok := strings.CutPrefix(id, hm.first+"-")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(rest)
	return err == nil && n > 1 && strconv.Itoa(n) == rest
}

// addHold puts a bridge in the pool and the node's index. Callers hold hm.mu.
func (hm *holding) addHold(h *holdBridge) {
	hm.holds = append(hm.holds, h)
	hm.holdByID[h.id] = h
	hm.node.indexBridge(h.id, hm.s)
}

// removeHold takes a bridge out of the pool. Callers hold hm.mu.
func (hm *holding) removeHold(h *holdBridge) {
	for i, x := range hm.holds {
		if x == h {
			hm.holds = append(hm.holds[:i:i], hm.holds[i+1:]...)
			break
		}
	}
	delete(hm.holdByID, h.id)
	hm.node.unindexBridge(h.id)
}

// pickHold chooses the holding bridge a caller's channel joins: the least
// filled that has room, else the spare (see below), else a new one when
// all are full. It counts the channel as joining it; the caller of
// pickHold must call joined. Callers are never moved between holding
// bridges to rebalance: where a caller holds has nothing to do with their
// place in line.
//
// In a pool of big bridges (spareFrom callers or more), when the bridges
// in use have less than half a bridge of room left (but some) and no
// talkback is live, the next bridge is created ahead of need, as a spare:
// on the real Asterisk, with 540 callers arriving at 60/s, creating a
// bridge took up to 452 ms and every caller who picked it waited for it
// (issue 25).
func (hm *holding) pickHold(ctx context.Context, chanID string) (*holdBridge, error) {
	hm.mu.Lock()
	size := hm.holdSize()
	var best, spare *holdBridge
	for _, h := range hm.holds {
		switch {
		case h.err != nil:
		case h.spare:
			spare = h
		case h.load() < size && (best == nil || h.load() < best.load()):
			best = h
		}
	}
	create := best == nil && spare == nil
	switch {
	case best == nil && spare != nil:
		best, spare = spare, nil
		best.spare = false
	case create:
		best = hm.newPoolBridge()
	}
	best.joining[chanID] = true
	room := 0
	for _, h := range hm.holds {
		if h.err == nil && !h.spare {
			room += max(size-h.load(), 0)
		}
	}
	var ahead *holdBridge
	if size >= spareFrom && spare == nil && !create && room > 0 && room < size/2 && hm.talkback == nil {
		ahead = hm.newPoolBridge()
		ahead.spare = true
	}
	hm.mu.Unlock()
	if ahead != nil {
		// Not in the worker pool: callers waiting for this bridge may fill
		// it. One spare per show at most, so one such goroutine.
		go hm.openHold(context.WithoutCancel(ctx), ahead)
	}
	if create {
		hm.openHold(ctx, best)
	}
	select {
	case <-best.ready:
	case <-ctx.Done():
		hm.joined(best, chanID, false)
		return nil, ctx.Err()
	}
	if best.err != nil {
		hm.joined(best, chanID, false)
		return nil, best.err
	}
	return best, nil
}

// spareFrom is the smallest bridge size whose pool keeps a spare: the big
// lines the pool is for (README: bridges of 25-50). Small bridges are for
// small lines, whose bridges are few and seldom made, and a spare there
// would be one more bridge for a talkback to reach.
const spareFrom = 25

// newPoolBridge adds the pool's next bridge, not yet created in Asterisk
// (openHold does). Callers hold hm.mu.
func (hm *holding) newPoolBridge() *holdBridge {
	n := 1
	for hm.holdByID[hm.holdPoolID(n)] != nil {
		n++
	}
	h := newHoldBridge(hm.holdPoolID(n))
	hm.addHold(h)
	return h
}

// openHold creates a new bridge of the pool in Asterisk and marks it ready
// (or failed, and out of the pool); a live talkback reaches it too.
func (hm *holding) openHold(ctx context.Context, h *holdBridge) {
	err := hm.createHold(ctx, h.id)
	hm.mu.Lock()
	h.err = err
	close(h.ready)
	if err != nil {
		hm.removeHold(h)
	}
	live := err == nil && hm.live() != nil && hm.live().joined
	hm.mu.Unlock()
	if live {
		hm.node.submitOrLog(func(ctx context.Context) { hm.startRelay(ctx, h.id) })
	}
}

// createHold creates a holding bridge; one that exists already is adopted.
func (hm *holding) createHold(ctx context.Context, id string) error {
	_, err := hm.node.ari.CreateBridge(ctx, id, ari.BridgeHolding, hm.s.key)
	if err != nil && !errors.Is(err, ari.ErrConflict) {
		return telErr("create holding bridge "+id, err)
	}
	return nil
}

// joined ends a caller's join of h; ok says the caller is in, and so the
// bridge's music is owed a POST /moh.
func (hm *holding) joined(h *holdBridge, chanID string, ok bool) {
	hm.mu.Lock()
	delete(h.joining, chanID)
	if ok {
		h.musicWant++
	}
	hm.mu.Unlock()
	if ok {
		hm.s.kickMusic()
	}
	hm.maybeShrink(h)
}

// joinHold puts a caller's channel into a holding bridge of the pool (out
// of whichever bridge it is in) and waits until it has entered; the music
// is started again after it (see holdBridge).
func (hm *holding) joinHold(ctx context.Context, chanID string) error {
	h, err := hm.pickHold(ctx, chanID)
	if err != nil {
		return err
	}
	err = hm.node.moveTo(ctx, chanID, h.id, "")
	if errors.Is(err, ari.ErrNotFound) {
		// The bridge is gone from Asterisk (destroyed behind our back, or
		// not yet recreated after a restart): create it and try once more.
		if err = hm.createHold(ctx, h.id); err == nil {
			err = hm.node.moveTo(ctx, chanID, h.id, "")
		}
	}
	hm.joined(h, chanID, err == nil)
	return err
}

// holdChanged follows a holding bridge's membership from its events. The
// member lists the events carry are not used: the last member's Left event
// can name the music's announcer channel (trace 12b).
func (hm *holding) holdChanged(id, chanID string, entered bool) {
	hm.mu.Lock()
	h := hm.holdByID[id]
	if h != nil {
		if entered {
			delete(h.joining, chanID) // counted as a member from here on
			h.members++
		} else if h.members > 0 {
			h.members--
			if h.members == 0 {
				h.playing = false // Asterisk removed the music with the last member
			}
		}
		hm.emitMedia()
	}
	hm.mu.Unlock()
	if h != nil && !entered {
		hm.maybeShrink(h)
	}
}

// maybeShrink removes an empty holding bridge beyond the pool's first.
func (hm *holding) maybeShrink(h *holdBridge) {
	hm.mu.Lock()
	drop := h.id != hm.first && h.load() == 0 && !h.spare && hm.holdByID[h.id] == h && h.err == nil && hm.talkback == nil
	if drop {
		select {
		case <-h.ready:
		default:
			drop = false // still being created
		}
	}
	if drop {
		hm.removeHold(h)
		hm.emitMedia()
	}
	hm.mu.Unlock()
	if drop {
		hm.node.submitOrLog(func(ctx context.Context) {
			if err := hm.node.ari.DestroyBridge(ctx, h.id); err != nil && !errors.Is(err, ari.ErrNotFound) {
				hm.node.log.Warn("broadcast: removing an empty holding bridge failed", "bridge", h.id, "err", err)
			}
		})
	}
}

// shrinkAll removes the pool's empty bridges beyond the first (after a
// talkback, during which none is removed).
func (hm *holding) shrinkAll() {
	hm.mu.Lock()
	hs := slices.Clone(hm.holds)
	hm.mu.Unlock()
	for _, h := range hs {
		hm.maybeShrink(h)
	}
}

// holdIDs lists the pool's bridges. Callers hold hm.mu.
func (hm *holding) holdIDs() []string {
	ids := make([]string, len(hm.holds))
	for i, h := range hm.holds {
		ids[i] = h.id
	}
	return ids
}

// wantMusic owes every holding bridge a POST /moh (after a resync) and
// asks for it.
func (hm *holding) wantMusic() {
	hm.mu.Lock()
	for _, h := range hm.holds {
		h.musicWant++
	}
	hm.mu.Unlock()
	hm.s.kickMusic()
}

// ensureMusic sends POST /moh to every holding bridge that is owed one,
// unless a talkback holds the bridge's one announcer role (heldBy). A
// failure is retried at the show loop's next tick.
func (hm *holding) ensureMusic(ctx context.Context) {
	if !hm.node.driving() {
		return // standing by: another instance owns the bridges
	}
	hm.musicMu.Lock()
	defer hm.musicMu.Unlock()
	type owed struct {
		h    *holdBridge
		want uint64
	}
	hm.mu.Lock()
	var todo []owed
	for _, h := range hm.holds {
		if h.musicWant != h.musicDone && h.err == nil && h.heldBy == "" {
			todo = append(todo, owed{h, h.musicWant})
		}
	}
	hm.mu.Unlock()
	for _, o := range todo {
		select {
		case <-o.h.ready:
		default:
			continue // still being created: its first join will owe it again
		}
		if err := hm.node.ari.StartBridgeMOH(ctx, o.h.id, hm.s.cfg.MOHClass); err != nil {
			if ctx.Err() == nil {
				hm.node.log.Warn("broadcast: starting music on hold failed; retrying", "show", hm.s.key, "bridge", o.h.id, "err", err)
			}
			continue
		}
		hm.mu.Lock()
		before := hm.musicOn()
		o.h.musicDone = max(o.h.musicDone, o.want)
		o.h.playing = true
		if hm.musicOn() != before {
			hm.emitMedia()
		}
		hm.mu.Unlock()
	}
}

// musicOn says whether every holding bridge with callers plays its music,
// as far as callin can know (no event confirms it). Callers hold hm.mu.
func (hm *holding) musicOn() bool {
	any := false
	for _, h := range hm.holds {
		if h.members == 0 {
			continue
		}
		any = true
		if !h.playing {
			return false
		}
	}
	return any
}

// holdsInUse counts the pool's bridges, the spare aside. Callers hold hm.mu.
func (hm *holding) holdsInUse() int {
	n := 0
	for _, h := range hm.holds {
		if !h.spare {
			n++
		}
	}
	return n
}

// holdMembers counts the channels in the pool. Callers hold hm.mu.
func (hm *holding) holdMembers() int {
	n := 0
	for _, h := range hm.holds {
		n += h.members
	}
	return n
}

// lost forgets the members and music of the pool's bridges, whose node
// is lost (node.lost): its resync, should it come back, counts them anew.
func (hm *holding) lost() {
	hm.mu.Lock()
	defer hm.mu.Unlock()
	for _, h := range hm.holds {
		h.members, h.playing = 0, false
		clear(h.joining)
	}
	hm.emitMedia()
}
