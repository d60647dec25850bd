package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

// TestWriterOutage records many callers arriving and leaving while the
// database is stopped (pg_ctl stop -m fast) and started again: Record
// never waits for it, and every transition reaches Postgres exactly once.
func TestWriterOutage(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") != "" {
		t.Skip("stops a cluster of its own; skipped when TEST_DATABASE_URL is set, so PostgreSQL binaries may be missing")
	}
	t.Parallel()
	ctx := context.Background()

	// A cluster of its own, since it is stopped mid-test.
	dir, err := os.MkdirTemp("", "callin-outage-")
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := pgtest.StartCluster(ctx, pgtest.ClusterConfig{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cluster.Stop()
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("cluster kept in %s; start it with: %s", dir, cluster.StartCommand())
		}
	})
	store, err := postgres.Open(ctx, cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := postgres.Migrate(ctx, store.Pool()); err != nil {
		t.Fatal(err)
	}
	trackOrder(t, store.Pool())

	ev := newEvents()
	w := startWriter(t, store, postgres.WriterConfig{BatchSize: 100, MemoryLimit: 200}, ev)
	ts := scenario(600, day) // 600 calls, 2200 transitions
	first, second, third := ts[:len(ts)/3], ts[len(ts)/3:2*len(ts)/3], ts[2*len(ts)/3:]

	record := func(ts []queue.Transition) <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, tr := range ts {
				w.Record(tr)
			}
		}()
		return done
	}
	// finished fails the test unless done closes: Record returned for
	// every transition. The timeout only bounds a broken run.
	finished := func(done <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatalf("%s: Record blocked", what)
		}
	}

	// Up: the first third goes straight in.
	finished(record(first), "first third")
	flush(t, w)

	// The database stops while the second third is being recorded.
	done := record(second)
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	finished(done, "second third, database stopping")

	// Down: the last third is recorded with no database at all. Record
	// returns for all of it before the database is started again.
	finished(record(third), "last third, database down")
	if !ev.failed(time.Minute) {
		t.Fatal("no batch failed while the database was down")
	}
	if b := w.Backlog(); b.Journal == 0 {
		t.Errorf("backlog while down: got %+v, want transitions in the journal", b)
	}

	if err := cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}
	flush(t, w)
	if b := w.Backlog(); b != (postgres.Backlog{}) {
		t.Errorf("backlog after flush: got %+v, want none", b)
	}
	checkHistory(t, store.Pool(), ts)
	checkOrder(t, store.Pool(), ts)

	// Recording it all again after the outage changes nothing.
	finished(record(ts), "everything again")
	flush(t, w)
	checkHistory(t, store.Pool(), ts)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.Dropped() != 0 {
		t.Errorf("dropped: got %d, want 0", w.Dropped())
	}
}
