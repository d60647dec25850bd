package broadcast

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// resync makes the node's shows agree with what Asterisk lists, after a
// (re)connect: events from the gap are lost and never replayed.
func (n *node) resync(ctx context.Context, gen uint64) error {
	return n.resyncShows(ctx, gen, n.showList(), true)
}

// resyncShows is resync for some of the node's shows; strays also hangs
// up the trunk legs callin does not know (a whole resync's job).
func (n *node) resyncShows(ctx context.Context, gen uint64, shows []*show, strays bool) error {
	bridges, err := n.ari.ListBridges(ctx)
	if err != nil {
		return fmt.Errorf("list bridges: %w", err)
	}
	chans, err := n.ari.ListChannels(ctx)
	if err != nil {
		return fmt.Errorf("list channels: %w", err)
	}
	byID := make(map[string]ari.Bridge, len(bridges))
	inBridge := map[string]string{}
	for _, b := range bridges {
		byID[b.ID] = b
		for _, c := range b.Channels {
			inBridge[c] = b.ID
		}
	}
	// Only our application's channels: in Stasis(<app>[,args]).
	var stasis []ari.Channel
	for _, c := range chans {
		app, _, _ := strings.Cut(c.Dialplan.AppData, ",")
		if strings.EqualFold(c.Dialplan.AppName, "Stasis") && app == n.app.cfg.App {
			stasis = append(stasis, c)
		}
	}
	listed := make(map[string]bool, len(chans))
	var ringing []ari.Channel // host lines rung before a restart, not answered yet
	for _, c := range chans {
		listed[c.ID] = true
		if !strings.EqualFold(c.Dialplan.AppName, "Stasis") && hostLineShow(c.ID) != "" {
			ringing = append(ringing, c)
		}
	}
	// Forget channels Asterisk no longer has (their ChannelDestroyed was
	// lost); the calls among them vanish below, host lines here (after
	// n.mu: the lock order has air.mu first).
	hostsGone := map[string]*show{} // host line → its show
	n.mu.Lock()
	for id, ref := range n.chans {
		if !listed[id] && ref.gen < gen && (ref.role != roleCaller || ref.lost) {
			delete(n.chans, id)
			if ref.role == roleHost {
				hostsGone[id] = ref.show
			}
		}
	}
	n.mu.Unlock()
	for id, s := range hostsGone {
		s.hostGone(id)
	}
	if strays {
		n.hangupStrayTrunks(stasis)
	}
	for _, s := range shows {
		if err := s.resync(ctx, n, gen, byID, inBridge, stasis, ringing, listed); err != nil {
			return fmt.Errorf("show %s: %w", s.key, err)
		}
	}
	return nil
}

// resync rebuilds one show on node n (see the package doc): it gathers
// what Asterisk lists and the history store has, lets the queue decide
// (queue.Show.PlanResync), and carries the plan out. A show across nodes
// is rebuilt node by node: only the calls held on n are n's to readmit or
// end, and only the studio has the on-air and screening bridges.
func (s *show) resync(ctx context.Context, n *node, gen uint64, byID map[string]ari.Bridge, inBridge map[string]string,
	stasis, ringing []ari.Channel, listed map[string]bool) error {
	hm := s.holdOn(n)
	ids := []string{hm.first}
	if n == s.studio() {
		ids = append(ids, s.air.id)
	}
	for _, id := range ids {
		if _, ok := byID[id]; ok {
			continue
		}
		if err := s.createBridge(ctx, n, id); err != nil {
			return err
		}
	}
	hm.adoptHolds(byID)
	// Every transition of the resync reaches subscribers as one update, so
	// that hundreds of readmissions never look like a slow console.
	s.mu.Lock()
	s.batch = []queue.Transition{}
	s.mu.Unlock()
	defer s.flushBatch()

	stored := s.recall(ctx, n) // nil when the store could not answer
	l := queue.Listing{Stored: stored, Keep: map[string]bool{}}
	if s.spread() {
		l.Node = n.name
	}
	chans := map[string]ari.Channel{}
	var claimed []string
	for _, ch := range stasis {
		c, ok, claim := s.listedCaller(n, ch, inBridge[ch.ID], stored)
		if ok {
			l.Callers = append(l.Callers, c)
			chans[ch.ID] = ch
		}
		if claim {
			claimed = append(claimed, ch.ID)
		}
	}
	now := s.app.cfg.Now()
	s.mu.Lock()
	l.StoredBefore = s.staleBefore
	s.keep(n, gen, listed, l.Keep)
	plan := s.q.PlanResync(now, l)
	s.mu.Unlock()

	s.carryOut(ctx, n, plan, chans, inBridge, claimed)
	if n == s.studio() {
		for _, ch := range ringing {
			if hostLineShow(ch.ID) == s.key {
				s.adoptRinging(n, ch)
			}
		}
	}
	s.destroyStrayTrunkBridges(ctx, n, byID)
	if stored != nil {
		s.mu.Lock()
		s.staleBefore, s.sweeps = time.Time{}, 0
		s.mu.Unlock()
	}
	hm.resyncTalkback(listed)
	// The music's state is unknown after a gap: POST /moh is idempotent.
	hm.wantMusic()
	return nil
}

