package auth

import (
	"fmt"

	"github.com/callin-radio/callin/queue"
)

// Action is something a principal may be allowed to do; Can says who may.
type Action string

// Actions. Caller actions name the queue operation they allow.
const (
	ActionView             Action = "view"              // see a show's queue and callers
	ActionScreen           Action = "screen"            // talk privately to a waiting caller
	ActionScreenFor        Action = "screen_for"        // name another user as the screener (their phone rings)
	ActionReady            Action = "ready"             // mark a screened caller ready (or back to waiting)
	ActionNotes            Action = "notes"             // write screener notes and caller notes
	ActionPromote          Action = "promote"           // put a chosen caller on air
	ActionTakeNext         Action = "take_next"         // put the next ready caller on air
	ActionPickNext         Action = "pick_next"         // choose which caller is next
	ActionMoveToTop        Action = "move_to_top"       // move a caller to the head of the queue
	ActionHold             Action = "hold"              // take an on-air caller back to hold
	ActionMute             Action = "mute"              // mute or unmute an on-air caller
	ActionLock             Action = "lock"              // lock or unlock an on-air caller
	ActionDropWaiting      Action = "drop_waiting"      // end the call of a caller not on air
	ActionDropOnAir        Action = "drop_on_air"       // end the call of an on-air caller
	ActionTalkback         Action = "talkback"          // talk to the host off air
	ActionLines            Action = "lines"             // open or close the show's lines
	ActionRecording        Action = "recording"         // start or stop recording
	ActionAnnounceInterval Action = "announce_interval" // set how often waiting callers hear their position
	ActionAirLimit         Action = "air_limit"         // set when every console warns that a caller is on air too long
	ActionBlock            Action = "block"             // block or unblock a number
	ActionMessage          Action = "message"           // write in the show's message channel
	ActionAdmin            Action = "admin"             // manage users, tokens and shows
)

// Actions returns every action, in the order of the constants.
func Actions() []Action {
	return []Action{ActionView, ActionScreen, ActionScreenFor, ActionReady, ActionNotes, ActionPromote,
		ActionTakeNext, ActionPickNext, ActionMoveToTop, ActionHold, ActionMute, ActionLock,
		ActionDropWaiting, ActionDropOnAir, ActionTalkback, ActionLines, ActionRecording,
		ActionAnnounceInterval, ActionAirLimit, ActionBlock, ActionMessage, ActionAdmin}
}

// Can reports whether role may do action: the one permission table. A
// producer may do every action but admin, an admin everything. A screener
// screens only as themselves (their own phone rings), never for another
// user: ActionScreenFor is a producer's and an admin's (issue 21, point
// 3). An unknown role or action may do nothing.
func Can(role Role, action Action) bool {
	if !action.Valid() {
		return false
	}
	switch role {
	case RoleAdmin:
		return true
	case RoleProducer:
		return action != ActionAdmin
	case RoleScreener:
		switch action {
		case ActionView, ActionScreen, ActionNotes, ActionReady, ActionDropWaiting, ActionMessage:
			return true
		}
	case RoleHost:
		switch action {
		case ActionView, ActionTakeNext, ActionMute, ActionLock, ActionDropOnAir, ActionMessage:
			return true
		}
	}
	return false
}

// Valid reports whether a is one of the Action constants.
func (a Action) Valid() bool {
	for _, x := range Actions() {
		if a == x {
			return true
		}
	}
	return false
}

// Valid reports whether r is one of the Role constants.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleProducer, RoleScreener, RoleHost:
		return true
	}
	return false
}

// ParseRole returns the role named s, or an error wrapping queue.ErrInvalid.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("auth: unknown role %q (want admin, producer, screener or host): %w", s, queue.ErrInvalid)
}
