package core

import (
	"context"
	"iter"
	"time"

	"github.com/callin-radio/callin/queue"
)

// PageRequest asks for one page of a list: at most Limit items (0: the
// default) after the page that gave Cursor ("" for the first page).
type PageRequest struct {
	Limit  int
	Cursor string
}

// Page is one page of a list and the cursor of the next ("" on the last).
type Page[T any] struct {
	Items []T
	Next  string
}

// Pages reads the API's lists a page at a time; cmd/callin adapts
// *postgres.Store. A cursor the list never gave is an error whose status
// is 400 naming the field (shared.BadRequest).
type Pages interface {
	// ShowCallsPage is a page of a show's calls that arrived in [from, to).
	ShowCallsPage(ctx context.Context, show string, from, to time.Time, pr PageRequest) (Page[queue.CallRecord], error)
	// ShowTransitionsPage is a page of a show's transitions in [from, to).
	ShowTransitionsPage(ctx context.Context, show string, from, to time.Time, pr PageRequest) (Page[queue.Transition], error)
	// ShowRecordingsPage is a page of a show's recordings, newest first;
	// with callID, those during which that call was on air.
	ShowRecordingsPage(ctx context.Context, show, callID string, pr PageRequest) (Page[queue.Recording], error)
	// CallerCallsPage is a page of a number's calls, newest first.
	CallerCallsPage(ctx context.Context, number string, pr PageRequest) (Page[queue.CallRecord], error)
	// ShowMessagesPage is a page of a show's chat, newest first.
	ShowMessagesPage(ctx context.Context, show string, pr PageRequest) (Page[queue.ShowMessage], error)
	// EachShowCall yields every call of ShowCallsPage, page by page.
	EachShowCall(ctx context.Context, show string, from, to time.Time) iter.Seq2[queue.CallRecord, error]
	// EachShowTransition yields every transition of ShowTransitionsPage.
	EachShowTransition(ctx context.Context, show string, from, to time.Time) iter.Seq2[queue.Transition, error]
}

// IdemOutcome is what BeginIdempotent says of a key.
type IdemOutcome int

// The outcomes of Idempotency.BeginIdempotent.
const (
	IdemNew      IdemOutcome = iota // reserved: act, then finish
	IdemReplay                      // answered before: the stored answer
	IdemMismatch                    // the key names another request (422)
	IdemInFlight                    // the same request is being answered (409)
)

// IdemAnswer is BeginIdempotent's answer: the outcome and, for a replay,
// the stored answer.
type IdemAnswer struct {
	Outcome     IdemOutcome
	Status      int
	ContentType string
	Body        []byte
}

// Idempotency keeps the API's idempotency keys; cmd/callin adapts
// *postgres.Store (BeginIdempotent, FinishIdempotent, ReleaseIdempotent).
type Idempotency interface {
	// BeginIdempotent reserves key for principal's request whose SHA-256
	// is hash, or says why not.
	BeginIdempotent(ctx context.Context, principal, key string, hash []byte, now time.Time) (IdemAnswer, error)
	// FinishIdempotent keeps the answer to the request that reserved key.
	FinishIdempotent(ctx context.Context, principal, key string, status int, contentType string, body []byte) error
	// ReleaseIdempotent gives up a reservation still in flight.
	ReleaseIdempotent(ctx context.Context, principal, key string) error
}

// NotesVersions is a CallerNotes store that keeps a version of each
// number's notes and changes them only at the version a client read:
// Config.Notes must be one for the API's ETag, If-Match and PATCH
// (*postgres.Store is; the version is the newest row's id).
type NotesVersions interface {
	// CallerNotesVersion returns a number's notes now and their version
	// (0: none saved). queue.ErrInvalid for no phone number.
	CallerNotesVersion(ctx context.Context, number string) (queue.CallerNotes, int64, error)
	// ChangeCallerNotes saves change(the notes now), by by, if they are at
	// version ifVersion (negative: any), in one transaction, and returns
	// the notes saved and their version. Errors: a *queue.FieldError for a
	// result that breaks a rule, an error wrapping queue.ErrStale for
	// another version.
	ChangeCallerNotes(ctx context.Context, number, by string, ifVersion int64,
		change func(queue.CallerNotes) queue.CallerNotes) (queue.CallerNotes, int64, error)
}
