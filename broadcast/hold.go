package broadcast

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/callin-radio/callin/ari"
)

// DefaultHoldBridgeSize is how many callers a holding bridge of the pool
// takes by default. On a real Asterisk every join and leave costs work for
// each member of the bridge and each bridge event carries the whole member
// list: at 600 callers in one bridge, promotes were 3 times slower and a
// burst of arrivals stalled; 50 per bridge kept both flat (lab, Asterisk
// 22.10.1, 2026-11-30).
const DefaultHoldBridgeSize = 50

// holdBridge is one holding bridge of a show's pool. Its fields are guarded
// by the show's mu.
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
func (s *show) holdSize() int {
	switch {
	case s.cfg.HoldBridgeSize < 0:
		return int(^uint(0) >> 1)
	case s.cfg.HoldBridgeSize == 0:
		return DefaultHoldBridgeSize
	}
	return s.cfg.HoldBridgeSize
}

// holdPoolID names the n-th holding bridge of the pool (n from 1; the first
// keeps the name a single holding bridge has always had).
func (s *show) holdPoolID(n int) string {
	if n == 1 {
		return s.holdID
	}
	return s.holdID + "-" + strconv.Itoa(n)
}

// isHold reports whether a bridge id is one of the show's holding bridges,
// whether or not the pool has it now (after a restart it may not yet).
func (s *show) isHold(id string) bool {
	if id == s.holdID {
		return true
	}
	rest, ok := strings.CutPrefix(id, s.holdID+"-")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(rest)
	return err == nil && n > 1 && strconv.Itoa(n) == rest
}

// addHold puts a bridge in the pool and the node's index. Callers hold s.mu.
func (s *show) addHold(h *holdBridge) {
	s.holds = append(s.holds, h)
	s.holdByID[h.id] = h
	s.node.indexBridge(h.id, s)
}

