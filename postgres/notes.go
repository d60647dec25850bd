package postgres

// Caller notes (issue 13): every save of a caller's notes is a row of
// caller_notes; the newest row of a number is its notes now, the older
// ones its history.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

// callerNotesColumns are read by scanCallerNotes, in its order.
const callerNotesColumns = `number, topic, notes, rating, do_not_air, contest_winner, call_id, written_by, written_at`

func scanCallerNotes(row pgx.CollectableRow) (queue.CallerNotes, error) {
	var n queue.CallerNotes
	err := row.Scan(&n.Number, &n.Topic, &n.Notes, &n.Rating, &n.DoNotAir, &n.ContestWinner, &n.CallID, &n.By, &n.At)
	return n, err
}

// VersionedNotes is a version of a number's notes with its version: the
// id of its caller_notes row. Every save is a new row, so the newest row's
// id is a version that changes with each save and never comes back (an
// identity column); no column of its own is needed. 0 is "no notes yet".
// The API's ETag.
type VersionedNotes struct {
	queue.CallerNotes
	Version int64
}

func scanVersionedNotes(row pgx.CollectableRow) (VersionedNotes, error) {
	var v VersionedNotes
	n := &v.CallerNotes
	err := row.Scan(&v.Version, &n.Number, &n.Topic, &n.Notes, &n.Rating, &n.DoNotAir, &n.ContestWinner, &n.CallID, &n.By, &n.At)
	return v, err
}

// CallerNotes returns a number's notes now (its newest version). A number
// without notes has zero notes but for their Number, and no error; a
// number that is no phone number is queue.ErrInvalid.
func (s *Store) CallerNotes(ctx context.Context, number string) (queue.CallerNotes, error) {
	v, err := s.CallerNotesVersioned(ctx, number)
	return v.CallerNotes, err
}