// listedCaller says whether a channel in the app is a caller of this show
// that the resync readmits, and claims one the node does not know (claim
// is then true). An unknown channel is claimed before any request: its
// StasisStart may be in flight, and then exactly one of the arrival path
// and this resync admits it. A known host line from before a restart is
// re-indexed here.
func (s *show) listedCaller(n *node, ch ari.Channel, bridge string, stored map[string]queue.Stored) (c queue.Listed, ok, claim bool) {
	ref := n.lookup(ch.ID)
	args := strings.Split(ch.Dialplan.AppData, ",")[1:]
	place := s.place(n, bridge)
	mine := place != "" || (ref != nil && ref.show == s) || (ref == nil && bridge == "" && len(args) > 0 && args[0] == s.key) ||
		s.strayTrunkCaller(bridge, args)
	switch {
	case !mine || (ref != nil && ref.show != s):
		return c, false, false
	case ref != nil && ref.role != roleCaller:
		return c, false, false // a host, screener or talkback line we know
	case ref == nil && (strings.HasPrefix(ch.ID, "callin-") || len(args) > 1):
		if n == s.studio() { // the studio's lines; no other node has any
			s.adoptLine(ch.ID, args, bridge)
		}
		return c, false, false
	}
	if place == "" {
		place = queue.PlaceNone
	}
	c = queue.Listed{Place: place, Arrival: queue.Arrival{
		Number: ch.Caller.Number, Name: ch.Caller.Name, Node: n.name, ChannelID: ch.ID, ArrivedAt: ch.CreationTime.Time,
	}}
	if ref != nil {
		c.CallID = ref.callID
		return c, true, false
	}
	c.CallID = newID()
	if st, ok := stored[ch.ID]; ok {
		c.CallID = st.CallID
	}
	if !n.claim(ch.ID, &chanRef{show: s, callID: c.CallID, role: roleCaller, sub: subPending}) {
		return c, false, false // its StasisStart came meanwhile: the arrival path has it
	}
	// Subscribed again, even if it was before a restart of callin:
	// GET /applications does not tell explicit subscriptions from Stasis's
	// own (trace 10), and a second reference only ends with the channel.
	n.subscribe(ch.ID)
	return c, true, true
}

