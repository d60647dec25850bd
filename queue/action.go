package queue

import "time"

// Ticket is an action reserved on one caller: the rules have been checked
// and the caller is marked busy, so any other action on it gets ErrBusy
// until the ticket is committed or aborted. Broadcast performs the telephony
// the ticket describes, then calls Commit (it worked) or Abort (it did not).
type Ticket struct {
	id uint64

	Action string // ActionScreen, ActionReady, ActionPromote, ActionTakeNext, ActionHold, ActionMute, ActionUnmute or ActionDrop
	Actor  Actor
	Call   Call  // the caller when reserved
	From   State // the caller's state now
	To     State // its state after Commit

	Screener string // ActionScreen: the screener's id (whose private bridge to use)
	Notes    Notes  // ActionReady: the notes the commit sets
	Reason   string // ActionDrop: why, for the record
}

// Screen reserves taking a waiting or ready caller to a screener's private
// bridge. Errors: ErrNotFound, ErrGone, ErrBusy; ErrConflict when already
// screening; ErrInvalid for an empty screener or a caller arriving or on air.
func (s *Show) Screen(actor Actor, callID, screener string) (Ticket, error) {
	const op = ActionScreen
	c, err := s.free(op, callID)
	if err != nil {
		return Ticket{}, err
	}
	switch {
	case screener == "":
		return Ticket{}, opError(op, callID, ErrInvalid, "screener is empty")
	case c.state == StateScreening:
		return Ticket{}, opError(op, callID, ErrConflict, "already screening with %s", c.screener)
	case !announced(c.state):
		return Ticket{}, opError(op, callID, ErrInvalid, "caller is %s", c.state)
	}
	t := s.reserve(c, op, actor, StateScreening)
	t.Screener = screener
	c.pendingNote = screener
	return t, nil
}

// Ready reserves marking a screening (or waiting) caller ready for air with
// the screener's notes; a screening caller goes back to the holding bridge.
// Errors: ErrNotFound, ErrGone, ErrBusy; ErrConflict when already ready (use
// UpdateNotes); ErrInvalid for a caller arriving or on air.
func (s *Show) Ready(actor Actor, callID string, notes Notes) (Ticket, error) {
	const op = ActionReady
	c, err := s.free(op, callID)
	if err != nil {
		return Ticket{}, err
	}
	switch c.state {
	case StateScreening, StateWaiting:
	case StateReady:
		return Ticket{}, opError(op, callID, ErrConflict, "already ready")
	default:
		return Ticket{}, opError(op, callID, ErrInvalid, "caller is %s", c.state)
	}
	t := s.reserve(c, op, actor, StateReady)
	t.Notes = notes
	return t, nil
}

// Promote reserves putting a waiting or ready caller on air, holding an
// on-air place until Commit or Abort. Errors: ErrNotFound, ErrGone, ErrBusy;
// ErrOnAirFull at the on-air limit; ErrConflict when already on air;
// ErrInvalid for a caller arriving or screening (the screener hands the
// caller back with Ready or Hold first).
func (s *Show) Promote(actor Actor, callID string) (Ticket, error) {
	return s.reserveAir(ActionPromote, actor, callID)
}

// reserveAir reserves putting callID on air by op: Promote, or a Take
// next that named the caller (TakeNextOf), which passes blocked callers
// and call-back entries as TakeNext does.
func (s *Show) reserveAir(op string, actor Actor, callID string) (Ticket, error) {
	c, err := s.free(op, callID)
	if err != nil {
		return Ticket{}, err
	}
	switch {
	case c.state == StateOnAir:
		return Ticket{}, opError(op, callID, ErrConflict, "already on air")
	case op == ActionTakeNext && (c.state == StateCallback || c.blocked):
		return Ticket{}, opError(op, callID, ErrConflict, "take next passes a blocked caller or a call-back entry")
	case !announced(c.state):
		return Ticket{}, opError(op, callID, ErrInvalid, "caller is %s", c.state)
	}
	if err := s.checkOnAir(op); err != nil {
		return Ticket{}, err
	}
	return s.reserve(c, op, actor, StateOnAir), nil
}

