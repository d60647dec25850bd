package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/callin-radio/callin/queue"
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
	// Studio is the studio node last named while the show ran
	// (broadcast.App.SetStudio; "" for none): restored at a restart.
	// Saved by SaveShowState only; SaveShowStateIf and PatchShowState
	// keep the stored one.
	Studio    string
	UpdatedAt time.Time
	// Version counts the changes of the settings (1 once first saved;
	// an update that changes nothing keeps it): the API's ETag, for
	// SaveShowStateIf and PatchShowState. SaveShowState ignores it.
	Version int64
}

// SaveShowState keeps a show's run-time settings. Errors: queue.ErrNotFound
// for a show not in the shows table, queue.ErrInvalid for a negative value.
func (s *Store) SaveShowState(ctx context.Context, show string, st ShowState) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO show_state (show, lines_open, capacity, max_on_air, announce_every_ms, studio)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (show) DO UPDATE SET lines_open = excluded.lines_open, capacity = excluded.capacity,
			max_on_air = excluded.max_on_air, announce_every_ms = excluded.announce_every_ms, studio = excluded.studio, updated_at = now()`,
		show, st.LinesOpen, st.Capacity, st.MaxOnAir, st.AnnounceEvery.Milliseconds(), st.Studio)
	return translate("save show state", err)
}

// showStateColumns are read by scanShowState, in its order.
const showStateColumns = `lines_open, capacity, max_on_air, announce_every_ms, studio, updated_at, version`

func scanShowState(row pgx.Row) (ShowState, error) {
	var st ShowState
	var ms int64
	err := row.Scan(&st.LinesOpen, &st.Capacity, &st.MaxOnAir, &ms, &st.Studio, &st.UpdatedAt, &st.Version)
	st.AnnounceEvery = time.Duration(ms) * time.Millisecond
	return st, err
}

// LoadShowState returns a show's last saved run-time settings, with their
// version, or queue.ErrNotFound when none were saved.
func (s *Store) LoadShowState(ctx context.Context, show string) (ShowState, error) {
	st, err := scanShowState(s.pool.QueryRow(ctx, `SELECT `+showStateColumns+` FROM show_state WHERE show = $1`, show))
	return st, translate("load show state", err)
}

// ShowStatePatch is an RFC 7396 merge patch of a show's run-time
// settings: each member absent (unchanged) or a value. A setting cannot
// be cleared: null is queue.ErrInvalid (a *queue.FieldError naming it,
// with the API's names).
type ShowStatePatch struct {
	LinesOpen     PatchField[bool]
	Capacity      PatchField[int]
	MaxOnAir      PatchField[int]
	AnnounceEvery PatchField[time.Duration]
}

// Apply returns st changed by the patch, or a *queue.FieldError for a
// null or negative member.
func (p ShowStatePatch) Apply(st ShowState) (ShowState, error) {
	switch {
	case p.LinesOpen.Null():
		return st, &queue.FieldError{Field: "lines_open", Message: "cannot be cleared"}
	case p.Capacity.Null() || p.Capacity.Apply(0) < 0:
		return st, &queue.FieldError{Field: "capacity", Message: "must be 0 or more"}
	case p.MaxOnAir.Null() || p.MaxOnAir.Apply(0) < 0:
		return st, &queue.FieldError{Field: "max_on_air", Message: "must be 0 or more"}
	case p.AnnounceEvery.Null() || p.AnnounceEvery.Apply(0) < 0:
		return st, &queue.FieldError{Field: "announce_every_seconds", Message: "must be 0 or more"}
	}
	st.LinesOpen, st.Capacity = p.LinesOpen.Apply(st.LinesOpen), p.Capacity.Apply(st.Capacity)
	st.MaxOnAir, st.AnnounceEvery = p.MaxOnAir.Apply(st.MaxOnAir), p.AnnounceEvery.Apply(st.AnnounceEvery)
	return st, nil
}

// SaveShowStateIf is SaveShowState if the show's settings are still at
// version ifVersion (0: none saved yet; AnyVersion: any), and returns them
// as saved, with their version. Errors: a *VersionError
// (ErrVersionMismatch: the API's 412) for a stale version, else as
// SaveShowState's.
func (s *Store) SaveShowStateIf(ctx context.Context, show string, st ShowState, ifVersion int64) (ShowState, error) {
	return s.changeShowState(ctx, "save show state", show, ifVersion, ShowState{},
		func(ShowState) (ShowState, error) { return st, nil })
}

// PatchShowState applies a merge patch to a show's saved settings, if they
// are at version ifVersion (AnyVersion: any), and returns them as saved,
// with their version. A show with no settings saved yet (version 0) is
// patched from initial: the settings it runs with (its --show flags). The
// read and the write are one transaction, the row locked between them.
// Errors: a *queue.FieldError for a null or negative member, a
// *VersionError (ErrVersionMismatch) for a stale version,
// queue.ErrNotFound for a show not in the shows table.
func (s *Store) PatchShowState(ctx context.Context, show string, p ShowStatePatch, ifVersion int64, initial ShowState) (ShowState, error) {
	return s.changeShowState(ctx, "patch show state", show, ifVersion, initial, p.Apply)
}

// changeShowState saves change(the saved settings, or initial) if their
// version is ifVersion.
func (s *Store) changeShowState(ctx context.Context, op, show string, ifVersion int64, initial ShowState,
	change func(ShowState) (ShowState, error)) (ShowState, error) {
	var out ShowState
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := scanShowState(tx.QueryRow(ctx, `SELECT `+showStateColumns+` FROM show_state WHERE show = $1 FOR UPDATE`, show))
		none := errors.Is(err, pgx.ErrNoRows)
		switch {
		case none:
			cur = initial
			cur.Version = 0
		case err != nil:
			return err
		}
		if err := checkVersion(op, ifVersion, cur.Version); err != nil {
			return err
		}
		st, err := change(cur)
		if err != nil {
			return err
		}
		// A show saved by someone else since our read (none, then a
		// row): the unique key refuses ours, a version mismatch.
		out, err = scanShowState(tx.QueryRow(ctx, `INSERT INTO show_state AS s (show, lines_open, capacity, max_on_air, announce_every_ms)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (show) DO UPDATE SET lines_open = excluded.lines_open, capacity = excluded.capacity,
				max_on_air = excluded.max_on_air, announce_every_ms = excluded.announce_every_ms, updated_at = now()
			WHERE $6
			RETURNING `+showStateColumns, show, st.LinesOpen, st.Capacity, st.MaxOnAir, st.AnnounceEvery.Milliseconds(), !none))
		if none && errors.Is(err, pgx.ErrNoRows) {
			return &VersionError{Op: op, Expected: ifVersion, Current: 1}
		}
		return err
	})
	var fe *queue.FieldError
	var ve *VersionError
	if errors.As(err, &fe) || errors.As(err, &ve) {
		return ShowState{}, fmt.Errorf("postgres: %s %q: %w", op, show, err)
	}
	return out, translate(op, err)
}

// ShowNode is a node a show was given while it ran (broadcast.App.AddShowNode):
// added again at a restart.
type ShowNode struct {
	Node    string
	URL     string // its ARI URL, without credentials; "" for a node of --nodes
	AddedAt time.Time
}

// SaveShowNode keeps that show was given node (at url) while it ran; the
// last url given is kept. Errors: queue.ErrNotFound for a show not in the
// shows table.
func (s *Store) SaveShowNode(ctx context.Context, show, node, url string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO show_nodes (show, node, url) VALUES ($1, $2, $3)
		ON CONFLICT (show, node) DO UPDATE SET url = excluded.url`, show, node, url)
	return translate("save show node", err)
}

// ShowNodes returns the nodes show was given while it ran, oldest first.
func (s *Store) ShowNodes(ctx context.Context, show string) ([]ShowNode, error) {
	rows, err := s.pool.Query(ctx, `SELECT node, url, added_at FROM show_nodes WHERE show = $1 ORDER BY added_at, node`, show)
	if err != nil {
		return nil, translate("list show nodes", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ShowNode, error) {
		var n ShowNode
		err := r.Scan(&n.Node, &n.URL, &n.AddedAt)
		return n, err
	})
	return out, translate("list show nodes", err)
}