// adoptLine deals with one of our lines from before a restart: a host
// stays on air (one still ringing is adoptRinging's); call-back and talkback lines and relays are hung up (nobody
// would take the key a call-back waits for, or stop a talkback); a
// screener's line is left to end with its caller (they may still be
// talking).
func (s *show) adoptLine(chanID string, args []string, bridge string) {
	role := ""
	if len(args) > 1 {
		role = args[1]
	}
	talkback := role == roleTalkback || role == roleRelay || isTalkbackLine(chanID)
	if talkback {
		s.studioHold().adoptTalkbackLine(chanID, bridge)
	}
	if talkback || role == roleCallback {
		s.studio().submitOrLog(func(ctx context.Context) { s.studio().hangup(ctx, chanID, ari.HangupNormal) })
		return
	}
	place := s.place(s.studio(), bridge)
	if place != queue.PlaceAir || !(len(args) > 1 && args[1] == roleHost || strings.HasPrefix(chanID, "callin-host-")) {
		return
	}
	s.studio().index(chanID, &chanRef{show: s, role: roleHost})
	s.air.addHost(chanID, s.app.cfg.Now())
}

// place says which of the show's bridges on node n a bridge id is (""
// for none).
func (s *show) place(n *node, bridge string) queue.Place {
	switch {
	case bridge == "":
		return ""
	case s.holdOn(n).isHold(bridge):
		return queue.PlaceHold
	case strings.HasPrefix(bridge, s.trunkBridge("")):
		if !s.knownTrunkBridge(bridge) {
			return "" // a stray: back to hold (strayTrunkCaller)
		}
		return queue.PlaceAir // on air across the trunk (trunk.go)
	case n != s.studio():
		return ""
	case bridge == s.air.id:
		return queue.PlaceAir
	case strings.HasPrefix(bridge, s.screenID("")):
		return queue.PlaceScreen
	}
	return ""
}

// keep adds to keep the live calls the resync must not end although no
// listed caller carries them: first seen on this connection (newer than the
// listing), or listed but being admitted or moved right now (a move is
// Left, then Entered: the job doing it owns the channel, and a second
// answer or addChannel would only race it). Only calls held on node n
// are n's resync's to keep or end. Callers hold s.mu.
func (s *show) keep(n *node, gen uint64, listed map[string]bool, keep map[string]bool) {
	l := s.q.List()
	for _, grp := range [][]queue.Call{l.Waiting, l.Ready, l.OnAir, l.Screening, l.Arriving} {
		for _, c := range grp {
			if s.nodeOf(c) != n {
				continue
			}
			ref := n.lookup(c.ChannelID)
			if ref != nil && (ref.gen >= gen || listed[c.ChannelID] && (c.State == queue.StateArriving || c.Pending != "")) {
				keep[c.ID] = true
			}
		}
	}
}