// removeHold takes a bridge out of the pool. Callers hold s.mu.
func (s *show) removeHold(h *holdBridge) {
	for i, x := range s.holds {
		if x == h {
			s.holds = append(s.holds[:i:i], s.holds[i+1:]...)
			break
		}
	}
	delete(s.holdByID, h.id)
	s.node.unindexBridge(h.id)
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
func (s *show) pickHold(ctx context.Context, chanID string) (*holdBridge, error) {
	s.mu.Lock()
	size := s.holdSize()
	var best, spare *holdBridge
	for _, h := range s.holds {
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
		best = s.newPoolBridge()
	}
	best.joining[chanID] = true
	room := 0
	for _, h := range s.holds {
		if h.err == nil && !h.spare {
			room += max(size-h.load(), 0)
		}
	}
	var ahead *holdBridge
	if size >= spareFrom && spare == nil && !create && room > 0 && room < size/2 && s.talkback == nil {
		ahead = s.newPoolBridge()
		ahead.spare = true
	}
	s.mu.Unlock()
	if ahead != nil {
		// Not in the worker pool: callers waiting for this bridge may fill
		// it. One spare per show at most, so one such goroutine.
		go s.openHold(context.WithoutCancel(ctx), ahead)
	}
	if create {
		s.openHold(ctx, best)
	}
	select {
	case <-best.ready:
	case <-ctx.Done():
		s.joined(best, chanID, false)
		return nil, ctx.Err()
	}
	if best.err != nil {
		s.joined(best, chanID, false)
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
// (openHold does). Callers hold s.mu.
func (s *show) newPoolBridge() *holdBridge {
	n := 1
	for s.holdByID[s.holdPoolID(n)] != nil {
		n++
	}
	h := newHoldBridge(s.holdPoolID(n))
	s.addHold(h)
	return h
}

// openHold creates a new bridge of the pool in Asterisk and marks it ready
// (or failed, and out of the pool); a live talkback reaches it too.
func (s *show) openHold(ctx context.Context, h *holdBridge) {
	err := s.createHold(ctx, h.id)
	s.mu.Lock()
	h.err = err
	close(h.ready)
	if err != nil {
		s.removeHold(h)
	}
	live := err == nil && s.talkback != nil && s.talkback.joined
	s.mu.Unlock()
	if live {
		s.node.submitOrLog(func(ctx context.Context) { s.startRelay(ctx, h.id) })
	}
}

// createHold creates a holding bridge; one that exists already is adopted.
func (s *show) createHold(ctx context.Context, id string) error {
	_, err := s.node.ari.CreateBridge(ctx, id, ari.BridgeHolding, s.key)
	if err != nil && !errors.Is(err, ari.ErrConflict) {
		return telErr("create holding bridge "+id, err)
	}
	return nil
}

// joined ends a caller's join of h; ok says the caller is in, and so the
// bridge's music is owed a POST /moh.
func (s *show) joined(h *holdBridge, chanID string, ok bool) {
	s.mu.Lock()
	delete(h.joining, chanID)
	if ok {
		h.musicWant++
	}
	s.mu.Unlock()
	if ok {
		s.kickMusic()
	}
	s.maybeShrink(h)
}

// joinHold puts a caller's channel into a holding bridge of the pool (out
// of whichever bridge it is in) and waits until it has entered; the music
// is started again after it (see holdBridge).
func (s *show) joinHold(ctx context.Context, chanID string) error {
	h, err := s.pickHold(ctx, chanID)
	if err != nil {
		return err
	}
	err = s.moveTo(ctx, chanID, h.id, "")
	if errors.Is(err, ari.ErrNotFound) {
		// The bridge is gone from Asterisk (destroyed behind our back, or
		// not yet recreated after a restart): create it and try once more.
		if err = s.createHold(ctx, h.id); err == nil {
			err = s.moveTo(ctx, chanID, h.id, "")
		}
	}
	s.joined(h, chanID, err == nil)
	return err
}

// holdChanged follows a holding bridge's membership from its events. The
// member lists the events carry are not used: the last member's Left event
// can name the music's announcer channel (trace 12b).
func (s *show) holdChanged(id, chanID string, entered bool) {
	s.mu.Lock()
	h := s.holdByID[id]
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
		s.emitMedia()
	}
	s.mu.Unlock()
	if h != nil && !entered {
		s.maybeShrink(h)
	}
}

// maybeShrink removes an empty holding bridge beyond the pool's first.
func (s *show) maybeShrink(h *holdBridge) {
	s.mu.Lock()
	drop := h.id != s.holdID && h.load() == 0 && !h.spare && s.holdByID[h.id] == h && h.err == nil && s.talkback == nil
	if drop {
		select {
		case <-h.ready:
		default:
			drop = false // still being created
		}
	}
	if drop {
		s.removeHold(h)
		s.emitMedia()
	}
	s.mu.Unlock()
	if drop {
		s.node.submitOrLog(func(ctx context.Context) {
			if err := s.node.ari.DestroyBridge(ctx, h.id); err != nil && !errors.Is(err, ari.ErrNotFound) {
				s.node.log.Warn("broadcast: removing an empty holding bridge failed", "bridge", h.id, "err", err)
			}
		})
	}
}

// shrinkAll removes the pool's empty bridges beyond the first (after a
// talkback, during which none is removed).
func (s *show) shrinkAll() {
	s.mu.Lock()
	hs := slices.Clone(s.holds)
	s.mu.Unlock()
	for _, h := range hs {
		s.maybeShrink(h)
	}
}

// holdIDs lists the pool's bridges. Callers hold s.mu.
func (s *show) holdIDs() []string {
	ids := make([]string, len(s.holds))
	for i, h := range s.holds {
		ids[i] = h.id
	}
	return ids
}

// kickMusic asks the show loop to (re)start the holding bridges' music.
func (s *show) kickMusic() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// wantMusic owes every holding bridge a POST /moh (after a resync) and
// asks for it.
func (s *show) wantMusic() {
	s.mu.Lock()
	for _, h := range s.holds {
		h.musicWant++
	}
	s.mu.Unlock()
	s.kickMusic()
}

// ensureMusic sends POST /moh to every holding bridge that is owed one,
// unless a talkback holds the bridge's one announcer role (heldBy). A
// failure is retried at the show loop's next tick.
func (s *show) ensureMusic(ctx context.Context) {
	if !s.node.driving() {
		return // standing by: another instance owns the bridges
	}
	s.musicMu.Lock()
	defer s.musicMu.Unlock()
	type owed struct {
		h    *holdBridge
		want uint64
	}
	s.mu.Lock()
	var todo []owed
	for _, h := range s.holds {
		if h.musicWant != h.musicDone && h.err == nil && h.heldBy == "" {
			todo = append(todo, owed{h, h.musicWant})
		}
	}
	s.mu.Unlock()
	for _, o := range todo {
		select {
		case <-o.h.ready:
		default:
			continue // still being created: its first join will owe it again
		}
		if err := s.node.ari.StartBridgeMOH(ctx, o.h.id, s.cfg.MOHClass); err != nil {
			if ctx.Err() == nil {
				s.node.log.Warn("broadcast: starting music on hold failed; retrying", "show", s.key, "bridge", o.h.id, "err", err)
			}
			continue
		}
		s.mu.Lock()
		before := s.musicOn()
		o.h.musicDone = max(o.h.musicDone, o.want)
		o.h.playing = true
		if s.musicOn() != before {
			s.emitMedia()
		}
		s.mu.Unlock()
	}
}

// musicOn says whether every holding bridge with callers plays its music,
// as far as callin can know (no event confirms it). Callers hold s.mu.
func (s *show) musicOn() bool {
	any := false
	for _, h := range s.holds {
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

// holdsInUse counts the pool's bridges, the spare aside. Callers hold s.mu.
func (s *show) holdsInUse() int {
	n := 0
	for _, h := range s.holds {
		if !h.spare {
			n++
		}
	}
	return n
}

// holdMembers counts the channels in the pool. Callers hold s.mu.
func (s *show) holdMembers() int {
	n := 0
	for _, h := range s.holds {
		n += h.members
	}
	return n
}
