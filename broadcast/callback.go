package broadcast

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// CallbackLine is how a show calls callers back (its policy, when and how
// often, is queue.Config.Callback).
type CallbackLine struct {
	// Dial is the endpoint template a call-back dials, with {number} for
	// the caller's number (normalised by queue.NormalizeNumber: digits and
	// a leading +, never pasted raw), e.g. "PJSIP/{number}@trunk".
	// Empty: the show offers no call-back.
	Dial string
	// CallerID is the station's caller ID on call-backs, e.g.
	// `"Morning Show" <+12025550100>`.
	CallerID string
	// KeyWait is how long the called-back caller has to press 1 (default
	// 15 s).
	KeyWait time.Duration
}

// dialString makes the endpoint for a number, or "" when the template or
// the number is unusable.
func (c CallbackLine) dialString(number string) string {
	n := queue.NormalizeNumber(number)
	if c.Dial == "" || n == "" || !strings.Contains(c.Dial, "{number}") {
		return ""
	}
	return strings.ReplaceAll(c.Dial, "{number}", n)
}

// CallbackNow asks callin to call a call-back entry now, wherever it is in
// line (within the show's ringing limit). Errors: queue.ErrNotFound,
// ErrGone, ErrBusy, ErrConflict (ringing already), ErrInvalid (not a
// call-back entry).
func (a *App) CallbackNow(showKey, callID string, actor queue.Actor) (queue.Call, error) {
	c, err := a.immediate(showKey, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.CallbackNow(a.cfg.Now(), actor, callID)
	})
	if err == nil {
		s, _ := a.show(showKey)
		s.kickMusic() // the show loop dials what is due
	}
	return c, err
}

// dtmf handles a key a caller on hold pressed: 2 after a call-back offer
// asks for a call-back, 1 confirms being ready for air. It runs on the
// reader; the telephony goes to the worker pool.
func (s *show) dtmf(chanID string, ref *chanRef, digit string) {
	now := s.app.cfg.Now()
	s.mu.Lock()
	s.emit(Update{Kind: UpdateDTMF, CallID: ref.callID, Digit: digit})
	var err error
	var c queue.Call
	var ts []queue.Transition
	switch digit {
	case "2":
		if s.cfg.CallbackLine.Dial == "" {
			break
		}
		c, ts, err = s.q.RequestCallback(now, ref.callID)
		if err == nil {
			// The channel is no longer the call's: its StasisEnd, after
			// the confirmation, must not end the entry.
			// Nor is what was kept for it, but its announcement, which
			// the confirmation stops.
			cn := s.nodeOf(c)
			cn.unindex(chanID)
			var ann string
			if rec := s.forget(ref.callID); rec != nil {
				ann = rec.ann.playback
			}
			s.publish(ts)
			s.mu.Unlock()
			cn.submitOrLog(func(ctx context.Context) { s.confirmCallback(ctx, chanID, c, ann) })
			return
		}
	case "1":
		if _, ts, err = s.q.Confirm(now, ref.callID); err == nil {
			s.publish(ts)
		}
	}
	s.mu.Unlock()
}

// confirmCallback tells a caller who asked for a call-back that they will
// be called on the number they call from, then hangs up. ann is the
// announcement playing to them, if any.
func (s *show) confirmCallback(ctx context.Context, chanID string, c queue.Call, ann string) {
	n := s.nodeOf(c)
	s.stopPlayback(ctx, n, c.ID, ann)
	if err := n.play(ctx, chanID, s.cfg.Media.CallbackConfirm); err != nil {
		n.log.Info("broadcast: call-back confirmation did not finish", "call", c.ID, "err", err)
	}
	n.hangup(ctx, chanID, ari.HangupNormal)
}

// dialCallbacks starts the call-backs that are due (the show loop calls it
// each tick): near the front of the line, or asked for now, within the
// ringing limit. Nothing runs per waiting caller.
func (s *show) dialCallbacks() {
	if s.cfg.CallbackLine.Dial == "" {
		return
	}
	n := s.callbackNode()
	if n == nil {
		return
	}
	s.mu.Lock()
	due, ts := s.q.DueCallbacks(s.app.cfg.Now())
	s.publish(ts)
	s.mu.Unlock()
	for _, d := range due {
		n.submitOrLog(func(ctx context.Context) { s.callBack(ctx, n, d) })
	}
}

