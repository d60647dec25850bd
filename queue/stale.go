package queue

import "time"

// EndStale is the last transition of a call that the history store still
// has open but that neither the show nor Asterisk has any more: a caller
// who hung up while no service was connected, found after a restart. It
// ends as Vanish would end it (aired if it was ever on air, else
// abandoned, by the system), from the state last recorded, with Seq one
// past the last recorded. The show is not changed: the call is not in it.
// Errors: ErrInvalid for an empty id or a state that is not live;
// ErrConflict for a call the show holds (it is not stale); ErrGone for one
// the show has ended already.
func (s *Show) EndStale(now time.Time, r Readmission) (Transition, error) {
	const op = ActionVanish
	if err := checkReadmission(op, r); err != nil {
		return Transition{}, err
	}
	if s.calls[r.CallID] != nil {
		return Transition{}, opError(op, r.CallID, ErrConflict, "call is live in the show")
	}
	if c := s.ended[r.CallID]; c != nil {
		return Transition{}, opError(op, r.CallID, ErrGone, "call ended (%s)", c.outcome)
	}
	o := OutcomeAbandoned
	if r.WasOnAir || r.State == StateOnAir {
		o = OutcomeAired
	}
	t := Transition{
		CallID: r.CallID, Seq: r.Seq + 1, At: now, Show: s.cfg.Key,
		From: r.State, To: StateEnded, Action: op, Actor: System,
		Number: r.Number, Name: r.Name, Node: r.Node, ChannelID: r.ChannelID,
		Outcome: o, Reason: "gone from Asterisk",
	}
	if r.Notes != (Notes{}) {
		n := r.Notes
		t.Notes = &n
	}
	return t, nil
}
