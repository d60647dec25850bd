// Package postgres is callin's history store on PostgreSQL: caller profiles,
// calls, the log of call transitions and the shows table.
//
// The call path never waits for the database: it hands each queue.Transition
// to a Writer, which keeps it in memory or in a journal file on local disk and
// writes it to Postgres in order, in batches, once the database is there.
// Reads (profiles, a caller's calls, a show's day) go straight to the pool.
//
// Errors wrap queue's sentinels (queue.ErrNotFound, queue.ErrConflict,
// queue.ErrInvalid) so one table at each boundary maps them; pgx errors are
// translated here, in translate, and nowhere else.
package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store reads and writes callin's history. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// origin names this Store in the notifications of its changes
	// (ListenCallers), so that its own can be told from others'.
	origin string
}

// Open connects to the database at url (a postgres:// URL or a key=value
// string) and checks that it answers.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return &Store{pool: pool, origin: rand.Text()}, nil
}

// New returns a Store on an existing pool; closing the Store closes the pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, origin: rand.Text()}
}

// Pool returns the Store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the Store's connection pool.
func (s *Store) Close() { s.pool.Close() }

// translate maps a pgx error to a domain sentinel, keeping the original
// error in the chain: the one table of pgx → domain errors.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var kind error
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		kind = queue.ErrNotFound
	case errors.As(err, &pgErr):
		switch {
		case pgErr.Code == "23505": // unique_violation
			kind = queue.ErrConflict
		case pgErr.Code == "23503": // foreign_key_violation
			kind = queue.ErrNotFound
		case pgErr.Code[:2] == "22", pgErr.Code[:2] == "23": // data exception, other integrity
			kind = queue.ErrInvalid
		}
	}
	if kind == nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	return &domainError{op: op, kind: kind, err: err}
}

// domainError is a PostgreSQL error translated to a domain sentinel. Its
// text has PostgreSQL's, for the log; Public is the text without it, for
// clients ("invalid byte sequence for encoding…", "no rows in result
// set" say how the database works, not what was wrong with the request).
type domainError struct {
	op        string
	kind, err error
}

func (e *domainError) Error() string {
	return "postgres: " + e.op + ": " + e.kind.Error() + ": " + e.err.Error()
}

// Public is the error's text without PostgreSQL's.
func (e *domainError) Public() string { return "postgres: " + e.op + ": " + e.kind.Error() }

func (e *domainError) Unwrap() []error { return []error{e.kind, e.err} }
