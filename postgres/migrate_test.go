package postgres_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/migrations"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func emptyPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func tables(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		pool := emptyPool(t)
		if err := postgres.Migrate(ctx, pool); err != nil {
			t.Fatal(err)
		}
		got := tables(t, pool)
		for _, want := range []string{"call_events", "callers", "calls", "schema_version", "shows"} {
			if !slices.Contains(got, want) {
				t.Errorf("tables: got %v, want %s among them", got, want)
			}
		}
		current, known, err := postgres.SchemaVersion(ctx, pool)
		if err != nil || current != known || known < 1 {
			t.Errorf("version: got %d of %d (%v), want equal and > 0", current, known, err)
		}
		// Again: a no-op.
		if err := postgres.Migrate(ctx, pool); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		again, _, err := postgres.SchemaVersion(ctx, pool)
		if err != nil || again != current {
			t.Errorf("version after second migrate: got %d (%v), want %d", again, err, current)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		pool := emptyPool(t)
		errs := make(chan error, 4)
		for range 4 {
			go func() { errs <- postgres.Migrate(ctx, pool) }()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Errorf("concurrent migrate: %v", err)
			}
		}
		current, known, err := postgres.SchemaVersion(ctx, pool)
		if err != nil || current != known {
			t.Errorf("version: got %d of %d (%v)", current, known, err)
		}
	})

	t.Run("Unmigrated", func(t *testing.T) {
		t.Parallel()
		current, known, err := postgres.SchemaVersion(ctx, emptyPool(t))
		if err != nil || current != 0 || known < 1 {
			t.Errorf("got %d of %d (%v), want 0 of at least 1", current, known, err)
		}
	})

	// A database tern migrated (callin's runner before this one) carries
	// on: same version table, same numbering.
	t.Run("TernDatabase", func(t *testing.T) {
		t.Parallel()
		pool := emptyPool(t)
		dump, err := os.ReadFile("testdata/tern-v1.sql")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, pool.Config().ConnConfig.ConnString())
		if err != nil {
			t.Fatal(err)
		}
		// Its own connection: the dump empties search_path.
		_, err = conn.Exec(ctx, string(dump))
		conn.Close(ctx)
		if err != nil {
			t.Fatalf("restore tern's database: %v", err)
		}
		if current, _, err := postgres.SchemaVersion(ctx, pool); err != nil || current != 1 {
			t.Fatalf("tern's database: got version %d (%v), want 1", current, err)
		}
		if err := postgres.Migrate(ctx, pool); err != nil {
			t.Fatalf("migrate tern's database: %v", err)
		}
		current, known, err := postgres.SchemaVersion(ctx, pool)
		if err != nil || current != known {
			t.Errorf("version: got %d of %d (%v), want the latest", current, known, err)
		}
		if got := tables(t, pool); !slices.Contains(got, "users") {
			t.Errorf("tables: got %v, want users (migration 2) among them", got)
		}
		var rows int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_version`).Scan(&rows); err != nil || rows != 1 {
			t.Errorf("schema_version rows: got %d (%v), want 1", rows, err)
		}
	})

	// Each migration is one transaction with its version: a failing one
	// leaves nothing of itself, and the version of the one before.
	t.Run("ErrMigrationFails", func(t *testing.T) {
		t.Parallel()
		pool := emptyPool(t)
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		ms := []migrations.Migration{
			{Version: 1, Name: "001_a.sql", Up: "CREATE TABLE a (n int)"},
			{Version: 2, Name: "002_b.sql", Up: "CREATE TABLE b (n int); INSERT INTO a VALUES (1); SELECT 1/0"},
		}
		err = postgres.MigrateWith(ctx, conn.Conn(), ms)
		if err == nil || !strings.Contains(err.Error(), "002_b.sql") {
			t.Fatalf("got %v, want an error naming 002_b.sql", err)
		}
		if got := tables(t, pool); !slices.Equal(got, []string{"a", "schema_version"}) {
			t.Errorf("tables: got %v, want a and schema_version", got)
		}
		var n, version int
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM a), (SELECT version FROM schema_version)`).Scan(&n, &version); err != nil {
			t.Fatal(err)
		}
		if n != 0 || version != 1 {
			t.Errorf("rows in a %d, version %d; want 0 and 1", n, version)
		}
	})

	// An instance still on tern holds tern's lock while it migrates.
	t.Run("WaitsForTernLock", func(t *testing.T) {
		const ternLock = 9628173550095224 // tern v2's migrate.lockNum
		t.Parallel()
		pool := pgtest.NewDB(t)
		tern, err := pgx.Connect(ctx, pool.Config().ConnConfig.ConnString())
		if err != nil {
			t.Fatal(err)
		}
		defer tern.Close(ctx)
		if _, err := tern.Exec(ctx, `SELECT pg_advisory_lock($1)`, ternLock); err != nil {
			t.Fatal(err)
		}
		// Nothing to apply, yet Migrate must wait for the lock.
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if err := postgres.Migrate(wctx, pool); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("with the lock held: got %v, want it to wait until the deadline", err)
		}
		if _, err := tern.Exec(ctx, `SELECT pg_advisory_unlock($1)`, ternLock); err != nil {
			t.Fatal(err)
		}
		if err := postgres.Migrate(ctx, pool); err != nil {
			t.Errorf("after the lock is released: %v", err)
		}
	})

	t.Run("ErrSchemaTooNew", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.NewDB(t)
		if _, err := pool.Exec(ctx, `UPDATE schema_version SET version = version + 1`); err != nil {
			t.Fatal(err)
		}
		if err := postgres.Migrate(ctx, pool); !errors.Is(err, postgres.ErrSchemaTooNew) {
			t.Errorf("got %v, want ErrSchemaTooNew", err)
		}
	})
}

// TestMigrationsDown undoes every migration, from the last, with the SQL
// below its down marker, then applies them all again.
func TestMigrationsDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	want := tables(t, pool)
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range slices.Backward(all) {
		if _, err := pool.Exec(ctx, m.Down); err != nil {
			t.Fatalf("%s down: %v", m.Name, err)
		}
		if _, err := pool.Exec(ctx, `UPDATE schema_version SET version = $1`, m.Version-1); err != nil {
			t.Fatal(err)
		}
	}
	if got := tables(t, pool); !slices.Equal(got, []string{"schema_version"}) {
		t.Errorf("all undone: got tables %v, want schema_version alone", got)
	}
	if err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	if got := tables(t, pool); !slices.Equal(got, want) {
		t.Errorf("migrated again: got tables %v, want %v", got, want)
	}
}

func TestNormalizeNumber(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"+1 (555) 010-2030", "+15550102030"},
		{"  +44 20 7946 0000", "+442079460000"},
		{"555.010.2030", "5550102030"},
		{"0044-20", "004420"},
		{"(212) 555/0132", "2125550132"},
		{"anonymous", ""},
		{"", ""},
		{"+", ""},
		{"tel:+1555", "+1555"}, // a tel: URI's number
		// Anything else is no number: hostile caller IDs are nobody's
		// profile, not the profile of the digits they hide (issue 10).
		{"1+2", ""},
		{"javascript:alert(1)//", ""},
		{"../../logout?x=1#", ""},
		{"%2B12125550132", ""},
		{"+1 555\x000102", ""},
		{"1234567890123456789012", ""}, // more than 20 digits
	} {
		if got := postgres.NormalizeNumber(tt.in); got != tt.want {
			t.Errorf("NormalizeNumber(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
