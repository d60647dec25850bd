package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func TestRecordings(t *testing.T) {
	t.Parallel()
	store := pgtest.NewStore(t)
	ctx := context.Background()
	recs := []queue.Recording{
		{Name: "callin/morning/1", Show: "morning", Format: "wav", Started: day, Ended: day.Add(time.Minute), Duration: time.Minute, Calls: []string{"c1", "c2"}},
		{Name: "callin/morning/2", Show: "morning", Format: "wav", Started: day.Add(time.Hour), Ended: day.Add(2 * time.Hour), Duration: time.Hour, Calls: []string{"c2"}},
		{Name: "callin/evening/1", Show: "evening", Format: "wav", Ended: day.Add(3 * time.Hour)},
	}
	for _, r := range recs {
		if err := store.AddRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	names := func(rs []queue.Recording) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	t.Run("Show", func(t *testing.T) {
		got, err := store.ShowRecordings(ctx, "morning", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if n := names(got); len(n) != 2 || n[0] != "callin/morning/2" || n[1] != "callin/morning/1" {
			t.Fatalf("got %v, want the morning's, newest first", n)
		}
		if g := got[1]; g.Duration != time.Minute || !g.Started.Equal(day) || len(g.Calls) != 2 || g.Format != "wav" || !g.Deleted.IsZero() {
			t.Fatalf("got %+v", g)
		}
	})
	t.Run("Call", func(t *testing.T) {
		got, err := store.ShowRecordings(ctx, "morning", "c1", 10)
		if n := names(got); err != nil || len(n) != 1 || n[0] != "callin/morning/1" {
			t.Fatalf("got %v %v, want the one c1 was on air in", n, err)
		}
	})
	t.Run("One", func(t *testing.T) {
		if _, err := store.Recording(ctx, "evening", "callin/morning/1"); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("another show's recording: got %v, want ErrNotFound", err)
		}
		if r, err := store.Recording(ctx, "evening", "callin/evening/1"); err != nil || !r.Started.IsZero() {
			t.Fatalf("got %+v %v", r, err)
		}
	})
	t.Run("Retention", func(t *testing.T) {
		got, err := store.ExpiredRecordings(ctx, day.Add(150*time.Minute), 10)
		if n := names(got); err != nil || len(n) != 2 || n[0] != "callin/morning/1" {
			t.Fatalf("expired: got %v %v, want the two morning ones, oldest first", n, err)
		}
		if err := store.RecordingDeleted(ctx, "callin/morning/1", day.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, _ = store.ExpiredRecordings(ctx, day.Add(150*time.Minute), 10)
		if n := names(got); len(n) != 1 || n[0] != "callin/morning/2" {
			t.Fatalf("after deleting one: got %v", n)
		}
		r, _ := store.Recording(ctx, "morning", "callin/morning/1")
		if !r.Deleted.Equal(day.Add(4 * time.Hour)) {
			t.Fatalf("deleted at %v", r.Deleted)
		}
		if err := store.RecordingDeleted(ctx, "nothing", day); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("unknown: got %v", err)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		if err := store.AddRecording(ctx, queue.Recording{Name: "x"}); !errors.Is(err, queue.ErrInvalid) {
			t.Fatalf("got %v, want ErrInvalid", err)
		}
	})
}