// CallerNotesVersioned is CallerNotes with the notes' version (0 for a
// number without notes), for a later WriteCallerNotesIf or
// PatchCallerNotes.
func (s *Store) CallerNotesVersioned(ctx context.Context, number string) (VersionedNotes, error) {
	n := NormalizeNumber(number)
	if n == "" {
		return VersionedNotes{}, fmt.Errorf("postgres: caller notes %q: no phone number: %w", number, queue.ErrInvalid)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, `+callerNotesColumns+` FROM caller_notes
		WHERE number = $1 ORDER BY id DESC LIMIT 1`, n)
	if err != nil {
		return VersionedNotes{}, translate("caller notes", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanVersionedNotes)
	if errors.Is(err, pgx.ErrNoRows) {
		return VersionedNotes{CallerNotes: queue.CallerNotes{Number: n}}, nil
	}
	return out, translate("caller notes", err)
}

// CallerNotesHistory returns a number's notes as they were saved, newest
// first (the first is CallerNotes), at most limit. A number that is no
// phone number is queue.ErrInvalid.
func (s *Store) CallerNotesHistory(ctx context.Context, number string, limit int) ([]queue.CallerNotes, error) {
	n := NormalizeNumber(number)
	if n == "" || limit <= 0 {
		return nil, fmt.Errorf("postgres: caller notes history %q: no phone number or no limit: %w", number, queue.ErrInvalid)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+callerNotesColumns+` FROM caller_notes
		WHERE number = $1 ORDER BY id DESC LIMIT $2`, n, limit)
	if err != nil {
		return nil, translate("caller notes history", err)
	}
	out, err := pgx.CollectRows(rows, scanCallerNotes)
	return out, translate("caller notes history", err)
}

// WriteCallerNotes saves notes (cleaned, see queue.CallerNotes.Clean) as
// the number's newest version, written by by, and returns them as stored,
// with their time. Notes the same as the current ones are not saved again:
// the current version is returned. The number's profile gets the notes'
// text (callers.notes, created if need be), so search and profiles show
// it. Errors: a *queue.FieldError (wrapping queue.ErrInvalid) for notes
// that break a rule.
func (s *Store) WriteCallerNotes(ctx context.Context, notes queue.CallerNotes, by string) (queue.CallerNotes, error) {
	v, err := s.WriteCallerNotesIf(ctx, notes, by, AnyVersion)
	return v.CallerNotes, err
}

// WriteCallerNotesIf is WriteCallerNotes if the number's notes are still
// at version ifVersion (0: the number has no notes yet; AnyVersion: any),
// and returns the notes saved with their version. Errors as
// WriteCallerNotes's, and a *VersionError (ErrVersionMismatch: the API's
// 412) when the notes are at another version.
func (s *Store) WriteCallerNotesIf(ctx context.Context, notes queue.CallerNotes, by string, ifVersion int64) (VersionedNotes, error) {
	return s.writeNotes(ctx, "write caller notes", notes.Number, by, ifVersion, func(queue.CallerNotes) queue.CallerNotes {
		return notes
	})
}

// NotesPatch is an RFC 7396 merge patch of a caller's notes: each member
// absent (unchanged), null (cleared: empty text, rating 0, flag false) or
// a value. Its JSON names are the API's (schema CallerNotesInput), so a
// PATCH body decodes into it.
type NotesPatch struct {
	Topic         PatchField[string] `json:"topic"`
	Notes         PatchField[string] `json:"notes"`
	Rating        PatchField[int]    `json:"rating"`
	DoNotAir      PatchField[bool]   `json:"do_not_air"`
	ContestWinner PatchField[bool]   `json:"contest_winner"`
	CallID        PatchField[string] `json:"call_id"`
}

// Apply returns n changed by the patch.
func (p NotesPatch) Apply(n queue.CallerNotes) queue.CallerNotes {
	n.Topic, n.Notes, n.CallID = p.Topic.Apply(n.Topic), p.Notes.Apply(n.Notes), p.CallID.Apply(n.CallID)
	n.Rating = p.Rating.Apply(n.Rating)
	n.DoNotAir, n.ContestWinner = p.DoNotAir.Apply(n.DoNotAir), p.ContestWinner.Apply(n.ContestWinner)
	return n
}

// PatchCallerNotes applies a merge patch to a number's notes now, if they
// are at version ifVersion (AnyVersion: any), and saves the result as
// WriteCallerNotes does (the same notes are not saved again). The notes
// read and the notes written are in one transaction: no save of another
// producer comes between. Errors: queue.ErrInvalid for a number that is
// no phone number, a *queue.FieldError for a result that breaks a rule, a
// *VersionError (ErrVersionMismatch) for a stale version.
func (s *Store) PatchCallerNotes(ctx context.Context, number string, p NotesPatch, by string, ifVersion int64) (VersionedNotes, error) {
	n := NormalizeNumber(number)
	if n == "" {
		return VersionedNotes{}, fmt.Errorf("postgres: patch caller notes %q: no phone number: %w", number, queue.ErrInvalid)
	}
	return s.writeNotes(ctx, "patch caller notes", n, by, ifVersion, p.Apply)
}

// CallerNotesVersion is CallerNotesVersioned with the notes and their
// version apart (web.NotesVersions: the API's ETag).
func (s *Store) CallerNotesVersion(ctx context.Context, number string) (queue.CallerNotes, int64, error) {
	v, err := s.CallerNotesVersioned(ctx, number)
	return v.CallerNotes, v.Version, err
}

// ChangeCallerNotes saves change(the number's notes now) as
// WriteCallerNotes does, if the notes are at version ifVersion (a negative
// one: any), and returns the notes saved and their version: the API's PUT
// and PATCH with If-Match (web.NotesVersions). The read and the write are
// one transaction. Errors as PatchCallerNotes's.
func (s *Store) ChangeCallerNotes(ctx context.Context, number, by string, ifVersion int64,
	change func(queue.CallerNotes) queue.CallerNotes) (queue.CallerNotes, int64, error) {
	if NormalizeNumber(number) == "" {
		return queue.CallerNotes{}, 0, fmt.Errorf("postgres: change caller notes %q: no phone number: %w", number, queue.ErrInvalid)
	}
	if ifVersion < 0 {
		ifVersion = AnyVersion
	}
	v, err := s.writeNotes(ctx, "change caller notes", number, by, ifVersion, change)
	return v.CallerNotes, v.Version, err
}

// writeNotes saves change(current notes) as number's newest version, if
// the current version is ifVersion.
func (s *Store) writeNotes(ctx context.Context, op, number, by string, ifVersion int64,
	change func(queue.CallerNotes) queue.CallerNotes) (VersionedNotes, error) {
	number = NormalizeNumber(number)
	var out VersionedNotes
	// One transaction: the version and the profile's text agree. The
	// advisory lock on the number serialises two producers saving at once,
	// so "same as now" and the version are decided against the true
	// newest version.
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('caller_notes:' || $1))`, number); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, `+callerNotesColumns+` FROM caller_notes
			WHERE number = $1 ORDER BY id DESC LIMIT 1`, number)
		if err != nil {
			return err
		}
		cur, err := pgx.CollectExactlyOneRow(rows, scanVersionedNotes)
		none := errors.Is(err, pgx.ErrNoRows)
		if err != nil && !none {
			return err
		}
		if none {
			cur = VersionedNotes{CallerNotes: queue.CallerNotes{Number: number}}
		}
		if err := checkVersion(op, ifVersion, cur.Version); err != nil {
			return err
		}
		notes := change(cur.CallerNotes)
		notes.Number = number
		notes = notes.Clean()
		if err := notes.Validate(); err != nil {
			return err
		}
		if (!none && cur.SameAs(notes)) || (none && notes.Empty()) {
			out = cur
			return nil
		}
		out, err = insertNotes(ctx, tx, notes, by, s.origin)
		return err
	})
	var fe *queue.FieldError
	var ve *VersionError
	if errors.As(err, &fe) || errors.As(err, &ve) {
		return VersionedNotes{}, fmt.Errorf("postgres: %s: %w", op, err)
	}
	if err != nil {
		return VersionedNotes{}, translate(op, err)
	}
	return out, nil
}

// insertNotes saves notes as their number's newest version, puts their
// text in the number's profile and tells the listeners (ListenCallers).
func insertNotes(ctx context.Context, tx pgx.Tx, notes queue.CallerNotes, by, origin string) (VersionedNotes, error) {
	rows, err := tx.Query(ctx, `INSERT INTO caller_notes
		(number, topic, notes, rating, do_not_air, contest_winner, call_id, written_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, `+callerNotesColumns,
		notes.Number, notes.Topic, notes.Notes, notes.Rating, notes.DoNotAir, notes.ContestWinner, notes.CallID, by)
	if err != nil {
		return VersionedNotes{}, err
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanVersionedNotes)
	if err != nil {
		return VersionedNotes{}, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO callers (number, notes) VALUES ($1, $2)
		ON CONFLICT (number) DO UPDATE SET notes = excluded.notes`, notes.Number, notes.Notes)
	if err == nil {
		_, err = tx.Exec(ctx, `SELECT pg_notify('`+callersChannel+`', $1 || ' ' || $2)`, notes.Number, origin)
	}
	return out, err
}

