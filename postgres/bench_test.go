package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
)

// BenchmarkWriter measures transitions per second from Record until Flush
// returns (all in Postgres). "fast" runs on the test cluster (fsync off);
// "durable" on a cluster with PostgreSQL's default durability.
func BenchmarkWriter(b *testing.B) {
	b.Run("fast", func(b *testing.B) {
		benchWriter(b, pgtest.NewStore(b))
	})
	b.Run("durable", func(b *testing.B) {
		if os.Getenv("TEST_DATABASE_URL") != "" {
			b.Skip("starts a cluster of its own")
		}
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "callin-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		c, err := pgtest.StartCluster(ctx, pgtest.ClusterConfig{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Stop() })
		store, err := postgres.Open(ctx, c.URL())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(store.Close)
		if err := postgres.Migrate(ctx, store.Pool()); err != nil {
			b.Fatal(err)
		}
		benchWriter(b, store)
	})
}

func benchWriter(b *testing.B, store *postgres.Store) {
	ts := scenario(b.N/3+1, day)[:b.N]
	w, err := postgres.StartWriter(store, postgres.WriterConfig{Journal: b.TempDir() + "/journal.jsonl", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for _, tr := range ts {
		w.Record(tr)
	}
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "transitions/s")
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCallerProfile measures a profile lookup with a million callers
// in the table, reporting the median and 99th percentile.
func BenchmarkCallerProfile(b *testing.B) {
	const callers = 1_000_000
	ctx := context.Background()
	store := pgtest.NewStore(b)
	setup := time.Now()
	_, err := store.Pool().Exec(ctx, `INSERT INTO callers (number, name, calls_count, on_air_count, first_call_at, last_call_at)
		SELECT '+1555' || lpad(i::text, 7, '0'), 'Caller ' || i, i % 20, i % 3,
			now() - (i % 1000) * interval '1 day', now() - (i % 10) * interval '1 day'
		FROM generate_series(1, $1) AS i`, callers)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.Pool().Exec(ctx, `ANALYZE callers`); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d callers inserted in %v", callers, time.Since(setup).Round(time.Millisecond))
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	for b.Loop() { // the setup above runs once
		n := fmt.Sprintf("+1555%07d", 1+rng.IntN(callers))
		t0 := time.Now()
		p, err := store.CallerProfile(ctx, n)
		lat = append(lat, time.Since(t0))
		if err != nil || p.Name == "" {
			b.Fatalf("%s: got %+v, %v", n, p, err)
		}
	}
	slices.Sort(lat)
	pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkShowCallsPage compares reading a page of 100 of a show's calls
// by cursor (the first page, and one from the middle of the day) with
// reading the show's whole day (ShowCalls), 100,000 calls in the table.
func BenchmarkShowCallsPage(b *testing.B) {
	const calls = 100_000
	ctx := context.Background()
	store := pgtest.NewStore(b)
	// One show's day: a call every 0.864 s, screener notes on each, as the
	// history writer fills them.
	_, err := store.Pool().Exec(ctx, `INSERT INTO calls (id, show, number, name, state, last_seq, arrived_at, answered_at,
			ended_at, outcome, notes_name, notes_topic)
		SELECT 'call-' || lpad(i::text, 6, '0'), 'morning', '+1555' || lpad((i % 20000)::text, 7, '0'), 'Caller ' || i,
			'ended', 4, $1::timestamptz + i * interval '864 ms', $1::timestamptz + i * interval '864 ms' + interval '1 s',
			$1::timestamptz + i * interval '864 ms' + interval '2 min', 'aired', 'Name ' || i, 'the buses'
		FROM generate_series(0, $2 - 1) AS i`, day, calls)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.Pool().Exec(ctx, `ANALYZE calls`); err != nil {
		b.Fatal(err)
	}
	to := day.Add(24 * time.Hour)
	// The cursor of the page ending at the middle of the day.
	var middle string
	pr := postgres.PageRequest{Limit: postgres.MaxPageLimit}
	for range calls / 2 / postgres.MaxPageLimit {
		p, err := store.ShowCallsPage(ctx, "morning", day, to, pr)
		if err != nil {
			b.Fatal(err)
		}
		middle, pr.Cursor = p.Next, p.Next
	}
	for _, bc := range []struct {
		name string
		read func() (int, error)
	}{
		{"page=first", func() (int, error) {
			p, err := store.ShowCallsPage(ctx, "morning", day, to, postgres.PageRequest{Limit: 100})
			return len(p.Items), err
		}},
		{"page=middle", func() (int, error) {
			p, err := store.ShowCallsPage(ctx, "morning", day, to, postgres.PageRequest{Limit: 100, Cursor: middle})
			return len(p.Items), err
		}},
		{"full_day", func() (int, error) {
			all, err := store.ShowCalls(ctx, "morning", day, to)
			return len(all), err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				n, err := bc.read()
				if err != nil || n == 0 {
					b.Fatalf("got %d calls, %v", n, err)
				}
			}
		})
	}
}
