package queue

import "time"

// SetBlocked flags (or, with blocked false, unflags) every live call whose
// number is number (both compared as NormalizeNumber keys them), with note
// saying why. A flagged caller keeps its state and place: the console
// shows the flag, TakeNext passes the caller by, and a producer may still
// promote it by name. Each call it changes gets a transition (ActionBlock
// or ActionUnblock, the state unchanged, Reason the note); calls already
// so flagged are left alone. A number without digits changes nothing.
func (s *Show) SetBlocked(now time.Time, actor Actor, number string, blocked bool, note string) ([]Call, []Transition) {
	key := NormalizeNumber(number)
	if key == "" {
		return nil, nil
	}
	action := ActionUnblock
	if blocked {
		action = ActionBlock
	} else {
		note = ""
	}
	var calls []Call
	var ts []Transition
	for _, c := range s.calls {
		if c.blocked == blocked || NormalizeNumber(c.number) != key {
			continue
		}
		t := s.move(c, now, c.state, action, actor, func(c *call) { c.blocked, c.blockNote = blocked, note })
		t.Reason = note
		calls = append(calls, s.snapshot(c))
		ts = append(ts, t)
	}
	return calls, ts
}
