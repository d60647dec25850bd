package queue

import (
	"errors"
	"fmt"
)

// The domain error kinds. Every error a Show returns wraps exactly one of
// them (through the more specific errors below where they apply), so a
// boundary maps errors with errors.Is and one table.
var (
	// ErrNotFound means the show has never known the call (or forgot it long
	// after it ended), or there is nobody to act on.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the action collides with the current state: another
	// action is in progress, the call is already where the action would put
	// it, the caller is locked, or a limit is reached.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the action makes no sense for the call's state or the
	// input is malformed.
	ErrInvalid = errors.New("invalid")
	// ErrGone means the call has ended (the caller hung up, was dropped,
	// rejected or failed).
	ErrGone = errors.New("gone")
)

// The more specific conflicts; each wraps ErrConflict.
var (
	// ErrBusy means another action on the same caller is reserved and
	// awaiting Commit or Abort: the second of two producers gets it.
	ErrBusy = fmt.Errorf("caller busy: %w", ErrConflict)
	// ErrLocked means the on-air caller is locked and cannot be dropped or
	// moved until unlocked.
	ErrLocked = fmt.Errorf("caller locked: %w", ErrConflict)
	// ErrOnAirFull means the show already has its maximum of callers on air
	// (counting promotions in progress).
	ErrOnAirFull = fmt.Errorf("on-air limit reached: %w", ErrConflict)
	// ErrStale means a conditional update named a version that is no
	// longer the current one: someone changed the thing since the client
	// read it (the API's 412 on a stale If-Match).
	ErrStale = fmt.Errorf("stale version: %w", ErrConflict)
)

// opError builds the error an operation returns: the operation's name, the
// call it concerns, a detail for people, and the sentinel for errors.Is.
func opError(op, callID string, kind error, format string, args ...any) error {
	detail := fmt.Sprintf(format, args...)
	if callID == "" {
		return fmt.Errorf("queue: %s: %s: %w", op, detail, kind)
	}
	return fmt.Errorf("queue: %s %q: %s: %w", op, callID, detail, kind)
}
