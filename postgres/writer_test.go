package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5/pgxpool"
)

var day = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// quiet is a logger for writers whose warnings the test provokes.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// events are a writer's batch fates.
type events struct {
	testsignal.Signal[postgres.BatchFate]
}

func newEvents() *events {
	e := &events{}
	e.Init()
	return e
}

// failed reports whether a batch failed within timeout.
func (e *events) failed(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		f, ok := e.Wait(time.Until(deadline))
		if !ok {
			return false
		}
		if f.Event == "failed" {
			return true
		}
	}
}

func startWriter(t *testing.T, store *postgres.Store, cfg postgres.WriterConfig, ev *events) *postgres.Writer {
	t.Helper()
	if cfg.Journal == "" {
		cfg.Journal = filepath.Join(t.TempDir(), "journal.jsonl")
	}
	cfg.MinBackoff, cfg.MaxBackoff = 10*time.Millisecond, 100*time.Millisecond
	cfg.Logger = quiet
	if ev != nil {
		cfg = postgres.WithBatches(cfg, &ev.Signal)
	}
	w, err := postgres.StartWriter(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func flush(t *testing.T, w *postgres.Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		store := pgtest.NewStore(t)
		w := startWriter(t, store, postgres.WriterConfig{BatchSize: 7}, nil)
		ts := scenario(60, day)
		for _, tr := range ts {
			w.Record(tr)
		}
		flush(t, w)
		checkHistory(t, store.Pool(), ts)
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("CallFields", func(t *testing.T) {
		t.Parallel()
		store := pgtest.NewStore(t)
		w := startWriter(t, store, postgres.WriterConfig{}, nil)
		ts := scenario(1, day) // call-00000: arrives, screened, ready, on air, aired
		// A hostile caller ID name: NUL and invalid UTF-8.
		for i := range ts {
			ts[i].Name = "Evil\x00 \xffName"
		}
		for _, tr := range ts {
			w.Record(tr)
		}
		flush(t, w)
		c, err := store.Call(ctx, "call-00000")
		if err != nil {
			t.Fatal(err)
		}
		at := func(d time.Duration) time.Time { return day.Add(d) }
		checks := []struct {
			name      string
			got, want time.Time
		}{
			{"arrived", c.ArrivedAt, at(0)},
			{"answered", c.AnsweredAt, at(time.Second)},
			{"screened", c.ScreenedAt, at(30 * time.Second)},
			{"ready", c.ReadyAt, at(60 * time.Second)},
			{"on air", c.OnAirAt, at(90 * time.Second)},
			{"off air", c.OffAirAt, at(150 * time.Second)},
			{"ended", c.EndedAt, at(150 * time.Second)},
		}
		for _, ch := range checks {
			if !ch.got.Equal(ch.want) {
				t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
			}
		}
		want := queue.Notes{Name: "Sam", Location: "Leeds", Topic: "buses", Priority: 2}
		if c.Notes != want || c.Outcome != queue.OutcomeAired || c.Cause != 16 || c.State != queue.StateEnded ||
			c.LastSeq != 6 || c.Node != "ast1" || c.ChannelID != "chan-call-00000" || c.Name != "Evil \uFFFDName" {
			t.Errorf("call: got %+v", c)
		}
		p, err := store.CallerProfile(ctx, "+15550000000")
		if err != nil {
			t.Fatal(err)
		}
		if p.Calls != 1 || p.OnAir != 1 || !p.FirstCall.Equal(day) || !p.LastCall.Equal(day) || p.Name != "Evil \uFFFDName" {
			t.Errorf("profile: got %+v", p)
		}
		var action, actor string
		var notes string
		if err := store.Pool().QueryRow(ctx, `SELECT action, actor_name, payload->'notes'->>'topic'
			FROM call_events WHERE call_id = 'call-00000' AND seq = 4`).Scan(&action, &actor, &notes); err != nil {
			t.Fatal(err)
		}
		if action != queue.ActionReady || actor != "pat" || notes != "buses" {
			t.Errorf("event 4: got %s by %s, notes topic %q", action, actor, notes)
		}
	})

	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		store := pgtest.NewStore(t)
		w := startWriter(t, store, postgres.WriterConfig{BatchSize: 50}, nil)
		ts := scenario(30, day)
		for _, tr := range ts {
			w.Record(tr)
		}
		flush(t, w)
		// Everything again, and a batch with duplicates inside it.
		for _, tr := range ts {
			w.Record(tr)
			w.Record(tr)
		}
		flush(t, w)
		checkHistory(t, store.Pool(), ts)
	})

	t.Run("BadTransitionDropped", func(t *testing.T) {
		t.Parallel()
		store := pgtest.NewStore(t)
		ev := newEvents()
		w := startWriter(t, store, postgres.WriterConfig{}, ev)
		ts := scenario(9, day)
		bad := ts[len(ts)-1]
		bad.CallID, bad.Seq, bad.Cause = "bad", 1, 1<<40 // out of int range: Postgres refuses it
		// One batch, the bad transition in the middle: the others are
		// written all the same.
		w.Record(ts[0])
		w.Record(bad)
		for _, tr := range ts[1:] {
			w.Record(tr)
		}
		w.Record(queue.Transition{Seq: 1}) // no CallID: dropped at once
		flush(t, w)
		checkHistory(t, store.Pool(), ts)
		if got := w.Dropped(); got != 2 {
			t.Errorf("dropped: got %d, want 2", got)
		}
	})

	t.Run("CloseLeavesJournal", func(t *testing.T) {
		t.Parallel()
		store := pgtest.NewStore(t)
		journal := filepath.Join(t.TempDir(), "journal.jsonl")
		down := deadStore(t)
		ev := newEvents()
		w := startWriter(t, down, postgres.WriterConfig{Journal: journal}, ev)
		ts := scenario(20, day)
		for _, tr := range ts {
			w.Record(tr)
		}
		if !ev.failed(time.Minute) {
			t.Fatal("no batch failed")
		}
		expired, cancel := context.WithCancel(ctx)
		cancel()
		if err := w.Close(expired); err == nil {
			t.Fatal("Close with the database down: got no error")
		}
		w.Record(ts[0]) // after Close: dropped, not a panic
		// The next start replays the journal.
		w2 := startWriter(t, store, postgres.WriterConfig{Journal: journal}, nil)
		if b := w2.Backlog(); b.Journal != len(ts) {
			t.Errorf("backlog at start: got %+v, want %d in the journal", b, len(ts))
		}
		flush(t, w2)
		checkHistory(t, store.Pool(), ts)
		if err := w2.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(journal); err != nil || fi.Size() != 0 {
			t.Errorf("journal after a clean close: %v, %v; want empty", fi.Size(), err)
		}
	})
}

