package queue

import (
	"cmp"
	"slices"
	"time"
)

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
// open/capacity/on-air checks: Asterisk's truth wins), flagged as blocked
// when r.Blocked or Config.Blocklist says so (never rejected). A live call is moved
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
	if r.State == StateCallback {
		// A call-back entry from before a restart: its attempts start again.
		c.cb = &callback{offered: true, active: true, number: NormalizeNumber(r.Number), requested: c.arrived,
			maxTries: s.cfg.Callback.withDefaults().Attempts}
		c.channel = ""
	}
	c.notes, c.screener, c.muted, c.locked, c.wasOnAir = r.Notes, r.Screener, r.Muted, r.Locked, r.WasOnAir
	c.blocked, c.blockNote = r.Blocked, r.BlockNote
	if !c.blocked && s.cfg.Blocklist != nil {
		c.blocked, c.blockNote = s.cfg.Blocklist.IsBlocked(c.number)
	}
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

// NodeLost ends every live call held on node (Call.Node), in arrival
// order, with OutcomeNodeLost by the system: the node is gone, and its
// callers' calls with it. The rest of the line keeps its order. Call-back
// entries (no channel on any node) are kept. It returns the ended calls
// and their transitions; none for a node with no calls.
func (s *Show) NodeLost(now time.Time, node string) ([]Call, []Transition) {
	var lost []*call
	for _, c := range s.calls {
		if c.node == node && c.state != StateCallback {
			lost = append(lost, c)
		}
	}
	slices.SortFunc(lost, func(a, b *call) int {
		if d := a.arrived.Compare(b.arrived); d != 0 {
			return d
		}
		return cmp.Compare(a.id, b.id)
	})
	calls := make([]Call, 0, len(lost))
	ts := make([]Transition, 0, len(lost))
	for _, c := range lost {
		ts = append(ts, s.end(c, now, OutcomeNodeLost, ActionNodeLost, System, "node "+node+" lost"))
		calls = append(calls, s.snapshot(c))
	}
	return calls, ts
}

// AirLost puts a caller on air back in line as waiting, by the system,
// because its line to the on-air bridge was lost (a trunk leg between
// nodes ended, or the studio node was lost), keeping its place; reason
// says why, for the record. A reserved action on it is cancelled (its
// Commit or Abort returns ErrConflict); muted and locked are cleared.
// Errors: ErrNotFound, ErrGone; ErrInvalid when the caller is not on air.
func (s *Show) AirLost(now time.Time, callID, reason string) (Call, []Transition, error) {
	c, err := s.lookup(ActionAirLost, callID)
	if err != nil {
		return Call{}, nil, err
	}
	if c.state != StateOnAir {
		return Call{}, nil, opError(ActionAirLost, callID, ErrInvalid, "caller is %s", c.state)
	}
	s.release(c)
	t := s.move(c, now, StateWaiting, ActionAirLost, System, func(c *call) { c.muted, c.locked = false, false })
	t.Reason = reason
	return s.snapshot(c), []Transition{t}, nil
}
