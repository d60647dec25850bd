package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// Show is a show's row: what callin needs to know to run it.
type Show struct {
	Key       string // lower-case letters, digits, - and _; the Stasis argument
	Title     string
	Node      string // the Asterisk node the show lives on
	LinesOpen bool
	Settings  json.RawMessage // free-form JSON object; "{}" when empty
	CreatedAt time.Time
	UpdatedAt time.Time
}

const showColumns = `key, title, node, lines_open, settings, created_at, updated_at`

func scanShow(row pgx.CollectableRow) (Show, error) {
	var s Show
	err := row.Scan(&s.Key, &s.Title, &s.Node, &s.LinesOpen, &s.Settings, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

// UpsertShow creates a show or replaces its title, node, lines and settings,
// and returns it as stored. It returns queue.ErrInvalid for a malformed key
// or settings that are not a JSON object.
func (s *Store) UpsertShow(ctx context.Context, sh Show) (Show, error) {
	settings := sh.Settings
	if len(settings) == 0 {
		settings = json.RawMessage(`{}`)
	}
	rows, err := s.pool.Query(ctx, `INSERT INTO shows (key, title, node, lines_open, settings)
		VALUES ($1, $2, $3, $4, CASE WHEN jsonb_typeof($5::jsonb) = 'object' THEN $5::jsonb END)
		ON CONFLICT (key) DO UPDATE SET title = excluded.title, node = excluded.node,
			lines_open = excluded.lines_open, settings = excluded.settings, updated_at = now()
		RETURNING `+showColumns, sh.Key, sh.Title, sh.Node, sh.LinesOpen, string(settings))
	if err != nil {
		return Show{}, translate("upsert show", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanShow)
	return out, translate("upsert show", err)
}

// GetShow returns a show by key, or queue.ErrNotFound.
func (s *Store) GetShow(ctx context.Context, key string) (Show, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+showColumns+` FROM shows WHERE key = $1`, key)
	if err != nil {
		return Show{}, translate("get show", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanShow)
	return out, translate("get show", err)
}

// ListShows returns every show, by key.
func (s *Store) ListShows(ctx context.Context) ([]Show, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+showColumns+` FROM shows ORDER BY key`)
	if err != nil {
		return nil, translate("list shows", err)
	}
	out, err := pgx.CollectRows(rows, scanShow)
	return out, translate("list shows", err)
}
