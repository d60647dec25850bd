package broadcast

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// resync makes the node's shows agree with what Asterisk lists, after a
// (re)connect: events from the gap are lost and never replayed.
func (n *node) resync(ctx context.Context, gen uint64) error {
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
	for _, c := range chans {
		listed[c.ID] = true
	}
	// The channels the app is subscribed to explicitly (they survive a
	// reconnect, trace 11, and a callin restart): no need to subscribe again.
	subs := map[string]bool{}
	if app, err := n.ari.GetApplication(ctx, n.app.cfg.App); err == nil {
		for _, id := range app.ChannelIDs {
			subs[id] = true
		}
	} else {
		n.log.Warn("broadcast: resync could not read the app's subscriptions; subscribing again", "err", err)
	}
	// Forget channels Asterisk no longer has (their ChannelDestroyed was
	// lost); the calls among them vanish below.
	n.mu.Lock()
	for id, ref := range n.chans {
		if !listed[id] && ref.gen < gen && ref.role != roleCaller {
			delete(n.chans, id)
		}
	}
	n.mu.Unlock()
	for _, s := range n.shows {
		if err := s.resync(ctx, gen, byID, inBridge, stasis, listed, subs); err != nil {
			return fmt.Errorf("show %s: %w", s.key, err)
		}
	}
	return nil
}

