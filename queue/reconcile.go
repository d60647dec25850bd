package queue

import "time"

// Readmission describes a call Asterisk still has, for rebuilding a show
// after a reconnect or a restart: the call's identity and stored arrival
// time, the state Asterisk shows it in (which bridge), and what the history
// store knows about it.
type Readmission struct {
	Arrival        // identity; ArrivedAt is the stored arrival time (zero: now)
	State    State // arriving, waiting, screening, ready or on_air
	Was      State // the state last recorded, if known: From of the transition
	Seq      int   // the last Seq recorded for the call: the next transition gets Seq+1
	Notes    Notes
	Screener string
	Muted    bool
	Locked   bool
	WasOnAir bool
}

// Readmit makes the show agree with Asterisk about one call. An unknown call
// is admitted in r.State with its stored arrival time (ActionReadmit; no
// open/capacity/on-air checks: Asterisk's truth wins). A live call is moved
// to r.State if it differs (ActionReconcile), keeping its place in line and
// details; either way any reserved action on it is cancelled, and its
// ticket's Commit or Abort returns ErrConflict. Errors: ErrInvalid for an
// empty id or a state that is not live; ErrGone for a call the show has
// ended (broadcast hangs it up).
func (s *Show) Readmit(now time.Time, r Readmission) (Call, []Transition, error) {
	const op = ActionReadmit
	if err := checkReadmission(op, r); err != nil {
		return Call{}, nil, err
	}
	if c := s.ended[r.CallID]; c != nil {
		return Call{}, nil, opError(op, r.CallID, ErrGone, "call ended (%s)", c.outcome)
	}
	if c := s.calls[r.CallID]; c != nil {
		s.release(c)
		if c.state == r.State {
			return s.snapshot(c), nil, nil
		}
		t := s.move(c, now, r.State, ActionReconcile, System, func(c *call) {
			c.screener = r.Screener
			c.muted, c.locked = r.Muted, r.Locked
		})
		return s.snapshot(c), []Transition{t}, nil
	}
	c := s.newCall(now, r.Arrival)
	c.state, c.seq = r.State, r.Seq
	c.notes, c.screener, c.muted, c.locked, c.wasOnAir = r.Notes, r.Screener, r.Muted, r.Locked, r.WasOnAir
	s.calls[c.id] = c
	s.enter(c, now, "")
	from := r.Was
	if from == "" {
		from = r.State
	}
	return s.snapshot(c), []Transition{s.record(c, now, from, op, System)}, nil
}

func checkReadmission(op string, r Readmission) error {
	switch {
	case r.CallID == "":
		return opError(op, "", ErrInvalid, "call id is empty")
	case !live(r.State):
		return opError(op, r.CallID, ErrInvalid, "state %q is not a live state", r.State)
	case r.Seq < 0:
		return opError(op, r.CallID, ErrInvalid, "seq %d is negative", r.Seq)
	}
	return nil
}

// Vanish ends a call that Asterisk no longer has (found missing when
// resynchronising): aired if it was ever on air, else abandoned, by the
// system. Errors: ErrGone, ErrNotFound.
func (s *Show) Vanish(now time.Time, callID string) (Call, []Transition, error) {
	c, err := s.lookup(ActionVanish, callID)
	if err != nil {
		return Call{}, nil, err
	}
	t := s.end(c, now, s.naturalEnd(c, ActionVanish), ActionVanish, System, "gone from Asterisk")
	return s.snapshot(c), []Transition{t}, nil
}

// Reconciliation is the result of Reconcile.
type Reconciliation struct {
	Transitions []Transition
	// Stale lists the calls Asterisk still has that the show has ended:
	// broadcast hangs them up.
	Stale []string
}

// Reconcile makes the whole show agree with what Asterisk reports after a
// reconnect or restart: every call in present is readmitted (see Readmit),
// and every live call not in present vanishes (see Vanish). It checks all
// of present first and changes nothing on error: ErrInvalid for a malformed
// entry or a call id given twice. It is O(n log n).
func (s *Show) Reconcile(now time.Time, present []Readmission) (Reconciliation, error) {
	const op = "reconcile"
	seen := make(map[string]bool, len(present))
	for _, r := range present {
		if err := checkReadmission(op, r); err != nil {
			return Reconciliation{}, err
		}
		if seen[r.CallID] {
			return Reconciliation{}, opError(op, r.CallID, ErrInvalid, "call given twice")
		}
		seen[r.CallID] = true
	}
	var out Reconciliation
	var missing []string
	for id := range s.calls {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	for _, id := range missing {
		_, ts, _ := s.Vanish(now, id) // live: cannot fail
		out.Transitions = append(out.Transitions, ts...)
	}
	for _, r := range present {
		if s.ended[r.CallID] != nil {
			out.Stale = append(out.Stale, r.CallID)
			continue
		}
		_, ts, _ := s.Readmit(now, r) // checked above: cannot fail
		out.Transitions = append(out.Transitions, ts...)
	}
	return out, nil
}