// callbackNode is the node call-backs are dialled from, and where the
// callers who answer are held: the studio while it is up and has room
// (not marked full: room.go), else the first other node of the show
// that is up with room, else the studio as long as it is up (they are
// callers the line already counts); nil when none is up with room and
// the studio is down (the call-backs wait).
func (s *show) callbackNode() *node {
	studio := s.studio()
	for _, n := range append([]*node{studio}, s.nodes()...) {
		if n.ready() == nil && !n.room.full.Load() {
			return n
		}
	}
	if studio.ready() == nil {
		return studio
	}
	return nil
}

// callBack rings a caller back; on answer it asks them to press 1 and, when
// they do, puts them back on hold at their place. Each failure counts as a
// missed attempt (queue.CallbackMissed: retried, or the entry ends).
func (s *show) callBack(ctx context.Context, n *node, d queue.CallbackDue) {
	endpoint := s.cfg.CallbackLine.dialString(d.Number)
	if endpoint == "" {
		s.callbackGone(d.CallID, "the number cannot be dialled")
		return
	}
	line := "callin-cb-" + newID()
	n.index(line, &chanRef{show: s, role: roleCallback, callID: d.CallID})
	if err := s.ring(ctx, n, line, endpoint, roleCallback+","+d.CallID, s.cfg.CallbackLine.CallerID); err != nil {
		s.callbackGone(d.CallID, missReason(err))
		return
	}
	key := n.waits.expect(ari.TypeChannelDtmfReceived, line, line, func(ev ari.Event) bool {
		return ev.(*ari.ChannelDtmfReceived).Digit == "1"
	})
	media := slices.Clone(s.cfg.Media.CallbackReturn)
	prompt := newID()
	if _, err := n.ari.PlayChannel(ctx, line, prompt, media...); err != nil {
		n.log.Info("broadcast: call-back prompt failed", "call", d.CallID, "err", err)
	}
	wait := s.cfg.CallbackLine.KeyWait
	if wait <= 0 {
		wait = 15 * time.Second
	}
	if _, err := n.waits.wait(ctx, key, wait); err != nil {
		n.unindex(line)
		n.hangup(ctx, line, ari.HangupNormal)
		s.callbackGone(d.CallID, "no key pressed")
		return
	}
	// The key stops the prompt: on a real Asterisk the move into the
	// holding bridge waits behind a playback, so the caller who pressed 1
	// early heard the rest of it (6.7 s) before any music, and the move's
	// wait for ChannelEnteredBridge could time out
	// (TestCallbackAcrossNodesPBX).
	s.stopPlayback(ctx, n, d.CallID, prompt)
	s.mu.Lock()
	_, ts, err := s.q.CallbackReturned(s.app.cfg.Now(), d.CallID, line, n.name)
	if err == nil {
		s.publish(ts)
	}
	s.mu.Unlock()
	if err != nil { // dropped by a producer meanwhile
		n.unindex(line)
		n.hangup(ctx, line, ari.HangupNormal)
		return
	}
	// From here the line is the caller's channel, on hold at their place.
	n.becomeCaller(line)
	if err := s.holdOn(n).joinHold(ctx, line); err != nil {
		s.failArrival(ctx, n, d.CallID, line, err)
	}
}

// missReason is a failed ring as the history records it.
func missReason(err error) string {
	msg := err.Error()
	for _, why := range []string{"is busy", "did not answer", "refused the call", "is not registered or not reachable", "could not be reached"} {
		if strings.Contains(msg, why) {
			return strings.TrimPrefix(why, "is ")
		}
	}
	return "failed: " + msg
}

// callbackGone records a failed call-back attempt, if one is ringing.
func (s *show) callbackGone(callID, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ts, err := s.q.CallbackMissed(s.app.cfg.Now(), callID, reason); err == nil {
		s.publish(ts)
	}
}

// readyCheck asks a caller picked to go on air next to press 1 when ready.
func (s *show) readyCheck(ctx context.Context, c queue.Call) {
	if c.ChannelID == "" {
		return
	}
	s.stopAnnouncement(ctx, c.ID)
	n := s.nodeOf(c)
	if err := n.play(ctx, c.ChannelID, s.cfg.Media.ReadyCheck); err != nil && !errors.Is(err, queue.ErrGone) {
		n.log.Info("broadcast: readiness prompt did not finish", "call", c.ID, "err", err)
	}
}

// readyCheckOn reports whether the show asks its next caller to confirm.
func (s *show) readyCheckOn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.Config().ReadyCheck
}