// TakeNext reserves putting the first caller in line on air, as Promote
// does: the picked caller, else callers moved to top, else the ready caller
// of highest priority who waited longest, else the longest-waiting caller.
// Callers busy with another action are skipped, and so are blocked ones
// (even a picked one: a producer promotes a blocked caller by name or not
// at all). Errors: ErrOnAirFull at the on-air limit; ErrNotFound when
// nobody free and unblocked is in line.
func (s *Show) TakeNext(actor Actor) (Ticket, error) {
	const op = ActionTakeNext
	if err := s.checkOnAir(op); err != nil {
		return Ticket{}, err
	}
	next := s.next()
	if next == nil {
		return Ticket{}, opError(op, "", ErrNotFound, "nobody free and unblocked in line")
	}
	return s.reserve(next, op, actor, StateOnAir), nil
}

// TakeNextOf reserves putting callID on air as the Take next that named
// it (Next) when the on-air area was cleared first: the caller must still
// be free, unblocked and in line. The transition is a take_next. Errors:
// those of Promote, and ErrConflict when the caller is blocked or a
// call-back entry.
func (s *Show) TakeNextOf(actor Actor, callID string) (Ticket, error) {
	return s.reserveAir(ActionTakeNext, actor, callID)
}

// Next is the caller TakeNext would take now, whatever the on-air limit;
// ok is false when nobody free and unblocked is in line.
func (s *Show) Next() (c Call, ok bool) {
	if n := s.next(); n != nil {
		return s.snapshot(n), true
	}
	return Call{}, false
}

func (s *Show) next() *call {
	var next *call
	s.line.ascend(func(c *call) bool {
		if c.pending == 0 && !c.blocked && c.state != StateCallback {
			next = c
		}
		return next == nil
	})
	return next
}

func (s *Show) checkOnAir(op string) error {
	if n := s.counts[StateOnAir] + s.pendingOnAir; s.cfg.MaxOnAir > 0 && n >= s.cfg.MaxOnAir {
		return opError(op, "", ErrOnAirFull, "%d of %d on air", n, s.cfg.MaxOnAir)
	}
	return nil
}

// Hold reserves putting a caller on air, screening or ready back in the
// holding bridge as waiting, at the place in line it had (a move back never
// loses the arrival time or a move to top). Leaving the air clears mute and
// lock; broadcast unmutes the channel (Ticket.Call.Muted says whether it
// is muted). Errors: ErrNotFound, ErrGone, ErrBusy, ErrLocked; ErrConflict
// when already waiting; ErrInvalid for an arriving caller.
func (s *Show) Hold(actor Actor, callID string) (Ticket, error) {
	const op = ActionHold
	c, err := s.free(op, callID)
	if err != nil {
		return Ticket{}, err
	}
	switch {
	case c.locked:
		return Ticket{}, opError(op, callID, ErrLocked, "unlock before moving")
	case c.state == StateWaiting:
		return Ticket{}, opError(op, callID, ErrConflict, "already waiting")
	case c.state == StateArriving || c.state == StateCallback:
		return Ticket{}, opError(op, callID, ErrInvalid, "caller is %s", c.state)
	}
	return s.reserve(c, op, actor, StateWaiting), nil
}

// Mute reserves muting an on-air caller. Errors: ErrNotFound, ErrGone,
// ErrBusy; ErrConflict when already muted; ErrInvalid when not on air.
func (s *Show) Mute(actor Actor, callID string) (Ticket, error) {
	return s.mute(ActionMute, actor, callID, true)
}

// Unmute reserves unmuting an on-air caller. Errors: ErrNotFound, ErrGone,
// ErrBusy; ErrConflict when not muted; ErrInvalid when not on air.
func (s *Show) Unmute(actor Actor, callID string) (Ticket, error) {
	return s.mute(ActionUnmute, actor, callID, false)
}

func (s *Show) mute(op string, actor Actor, callID string, muted bool) (Ticket, error) {
	c, err := s.free(op, callID)
	if err != nil {
		return Ticket{}, err
	}
	switch {
	case c.state != StateOnAir:
		return Ticket{}, opError(op, callID, ErrInvalid, "caller is %s, not on air", c.state)
	case c.muted == muted:
		return Ticket{}, opError(op, callID, ErrConflict, "muted is already %t", muted)
	}
	return s.reserve(c, op, actor, StateOnAir), nil
}

