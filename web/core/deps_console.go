package core

import (
	"context"

	"github.com/callin-radio/callin/queue"
)

// CallerNotes keeps what producers write about callers (queue.CallerNotes),
// every save a version; *postgres.Store satisfies it. The console edits
// notes on a caller's row and page and shows them in the line.
type CallerNotes interface {
	// CallerNotes returns a number's notes now: zero notes but for their
	// Number, and no error, for a number without notes; queue.ErrInvalid
	// for a number that is no phone number.
	CallerNotes(ctx context.Context, number string) (queue.CallerNotes, error)
	// CallerNotesHistory returns a number's notes as saved, newest first,
	// at most limit (queue.ErrInvalid for no phone number).
	CallerNotesHistory(ctx context.Context, number string, limit int) ([]queue.CallerNotes, error)
	// WriteCallerNotes saves notes as the number's newest version, written
	// by by, and returns them as stored (notes the same as now are not
	// saved again). Errors: a *queue.FieldError, wrapping
	// queue.ErrInvalid, naming the field that breaks a rule.
	WriteCallerNotes(ctx context.Context, notes queue.CallerNotes, by string) (queue.CallerNotes, error)
}

// Phones are people's phones (an Asterisk endpoint each), which callin
// rings for screening and talkback; cmd/callin's phones keeps them in
// PostgreSQL and in memory.
type Phones interface {
	// Phone returns a user's phone, if they have one.
	Phone(user string) (endpoint string, ok bool)
	// SetPhone sets (or, empty, clears) a user's phone and returns it as
	// stored; queue.ErrInvalid for an endpoint that is not a plain
	// TECH/resource.
	SetPhone(ctx context.Context, user, endpoint string) (string, error)
}