// carryOut does what a resync plan says: callers in no bridge go on hold,
// the listed callers are readmitted, the vanished end, the stale stored
// calls are ended in the history, and channels of ended calls hung up.
func (s *show) carryOut(ctx context.Context, n *node, p queue.Plan, chans map[string]ari.Channel, inBridge map[string]string, claimed []string) {
	failed := map[string]bool{}
	// Callers in no bridge go on hold resyncMoves at a time: one after the
	// other, each waiting for its ChannelEnteredBridge, hundreds found
	// after a gap took seconds.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		slot = make(chan struct{}, resyncMoves)
	)
	for _, r := range p.Readmit {
		if !p.ToHold[r.ChannelID] {
			continue
		}
		slot <- struct{}{}
		wg.Go(func() {
			defer func() { <-slot }()
			if err := s.toHold(ctx, n, chans[r.ChannelID]); err != nil {
				n.log.Warn("broadcast: resync could not put a caller on hold", "channel", r.ChannelID, "err", err)
				mu.Lock()
				failed[r.ChannelID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	now := s.app.cfg.Now()
	s.mu.Lock()
	for _, r := range p.Readmit {
		if failed[r.ChannelID] {
			continue
		}
		_, ts, err := s.q.Readmit(now, r)
		if err != nil {
			n.log.Warn("broadcast: readmit failed", "channel", r.ChannelID, "err", err)
			failed[r.ChannelID] = true
			continue
		}
		s.publish(ts)
		if r.State == queue.StateScreening {
			n.indexBridge(inBridge[r.ChannelID], s)
		}
	}
	for _, id := range p.Vanish {
		c, ts, err := s.q.Vanish(now, id)
		if err != nil {
			continue
		}
		s.publish(ts) // its record goes with the end transition (forget)
		n.unindex(c.ChannelID)
	}
	if sink := s.app.cfg.Sink; sink != nil {
		for _, t := range p.Stale {
			sink.Record(t)
		}
	}
	s.mu.Unlock()
	for _, id := range claimed {
		if failed[id] {
			n.unindex(id) // a later resync or its StasisStart tries again
		}
	}
	for _, id := range p.Hangup {
		n.hangup(ctx, id, ari.HangupNormal) // ended here, still there: finish it
	}
}

// resyncMoves is how many callers found in no bridge a resync puts on hold
// at once.
const resyncMoves = 16

// toHold answers a caller found in no bridge (if need be) and puts it in a
// holding bridge.
func (s *show) toHold(ctx context.Context, n *node, ch ari.Channel) error {
	if ch.State != ari.StateUp {
		if err := n.ari.AnswerChannel(ctx, ch.ID); err != nil {
			return err
		}
	}
	return s.holdOn(n).joinHold(ctx, ch.ID)
}

// adoptTalkbackLine follows a talkback line or relay from before a restart
// until it has gone: one that may announce in a holding bridge (a line, a
// relay's far half; a relay's near half only listens in the first) keeps
// that bridge's music off until it has left (announcerLeft).
func (hm *holding) adoptTalkbackLine(chanID, bridge string) {
	hm.node.index(chanID, &chanRef{show: hm.s, role: roleRelay, bridge: bridge})
	if !hm.isHold(bridge) || !(strings.HasPrefix(chanID, talkbackPrefix) || strings.HasSuffix(chanID, "-far")) {
		return
	}
	hm.mu.Lock()
	if h := hm.holdByID[bridge]; h != nil {
		h.heldBy = chanID
	}
	hm.mu.Unlock()
}

// resyncTalkback ends a talkback that did not survive the gap: a line
// Asterisk no longer lists, or a message, whose PlaybackFinished may have
// been lost with the connection (a guess: no trace shows a bridge playback
// across a reconnect). A live talkback that did survive loses the relays
// Asterisk no longer lists, and their bridges get their music back.
func (hm *holding) resyncTalkback(listed map[string]bool) {
	hm.mu.Lock()
	tb, lt := hm.talkback, hm.live()
	var gone []*relay // relays Asterisk ended in the gap
	if lt != nil {
		for _, r := range lt.relays {
			if !listed[r.near] || !listed[r.far] {
				gone = append(gone, r)
			}
		}
	}
	hm.mu.Unlock()
	if tb != nil && (lt == nil || !listed[lt.line]) {
		hm.dropTalkback(tb, listed)
		return
	}
	for _, r := range gone {
		hm.relayGone(r.far, r.bridge) // its bridge gets its music back
	}
}

// adoptHolds makes the pool agree with the holding bridges Asterisk lists:
// pool bridges from before a restart of callin are adopted with their
// member counts, and bridges Asterisk no longer has (after its restart)
// leave the pool, except the first, which the resync has recreated.
func (hm *holding) adoptHolds(byID map[string]ari.Bridge) {
	hm.mu.Lock()
	defer hm.mu.Unlock()
	for id, b := range byID {
		if !hm.isHold(id) {
			continue
		}
		h := hm.holdByID[id]
		if h == nil {
			h = newHoldBridge(id)
			close(h.ready)
			hm.addHold(h)
		}
		h.members = 0
		for _, c := range b.Channels {
			if !isTalkbackLine(c) { // callers only
				h.members++
			}
		}
		h.playing = false
	}
	for _, h := range slices.Clone(hm.holds) {
		if _, ok := byID[h.id]; ok || h.load() > 0 {
			continue
		}
		if h.id == hm.first {
			h.members = 0
			continue
		}
		select {
		case <-h.ready:
			hm.removeHold(h)
		default: // being created right now
		}
	}
	hm.emitMedia()
}

// flushBatch ends the resync's batch: its transitions go to subscribers as
// one update.
func (s *show) flushBatch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.batch
	s.batch = nil
	s.emit(Update{Kind: UpdateResync, Transitions: ts})
}

// sweepStale ends the stale calls a resync could not, because the history
// store did not answer then (a database outage): only calls that arrived
// before that resync, which the show would otherwise know. It backs off
// while the store stays down.
func (s *show) sweepStale(ctx context.Context) {
	s.mu.Lock()
	before := s.staleBefore
	due := !before.IsZero() && s.app.cfg.Now().Sub(before) >= s.app.cfg.SweepEvery*time.Duration(s.sweeps)
	s.mu.Unlock()
	if !due || s.studio().ready() != nil {
		return
	}
	stored := s.recall(ctx, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if stored == nil {
		s.sweeps++
		return
	}
	if sink := s.app.cfg.Sink; sink != nil {
		for _, t := range s.q.StaleCalls(s.app.cfg.Now(), stored, before) {
			sink.Record(t)
		}
	}
	s.staleBefore, s.sweeps = time.Time{}, 0
}

// recallTimeout bounds reading the stored open calls: a resync waits no
// longer than this for a database that does not answer, and goes on
// without history (a sweep ends the stale calls later).
const recallTimeout = 2 * time.Second

// recall loads the stored open calls of the show on node n (nil: on every
// node), by channel id. When the store cannot answer it returns nil: the
// readmissions go on without history and a later sweep ends the stale
// calls (see sweepStale).
func (s *show) recall(ctx context.Context, n *node) map[string]queue.Stored {
	out := map[string]queue.Stored{}
	rc := s.app.cfg.Recall
	if rc == nil {
		return out // nothing stored: nothing stale
	}
	rctx, cancel := context.WithTimeout(ctx, recallTimeout)
	calls, err := rc.OpenCalls(rctx, s.key)
	cancel()
	if err != nil {
		s.studio().log.Warn("broadcast: recall failed; readmitting without history", "show", s.key, "err", err)
		s.mu.Lock()
		if s.staleBefore.IsZero() {
			s.staleBefore = s.app.cfg.Now()
		}
		s.mu.Unlock()
		return nil
	}
	for _, c := range calls {
		if n == nil && (c.Node == "" || s.spanAt.Load().holds[c.Node] != nil) || n != nil && (c.Node == n.name || c.Node == "" && n == s.studio()) {
			out[c.ChannelID] = c
		}
	}
	return out
}

// createBridge creates one of the show's bridges; one that exists already
// (409, created meanwhile) is adopted.
func (s *show) createBridge(ctx context.Context, n *node, id string) error {
	typ := ari.BridgeHolding
	if id == s.air.id {
		typ = ari.BridgeMixing
	}
	_, err := n.ari.CreateBridge(ctx, id, typ, s.key)
	if err != nil && !errors.Is(err, ari.ErrConflict) {
		return fmt.Errorf("create bridge %s: %w", id, err)
	}
	return nil
}

// hangupStrayTrunks hangs up the trunk legs in the app that callin does
// not know (from before a restart of callin, or a promote that gave up):
// no leg is left open.
func (n *node) hangupStrayTrunks(stasis []ari.Channel) {
	for _, ch := range stasis {
		args := strings.Split(ch.Dialplan.AppData, ",")[1:]
		token, far := ari.TrunkToken(args)
		if far {
			n.app.trunkMu.Lock()
			far = n.app.trunk.byToken[token] == nil // else a promote waits for it: its StasisStart is on its way
			n.app.trunkMu.Unlock()
		}
		near := len(args) > 1 && args[1] == roleTrunk
		if (far || near) && n.lookup(ch.ID) == nil {
			n.submitOrLog(func(ctx context.Context) { n.hangup(ctx, ch.ID, ari.HangupNormal) })
		}
	}
}
