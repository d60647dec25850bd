package postgres

// Idempotency keys (issue 22, point 1): the API reserves a client's key
// before it acts (BeginIdempotent), keeps the answer once it has acted
// (FinishIdempotent), and gives that answer again to a retry. Table
// idempotency_keys, migration 007.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

// IdempotencyTTL is how long a key is kept: within it the same key and
// request get the first answer again; past it the key may be used afresh
// (Stripe keeps keys 24 hours too).
const IdempotencyTTL = 24 * time.Hour

// IdempotencyLease is how long a reservation may stay in flight: past it,
// the request that reserved the key is taken to have died with its
// process (no API request runs for minutes), and a retry of the same
// request takes the key over. A guess at a safe bound, not a measure.
const IdempotencyLease = 5 * time.Minute

// IdempotencyOutcome is what BeginIdempotent found.
type IdempotencyOutcome int

// The outcomes of BeginIdempotent, and what the API does with each.
const (
	// IdempotencyNew: the key is reserved for this request (in flight);
	// go on, then FinishIdempotent (or ReleaseIdempotent).
	IdempotencyNew IdempotencyOutcome = iota + 1
	// IdempotencyReplay: the same request was answered before; send the
	// stored answer again.
	IdempotencyReplay
	// IdempotencyMismatch: the key was used for another request (another
	// body or path); the API answers 422.
	IdempotencyMismatch
	// IdempotencyInFlight: the same key's first request is still running;
	// the API answers 409 (the client retries later).
	IdempotencyInFlight
)

func (o IdempotencyOutcome) String() string {
	switch o {
	case IdempotencyNew:
		return "new"
	case IdempotencyReplay:
		return "replay"
	case IdempotencyMismatch:
		return "mismatch"
	case IdempotencyInFlight:
		return "in flight"
	}
	return fmt.Sprintf("IdempotencyOutcome(%d)", int(o))
}

// Idempotency is BeginIdempotent's answer: the outcome and, for a replay,
// the stored answer.
type Idempotency struct {
	Outcome     IdempotencyOutcome
	Status      int    // the stored answer's HTTP status (IdempotencyReplay)
	ContentType string // its Content-Type
	Body        []byte // its body
	// CreatedAt is when the key was first reserved (for every outcome).
	CreatedAt time.Time
}

// BeginIdempotent reserves key for principal's request whose SHA-256 is
// hash, at now (the service's clock), or says why not: IdempotencyNew
// (reserved: act, then FinishIdempotent), IdempotencyReplay (with the
// stored answer), IdempotencyMismatch (the key names another request) or
// IdempotencyInFlight. A key older than IdempotencyTTL counts as unused; a
// reservation of the same request in flight for longer than
// IdempotencyLease is taken over. Of two requests with one key at once,
// exactly one gets IdempotencyNew (the primary key decides).
//
// principal is "user:<id>" or "token:<id>" (auth.Principal's kind and
// id); key is the Idempotency-Key header, 1 to 255 characters. Errors:
// queue.ErrInvalid for a malformed principal or key or a hash that is not
// 32 bytes.
func (s *Store) BeginIdempotent(ctx context.Context, principal, key string, hash []byte, now time.Time) (Idempotency, error) {
	if len(hash) != 32 {
		return Idempotency{}, fmt.Errorf("postgres: begin idempotent: hash of %d bytes, want 32: %w", len(hash), queue.ErrInvalid)
	}
	// Each statement is its own transaction: the one that inserts (or
	// takes over) the row wins; a later statement sees the winner's row
	// committed. A row deleted by expiry between the statements sends us
	// round again.
	for range 3 {
		var created time.Time
		err := s.pool.QueryRow(ctx, `INSERT INTO idempotency_keys (principal, key, request_hash, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING created_at`,
			principal, key, hash, now).Scan(&created)
		if err == nil {
			return Idempotency{Outcome: IdempotencyNew, CreatedAt: created}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Idempotency{}, translate("begin idempotent", err)
		}
		// An expired key, or a dead reservation of this very request.
		err = s.pool.QueryRow(ctx, `UPDATE idempotency_keys SET request_hash = $3, status = NULL, content_type = '',
				body = '', created_at = $4, finished_at = NULL
			WHERE principal = $1 AND key = $2
			  AND (created_at < $5 OR (status IS NULL AND request_hash = $3 AND created_at < $6))
			RETURNING created_at`, principal, key, hash, now, now.Add(-IdempotencyTTL), now.Add(-IdempotencyLease)).Scan(&created)
		if err == nil {
			return Idempotency{Outcome: IdempotencyNew, CreatedAt: created}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Idempotency{}, translate("begin idempotent", err)
		}
		out, err := s.idempotencyRow(ctx, principal, key, hash)
		if !errors.Is(err, pgx.ErrNoRows) {
			return out, translate("begin idempotent", err)
		}
	}
	return Idempotency{}, fmt.Errorf("postgres: begin idempotent: the key kept changing: %w", queue.ErrConflict)
}

