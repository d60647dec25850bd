package broadcast

import (
	"context"
	"errors"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// arrive admits or rejects a caller entering Stasis on node n (one of the
// show's nodes: the caller is held there). It runs on n's reader, so the
// call exists (and is indexed) before any later event of its channel is
// handled; the telephony goes to the worker pool.
func (s *show) arrive(n *node, e *ari.StasisStart) {
	ch := e.Channel
	hm := s.holdOn(n)
	var blocked bool
	var note string
	if bl := s.app.cfg.Blocklist; bl != nil {
		blocked, note = bl.IsBlocked(ch.Caller.Number)
	}
	id := newID()
	if !n.claim(ch.ID, &chanRef{show: s, callID: id, role: roleCaller}) {
		// A resync that listed the channel before this event was handled
		// has admitted it already.
		n.log.Debug("broadcast: arrival already readmitted by a resync", "show", s.key, "channel", ch.ID)
		return
	}
	s.mu.Lock()
	adm, err := s.q.Arrive(s.app.cfg.Now(), queue.Arrival{
		CallID: id, Number: ch.Caller.Number, Name: ch.Caller.Name, Node: n.name, ChannelID: ch.ID,
		Blocked: blocked, BlockNote: note,
	})
	if err == nil {
		s.publish(adm.Transitions)
	}
	s.mu.Unlock()
	if err != nil { // a random 64-bit id collided: not worth more than a log
		n.unindex(ch.ID)
		n.log.Error("broadcast: arrival refused", "show", s.key, "channel", ch.ID, "err", err)
		n.submitOrLog(func(ctx context.Context) { n.hangup(ctx, ch.ID, ari.HangupFailure) })
		return
	}
	job := func(ctx context.Context) { s.admit(ctx, hm, id, ch) }
	if adm.Admitted() {
		n.subscribeLater(ch.ID)
	} else {
		job = func(ctx context.Context) { s.reject(ctx, n, ch, adm.Reject) }
	}
	if !s.app.submit(job) {
		// Shedding load loudly beats blocking the event reader; the next
		// resync hangs the channel up (its call has ended).
		n.log.Error("broadcast: worker queue full; failing arrival", "show", s.key, "call", id)
		s.mu.Lock()
		if _, ts, err := s.q.Fail(s.app.cfg.Now(), id, "overloaded"); err == nil {
			s.publish(ts)
		}
		s.mu.Unlock()
	}
}

// admit subscribes to a caller's channel (for its hang-up cause), answers
// it and puts it in a holding bridge. The worker is free once Asterisk has
// answered the addChannel: the caller joins when its ChannelEnteredBridge
// comes, on the reader (enterHold). A worker that waited for that event
// held one of the pool's workers for as long as Asterisk's events lag
// behind, and under a burst the pool then ran out (issue 25).
func (s *show) admit(ctx context.Context, hm *holding, callID string, ch ari.Channel) {
	n := hm.node
	n.subscribe(ch.ID)
	if ch.State != ari.StateUp {
		// A 204 means answered: ARI runs the answer on the channel before
		// it replies; ChannelStateChange(Up) only confirms it.
		if err := n.ari.AnswerChannel(ctx, ch.ID); err != nil {
			s.failArrival(ctx, n, callID, ch.ID, n.restError(ctx, "answer", ch.ID, err))
			return
		}
	}
	h, err := hm.pickHold(ctx, ch.ID)
	if err != nil {
		s.failArrival(ctx, n, callID, ch.ID, err)
		return
	}
	s.enterHold(ctx, hm, callID, ch.ID, h, true)
}

// enterHold sends an arriving caller's channel into holding bridge h
// (chosen by pickHold) and returns once Asterisk has answered: the reader
// makes the call join when the channel's ChannelEnteredBridge comes, and
// fails the arrival if it does not come within EventTimeout. A holding
// bridge missing from Asterisk (destroyed behind our back, or not yet
// recreated after a restart; a caller retrying in the dialplan can arrive
// the moment the app registers, before the resync has created the show's
// bridges) is created and tried once more when retry is set.
func (s *show) enterHold(ctx context.Context, hm *holding, callID, chanID string, h *holdBridge, retry bool) {
	n := hm.node
	op := "add channel to " + h.id
	w := n.waits.expectFunc(ari.TypeChannelEnteredBridge, chanID, chanID, func(ev ari.Event) bool {
		return ev.(*ari.ChannelEnteredBridge).Bridge.ID == h.id
	}, s.app.cfg.EventTimeout, func(_ ari.Event, err error) {
		hm.joined(h, chanID, err == nil)
		if err != nil {
			if errors.Is(err, ErrTimeout) {
				n.kickResync() // Asterisk may have done it after all: ask it
			}
			err = telErr(op, err)
			n.submitOrLog(func(ctx context.Context) { s.failArrival(ctx, n, callID, chanID, err) })
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		// ErrGone (hung up meanwhile) or ErrInvalid (a resync already
		// readmitted it as waiting) leave nothing to do.
		if _, ts, err := s.q.Joined(s.app.cfg.Now(), callID); err == nil {
			s.publish(ts)
		}
	})
	err := n.ari.AddChannel(ctx, h.id, ari.AddChannelParams{Channels: []string{chanID}})
	if err == nil || !n.waits.cancel(w) {
		return // the reader (or the wait's end) takes it from here
	}
	if retry && errors.Is(err, ari.ErrNotFound) {
		if err = hm.createHold(ctx, h.id); err == nil {
			s.enterHold(ctx, hm, callID, chanID, h, false)
			return
		}
	} else {
		err = n.restError(ctx, op, chanID, err)
	}
	hm.joined(h, chanID, false)
	s.failArrival(ctx, n, callID, chanID, err)
}

// reject plays the rejection prompt to the end (or its timeout), then hangs
// up. The call has already ended as rejected.
func (s *show) reject(ctx context.Context, n *node, ch ari.Channel, why queue.Reject) {
	media, reason := s.cfg.Media.Closed, ari.HangupNormal
	switch why {
	case queue.RejectFull:
		media, reason = s.cfg.Media.Full, ari.HangupBusy
	case queue.RejectBlocked:
		media, reason = s.cfg.Media.Blocked, ari.HangupRejected
	}
	if ch.State != ari.StateUp {
		if err := n.ari.AnswerChannel(ctx, ch.ID); err != nil {
			n.hangup(ctx, ch.ID, reason)
			return
		}
	}
	if err := n.play(ctx, ch.ID, media); err != nil {
		n.log.Info("broadcast: rejection prompt did not finish", "show", s.key, "channel", ch.ID, "err", err)
	}
	if ctx.Err() == nil {
		n.hangup(ctx, ch.ID, reason)
	}
}
