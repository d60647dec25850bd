package postgres

// Caller notes (issue 13): every save of a caller's notes is a row of
// caller_notes; the newest row of a number is its notes now, the older
// ones its history.

import (
	"context"
	"errors"
	"fmt"

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

// CallerNotes returns a number's notes now (its newest version). A number
// without notes has zero notes but for their Number, and no error; a
// number that is no phone number is queue.ErrInvalid.
func (s *Store) CallerNotes(ctx context.Context, number string) (queue.CallerNotes, error) {
	n := NormalizeNumber(number)
	if n == "" {
		return queue.CallerNotes{}, fmt.Errorf("postgres: caller notes %q: no phone number: %w", number, queue.ErrInvalid)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+callerNotesColumns+` FROM caller_notes
		WHERE number = $1 ORDER BY id DESC LIMIT 1`, n)
	if err != nil {
		return queue.CallerNotes{}, translate("caller notes", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanCallerNotes)
	if errors.Is(err, pgx.ErrNoRows) {
		return queue.CallerNotes{Number: n}, nil
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
	notes = notes.Clean()
	if err := notes.Validate(); err != nil {
		return queue.CallerNotes{}, fmt.Errorf("postgres: write caller notes: %w", err)
	}
	var out queue.CallerNotes
	// One transaction: the version and the profile's text agree. The
	// advisory lock on the number serialises two producers saving at once,
	// so "same as now" is decided against the true newest version.
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('caller_notes:' || $1))`, notes.Number); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+callerNotesColumns+` FROM caller_notes
			WHERE number = $1 ORDER BY id DESC LIMIT 1`, notes.Number)
		if err != nil {
			return err
		}
		cur, err := pgx.CollectExactlyOneRow(rows, scanCallerNotes)
		switch {
		case err == nil && cur.SameAs(notes):
			out = cur
			return nil
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return err
		case errors.Is(err, pgx.ErrNoRows) && notes.Empty():
			out = queue.CallerNotes{Number: notes.Number}
			return nil
		}
		rows, err = tx.Query(ctx, `INSERT INTO caller_notes
			(number, topic, notes, rating, do_not_air, contest_winner, call_id, written_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+callerNotesColumns,
			notes.Number, notes.Topic, notes.Notes, notes.Rating, notes.DoNotAir, notes.ContestWinner, notes.CallID, by)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectExactlyOneRow(rows, scanCallerNotes); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO callers (number, notes) VALUES ($1, $2)
			ON CONFLICT (number) DO UPDATE SET notes = excluded.notes`, notes.Number, notes.Notes)
		if err == nil {
			_, err = tx.Exec(ctx, `SELECT pg_notify('`+callersChannel+`', $1 || ' ' || $2)`, notes.Number, s.origin)
		}
		return err
	})
	if err != nil {
		return queue.CallerNotes{}, translate("write caller notes", err)
	}
	return out, nil
}
