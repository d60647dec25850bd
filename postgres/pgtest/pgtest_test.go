package pgtest_test

import (
	"context"
	"testing"

	"github.com/callin-radio/callin/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestNewDB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := pgtest.NewDB(t), pgtest.NewDB(t)
	// Each test database is migrated and separate from the others.
	if _, err := a.Exec(ctx, `INSERT INTO shows (key) VALUES ('morning')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(ctx, `SELECT count(*) FROM shows`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("shows in the other database: got %d, want 0", n)
	}
	if err := a.QueryRow(ctx, `SELECT count(*) FROM shows`).Scan(&n); err != nil || n != 1 {
		t.Errorf("shows: got %d, %v, want 1", n, err)
	}
}
