package postgres

// Accounts: users, sessions, API tokens (the store behind web/auth) and
// show messages. web/auth owns the rules (hashing, expiry, roles); these
// methods only keep rows, taking and returning plain values so that
// *Store satisfies auth.Store without either package importing the other.

import (
	"context"
	"fmt"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

// User is a console user's row, without the password hash.
type User struct {
	ID        int64
	Name      string
	Role      string // admin, producer, screener or host
	Phone     string // the endpoint callin rings for them (e.g. "PJSIP/screener1"), or ""
	CreatedAt time.Time
	UpdatedAt time.Time
}

// APIToken is an API token's row, without the token's hash.
type APIToken struct {
	ID        int64
	Name      string
	Role      string
	Prefix    string // the token's first characters, for display
	CreatedBy string
	CreatedAt time.Time
	LastUsed  time.Time // zero if never used
	Revoked   time.Time // zero if live
}

// touchEvery is how stale sessions.last_seen_at and api_tokens.last_used_at
// may get before a request writes them again: a write per request would
// cost a row version per htmx call for no gain in precision that matters.
const touchEvery = "1 minute"

// CreateUser adds a user and returns its id. It returns queue.ErrConflict
// if the name is taken and queue.ErrInvalid for a malformed name or an
// unknown role.
func (s *Store) CreateUser(ctx context.Context, name, role, passwordHash string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO users (name, role, password_hash)
		VALUES ($1, $2, $3) RETURNING id`, name, role, passwordHash).Scan(&id)
	return id, translate("create user", err)
}

// UserPassword returns the id, role and password hash of the named user,
// or queue.ErrNotFound.
func (s *Store) UserPassword(ctx context.Context, name string) (id int64, role, passwordHash string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT id, role, password_hash FROM users WHERE name = $1`, name).
		Scan(&id, &role, &passwordHash)
	return id, role, passwordHash, translate("user password", err)
}

// SetUserPassword replaces the named user's password hash and ends all the
// user's sessions, in one statement. It returns queue.ErrNotFound for an
// unknown user.
func (s *Store) SetUserPassword(ctx context.Context, name, passwordHash string) error {
	var id int64
	err := s.pool.QueryRow(ctx, `WITH u AS (
			UPDATE users SET password_hash = $2, updated_at = now() WHERE name = $1 RETURNING id
		), d AS (
			DELETE FROM sessions WHERE user_id IN (SELECT id FROM u)
		)
		SELECT id FROM u`, name, passwordHash).Scan(&id)
	return translate("set user password", err)
}

// SetUserRole changes the named user's role and ends all the user's
// sessions, in one statement. It returns queue.ErrNotFound for an unknown
// user and queue.ErrInvalid for an unknown role.
func (s *Store) SetUserRole(ctx context.Context, name, role string) error {
	var id int64
	err := s.pool.QueryRow(ctx, `WITH u AS (
			UPDATE users SET role = $2, updated_at = now() WHERE name = $1 RETURNING id
		), d AS (
			DELETE FROM sessions WHERE user_id IN (SELECT id FROM u)
		)
		SELECT id FROM u`, name, role).Scan(&id)
	return translate("set user role", err)
}

// DeleteUser removes the named user and (by cascade) their sessions. Their
// show messages and the tokens they created keep their name. It returns
// queue.ErrNotFound for an unknown user.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM users WHERE name = $1`, name)
	if err != nil {
		return translate("delete user", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete user %q: %w", name, queue.ErrNotFound)
	}
	return nil
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, role, coalesce(phone, ''), created_at, updated_at FROM users ORDER BY name`)
	if err != nil {
		return nil, translate("list users", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (User, error) {
		var u User
		err := row.Scan(&u.ID, &u.Name, &u.Role, &u.Phone, &u.CreatedAt, &u.UpdatedAt)
		return u, err
	})
	return out, translate("list users", err)
}

// CreateSession stores a session of a user: idHash is the SHA-256 of the
// session's secret id, now its creation time and expires its absolute
// expiry. It returns queue.ErrNotFound for an unknown user and
// queue.ErrConflict if the id hash exists.
func (s *Store) CreateSession(ctx context.Context, idHash []byte, userID int64, now, expires time.Time, userAgent string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at, user_agent)
		VALUES ($1, $2, $3, $4, $3, $5)`, idHash, userID, now, expires, userAgent)
	return translate("create session", err)
}

// SessionUser returns the user of a live session and marks the session seen
// at now (when last seen over a minute before). A session is live when it
// expires after now and was last seen after idleSince; otherwise, or for an
// unknown id hash, it returns queue.ErrNotFound.
func (s *Store) SessionUser(ctx context.Context, idHash []byte, now, idleSince time.Time) (userID int64, name, role string, err error) {
	// The data-modifying CTE runs whether or not the SELECT reads it: one
	// round trip checks the session and keeps its last_seen_at fresh.
	err = s.pool.QueryRow(ctx, `WITH live AS (
			SELECT u.id, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3
		), touch AS (
			UPDATE sessions SET last_seen_at = $2
			WHERE id_hash = $1 AND last_seen_at < $2::timestamptz - interval '`+touchEvery+`'
				AND expires_at > $2 AND last_seen_at > $3
		)
		SELECT id, name, role FROM live`, idHash, now, idleSince).Scan(&userID, &name, &role)
	return userID, name, role, translate("session user", err)
}

// DeleteSession removes a session; removing an unknown one is not an error.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return translate("delete session", err)
}