// idempotencyRow reads a key that is in use and says what it is to a
// request with hash.
func (s *Store) idempotencyRow(ctx context.Context, principal, key string, hash []byte) (Idempotency, error) {
	var out Idempotency
	var stored []byte
	var status *int
	err := s.pool.QueryRow(ctx, `SELECT request_hash, status, content_type, body, created_at
		FROM idempotency_keys WHERE principal = $1 AND key = $2`, principal, key).
		Scan(&stored, &status, &out.ContentType, &out.Body, &out.CreatedAt)
	switch {
	case err != nil:
		return Idempotency{}, err
	case string(stored) != string(hash):
		return Idempotency{Outcome: IdempotencyMismatch, CreatedAt: out.CreatedAt}, nil
	case status == nil:
		return Idempotency{Outcome: IdempotencyInFlight, CreatedAt: out.CreatedAt}, nil
	}
	out.Outcome, out.Status = IdempotencyReplay, *status
	return out, nil
}

// FinishIdempotent keeps the answer to the request that reserved key
// (BeginIdempotent's IdempotencyNew): status, content type and body, given
// again to each retry until the key expires. Errors: queue.ErrNotFound
// when the key is not reserved (never, or expired and deleted meanwhile),
// queue.ErrConflict when it was answered already, queue.ErrInvalid for a
// status outside 100..599 or a body over 1 MiB.
func (s *Store) FinishIdempotent(ctx context.Context, principal, key string, status int, contentType string, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	tag, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5, finished_at = now()
		WHERE principal = $1 AND key = $2 AND status IS NULL`, principal, key, status, contentType, body)
	if err != nil || tag.RowsAffected() == 1 {
		return translate("finish idempotent", err)
	}
	var answered bool
	err = s.pool.QueryRow(ctx, `SELECT status IS NOT NULL FROM idempotency_keys WHERE principal = $1 AND key = $2`,
		principal, key).Scan(&answered)
	switch {
	case err != nil:
		return translate("finish idempotent", err) // queue.ErrNotFound for no row
	case answered:
		return fmt.Errorf("postgres: finish idempotent %q: answered already: %w", key, queue.ErrConflict)
	}
	return fmt.Errorf("postgres: finish idempotent %q: in flight yet not updated: %w", key, queue.ErrConflict)
}

// ReleaseIdempotent gives up a reservation still in flight, so that a
// retry acts afresh: for a request that was not carried out and whose
// answer should not be replayed (the API decides which: typically a 5xx
// before it acted). A key already answered, or unknown, is left alone
// (no error).
func (s *Store) ReleaseIdempotent(ctx context.Context, principal, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL`,
		principal, key)
	return translate("release idempotent", err)
}

// ExpireIdempotencyKeys deletes the keys reserved before now minus
// IdempotencyTTL and returns how many. The service calls it periodically
// (every few minutes); BeginIdempotent treats an expired key as unused
// even before it is deleted.
func (s *Store) ExpireIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, now.Add(-IdempotencyTTL))
	if err != nil {
		return 0, translate("expire idempotency keys", err)
	}
	return tag.RowsAffected(), nil
}