// resync rebuilds one show. See the package doc.
func (s *show) resync(ctx context.Context, gen uint64, byID map[string]ari.Bridge, inBridge map[string]string,
	stasis []ari.Channel, listed, subs map[string]bool) error {
	n := s.node
	for _, id := range []string{s.holdID, s.airID} {
		if _, ok := byID[id]; ok {
			continue
		}
		if err := s.createBridge(ctx, id); err != nil {
			return err
		}
	}
	s.adoptHolds(byID)
	// Every transition of the resync reaches subscribers as one update, so
	// that hundreds of readmissions never look like a slow console.
	s.mu.Lock()
	s.batch = []queue.Transition{}
	s.mu.Unlock()
	defer s.flushBatch()
	screenPrefix := s.screenID("")
	recalled := s.recall(ctx) // by channel id; nil when the store could not answer
	now := s.app.cfg.Now()
	present := map[string]bool{}
	for _, ch := range stasis {
		bridge := inBridge[ch.ID]
		ref := n.lookup(ch.ID)
		args := strings.Split(ch.Dialplan.AppData, ",")[1:]
		mine := s.isHold(bridge) || bridge == s.airID || strings.HasPrefix(bridge, screenPrefix) ||
			(ref != nil && ref.show == s) || (ref == nil && bridge == "" && len(args) > 0 && args[0] == s.key)
		if !mine || (ref != nil && ref.show != s) {
			continue
		}
		if ref != nil && ref.role != roleCaller {
			continue // a host, screener or talkback line we know
		}
		if ref != nil && bridge == "" {
			s.mu.Lock()
			cur, err := s.q.Get(ref.callID)
			s.mu.Unlock()
			if err == nil && (cur.State == queue.StateArriving || cur.Pending != "") {
				// Being admitted or moved right now (a move is Left, then
				// Entered): the job doing it owns the channel, and a
				// second answer or addChannel would only race it.
				continue
			}
		}
		if ref == nil && (strings.HasPrefix(ch.ID, "callin-") || len(args) > 1) {
			// One of our lines from before a restart: a host stays on air.
			if bridge == s.airID && len(args) > 1 && args[1] == roleHost || strings.HasPrefix(ch.ID, "callin-host-") && bridge == s.airID {
				n.index(ch.ID, &chanRef{show: s, role: roleHost})
				s.mu.Lock()
				s.hosts[ch.ID] = true
				s.mu.Unlock()
			}
			continue
		}
		// An unknown channel is claimed before any request: its
		// StasisStart may be in flight, and then exactly one of the
		// arrival path and this resync admits it.
		var rc Recalled
		var haveRC, claimed bool
		if ref == nil {
			rc, haveRC = recalled[ch.ID]
			id := rc.ID
			if !haveRC {
				id = newID()
			}
			if !n.claim(ch.ID, &chanRef{show: s, callID: id, role: roleCaller, sub: subPending}) {
				continue // its StasisStart came meanwhile: the arrival path has it
			}
			claimed = true
			rc.ID = id
			if subs[ch.ID] {
				n.mu.Lock()
				n.chans[ch.ID].sub = subscribed
				n.mu.Unlock()
			} else {
				n.subscribe(ch.ID)
			}
		}
		r := queue.Readmission{Arrival: queue.Arrival{
			Number: ch.Caller.Number, Name: ch.Caller.Name, Node: n.name, ChannelID: ch.ID,
		}}
		switch {
		case s.isHold(bridge):
			r.State = queue.StateWaiting
		case bridge == s.airID:
			r.State = queue.StateOnAir
		case strings.HasPrefix(bridge, screenPrefix):
			r.State, r.Screener = queue.StateScreening, "unknown"
		default:
			// In Stasis but in no bridge (arrived in the gap, or
			// mid-move): back to the holding bridge.
			if ch.State != ari.StateUp {
				if err := n.ari.AnswerChannel(ctx, ch.ID); err != nil {
					n.log.Warn("broadcast: resync answer failed", "channel", ch.ID, "err", err)
					if claimed {
						n.unindex(ch.ID)
					}
					continue
				}
			}
			if err := s.joinHold(ctx, ch.ID); err != nil {
				n.log.Warn("broadcast: resync add to holding bridge failed", "channel", ch.ID, "err", err)
				if claimed {
					n.unindex(ch.ID)
				}
				continue
			}
			r.State = queue.StateWaiting
		}
		if ref != nil {
			r.CallID = ref.callID
			s.mu.Lock()
			cur, err := s.q.Get(ref.callID)
			s.mu.Unlock()
			if err == nil {
				r.Screener, r.Muted, r.Locked = cur.Screener, cur.Muted, cur.Locked
				if r.State == queue.StateWaiting && cur.State == queue.StateReady {
					r.State = queue.StateReady // the holding bridge carries both
				}
				if r.State == queue.StateScreening && cur.Screener != "" {
					r.Screener = cur.Screener
				}
			}
		} else {
			if haveRC {
				r.CallID, r.ArrivedAt, r.Seq, r.Notes, r.WasOnAir, r.Was = rc.ID, rc.ArrivedAt, rc.LastSeq, rc.Notes, rc.WasOnAir, rc.State
				if r.State == queue.StateWaiting && rc.State == queue.StateReady {
					r.State = queue.StateReady
				}
			} else {
				// No history: a fresh id, arrival at the channel's
				// creation, Seq from 0 (the readmission is Seq 1).
				r.CallID, r.ArrivedAt = rc.ID, ch.CreationTime.Time
			}
		}
		s.mu.Lock()
		_, ts, err := s.q.Readmit(now, r)
		if err == nil {
			s.publish(ts)
		}
		s.mu.Unlock()
		if err != nil && claimed {
			n.unindex(ch.ID)
		}
		if errors.Is(err, queue.ErrGone) {
			n.hangup(ctx, ch.ID, ari.HangupNormal) // ended here, still there: finish it
			continue
		}
		if err != nil {
			n.log.Warn("broadcast: readmit failed", "channel", ch.ID, "err", err)
			continue
		}
		present[r.CallID] = true
		if r.State == queue.StateScreening {
			n.mu.Lock()
			n.bridges[bridge] = s
			n.mu.Unlock()
		}
	}
	// Calls Asterisk no longer has end; calls first seen on this connection
	// are newer than the listing and stay.
	s.mu.Lock()
	l := s.q.List()
	var gone []queue.Call
	for _, grp := range [][]queue.Call{l.Waiting, l.Ready, l.OnAir, l.Screening, l.Arriving} {
		for _, c := range grp {
			if present[c.ID] {
				continue
			}
			ref := n.lookup(c.ChannelID)
			if ref != nil && (ref.gen >= gen || listed[c.ChannelID]) {
				continue
			}
			gone = append(gone, c)
		}
	}
	for _, c := range gone {
		if _, ts, err := s.q.Vanish(now, c.ID); err == nil {
			s.publish(ts)
		}
		delete(s.talking, c.ID)
		delete(s.announcing, c.ID)
		n.unindex(c.ChannelID)
	}
	tb := s.talkback
	s.mu.Unlock()
	if recalled != nil {
		s.endStale(now, recalled)
		s.mu.Lock()
		s.staleBefore, s.sweeps = time.Time{}, 0
		s.mu.Unlock()
	}
	if tb != nil {
		// A line that did not survive ends; so does a message, whose
		// PlaybackFinished may have been lost with the connection (a guess:
		// no trace shows a bridge playback across a reconnect).
		if tb.chanID == "" || !listed[tb.chanID] {
			s.mu.Lock()
			if s.talkback == tb {
				s.talkback = nil
				s.emitMedia()
			}
			s.mu.Unlock()
		}
	}
	// The music's state is unknown after a gap: POST /moh is idempotent.
	s.wantMusic()
	return nil
}