// DeleteExpiredSessions removes the sessions that expired by now or were
// last seen before idleSince, and returns how many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, now, idleSince)
	if err != nil {
		return 0, translate("delete expired sessions", err)
	}
	return tag.RowsAffected(), nil
}

// TrimSessions removes the sessions of user userID beyond the keep most
// recently seen (the newest first among sessions seen at the same time),
// and returns the id hashes of those it removed.
func (s *Store) TrimSessions(ctx context.Context, userID int64, keep int) ([][]byte, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM sessions WHERE id_hash IN (
			SELECT id_hash FROM sessions WHERE user_id = $1
			ORDER BY last_seen_at DESC, created_at DESC, id_hash OFFSET $2
		) RETURNING id_hash`, userID, keep)
	if err != nil {
		return nil, translate("trim sessions", err)
	}
	ended, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	return ended, translate("trim sessions", err)
}

// CreateToken stores an API token by the SHA-256 of its secret and returns
// its id. It returns queue.ErrConflict if a live token has the name and
// queue.ErrInvalid for an empty or over-long name or an unknown role.
func (s *Store) CreateToken(ctx context.Context, name, role string, hash []byte, prefix, createdBy string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO api_tokens (name, role, token_hash, prefix, created_by)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, name, role, hash, prefix, createdBy).Scan(&id)
	return id, translate("create token", err)
}

// TokenRole returns the id, name and role of the live (not revoked) token
// whose secret has this SHA-256, and marks it used at now (when last used
// over a minute before). It returns queue.ErrNotFound for an unknown or
// revoked token.
func (s *Store) TokenRole(ctx context.Context, hash []byte, now time.Time) (id int64, name, role string, err error) {
	err = s.pool.QueryRow(ctx, `WITH live AS (
			SELECT id, name, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL
		), touch AS (
			UPDATE api_tokens SET last_used_at = $2
			WHERE token_hash = $1 AND revoked_at IS NULL
				AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '`+touchEvery+`')
		)
		SELECT id, name, role FROM live`, hash, now).Scan(&id, &name, &role)
	return id, name, role, translate("token role", err)
}

// RevokeToken revokes the live token of that name. It returns
// queue.ErrNotFound if there is none.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = now()
		WHERE name = $1 AND revoked_at IS NULL`, name)
	if err != nil {
		return translate("revoke token", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: revoke token %q: %w", name, queue.ErrNotFound)
	}
	return nil
}

// ListTokens returns every API token, revoked ones included, newest first.
func (s *Store) ListTokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, role, prefix, created_by, created_at, last_used_at, revoked_at
		FROM api_tokens ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, translate("list tokens", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIToken, error) {
		var t APIToken
		var used, revoked *time.Time
		err := row.Scan(&t.ID, &t.Name, &t.Role, &t.Prefix, &t.CreatedBy, &t.CreatedAt, &used, &revoked)
		if used != nil {
			t.LastUsed = *used
		}
		if revoked != nil {
			t.Revoked = *revoked
		}
		return t, err
	})
	return out, translate("list tokens", err)
}

// AddShowMessage appends a message to a show's channel and returns it as
// stored. It returns queue.ErrInvalid for an empty body or one over 500
// characters.
func (s *Store) AddShowMessage(ctx context.Context, show, author, body string) (ShowMessage, error) {
	m := ShowMessage{Show: show, Author: author, Body: body}
	err := s.pool.QueryRow(ctx, `INSERT INTO show_messages (show, author, body)
		VALUES ($1, $2, $3) RETURNING id, at`, show, author, body).Scan(&m.ID, &m.At)
	if err != nil {
		return ShowMessage{}, translate("add show message", err)
	}
	return m, nil
}

// ShowMessages returns a show's latest limit messages, oldest first. It
// returns queue.ErrInvalid for a limit below 1.
func (s *Store) ShowMessages(ctx context.Context, show string, limit int) ([]ShowMessage, error) {
	if limit < 1 {
		return nil, fmt.Errorf("postgres: show messages: limit %d: %w", limit, queue.ErrInvalid)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, show, author, body, at FROM (
			SELECT id, show, author, body, at FROM show_messages
			WHERE show = $1 ORDER BY at DESC, id DESC LIMIT $2
		) latest ORDER BY at, id`, show, limit)
	if err != nil {
		return nil, translate("show messages", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ShowMessage])
	return out, translate("show messages", err)
}

// ShowMessagesPage returns a page of a show's chat, the newest message
// first (by time, then id): the first page is the latest messages, and
// each next page goes further back. Messages written while a client pages
// back are newer than its cursor and never show up in its later pages.
// Errors: a *CursorError for a bad limit or cursor.
func (s *Store) ShowMessagesPage(ctx context.Context, show string, pr PageRequest) (Page[ShowMessage], error) {
	limit, after, err := pr.parse("chat")
	if err != nil {
		return Page[ShowMessage]{}, err
	}
	args := []any{show, limit + 1}
	var where string
	if after != nil {
		where, args = ` AND at <= $3 AND (at, id) < ($3, $4)`, append(args, after.time(), after.N)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, show, author, body, at FROM show_messages
		WHERE show = $1`+where+` ORDER BY at DESC, id DESC LIMIT $2`, args...)
	if err != nil {
		return Page[ShowMessage]{}, translate("show messages page", err)
	}
	page, err := collectPage(rows, limit, pgx.RowToStructByPos[ShowMessage], func(m ShowMessage) cursor {
		return keyOf("chat", m.At, "", m.ID)
	})
	return page, translate("show messages page", err)
}
