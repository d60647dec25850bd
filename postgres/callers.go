package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

// profileColumns are read by scanProfile, in its order.
const profileColumns = `number, name, notes, calls_count, on_air_count,
	first_call_at, last_call_at, blocked, blocked_reason, blocked_by, blocked_at`

func scanProfile(row pgx.Row) (Profile, error) {
	var p Profile
	var first, last, blockedAt *time.Time
	err := row.Scan(&p.Number, &p.Name, &p.Notes, &p.Calls, &p.OnAir,
		&first, &last, &p.Blocked, &p.BlockedReason, &p.BlockedBy, &blockedAt)
	p.FirstCall, p.LastCall, p.BlockedAt = timeOf(first), timeOf(last), timeOf(blockedAt)
	return p, err
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// CallerProfile returns the profile of a phone number, normalised first.
// A number never seen (or one without digits) has a zero profile and no
// error: only its Number is set.
func (s *Store) CallerProfile(ctx context.Context, number string) (Profile, error) {
	n := NormalizeNumber(number)
	if n == "" {
		return Profile{}, nil
	}
	p, err := scanProfile(s.pool.QueryRow(ctx,
		`SELECT `+profileColumns+` FROM callers WHERE number = $1`, n))
	if errors.Is(err, pgx.ErrNoRows) {
		return Profile{Number: n}, nil
	}
	if err != nil {
		return Profile{}, translate("caller profile", err)
	}
	return p, nil
}

// SearchCallers returns up to limit callers whose number contains the digits
// of q, or whose name contains q (case-insensitive), the most recent callers
// first. Both searches use trigram indexes.
func (s *Store) SearchCallers(ctx context.Context, q string, limit int) ([]Profile, error) {
	q = strings.TrimSpace(q)
	if q == "" || limit <= 0 {
		return nil, fmt.Errorf("postgres: search callers: empty query or limit: %w", queue.ErrInvalid)
	}
	digits := strings.TrimPrefix(NormalizeNumber(q), "+")
	// An empty digits pattern would match every number: $1 = '' disables it.
	rows, err := s.pool.Query(ctx, `SELECT `+profileColumns+` FROM callers
		WHERE ($1 <> '' AND number LIKE '%' || $1 || '%')
		   OR name ILIKE '%' || $2 || '%'
		ORDER BY last_call_at DESC NULLS LAST, number
		LIMIT $3`, digits, escapeLike(q), limit)
	if err != nil {
		return nil, translate("search callers", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Profile, error) { return scanProfile(r) })
	return out, translate("search callers", err)
}

// escapeLike makes LIKE's wildcards in s match themselves.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Block marks a number as blocked, saying who did it and why. The next
// CallerProfile sees it. A number never seen before gets a profile.
// It returns queue.ErrInvalid for a number without digits.
func (s *Store) Block(ctx context.Context, number, by, reason string) error {
	n := NormalizeNumber(number)
	if n == "" {
		return fmt.Errorf("postgres: block %q: no digits: %w", number, queue.ErrInvalid)
	}
	_, err := s.pool.Exec(ctx, `WITH b AS (INSERT INTO callers (number, blocked, blocked_reason, blocked_by, blocked_at)
		VALUES ($1, true, $2, $3, now())
		ON CONFLICT (number) DO UPDATE SET blocked = true, blocked_reason = excluded.blocked_reason,
			blocked_by = excluded.blocked_by, blocked_at = excluded.blocked_at)
		SELECT pg_notify('`+callersChannel+`', $1 || ' ' || $4)`, n, reason, by, s.origin)
	return translate("block", err)
}

// Unblock lifts a number's block; by says who (kept as blocked_by with the
// time, so the last change stays visible). It returns queue.ErrNotFound for
// a number callin has never seen.
func (s *Store) Unblock(ctx context.Context, number, by string) error {
	n := NormalizeNumber(number)
	var found bool
	err := s.pool.QueryRow(ctx, `WITH u AS (UPDATE callers SET blocked = false, blocked_reason = '',
		blocked_by = $2, blocked_at = now() WHERE number = $1 RETURNING number)
		SELECT EXISTS (SELECT 1 FROM u), (SELECT pg_notify('`+callersChannel+`', number || ' ' || $3) FROM u)`, n, by, s.origin).Scan(&found, nil)
	if err != nil {
		return translate("unblock", err)
	}
	if !found {
		return fmt.Errorf("postgres: unblock %q: %w", number, queue.ErrNotFound)
	}
	return nil
}

// SetCallerNotes replaces the producers' notes about a number, creating its
// profile if needed. It returns queue.ErrInvalid for a number without digits.
func (s *Store) SetCallerNotes(ctx context.Context, number, notes string) error {
	n := NormalizeNumber(number)
	if n == "" {
		return fmt.Errorf("postgres: caller notes %q: no digits: %w", number, queue.ErrInvalid)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO callers (number, notes) VALUES ($1, $2)
		ON CONFLICT (number) DO UPDATE SET notes = excluded.notes`, n, notes)
	return translate("caller notes", err)
}

// BlockedNumbers returns every blocked number (normalised) with its reason:
// what the call path keeps in memory so that turning a caller away never
// waits on the database.
func (s *Store) BlockedNumbers(ctx context.Context) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT number, blocked_reason FROM callers WHERE blocked`)
	if err != nil {
		return nil, translate("blocked numbers", err)
	}
	out := map[string]string{}
	var n, reason string
	_, err = pgx.ForEachRow(rows, []any{&n, &reason}, func() error {
		out[n] = reason
		return nil
	})
	return out, translate("blocked numbers", err)
}

// callersChannel is the notification channel on which every change of a
// caller's profile (a block, an unblock, new caller notes) names the
// number, once its transaction commits (ListenCallers).
const callersChannel = "callin_callers"

// ListenCallers calls changed with the number of every caller whose
// profile changes (blocked, unblocked, new notes), through any instance,
// until ctx ends or the connection fails; it returns why it stopped. mine
// says the change was made through this Store (which its caller has seen
// to already). A caller of it listens again after an error, and should
// assume it missed changes meanwhile.
func (s *Store) ListenCallers(ctx context.Context, changed func(number string, mine bool)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return translate("listen callers", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+callersChannel); err != nil {
		return translate("listen callers", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return translate("listen callers", err)
		}
		number, origin, _ := strings.Cut(n.Payload, " ")
		changed(number, origin == s.origin)
	}
}
