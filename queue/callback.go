package queue

import (
	"cmp"
	"slices"
	"time"
)

// CallbackConfig is a show's call-back (virtual hold) policy. The zero
// value offers no call-back.
type CallbackConfig struct {
	// Offer is the estimated wait from which a waiting caller is offered a
	// call-back with the position announcement; 0: never offered.
	Offer time.Duration
	// NearFront: an entry is called back once it is this close to the
	// front of the line (position <= NearFront); default 3.
	NearFront int
	// Attempts is how many times callin tries (default 3), Gap the wait
	// between them (default 2 minutes).
	Attempts int
	Gap      time.Duration
	// MaxRinging is the most call-backs ringing at once (default 2): a
	// burst never floods the trunk.
	MaxRinging int
}

func (c CallbackConfig) withDefaults() CallbackConfig {
	if c.NearFront <= 0 {
		c.NearFront = 3
	}
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.Gap <= 0 {
		c.Gap = 2 * time.Minute
	}
	if c.MaxRinging <= 0 {
		c.MaxRinging = 2
	}
	return c
}

// Callback is what the console and the API see of a call-back entry.
type Callback struct {
	Number      string    `json:"number"`   // the number callin calls
	Calling     bool      `json:"calling"`  // an attempt is ringing now
	Attempt     int       `json:"attempt"`  // attempts made so far (the ringing one included)
	Attempts    int       `json:"attempts"` // of at most this many
	NextAt      time.Time `json:"next_at,omitzero"`
	RequestedAt time.Time `json:"requested_at"`
	Now         bool      `json:"now,omitempty"` // a producer asked to call now
}

// callback is the show's record of a call-back entry.
type callback struct {
	offered   bool // the caller was offered a call-back (and may press for it)
	active    bool // the call is a call-back entry
	number    string
	calling   bool
	attempts  int
	next      time.Time
	requested time.Time
	now       bool
	maxTries  int
}

// view is the entry as the outside sees it, for a call in state st.
func (cb *callback) view(st State) *Callback {
	if cb == nil || !cb.active || st != StateCallback {
		return nil
	}
	return &Callback{Number: cb.number, Calling: cb.calling, Attempt: cb.attempts, Attempts: cb.maxTries,
		NextAt: cb.next, RequestedAt: cb.requested, Now: cb.now}
}

// rate remembers when callers were last taken off the line (on air or to a
// screener), for the estimated wait.
const rateWindow = 20

// tookOff records that a caller left the line for the air or a screener.
func (s *Show) tookOff(now time.Time) {
	s.taken = append(s.taken, now)
	if len(s.taken) > rateWindow {
		s.taken = slices.Delete(s.taken, 0, len(s.taken)-rateWindow)
	}
}

// EstimatedWait estimates how long a caller at position (1-based) will
// wait, from the rate at which the show took its last callers off the line
// (at most 20, at least 3 of them): ok is false while it has too few to
// tell.
func (s *Show) EstimatedWait(now time.Time, position int) (d time.Duration, ok bool) {
	n := len(s.taken)
	if n < 3 || position <= 0 {
		return 0, false
	}
	span := now.Sub(s.taken[0])
	if span <= 0 {
		return 0, false
	}
	per := span / time.Duration(n) // a caller taken every per, on average
	return per * time.Duration(position), true
}

// offers reports whether a waiting caller is offered a call-back now: the
// show offers it, the caller's number can be dialled (not withheld, not
// invalid), the caller is not blocked, and the estimated wait is long.
func (s *Show) offers(now time.Time, c *call, position int) bool {
	if s.cfg.Callback.Offer <= 0 || c.state != StateWaiting || c.blocked || NormalizeNumber(c.number) == "" {
		return false
	}
	d, ok := s.EstimatedWait(now, position)
	return ok && d >= s.cfg.Callback.Offer
}

// RequestCallback turns a waiting caller who was offered a call-back (and
// pressed for it) into a call-back entry: it keeps its place in line, has
// no channel any more (broadcast hangs the caller up after the
// confirmation), and is called back on its own number when near the front.
// Errors: ErrNotFound, ErrGone, ErrBusy; ErrInvalid when the caller is not
// waiting or was not offered a call-back.
func (s *Show) RequestCallback(now time.Time, callID string) (Call, []Transition, error) {
	const op = ActionCallbackRequest
	c, err := s.free(op, callID)
	if err != nil {
		return Call{}, nil, err
	}
	switch {
	case c.state != StateWaiting:
		return Call{}, nil, opError(op, callID, ErrInvalid, "caller is %s", c.state)
	case c.cb == nil || !c.cb.offered:
		return Call{}, nil, opError(op, callID, ErrInvalid, "no call-back was offered")
	}
	cfg := s.cfg.Callback.withDefaults()
	t := s.move(c, now, StateCallback, op, Actor{Kind: ActorCaller}, func(c *call) {
		*c.cb = callback{offered: true, active: true, number: NormalizeNumber(c.number), requested: now, maxTries: cfg.Attempts}
		c.channel = ""
	})
	return s.snapshot(c), []Transition{t}, nil
}

