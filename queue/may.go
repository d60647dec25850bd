package queue

// CallerActions are the actions a producer takes on one caller, the ones
// May answers for.
var CallerActions = []string{ActionScreen, ActionReady, ActionNotes, ActionPromote, ActionHold, ActionMute,
	ActionUnmute, ActionLock, ActionUnlock, ActionPickNext, ActionMoveToTop, ActionDrop, ActionCallbackNow}

// May reports whether action (one of CallerActions) fits c as it is: the
// state rules of the Show method of that name (Screen, Ready, UpdateNotes,
// Promote, Hold, Mute, Unmute, Lock, Unlock, PickNext, MoveToTop, Drop,
// CallbackNow), without the show-wide ones. It is true exactly when that
// method, given c's call, would not refuse with ErrInvalid, ErrConflict or
// ErrLocked; ErrBusy (another action pending, c.Pending) and ErrOnAirFull
// (the show's on-air limit) are not about the caller's state and are left
// to the method. TestModel checks it against the methods. An ended call
// and an unknown action may nothing.
func May(c Call, action string) bool {
	if !live(c.State) {
		return false
	}
	switch action {
	case ActionScreen:
		return announced(c.State)
	case ActionReady:
		return c.State == StateWaiting || c.State == StateScreening
	case ActionNotes:
		return c.State != StateArriving
	case ActionPromote:
		return announced(c.State)
	case ActionHold:
		return !c.Locked && (c.State == StateScreening || c.State == StateReady || c.State == StateOnAir)
	case ActionMute, ActionUnmute, ActionLock, ActionUnlock:
		return mayOnAir(c, action)
	case ActionPickNext:
		return announced(c.State) && !c.Next
	case ActionMoveToTop:
		return inLine(c.State)
	case ActionDrop:
		return !c.Locked
	case ActionCallbackNow:
		return c.State == StateCallback && (c.Callback == nil || !c.Callback.Calling)
	}
	return false
}

// mayOnAir is May for the on-air toggles: mute, unmute, lock, unlock.
func mayOnAir(c Call, action string) bool {
	if c.State != StateOnAir {
		return false
	}
	if action == ActionMute || action == ActionUnmute {
		return c.Muted != (action == ActionMute)
	}
	return c.Locked != (action == ActionLock)
}

// Actions lists the CallerActions that May allows on c, in their order.
func Actions(c Call) []string {
	var out []string
	for _, a := range CallerActions {
		if May(c, a) {
			out = append(out, a)
		}
	}
	return out
}