// CallerNotesHistoryPage returns a page of a number's notes as they were
// saved, newest first, each with its version: CallerNotesHistory with
// paging. Errors: queue.ErrInvalid for a number that is no phone number,
// a *CursorError for a bad limit or cursor.
func (s *Store) CallerNotesHistoryPage(ctx context.Context, number string, pr PageRequest) (Page[VersionedNotes], error) {
	n := NormalizeNumber(number)
	if n == "" {
		return Page[VersionedNotes]{}, fmt.Errorf("postgres: caller notes history %q: no phone number: %w", number, queue.ErrInvalid)
	}
	limit, after, err := pr.parse("notes-history")
	if err != nil {
		return Page[VersionedNotes]{}, err
	}
	before := int64(math.MaxInt64)
	if after != nil {
		before = after.N
	}
	rows, err := s.pool.Query(ctx, `SELECT id, `+callerNotesColumns+` FROM caller_notes
		WHERE number = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, n, before, limit+1)
	if err != nil {
		return Page[VersionedNotes]{}, translate("caller notes history page", err)
	}
	page, err := collectPage(rows, limit, scanVersionedNotes, func(v VersionedNotes) cursor {
		return keyOf("notes-history", time.Time{}, "", v.Version)
	})
	return page, translate("caller notes history page", err)
}