// CallbackNow asks for a call-back entry to be called at once, wherever it
// is in line. Errors: ErrNotFound, ErrGone, ErrBusy; ErrInvalid for a
// caller that is not a call-back entry; ErrConflict when it is ringing.
func (s *Show) CallbackNow(now time.Time, actor Actor, callID string) (Call, []Transition, error) {
	const op = ActionCallbackNow
	c, err := s.free(op, callID)
	if err != nil {
		return Call{}, nil, err
	}
	switch {
	case c.state != StateCallback:
		return Call{}, nil, opError(op, callID, ErrInvalid, "caller is %s, not a call-back", c.state)
	case c.cb.calling:
		return Call{}, nil, opError(op, callID, ErrConflict, "already calling")
	}
	t := s.move(c, now, c.state, op, actor, func(c *call) { c.cb.now, c.cb.next = true, now })
	s.cbNow[c] = true
	return s.snapshot(c), []Transition{t}, nil
}

// CallbackDue is a call-back to dial now.
type CallbackDue struct {
	CallID  string
	Number  string
	Attempt int // 1 for the first
}

// DueCallbacks hands out the call-back entries to dial now: those near the
// front of the line (or asked for now by a producer) whose next attempt is
// due, as many as the ringing limit allows, and marks them calling (one
// ActionCallbackDial transition each). It walks only the front of the line
// and the entries asked for now: no timer or scan per waiting caller.
func (s *Show) DueCallbacks(now time.Time) ([]CallbackDue, []Transition) {
	cfg := s.cfg.Callback.withDefaults()
	room := cfg.MaxRinging - s.cbRinging
	if room <= 0 || s.counts[StateCallback] == 0 {
		return nil, nil
	}
	var due []*call
	pos := 0
	s.line.ascend(func(c *call) bool {
		pos++
		if pos > cfg.NearFront {
			return false
		}
		if c.state == StateCallback && !c.cb.calling && c.pending == 0 && !now.Before(c.cb.next) {
			due = append(due, c)
		}
		return len(due) < room
	})
	for c := range s.cbNow {
		if len(due) < room && !c.cb.calling && c.pending == 0 && !now.Before(c.cb.next) && !slices.Contains(due, c) {
			due = append(due, c)
		}
	}
	var out []CallbackDue
	var ts []Transition
	for _, c := range due {
		ts = append(ts, s.move(c, now, c.state, ActionCallbackDial, System, func(c *call) {
			c.cb.calling = true
			c.cb.attempts++
		}))
		s.cbRinging++
		delete(s.cbNow, c)
		out = append(out, CallbackDue{CallID: c.id, Number: c.cb.number, Attempt: c.cb.attempts})
	}
	return out, ts
}

// CallbackMissed records that an attempt failed (busy, no answer, no key
// pressed: reason says which). The entry waits Gap for the next attempt,
// or, after the last, ends as unreached. Errors: ErrNotFound, ErrGone;
// ErrInvalid when the entry is not being called.
func (s *Show) CallbackMissed(now time.Time, callID, reason string) (Call, []Transition, error) {
	const op = ActionCallbackMiss
	c, err := s.lookup(op, callID)
	if err != nil {
		return Call{}, nil, err
	}
	if c.state != StateCallback || !c.cb.calling {
		return Call{}, nil, opError(op, callID, ErrInvalid, "no call-back ringing")
	}
	if c.cb.attempts >= c.cb.maxTries {
		t := s.end(c, now, OutcomeUnreached, op, System, reason) // end stops the ringing count
		return s.snapshot(c), []Transition{t}, nil
	}
	gap := s.cfg.Callback.withDefaults().Gap
	s.cbRinging--
	t := s.move(c, now, c.state, op, System, func(c *call) {
		c.cb.calling, c.cb.now, c.cb.next = false, false, now.Add(gap)
	})
	t.Reason = reason
	return s.snapshot(c), []Transition{t}, nil
}

// CallbackReturned records that the called-back caller answered and
// pressed 1: the entry becomes a waiting caller on the new channel, at its
// place in line, held on node, the one its call-back was dialled from
// ("": the show's node, Config.Node). Errors: ErrNotFound, ErrGone; ErrInvalid when the
// entry is not being called or the channel is empty.
func (s *Show) CallbackReturned(now time.Time, callID, channelID, node string) (Call, []Transition, error) {
	const op = ActionCallbackReturn
	c, err := s.lookup(op, callID)
	if err != nil {
		return Call{}, nil, err
	}
	if c.state != StateCallback || !c.cb.calling || channelID == "" {
		return Call{}, nil, opError(op, callID, ErrInvalid, "no call-back ringing")
	}
	s.cbRinging--
	t := s.move(c, now, StateWaiting, op, Actor{Kind: ActorCaller}, func(c *call) {
		c.channel, c.node = channelID, cmp.Or(node, s.cfg.Node)
		c.cb = nil
	})
	return s.snapshot(c), []Transition{t}, nil
}

// Confirm records that a caller in line pressed 1 when told they are next
// on air: the console marks them ready to go. Errors: ErrNotFound, ErrGone;
// ErrInvalid for a caller not on hold in line; ErrConflict when confirmed
// already.
func (s *Show) Confirm(now time.Time, callID string) (Call, []Transition, error) {
	const op = ActionConfirm
	c, err := s.lookup(op, callID)
	if err != nil {
		return Call{}, nil, err
	}
	switch {
	case !announced(c.state):
		return Call{}, nil, opError(op, callID, ErrInvalid, "caller is %s, not on hold in line", c.state)
	case c.confirmed:
		return Call{}, nil, opError(op, callID, ErrConflict, "already confirmed")
	}
	t := s.move(c, now, c.state, op, Actor{Kind: ActorCaller}, func(c *call) { c.confirmed = true })
	return s.snapshot(c), []Transition{t}, nil
}
