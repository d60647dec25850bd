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

// ShowState is a show's settings as producers last changed them while it
// ran: what a standby instance taking the show over carries on with.
type ShowState struct {
	LinesOpen     bool
	Capacity      int
	MaxOnAir      int
	AnnounceEvery time.Duration
	UpdatedAt     time.Time
}

// SaveShowState keeps a show's run-time settings. Errors: queue.ErrNotFound
// for a show not in the shows table, queue.ErrInvalid for a negative value.
func (s *Store) SaveShowState(ctx context.Context, show string, st ShowState) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO show_state (show, lines_open, capacity, max_on_air, announce_every_ms)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (show) DO UPDATE SET lines_open = excluded.lines_open, capacity = excluded.capacity,
			max_on_air = excluded.max_on_air, announce_every_ms = excluded.announce_every_ms, updated_at = now()`,
		show, st.LinesOpen, st.Capacity, st.MaxOnAir, st.AnnounceEvery.Milliseconds())
	return translate("save show state", err)
}

// LoadShowState returns a show's last saved run-time settings, or
// queue.ErrNotFound when none were saved.
func (s *Store) LoadShowState(ctx context.Context, show string) (ShowState, error) {
	var st ShowState
	var ms int64
	err := s.pool.QueryRow(ctx, `SELECT lines_open, capacity, max_on_air, announce_every_ms, updated_at
		FROM show_state WHERE show = $1`, show).Scan(&st.LinesOpen, &st.Capacity, &st.MaxOnAir, &ms, &st.UpdatedAt)
	st.AnnounceEvery = time.Duration(ms) * time.Millisecond
	return st, translate("load show state", err)
}
