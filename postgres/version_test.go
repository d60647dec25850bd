package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func TestNotesPatchJSON(t *testing.T) {
	t.Parallel()
	var p postgres.NotesPatch
	if err := json.Unmarshal([]byte(`{"topic":"buses","notes":null,"rating":3}`), &p); err != nil {
		t.Fatal(err)
	}
	cur := queue.CallerNotes{Number: "+1555", Topic: "trains", Notes: "good talker", Rating: 4, DoNotAir: true}
	got := p.Apply(cur)
	want := queue.CallerNotes{Number: "+1555", Topic: "buses", Notes: "", Rating: 3, DoNotAir: true}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !p.DoNotAir.Absent() || !p.Notes.Null() || p.Topic.Absent() || p.Topic.Null() {
		t.Errorf("absent/null: got %+v", p)
	}
	if err := json.Unmarshal([]byte(`{"rating":"three"}`), &p); err == nil {
		t.Error("a string rating: want an error")
	}
}

// notesWant checks a versioned write's result.
func notesWant(t *testing.T, got postgres.VersionedNotes, err error, topic, notes string, rating int) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if got.Topic != topic || got.Notes != notes || got.Rating != rating || got.Version == 0 {
		t.Fatalf("got %+v, want topic %q, notes %q, rating %d and a version", got, topic, notes, rating)
	}
}

func TestCallerNotesVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	const number = "+15550100"

	v0, err := store.CallerNotesVersioned(ctx, number)
	if err != nil || v0.Version != 0 || v0.Number != number {
		t.Fatalf("no notes: got %+v, %v, want version 0", v0, err)
	}
	// The case: a PATCH of the rating alone keeps topic and notes.
	v1, err := store.WriteCallerNotesIf(ctx, queue.CallerNotes{Number: number, Topic: "buses", Notes: "good talker", Rating: 4}, "ann", 0)
	notesWant(t, v1, err, "buses", "good talker", 4)
	v2, err := store.PatchCallerNotes(ctx, number, postgres.NotesPatch{Rating: postgres.PatchSet(3)}, "bob", v1.Version)
	notesWant(t, v2, err, "buses", "good talker", 3)
	if v2.Version <= v1.Version || v2.By != "bob" {
		t.Errorf("got version %d by %q after %d, want a later one by bob", v2.Version, v2.By, v1.Version)
	}

	t.Run("ErrVersionMismatch", func(t *testing.T) {
		_, err := store.PatchCallerNotes(ctx, number, postgres.NotesPatch{Topic: postgres.PatchSet("trams")}, "ann", v1.Version)
		var ve *postgres.VersionError
		if !errors.Is(err, postgres.ErrVersionMismatch) || !errors.Is(err, queue.ErrConflict) || !errors.As(err, &ve) ||
			ve.Current != v2.Version || ve.Expected != v1.Version {
			t.Fatalf("stale patch: got %v, want a *VersionError (current %d)", err, v2.Version)
		}
		if _, err := store.WriteCallerNotesIf(ctx, queue.CallerNotes{Number: number}, "ann", 0); !errors.Is(err, postgres.ErrVersionMismatch) {
			t.Errorf("version 0 of a number with notes: got %v, want ErrVersionMismatch", err)
		}
		if now, _ := store.CallerNotes(ctx, number); now.Topic != "buses" || now.Rating != 3 {
			t.Errorf("after refused writes: got %+v", now)
		}
	})
	t.Run("NullClears", func(t *testing.T) {
		got, err := store.PatchCallerNotes(ctx, number, postgres.NotesPatch{Notes: postgres.PatchNull[string]()}, "ann", postgres.AnyVersion)
		notesWant(t, got, err, "buses", "", 3)
	})
	t.Run("SameNotesKeepTheVersion", func(t *testing.T) {
		cur, _ := store.CallerNotesVersioned(ctx, number)
		got, err := store.PatchCallerNotes(ctx, number, postgres.NotesPatch{Rating: postgres.PatchSet(3)}, "carl", cur.Version)
		if err != nil || got.Version != cur.Version || got.By != cur.By {
			t.Errorf("got %+v, %v, want version %d unchanged", got, err, cur.Version)
		}
	})
	t.Run("ErrField", func(t *testing.T) {
		_, err := store.PatchCallerNotes(ctx, number, postgres.NotesPatch{Rating: postgres.PatchSet(9)}, "ann", postgres.AnyVersion)
		var fe *queue.FieldError
		if !errors.As(err, &fe) || fe.Field != "rating" {
			t.Errorf("rating 9: got %v, want a FieldError on rating", err)
		}
		if _, err := store.PatchCallerNotes(ctx, "anonymous", postgres.NotesPatch{}, "ann", postgres.AnyVersion); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("no number: got %v, want queue.ErrInvalid", err)
		}
	})
	t.Run("HistoryPage", func(t *testing.T) {
		full, err := store.CallerNotesHistory(ctx, number, 100)
		if err != nil || len(full) != 3 {
			t.Fatalf("got %d versions, %v, want 3", len(full), err)
		}
		got, _ := readAll(t, 2, func(pr postgres.PageRequest) (postgres.Page[postgres.VersionedNotes], error) {
			return store.CallerNotesHistoryPage(ctx, number, pr)
		}, nil)
		topics := func(n postgres.VersionedNotes) string { return fmt.Sprint(n.Topic, n.Rating, n.Notes, n.By) }
		wantTopics := ids(full, func(n queue.CallerNotes) string { return fmt.Sprint(n.Topic, n.Rating, n.Notes, n.By) })
		if !slices.Equal(ids(got, topics), wantTopics) || !slices.IsSortedFunc(got, func(a, b postgres.VersionedNotes) int {
			return int(b.Version - a.Version)
		}) {
			t.Errorf("got %v, want %v, newest version first", ids(got, topics), wantTopics)
		}
	})
}

func TestShowStateVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	for _, key := range []string{"morning", "drive"} {
		if _, err := store.UpsertShow(ctx, postgres.Show{Key: key, Node: "main"}); err != nil {
			t.Fatal(err)
		}
	}
	flags := postgres.ShowState{LinesOpen: true, Capacity: 50, MaxOnAir: 2, AnnounceEvery: time.Minute}
	stateWant := func(t *testing.T, got postgres.ShowState, err error, want postgres.ShowState) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		got.UpdatedAt = time.Time{}
		if got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}

	// Nothing saved: the patch applies to the flags; version 1.
	got, err := store.PatchShowState(ctx, "morning", postgres.ShowStatePatch{Capacity: postgres.PatchSet(80)}, 0, flags)
	stateWant(t, got, err, postgres.ShowState{LinesOpen: true, Capacity: 80, MaxOnAir: 2, AnnounceEvery: time.Minute, Version: 1})

	// The background save (SaveShowState) of the same values keeps the
	// version; of other values bumps it.
	if err := store.SaveShowState(ctx, "morning", got); err != nil {
		t.Fatal(err)
	}
	got, err = store.LoadShowState(ctx, "morning")
	stateWant(t, got, err, postgres.ShowState{LinesOpen: true, Capacity: 80, MaxOnAir: 2, AnnounceEvery: time.Minute, Version: 1})
	if err := store.SaveShowState(ctx, "morning", postgres.ShowState{LinesOpen: false, Capacity: 80, MaxOnAir: 2, AnnounceEvery: time.Minute}); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrVersionMismatch", func(t *testing.T) {
		_, err := store.PatchShowState(ctx, "morning", postgres.ShowStatePatch{MaxOnAir: postgres.PatchSet(3)}, 1, flags)
		var ve *postgres.VersionError
		if !errors.As(err, &ve) || ve.Current != 2 || !errors.Is(err, postgres.ErrVersionMismatch) {
			t.Fatalf("got %v, want a *VersionError, current 2", err)
		}
		if _, err := store.SaveShowStateIf(ctx, "morning", flags, 0); !errors.Is(err, postgres.ErrVersionMismatch) {
			t.Errorf("version 0 of saved settings: got %v, want ErrVersionMismatch", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		got, err := store.PatchShowState(ctx, "morning", postgres.ShowStatePatch{MaxOnAir: postgres.PatchSet(3)}, 2, flags)
		stateWant(t, got, err, postgres.ShowState{LinesOpen: false, Capacity: 80, MaxOnAir: 3, AnnounceEvery: time.Minute, Version: 3})
		got, err = store.SaveShowStateIf(ctx, "morning", flags, 3)
		stateWant(t, got, err, postgres.ShowState{LinesOpen: true, Capacity: 50, MaxOnAir: 2, AnnounceEvery: time.Minute, Version: 4})
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct {
			field string
			p     postgres.ShowStatePatch
		}{
			{"capacity", postgres.ShowStatePatch{Capacity: postgres.PatchNull[int]()}},
			{"max_on_air", postgres.ShowStatePatch{MaxOnAir: postgres.PatchSet(-1)}},
			{"lines_open", postgres.ShowStatePatch{LinesOpen: postgres.PatchNull[bool]()}},
		} {
			_, err := store.PatchShowState(ctx, "morning", tc.p, postgres.AnyVersion, flags)
			var fe *queue.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("%s: got %v, want a FieldError on it", tc.field, err)
			}
		}
		if _, err := store.PatchShowState(ctx, "nope", postgres.ShowStatePatch{}, 0, flags); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("unknown show: got %v, want queue.ErrNotFound", err)
		}
	})
}

// TestShowStateFirstSave: of producers saving a show's first settings at
// once, each expecting none saved yet, one wins.
func TestShowStateFirstSave(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	flags := postgres.ShowState{LinesOpen: true, Capacity: 50, MaxOnAir: 2, AnnounceEvery: time.Minute}
	// Nothing saved yet: of patches expecting that, one wins.
	for round := range 10 {
		show := fmt.Sprint("race", round)
		if _, err := store.UpsertShow(ctx, postgres.Show{Key: show, Node: "main"}); err != nil {
			t.Fatal(err)
		}
		ok := conditionalRace(t, 4, func(i int) error {
			_, err := store.PatchShowState(ctx, show, postgres.ShowStatePatch{Capacity: postgres.PatchSet(i)}, 0, flags)
			return err
		})
		if ok != 1 {
			t.Errorf("%s: %d first saves, want 1", show, ok)
		}
	}
}

// TestCallerNotesRace: of producers who read the same version and patch
// it at once, one wins.
func TestCallerNotesRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	const number = "+15550100"
	if _, err := store.WriteCallerNotes(ctx, queue.CallerNotes{Number: number, Topic: "buses"}, "ann"); err != nil {
		t.Fatal(err)
	}
	// Producers who read the same version patch at once: one wins.
	cur, _ := store.CallerNotesVersioned(ctx, number)
	ok := conditionalRace(t, 8, func(i int) error {
		_, err := store.PatchCallerNotes(ctx, number, postgres.NotesPatch{Topic: postgres.PatchSet(fmt.Sprint("t", i))}, "p", cur.Version)
		return err
	})
	if ok != 1 {
		t.Errorf("%d patches of version %d saved, want 1", ok, cur.Version)
	}
}

// conditionalRace runs n conditional updates at once and returns how many
// succeeded; it fails the test on an error other than ErrVersionMismatch.
func conditionalRace(t *testing.T, n int, update func(i int) error) int {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs <- update(i)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, postgres.ErrVersionMismatch):
			t.Error(err)
		}
	}
	return ok
}