// deadStore returns a Store whose database never answers: a loopback port
// nobody listens on.
func deadStore(t *testing.T) *postgres.Store {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return postgres.New(pool)
}

// TestWriterCrash: a writer dies (the process is killed) during an outage,
// leaving its journal; a new writer replays it. Some of the journal's
// transitions had already reached Postgres before: none counts twice.
func TestWriterCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	trackOrder(t, store.Pool())
	ts := scenario(90, day)

	// A first writer gets a third of them into Postgres.
	before := startWriter(t, store, postgres.WriterConfig{}, nil)
	for _, tr := range ts[:len(ts)/3] {
		before.Record(tr)
	}
	flush(t, before)
	if err := before.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// The writer that will crash: its database is unreachable, so after
	// its first failed batch everything it holds is in the journal.
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.jsonl")
	ev := newEvents()
	crashing := startWriter(t, deadStore(t), postgres.WriterConfig{Journal: journal, MemoryLimit: 50}, ev)
	for _, tr := range ts {
		crashing.Record(tr)
	}
	if !ev.failed(time.Minute) {
		t.Fatal("no batch failed")
	}
	if b := crashing.Backlog(); b.Journal != len(ts) || b.Memory != 0 {
		t.Fatalf("backlog after a failure: got %+v, want all %d in the journal", b, len(ts))
	}
	// The crash: what is on disk now is all a new process finds. Copy it
	// (with a line cut short, as a write interrupted by the crash leaves)
	// and let the crashed writer go.
	data, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	replay := filepath.Join(dir, "replay.jsonl")
	if err := os.WriteFile(replay, append(data, `{"call_id":"cut-sh`...), 0o600); err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	_ = crashing.Close(gone)

	w := startWriter(t, store, postgres.WriterConfig{Journal: replay}, nil)
	flush(t, w)
	checkHistory(t, store.Pool(), ts)
	checkOrder(t, store.Pool(), ts)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Replaying the same journal once more changes nothing.
	if err := os.WriteFile(replay, data, 0o600); err != nil {
		t.Fatal(err)
	}
	w = startWriter(t, store, postgres.WriterConfig{Journal: replay}, nil)
	flush(t, w)
	checkHistory(t, store.Pool(), ts)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.Dropped() != 0 {
		t.Errorf("dropped: got %d, want 0", w.Dropped())
	}
}
