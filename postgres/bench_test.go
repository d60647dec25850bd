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
