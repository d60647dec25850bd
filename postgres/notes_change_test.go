package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

// TestChangeCallerNotes: the API's conditional change (web.NotesVersions)
// saves at the version read and refuses another with queue.ErrStale (the
// API's 412), changing nothing.
func TestChangeCallerNotes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	const number = "+15550101"
	topic := func(s string) func(queue.CallerNotes) queue.CallerNotes {
		return func(n queue.CallerNotes) queue.CallerNotes { n.Topic = s; return n }
	}
	n, v1, err := store.ChangeCallerNotes(ctx, number, "ann", 0, topic("buses"))
	if err != nil || n.Topic != "buses" || v1 <= 0 {
		t.Fatalf("first: %+v v%d %v", n, v1, err)
	}
	n, v2, err := store.ChangeCallerNotes(ctx, number, "bob", -1, func(n queue.CallerNotes) queue.CallerNotes { n.Rating = 3; return n })
	if err != nil || n.Topic != "buses" || n.Rating != 3 || v2 <= v1 {
		t.Fatalf("any version: %+v v%d %v", n, v2, err)
	}
	if _, _, err := store.ChangeCallerNotes(ctx, number, "cy", v1, topic("trams")); !errors.Is(err, queue.ErrStale) {
		t.Fatalf("stale: %v, want queue.ErrStale", err)
	}
	if n, v, err := store.CallerNotesVersion(ctx, number); err != nil || v != v2 || n.Topic != "buses" {
		t.Fatalf("after a stale change: %+v v%d %v, want v%d unchanged", n, v, err, v2)
	}
}
