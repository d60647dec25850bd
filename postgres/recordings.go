package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

const recordingColumns = `name, show, format, started_at, ended_at, duration_ms, calls, deleted_at`

func scanRecording(row pgx.CollectableRow) (queue.Recording, error) {
	var r queue.Recording
	var started, deleted *time.Time
	var ms int64
	err := row.Scan(&r.Name, &r.Show, &r.Format, &started, &r.Ended, &ms, &r.Calls, &deleted)
	r.Started, r.Deleted, r.Duration = timeOf(started), timeOf(deleted), time.Duration(ms)*time.Millisecond
	return r, err
}

// AddRecording keeps a finished recording; adding one again (a name
// Asterisk reused) replaces it. queue.ErrInvalid without a name, a show
// or an end.
func (s *Store) AddRecording(ctx context.Context, r queue.Recording) error {
	if r.Name == "" || r.Show == "" || r.Ended.IsZero() {
		return fmt.Errorf("postgres: add recording %q: name, show and end are required: %w", r.Name, queue.ErrInvalid)
	}
	calls := r.Calls
	if calls == nil {
		calls = []string{}
	}
	var started *time.Time
	if !r.Started.IsZero() {
		started = &r.Started
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO recordings (name, show, format, started_at, ended_at, duration_ms, calls)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (name) DO UPDATE SET show = excluded.show, format = excluded.format, started_at = excluded.started_at,
			ended_at = excluded.ended_at, duration_ms = excluded.duration_ms, calls = excluded.calls, deleted_at = NULL`,
		r.Name, r.Show, r.Format, started, r.Ended, r.Duration.Milliseconds(), calls)
	return translate("add recording", err)
}

// ShowRecordings returns a show's recordings, the newest first, at most
// limit; with callID, only those during which that call was on air.
func (s *Store) ShowRecordings(ctx context.Context, show, callID string, limit int) ([]queue.Recording, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+recordingColumns+` FROM recordings
		WHERE show = $1 AND ($2 = '' OR calls @> ARRAY[$2])
		ORDER BY ended_at DESC, name LIMIT $3`, show, callID, limit)
	if err != nil {
		return nil, translate("show recordings", err)
	}
	out, err := pgx.CollectRows(rows, scanRecording)
	return out, translate("show recordings", err)
}

// ShowRecordingsPage returns a page of ShowRecordings: a show's
// recordings, the newest first (by end, then name); with callID, only
// those during which that call was on air. Errors: a *CursorError for a
// bad limit or cursor.
func (s *Store) ShowRecordingsPage(ctx context.Context, show, callID string, pr PageRequest) (Page[queue.Recording], error) {
	limit, after, err := pr.parse("recordings")
	if err != nil {
		return Page[queue.Recording]{}, err
	}
	args := []any{show, callID, limit + 1}
	var where string
	if after != nil {
		// Newest first but names in ascending order: no single row
		// comparison fits, so the two cases are spelled out; ended_at <= $4
		// bounds the scan of the (show, ended_at DESC) index.
		where = ` AND ended_at <= $4 AND (ended_at < $4 OR (ended_at = $4 AND name > $5))`
		args = append(args, after.time(), after.S)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+recordingColumns+` FROM recordings
		WHERE show = $1 AND ($2 = '' OR calls @> ARRAY[$2])`+where+`
		ORDER BY ended_at DESC, name LIMIT $3`, args...)
	if err != nil {
		return Page[queue.Recording]{}, translate("show recordings page", err)
	}
	page, err := collectPage(rows, limit, scanRecording, func(r queue.Recording) cursor {
		return keyOf("recordings", r.Ended, r.Name, 0)
	})
	return page, translate("show recordings page", err)
}

// Recording returns one of a show's recordings, or queue.ErrNotFound.
func (s *Store) Recording(ctx context.Context, show, name string) (queue.Recording, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE show = $1 AND name = $2`, show, name)
	if err != nil {
		return queue.Recording{}, translate("recording", err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRecording)
	return r, translate("recording", err)
}

// ExpiredRecordings returns up to limit recordings still kept that ended
// before before, the oldest first: what retention deletes next.
func (s *Store) ExpiredRecordings(ctx context.Context, before time.Time, limit int) ([]queue.Recording, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+recordingColumns+` FROM recordings
		WHERE deleted_at IS NULL AND ended_at < $1 ORDER BY ended_at, name LIMIT $2`, before, limit)
	if err != nil {
		return nil, translate("expired recordings", err)
	}
	out, err := pgx.CollectRows(rows, scanRecording)
	return out, translate("expired recordings", err)
}

// RecordingDeleted notes that a recording's file was deleted at at.
// queue.ErrNotFound for a name never kept.
func (s *Store) RecordingDeleted(ctx context.Context, name string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE recordings SET deleted_at = $2 WHERE name = $1`, name, at)
	if err != nil {
		return translate("recording deleted", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: recording deleted %q: %w", name, queue.ErrNotFound)
	}
	return nil
}