// Drop reserves ending a live caller (broadcast may play a goodbye first,
// then hangs up and commits). The call ends as dropped, or as aired if it
// was ever on air. A Hangup that arrives before the Commit completes the
// drop. Errors: ErrNotFound, ErrGone, ErrBusy, ErrLocked.
func (s *Show) Drop(actor Actor, callID, reason string) (Ticket, error) {
	const op = ActionDrop
	c, err := s.free(op, callID)
	if err != nil {
		return Ticket{}, err
	}
	if c.locked {
		return Ticket{}, opError(op, callID, ErrLocked, "unlock before dropping")
	}
	t := s.reserve(c, op, actor, StateEnded)
	t.Reason = reason
	c.pendingNote = reason
	return t, nil
}

// free finds a live call that no reserved action holds.
func (s *Show) free(op, callID string) (*call, error) {
	c, err := s.lookup(op, callID)
	if err != nil {
		return nil, err
	}
	if c.pending != 0 {
		return nil, opError(op, callID, ErrBusy, "%s in progress", c.pendingAction)
	}
	return c, nil
}

func (s *Show) reserve(c *call, action string, actor Actor, to State) Ticket {
	s.ticket++
	c.pending, c.pendingAction, c.pendingBy = s.ticket, action, actor
	if promotes(action) {
		s.pendingOnAir++
	}
	return Ticket{id: s.ticket, Action: action, Actor: actor, Call: s.snapshot(c), From: c.state, To: to}
}

func promotes(action string) bool { return action == ActionPromote || action == ActionTakeNext }

// release clears a call's reservation, if any.
func (s *Show) release(c *call) {
	if c.pending == 0 {
		return
	}
	if promotes(c.pendingAction) {
		s.pendingOnAir--
	}
	c.pending, c.pendingAction, c.pendingBy, c.pendingNote = 0, "", Actor{}, ""
}

// held finds the call a ticket reserved, while the reservation still holds.
func (s *Show) held(op string, t Ticket) (*call, error) {
	c, err := s.lookup(op, t.Call.ID)
	if err != nil {
		return nil, err
	}
	if t.id == 0 || c.pending != t.id {
		return nil, opError(op, t.Call.ID, ErrConflict, "%s reservation no longer held", t.Action)
	}
	return c, nil
}

// Commit applies a reserved action once its telephony is done, and returns
// the caller and the transition. Errors: ErrGone when the caller ended in the
// meantime (hung up, failed); ErrConflict when the reservation no longer
// holds (committed or aborted already, or cancelled by Readmit/Reconcile);
// ErrNotFound for a ticket of another show.
func (s *Show) Commit(now time.Time, t Ticket) (Call, []Transition, error) {
	c, err := s.held("commit "+t.Action, t)
	if err != nil {
		return Call{}, nil, err
	}
	s.release(c)
	if announced(c.state) && (t.To == StateOnAir || t.To == StateScreening) {
		s.tookOff(now)
	}
	var tr Transition
	switch t.Action {
	case ActionDrop:
		tr = s.end(c, now, s.naturalEnd(c, ActionDrop), ActionDrop, t.Actor, t.Reason)
	case ActionScreen:
		tr = s.move(c, now, t.To, t.Action, t.Actor, func(c *call) { c.screener = t.Screener })
		tr.Reason = "screener " + t.Screener
	case ActionReady:
		tr = s.move(c, now, t.To, t.Action, t.Actor, func(c *call) { c.notes = t.Notes })
	case ActionMute, ActionUnmute:
		tr = s.move(c, now, t.To, t.Action, t.Actor, func(c *call) { c.muted = t.Action == ActionMute })
	default: // promote, take next, hold
		tr = s.move(c, now, t.To, t.Action, t.Actor, nil)
	}
	return s.snapshot(c), []Transition{tr}, nil
}

// Abort releases a reserved action whose telephony failed or was given up;
// the caller stays as it was. Errors as Commit.
func (s *Show) Abort(t Ticket) error {
	c, err := s.held("abort "+t.Action, t)
	if err != nil {
		return err
	}
	s.release(c)
	return nil
}

