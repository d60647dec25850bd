// Package queue is the call-in domain: shows, callers, call states, the
// order of the line and the rules of every action. It does no I/O, starts no
// goroutines and reads no clock: every method that needs the time takes now.
//
// # Concurrency
//
// A Show is not safe for concurrent use. Its user (broadcast) serialises all
// calls on one show, e.g. with one mutex per show; different shows are
// independent.
//
// # Decide, do, commit
//
// Actions that need telephony are two-phase, so broadcast never holds the
// show's lock across an ARI request:
//
//  1. Screen, Ready, Promote, TakeNext, Hold, Mute, Unmute and Drop check the
//     rules and reserve the caller, returning a Ticket that says what to do.
//     The caller is now busy: every other action on it gets ErrBusy (which
//     wraps ErrConflict), so of two producers acting on one caller at once
//     exactly one wins. A reserved promotion holds an on-air place, so two
//     promotions cannot together exceed the on-air limit.
//  2. Broadcast performs the ARI requests without the lock.
//  3. Broadcast calls Commit (the state changes and a Transition is returned)
//     or Abort (nothing changes). Commit after the caller hung up returns
//     ErrGone: the telephony result is moot.
//
// Actions without telephony (Lock, Unlock, MoveToTop, PickNext, UpdateNotes)
// apply at once, refusing a busy caller likewise. Facts reported by Asterisk
// (Joined, Hangup, Fail, Vanish, Readmit) apply at once whatever
// is reserved: Hangup and Fail end the call and void its ticket.
//
// May says, of a Call as a snapshot shows it, whether a producer's action
// fits it now (the state rules of the method of that name, without ErrBusy
// and the on-air limit); the console offers its buttons by it, and
// TestModel holds it to the methods.
//
// A call's state changes only through Commit and those facts, one state at a
// time, so a caller is never in two places at once here, whatever order
// Asterisk's bridge events arrive in: broadcast does not feed
// ChannelEnteredBridge/ChannelLeftBridge echoes of its own moves into the
// show.
//
// # Transitions
//
// Every change of a call's state or details returns the Transition(s) to
// record; there are no callbacks. (CallID, Seq) is the idempotent key: Seq is
// 1 for the arrival (From is empty) and grows by one per transition of that
// call. A rejected caller gets two: the arrival and the rejection.
//
// # The line
//
// Waiting and ready callers form one line, in the order TakeNext takes them:
// the caller picked as next; callers moved to top, the latest move first;
// ready callers by priority (highest first) then arrival; waiting callers by
// arrival. Screening, holds and reconciliation never change a caller's
// arrival time or move to top, so a caller who comes back keeps its place.
// The line is an order-statistic treap, so Arrive, Position, TakeNext,
// Hangup, MoveToTop and every action are O(log n); List is O(n).
//
// Capacity counts arriving callers as well as waiting, screening and ready
// ones, so a burst of arrivals cannot overshoot it.
//
// # Reconciliation
//
// After a reconnect, broadcast lists Asterisk's channels and bridges and
// the history store's open calls, and PlanResync decides, changing
// nothing: known calls are corrected and keep their place and details;
// unknown ones are admitted with their stored arrival time and last Seq;
// calls Asterisk no longer has end as aired if they were ever on air, else
// abandoned; stored calls neither has are ended in the history (EndStale).
// Broadcast carries the plan out with Readmit and Vanish. Moves to top and the
// pick live only in memory: after a restart the line is by arrival time.
//
// # Announcements
//
// DueAnnouncements hands out the callers due a position announcement and
// marks them announcing until AnnouncementDone, so a caller never has two
// announcements queued.
//
// Talkback on the holding bridge (a producer speaking to all waiting callers:
// stop the music, speak, restart it) is left to broadcast: it is media state
// of a bridge, changes no caller's state and needs no ordering rule.
//
// # Errors
//
// Errors wrap one of ErrNotFound, ErrConflict, ErrInvalid or ErrGone (ErrBusy,
// ErrLocked and ErrOnAirFull wrap ErrConflict), with the operation's name and
// the call id, for errors.Is.
package queue
