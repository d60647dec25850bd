package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/migrations"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func TestCallerNotes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)

	t.Run("NoneYet", func(t *testing.T) {
		got, err := store.CallerNotes(ctx, "+1 (555) 010-0001")
		if err != nil || got != (queue.CallerNotes{Number: "+15550100001"}) {
			t.Fatalf("got %+v, %v; want empty notes for the normalised number", got, err)
		}
		hist, err := store.CallerNotesHistory(ctx, "+15550100001", 10)
		if err != nil || len(hist) != 0 {
			t.Fatalf("history: got %+v, %v; want none", hist, err)
		}
	})

	t.Run("VersionsKept", func(t *testing.T) {
		first := queue.CallerNotes{Number: "+1 555 010 0002", Topic: " potholes ", Notes: "line one\r\nline two", Rating: 4, CallID: "c1"}
		w1, err := store.WriteCallerNotes(ctx, first, "sam")
		if err != nil {
			t.Fatal(err)
		}
		if w1.Number != "+15550100002" || w1.Topic != "potholes" || w1.Notes != "line one\nline two" || w1.Rating != 4 ||
			w1.By != "sam" || w1.CallID != "c1" || w1.At.IsZero() {
			t.Fatalf("stored %+v", w1)
		}
		second := queue.CallerNotes{Number: "+15550100002", Topic: "potholes", Notes: "line one\nline two", Rating: 2,
			DoNotAir: true, ContestWinner: true}
		w2, err := store.WriteCallerNotes(ctx, second, "dana")
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.CallerNotes(ctx, "+15550100002")
		if err != nil || !got.SameAs(second) || got.By != "dana" || got.At.Before(w1.At) || !got.At.Equal(w2.At) {
			t.Fatalf("current: got %+v, %v; want the second version by dana", got, err)
		}
		hist, err := store.CallerNotesHistory(ctx, "+15550100002", 10)
		if err != nil || len(hist) != 2 || hist[0].By != "dana" || hist[1].By != "sam" || hist[1].Rating != 4 {
			t.Fatalf("history: got %+v, %v; want dana's then sam's", hist, err)
		}
		if hist, _ := store.CallerNotesHistory(ctx, "+15550100002", 1); len(hist) != 1 || hist[0].By != "dana" {
			t.Fatalf("history limit 1: got %+v", hist)
		}
		p, err := store.CallerProfile(ctx, "+15550100002")
		if err != nil || p.Notes != "line one\nline two" {
			t.Fatalf("profile notes: got %q, %v; want the notes' text", p.Notes, err)
		}
	})

	t.Run("SameNotesNotSavedAgain", func(t *testing.T) {
		n := queue.CallerNotes{Number: "+15550100003", Topic: "rates"}
		if _, err := store.WriteCallerNotes(ctx, n, "sam"); err != nil {
			t.Fatal(err)
		}
		again, err := store.WriteCallerNotes(ctx, n, "dana")
		if err != nil || again.By != "sam" {
			t.Fatalf("again: got %+v, %v; want sam's version back", again, err)
		}
		if hist, _ := store.CallerNotesHistory(ctx, n.Number, 10); len(hist) != 1 {
			t.Fatalf("history has %d versions, want 1", len(hist))
		}
		// Empty notes for a number without notes save nothing either.
		if got, err := store.WriteCallerNotes(ctx, queue.CallerNotes{Number: "+15550100009"}, "sam"); err != nil || got.By != "" {
			t.Fatalf("empty: got %+v, %v", got, err)
		}
		if hist, _ := store.CallerNotesHistory(ctx, "+15550100009", 10); len(hist) != 0 {
			t.Fatalf("empty notes were saved: %+v", hist)
		}
		// Clearing notes that exist is a version of its own.
		if _, err := store.WriteCallerNotes(ctx, queue.CallerNotes{Number: n.Number}, "dana"); err != nil {
			t.Fatal(err)
		}
		if got, _ := store.CallerNotes(ctx, n.Number); !got.Empty() || got.By != "dana" {
			t.Fatalf("cleared: got %+v", got)
		}
	})

	t.Run("ConcurrentWriters", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				n := queue.CallerNotes{Number: "+15550100004", Topic: "same topic"}
				if _, err := store.WriteCallerNotes(ctx, n, "writer"+strings.Repeat("x", i)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if hist, _ := store.CallerNotesHistory(ctx, "+15550100004", 20); len(hist) != 1 {
			t.Fatalf("8 writers of the same notes left %d versions, want 1", len(hist))
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct {
			field string
			n     queue.CallerNotes
		}{
			{"number", queue.CallerNotes{Number: "anonymous", Topic: "x"}},
			{"topic", queue.CallerNotes{Number: "+15550100005", Topic: strings.Repeat("x", 201)}},
			{"topic", queue.CallerNotes{Number: "+15550100005", Topic: "bell\a"}},
			{"notes", queue.CallerNotes{Number: "+15550100005", Notes: strings.Repeat("x", 2001)}},
			{"notes", queue.CallerNotes{Number: "+15550100005", Notes: "esc\x1b[2J"}},
			{"rating", queue.CallerNotes{Number: "+15550100005", Rating: 6}},
			{"rating", queue.CallerNotes{Number: "+15550100005", Rating: -1}},
		} {
			_, err := store.WriteCallerNotes(ctx, tc.n, "sam")
			var fe *queue.FieldError
			if !errors.Is(err, queue.ErrInvalid) || !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("%+v: got %v, want a FieldError for %s", tc.n, err, tc.field)
			}
		}
		if _, err := store.CallerNotes(ctx, "anonymous"); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("notes of no number: got %v, want ErrInvalid", err)
		}
		if hist, _ := store.CallerNotesHistory(ctx, "+15550100005", 10); len(hist) != 0 {
			t.Errorf("refused notes were stored: %+v", hist)
		}
	})
}

// TestCallerNotesMigrated: notes written before caller_notes existed
// (callers.notes) become each number's first version.
func TestCallerNotesMigrated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(all, func(m migrations.Migration) bool { return strings.HasSuffix(m.Name, "_caller_notes.sql") })
	if i < 0 {
		t.Fatal("no caller_notes migration")
	}
	// Back to the schema before it, with the migrations after it undone.
	for _, m := range slices.Backward(all[i:]) {
		if _, err := pool.Exec(ctx, m.Down); err != nil {
			t.Fatalf("%s down: %v", m.Name, err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE schema_version SET version = $1`, all[i].Version-1); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO callers (number, notes, last_call_at) VALUES
		('+15550100007', 'regular; keep it short', '2025-10-01T09:00:00Z'), ('+15550100008', '', NULL)`); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := postgres.New(pool)
	got, err := store.CallerNotes(ctx, "+15550100007")
	if err != nil || got.Notes != "regular; keep it short" || !got.At.Equal(time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("migrated notes: got %+v, %v", got, err)
	}
	if hist, err := store.CallerNotesHistory(ctx, "+15550100008", 5); err != nil || len(hist) != 0 {
		t.Fatalf("a caller without notes got versions: %+v, %v", hist, err)
	}
}