// Lock locks an on-air caller so it cannot be dropped or moved until
// Unlock. Errors: ErrNotFound, ErrGone, ErrBusy; ErrConflict when already
// locked; ErrInvalid when not on air.
func (s *Show) Lock(now time.Time, actor Actor, callID string) (Call, []Transition, error) {
	return s.lock(now, ActionLock, actor, callID, true)
}

// Unlock unlocks an on-air caller. Errors: ErrNotFound, ErrGone, ErrBusy;
// ErrConflict when not locked; ErrInvalid when not on air.
func (s *Show) Unlock(now time.Time, actor Actor, callID string) (Call, []Transition, error) {
	return s.lock(now, ActionUnlock, actor, callID, false)
}

func (s *Show) lock(now time.Time, op string, actor Actor, callID string, locked bool) (Call, []Transition, error) {
	c, err := s.free(op, callID)
	if err != nil {
		return Call{}, nil, err
	}
	switch {
	case c.state != StateOnAir:
		return Call{}, nil, opError(op, callID, ErrInvalid, "caller is %s, not on air", c.state)
	case c.locked == locked:
		return Call{}, nil, opError(op, callID, ErrConflict, "locked is already %t", locked)
	}
	t := s.move(c, now, c.state, op, actor, func(c *call) { c.locked = locked })
	return s.snapshot(c), []Transition{t}, nil
}

// MoveToTop puts a waiting or ready caller ahead of everyone in line (only
// the pick goes before it; a later MoveToTop goes before this one). The
// caller keeps this place through screening and holds. Errors: ErrNotFound,
// ErrGone, ErrBusy; ErrInvalid for a caller not in line.
func (s *Show) MoveToTop(now time.Time, actor Actor, callID string) (Call, []Transition, error) {
	const op = ActionMoveToTop
	c, err := s.free(op, callID)
	if err != nil {
		return Call{}, nil, err
	}
	if !inLine(c.state) {
		return Call{}, nil, opError(op, callID, ErrInvalid, "caller is %s, not in line", c.state)
	}
	s.topSeq--
	top := s.topSeq
	t := s.move(c, now, c.state, op, actor, func(c *call) { c.top = top })
	return s.snapshot(c), []Transition{t}, nil
}

// PickNext makes a waiting or ready caller the one TakeNext takes next, in
// place of any earlier pick (which gets an ActionUnpick transition). The
// pick lasts until the caller leaves the line. Errors: ErrNotFound, ErrGone,
// ErrBusy; ErrConflict when already picked; ErrInvalid for a caller not in
// line.
func (s *Show) PickNext(now time.Time, actor Actor, callID string) (Call, []Transition, error) {
	const op = ActionPickNext
	c, err := s.free(op, callID)
	if err != nil {
		return Call{}, nil, err
	}
	switch {
	case c == s.picked:
		return Call{}, nil, opError(op, callID, ErrConflict, "already picked")
	case !announced(c.state):
		return Call{}, nil, opError(op, callID, ErrInvalid, "caller is %s, not on hold in line", c.state)
	}
	var ts []Transition
	old := s.picked
	s.line.remove(c)
	if old != nil {
		s.line.remove(old)
	}
	s.picked = c
	s.line.insert(c)
	if old != nil {
		s.line.insert(old)
		ts = append(ts, s.record(old, now, old.state, ActionUnpick, actor))
	}
	ts = append(ts, s.record(c, now, c.state, op, actor))
	return s.snapshot(c), ts, nil
}

// UpdateNotes replaces the screener notes of a caller waiting, screening,
// ready or on air; for a ready caller a new priority moves it in line.
// Unchanged notes record nothing. Errors: ErrNotFound, ErrGone, ErrBusy;
// ErrInvalid for an arriving caller.
func (s *Show) UpdateNotes(now time.Time, actor Actor, callID string, notes Notes) (Call, []Transition, error) {
	const op = ActionNotes
	c, err := s.free(op, callID)
	if err != nil {
		return Call{}, nil, err
	}
	if c.state == StateArriving {
		return Call{}, nil, opError(op, callID, ErrInvalid, "caller is %s", c.state)
	}
	if c.notes == notes {
		return s.snapshot(c), nil, nil
	}
	t := s.move(c, now, c.state, op, actor, func(c *call) { c.notes = notes })
	return s.snapshot(c), []Transition{t}, nil
}
