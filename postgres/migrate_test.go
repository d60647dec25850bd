package postgres_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
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

func TestNormalizeNumber(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"+1 (555) 010-2030", "+15550102030"},
		{"  +44 20 7946 0000", "+442079460000"},
		{"555.010.2030", "5550102030"},
		{"0044-20", "004420"},
		{"1+2", "12"},
		{"anonymous", ""},
		{"", ""},
		{"+", ""},
		{"tel:+1555", "1555"}, // a + that does not lead is dropped
	} {
		if got := postgres.NormalizeNumber(tt.in); got != tt.want {
			t.Errorf("NormalizeNumber(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
