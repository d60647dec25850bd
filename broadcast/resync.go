package broadcast

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
		if err := s.resync(ctx, gen, byID, inBridge, stasis, listed); err != nil {
			return fmt.Errorf("show %s: %w", s.key, err)
		}
	}
	return nil
}

// resync rebuilds one show. See the package doc.
func (s *show) resync(ctx context.Context, gen uint64, byID map[string]ari.Bridge, inBridge map[string]string,
	stasis []ari.Channel, listed map[string]bool) error {
	n := s.node
	for _, id := range []string{s.holdID, s.airID} {
		if _, ok := byID[id]; ok {
			continue
		}
		b, err := s.createBridge(ctx, id)
		if err != nil {
			return err
		}
		if b != nil {
			byID[id] = *b
		}
	}
	screenPrefix := s.screenID("")
	var recalled map[string]Recalled // by channel id, loaded on first need
	now := s.app.cfg.Now()
	present := map[string]bool{}
	for _, ch := range stasis {
		bridge := inBridge[ch.ID]
		ref := n.lookup(ch.ID)
		args := strings.Split(ch.Dialplan.AppData, ",")[1:]
		mine := bridge == s.holdID || bridge == s.airID || strings.HasPrefix(bridge, screenPrefix) ||
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
			if recalled == nil {
				recalled = s.recall(ctx)
			}
			rc, haveRC = recalled[ch.ID]
			id := rc.ID
			if !haveRC {
				id = newID()
			}
			if !n.claim(ch.ID, &chanRef{show: s, callID: id, role: roleCaller}) {
				continue // its StasisStart came meanwhile: the arrival path has it
			}
			claimed = true
			rc.ID = id
		}
		r := queue.Readmission{Arrival: queue.Arrival{
			Number: ch.Caller.Number, Name: ch.Caller.Name, Node: n.name, ChannelID: ch.ID,
		}}
		switch {
		case bridge == s.holdID:
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
			if err := n.ari.AddChannel(ctx, s.holdID, ari.AddChannelParams{Channels: []string{ch.ID}}); err != nil {
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
	hold := byID[s.holdID]
	s.holdMembers = len(hold.Channels)
	s.music = false
	tb := s.talkback
	gen2 := s.emptied
	s.emitMedia()
	s.mu.Unlock()
	if tb != nil {
		// Its line or message did not survive a restart: end it.
		if (tb.chanID != "" && !listed[tb.chanID]) || tb.playback != "" && len(hold.Channels) == 0 {
			s.endTalkback(tb.chanID, tb.playback)
		}
		return nil
	}
	// Music plays while callers wait: start it now if the bridge has
	// callers; an empty bridge gets it when its first caller enters. (Music
	// started into an empty bridge is not known to survive the first join
	// on a real Asterisk, and it stops for good when the bridge empties.)
	if len(hold.Channels) > 0 {
		s.startMusic(ctx, gen2)
	}
	return nil
}

// recall loads the stored open calls of the show, by channel id on this node.
func (s *show) recall(ctx context.Context) map[string]Recalled {
	out := map[string]Recalled{}
	rc := s.app.cfg.Recall
	if rc == nil {
		return out
	}
	calls, err := rc.OpenCalls(ctx, s.key)
	if err != nil {
		s.node.log.Warn("broadcast: recall failed; readmitting without history", "show", s.key, "err", err)
		return out
	}
	for _, c := range calls {
		if c.Node == "" || c.Node == s.node.name {
			out[c.ChannelID] = c
		}
	}
	return out
}

// createBridge creates one of the show's bridges; one that exists already
// (409, created meanwhile) is adopted and nil returned.
func (s *show) createBridge(ctx context.Context, id string) (*ari.Bridge, error) {
	typ := ari.BridgeHolding
	if id == s.airID {
		typ = ari.BridgeMixing
	}
	b, err := s.node.ari.CreateBridge(ctx, id, typ, s.key)
	switch {
	case errors.Is(err, ari.ErrConflict):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("create bridge %s: %w", id, err)
	}
	return b, nil
}

// ensureBridges creates the show's holding and on-air bridges unless they
// exist.
func (s *show) ensureBridges(ctx context.Context) error {
	for _, id := range []string{s.holdID, s.airID} {
		if _, err := s.createBridge(ctx, id); err != nil {
			return telErr("open show", err)
		}
	}
	return nil
}
