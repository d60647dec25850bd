package action

import (
	"context"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// Callers is the caller actions of the broadcast application, with its
// signatures; *broadcast.App satisfies it. Each returns the call as it is
// afterwards, or an error wrapping queue.ErrNotFound (unknown show or
// call), queue.ErrConflict (a lost race: busy, locked, on air full),
// queue.ErrInvalid (the action does not fit the call's state),
// queue.ErrGone (the caller hung up), broadcast.ErrNodeDown or
// broadcast.ErrTelephony.
type Callers interface {
	Screen(ctx context.Context, show, callID string, actor queue.Actor, screener string) (queue.Call, error)
	Ready(ctx context.Context, show, callID string, actor queue.Actor, notes queue.Notes) (queue.Call, error)
	// UpdateNotes replaces the screener's notes on a live caller.
	UpdateNotes(show, callID string, actor queue.Actor, notes queue.Notes) (queue.Call, error)
	Promote(ctx context.Context, show, callID string, actor queue.Actor) (queue.Call, error)
	TakeNext(ctx context.Context, show string, actor queue.Actor) (queue.Call, error)
	Hold(ctx context.Context, show, callID string, actor queue.Actor) (queue.Call, error)
	Mute(ctx context.Context, show, callID string, actor queue.Actor) (queue.Call, error)
	Unmute(ctx context.Context, show, callID string, actor queue.Actor) (queue.Call, error)
	Drop(ctx context.Context, show, callID string, actor queue.Actor, opts broadcast.DropOptions) (queue.Call, error)
	Lock(show, callID string, actor queue.Actor) (queue.Call, error)
	Unlock(show, callID string, actor queue.Actor) (queue.Call, error)
	MoveToTop(show, callID string, actor queue.Actor) (queue.Call, error)
	PickNext(show, callID string, actor queue.Actor) (queue.Call, error)
	// CallbackNow calls a call-back entry now; queue.ErrInvalid for a call
	// that is not one, queue.ErrConflict when it is ringing already.
	CallbackNow(show, callID string, actor queue.Actor) (queue.Call, error)
	// LineQuality measures a caller's line now; broadcast.ErrNoQuality for a
	// line without RTP statistics.
	LineQuality(ctx context.Context, show, callID string) (broadcast.LineQuality, error)
}
