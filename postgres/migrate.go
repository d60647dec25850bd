package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/callin-radio/callin/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

// versionTable is where tern keeps the number of the last migration applied.
const versionTable = "public.schema_version"

// ErrSchemaTooNew means the database was migrated by a newer callin than
// this one: it refuses to run rather than misread a schema it does not know.
var ErrSchemaTooNew = errors.New("database schema is newer than this callin")

// Migrate applies the migrations this binary embeds that the database lacks,
// each in its own transaction. Applying them again is a no-op. Two instances
// migrating at once do not race: tern holds a Postgres advisory lock while it
// reads the version and applies migrations. It returns ErrSchemaTooNew when
// the database is ahead of the binary.
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
	m, err := newMigrator(ctx, conn)
	if err != nil {
		return err
	}
	// This check is a friendlier early answer; tern repeats it under its
	// lock (as a BadVersionError), which closes the race with a newer
	// instance migrating meanwhile.
	current, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	known := int32(len(m.Migrations))
	if current > known {
		return fmt.Errorf("postgres: migrate: database at version %d, this binary knows %d: %w", current, known, ErrSchemaTooNew)
	}
	if err := m.Migrate(ctx); err != nil {
		var bad migrate.BadVersionError
		if errors.As(err, &bad) {
			return fmt.Errorf("postgres: migrate: %w: %w", ErrSchemaTooNew, err)
		}
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// SchemaVersion returns the database's schema version and the latest one
// this binary embeds.
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (current, known int, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	defer conn.Release()
	m, err := newMigrator(ctx, conn.Conn())
	if err != nil {
		return 0, 0, err
	}
	v, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return int(v), len(m.Migrations), nil
}

func newMigrator(ctx context.Context, conn *pgx.Conn) (*migrate.Migrator, error) {
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return nil, fmt.Errorf("postgres: migrate: load: %w", err)
	}
	return m, nil
}
