package pgtest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/jackc/pgx/v5"
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

func TestClusterStopStart(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") != "" {
		t.Skip("uses a cluster of its own; skipped when TEST_DATABASE_URL is set, so PostgreSQL binaries may be missing")
	}
	t.Parallel()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "callin-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c, err := pgtest.StartCluster(ctx, pgtest.ClusterConfig{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	exec := func() error {
		conn, err := pgx.Connect(ctx, c.URL())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS kept (n int); INSERT INTO kept VALUES (1)`)
		return err
	}
	if err := exec(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := exec(); err == nil {
		t.Fatal("connected to a stopped cluster")
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := exec(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres.log")); err != nil {
		t.Errorf("server log: %v", err)
	}
}