// adoptHolds makes the pool agree with the holding bridges Asterisk lists:
// pool bridges from before a restart of callin are adopted with their
// member counts, and bridges Asterisk no longer has (after its restart)
// leave the pool, except the first, which the resync has recreated.
func (s *show) adoptHolds(byID map[string]ari.Bridge) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, b := range byID {
		if !s.isHold(id) {
			continue
		}
		h := s.holdByID[id]
		if h == nil {
			h = newHoldBridge(id)
			close(h.ready)
			s.addHold(h)
		}
		h.members = len(b.Channels)
		h.playing = false
	}
	for _, h := range slices.Clone(s.holds) {
		if _, ok := byID[h.id]; ok || h.load() > 0 {
			continue
		}
		if h.id == s.holdID {
			h.members = 0
			continue
		}
		select {
		case <-h.ready:
			s.removeHold(h)
		default: // being created right now
		}
	}
	s.emitMedia()
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

// endStale ends, in the history, the open calls that neither Asterisk nor
// the show has: callers who hung up while callin was not connected (their
// events are lost for good, trace 11b). Each is ended once: the history
// writer keeps the first transition of a (call, seq).
func (s *show) endStale(now time.Time, recalled map[string]Recalled) {
	if s.app.cfg.Sink == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rc := range recalled {
		if !s.staleBefore.IsZero() && !rc.ArrivedAt.Before(s.staleBefore) {
			continue // arrived after the resync: the show has seen it
		}
		t, err := s.q.EndStale(now, queue.Readmission{
			Arrival: queue.Arrival{CallID: rc.ID, Number: rc.Number, Name: rc.Name, Node: s.node.name, ChannelID: rc.ChannelID},
			State:   rc.State, Seq: rc.LastSeq, Notes: rc.Notes, WasOnAir: rc.WasOnAir,
		})
		if err != nil {
			continue // live or ended in the show: not stale
		}
		s.app.cfg.Sink.Record(t)
	}
}

// sweepStale ends the stale calls a resync could not, because the history
// store did not answer then (a database outage): only calls that arrived
// before that resync, which the show would otherwise know.
func (s *show) sweepStale(ctx context.Context) {
	s.mu.Lock()
	due := !s.staleBefore.IsZero() && s.app.cfg.Now().Sub(s.staleBefore) >= s.app.cfg.SweepEvery*time.Duration(s.sweeps)
	s.mu.Unlock()
	if !due || s.node.ready() != nil {
		return
	}
	calls, err := s.app.cfg.Recall.OpenCalls(ctx, s.key)
	if err != nil {
		s.mu.Lock()
		s.sweeps++
		s.mu.Unlock()
		return
	}
	recalled := map[string]Recalled{}
	for _, c := range calls {
		if c.Node == "" || c.Node == s.node.name {
			recalled[c.ChannelID] = c
		}
	}
	s.endStale(s.app.cfg.Now(), recalled)
	s.mu.Lock()
	s.staleBefore, s.sweeps = time.Time{}, 0
	s.mu.Unlock()
}

// recall loads the stored open calls of the show, by channel id on this
// node. When the store cannot answer, the readmissions go on without
// history and a later sweep ends the stale calls (see sweepStale).
func (s *show) recall(ctx context.Context) map[string]Recalled {
	out := map[string]Recalled{}
	rc := s.app.cfg.Recall
	if rc == nil {
		return out // nothing stored: nothing stale
	}
	calls, err := rc.OpenCalls(ctx, s.key)
	if err != nil {
		s.node.log.Warn("broadcast: recall failed; readmitting without history", "show", s.key, "err", err)
		s.mu.Lock()
		if s.staleBefore.IsZero() {
			s.staleBefore = s.app.cfg.Now()
		}
		s.mu.Unlock()
		return nil
	}
	for _, c := range calls {
		if c.Node == "" || c.Node == s.node.name {
			out[c.ChannelID] = c
		}
	}
	return out
}

// createBridge creates one of the show's bridges; one that exists already
// (409, created meanwhile) is adopted.
func (s *show) createBridge(ctx context.Context, id string) error {
	typ := ari.BridgeHolding
	if id == s.airID {
		typ = ari.BridgeMixing
	}
	_, err := s.node.ari.CreateBridge(ctx, id, typ, s.key)
	if err != nil && !errors.Is(err, ari.ErrConflict) {
		return fmt.Errorf("create bridge %s: %w", id, err)
	}
	return nil
}
