package broadcast

import (
	"context"
	"time"

	"github.com/callin-radio/callin/queue"
)

// liveCall is what a show keeps of one live call beside its queue.Call:
// the media and telephony state that ends with the call. Its fields are
// guarded by show.mu, like the map that holds it (show.calls).
//
// A record is made the first time something is kept for a call the queue
// says is live (show.call), so a caller who only waits costs nothing here,
// and it is removed in one place (show.forget): when the call ends (its
// transition to ended, whichever path ended it: hang-up, vanished in a
// resync, failed, missed call-back) or its channel stops being the call's
// (a call-back asked for).
type liveCall struct {
	ann          annRef        // its position announcement, while one plays (ann.playback != "")
	screenerLine string        // the screener's line of its screening on a phone, while it has one
	quality      *LineQuality  // its line's last measure
	screening    *Screening    // its phone ringing, or its last unanswered screening (screen.go)
	detecting    chan struct{} // closed once its TALK_DETECT(set) has been sent (talkDetect)
	talking      bool          // talking now
	noQuality    bool          // its line has no statistics (a Local channel)
}

type annRef struct {
	playback string
	started  time.Time
}

// call returns the record of a live call, made if need be; nil for a call
// the queue does not know or has ended (nothing is kept for it, so nothing
// can be left behind). Callers hold s.mu.
func (s *show) call(callID string) *liveCall {
	if c := s.calls[callID]; c != nil {
		return c
	}
	if c, err := s.q.Get(callID); err != nil || c.State == queue.StateEnded {
		return nil
	}
	c := &liveCall{}
	s.calls[callID] = c
	return c
}

// forget removes a call's record and returns it (nil if it had none): the
// one place a record goes. Callers hold s.mu.
func (s *show) forget(callID string) *liveCall {
	c := s.calls[callID]
	delete(s.calls, callID)
	return c
}

// setTalking records whether a call talks and tells subscribers when that
// changed. Callers hold s.mu.
func (s *show) setTalking(callID string, on bool) {
	c := s.calls[callID]
	if on {
		c = s.call(callID)
	}
	if c == nil || c.talking == on {
		return
	}
	c.talking = on
	s.emit(Update{Kind: UpdateTalking, CallID: callID, Talking: on})
}

// talkDetect turns the talking indicator of a caller just put on air on
// (TALK_DETECT(set)), in the worker pool: a promote is answered as soon as
// the caller is in the on-air bridge, not a request later (issue 25: the
// answer took twice the move). Best effort: the caller is on air either
// way. A later TALK_DETECT(remove) waits for it (talkDetected). n is the
// caller's node.
func (s *show) talkDetect(n *node, callID, chanID string) {
	done := make(chan struct{})
	s.mu.Lock()
	if c := s.call(callID); c != nil {
		c.detecting = done
	}
	s.mu.Unlock()
	job := func(ctx context.Context) {
		defer func() {
			s.mu.Lock()
			if c := s.calls[callID]; c != nil && c.detecting == done {
				c.detecting = nil
			}
			s.mu.Unlock()
			close(done)
		}()
		if err := n.ari.SetChannelVar(ctx, chanID, "TALK_DETECT(set)", ""); err != nil && !channelMissing(err) {
			n.log.Warn("broadcast: TALK_DETECT failed", "call", callID, "err", err)
		}
	}
	if !s.app.submit(job) {
		job(context.Background()) // the pool is full: do it here rather than not at all
	}
}

// talkDetected waits until a caller's TALK_DETECT(set), if one is being
// sent, has been sent, so that a TALK_DETECT(remove) lands after it.
func (s *show) talkDetected(ctx context.Context, callID string) {
	s.mu.Lock()
	var done chan struct{}
	if c := s.calls[callID]; c != nil {
		done = c.detecting
	}
	s.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}
