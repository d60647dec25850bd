package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/callin-radio/callin/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// callin applies its migrations with the few lines below rather than with
// tern, which it used at first: tern's migrate package runs every file
// through text/template with sprig's functions, and so linked sprig and
// about ten modules into the binary for features callin never used
// (templates, snapshots, down migrations, Go migrations). What callin needs
// is an advisory lock, a version, one transaction per file and a refusal of
// a newer schema.
//
// The runner keeps tern's records, so that a database tern migrated carries
// on: the version is the single row of public.schema_version (version int4),
// the number of migrations applied; and it takes tern's advisory lock, so an
// instance of the tern days and a newer one never migrate at once.
const (
	// versionTable holds the schema version: one row, one int4 column.
	versionTable = "public.schema_version"
	// migrateLock is tern's advisory lock key (tern v2's migrate.lockNum).
	migrateLock = int64(9628173550095224)
)

// ErrSchemaTooNew means the database was migrated by a newer callin than
// this one: it refuses to run rather than misread a schema it does not know.
var ErrSchemaTooNew = errors.New("database schema is newer than this callin")

// Migrate applies the migrations this binary embeds that the database lacks,
// each in its own transaction with the new version. Applying them again is a
// no-op. Two instances migrating at once do not race: each holds a Postgres
// advisory lock while it reads the version and applies migrations. It
// returns ErrSchemaTooNew when the database is ahead of the binary.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	return MigrateConn(ctx, conn.Conn())
}

// MigrateConn is Migrate on a single connection.
func MigrateConn(ctx context.Context, conn *pgx.Conn) error {
	all, err := migrations.All()
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return migrate(ctx, conn, all)
}

// migrate brings the database to the last of ms under the advisory lock.
func migrate(ctx context.Context, conn *pgx.Conn, ms []migrations.Migration) (err error) {
	// The lock is the session's: it is released below, or by the server
	// if the connection dies (a cancelled ctx closes it).
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock); uerr != nil && err == nil {
			err = fmt.Errorf("postgres: migrate: unlock: %w", uerr)
		}
	}()
	// As tern did: the table, then its one row, if missing.
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+versionTable+` (version int4 NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO `+versionTable+` (version) SELECT 0 WHERE NOT EXISTS (SELECT FROM `+versionTable+`)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT version FROM `+versionTable).Scan(&current); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("postgres: migrate: database at version %d, this binary knows %d: %w", current, len(ms), ErrSchemaTooNew)
	}
	for _, m := range ms[current:] {
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return apply(ctx, tx, m) }); err != nil {
			return fmt.Errorf("postgres: migrate: %s: %w", m.Name, err)
		}
	}
	return nil
}

// apply runs one migration and records its version, in tx.
func apply(ctx context.Context, tx pgx.Tx, m migrations.Migration) error {
	// Without arguments pgx sends the file as one simple query, so a file
	// may hold many statements.
	if _, err := tx.Exec(ctx, m.Up); err != nil {
		return err
	}
	// A migration may change settings such as search_path: undo them
	// before the version is written (tern did the same).
	if _, err := tx.Exec(ctx, `RESET ALL`); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE `+versionTable+` SET version = $1`, m.Version)
	return err
}

// SchemaVersion returns the database's schema version (0 before the first
// migration) and the latest one this binary embeds.
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (current, known int, err error) {
	all, err := migrations.All()
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, versionTable).Scan(&exists); err != nil {
		return 0, 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	if exists { // else never migrated: version 0
		if err := pool.QueryRow(ctx, `SELECT version FROM `+versionTable).Scan(&current); err != nil {
			return 0, 0, fmt.Errorf("postgres: schema version: %w", err)
		}
	}
	return current, len(all), nil
}
