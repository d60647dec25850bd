package cluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/blocklist"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

// TestShowStateSaves: each change is saved in the background, and of
// quick changes the last one is what the store keeps.
func TestShowStateSaves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	addShow(t, store, "morning", "main")
	shows := newFakeShows("morning")
	list, err := blocklist.Load(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	k := NewShowState(store, shows, list, quiet())
	k.saved.Init()
	for n := 1; n <= 20; n++ {
		if err := shows.SetCapacity("morning", n); err != nil {
			t.Fatal(err)
		}
		k.Changed("morning")
	}
	if err := shows.SetLinesOpen("morning", false); err != nil {
		t.Fatal(err)
	}
	k.Changed("morning")
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, ok := k.saved.Wait(time.Until(deadline))
		if !ok {
			t.Fatal("the last change was never saved")
		}
		if got.show != "morning" {
			t.Fatalf("saved %q, want morning", got.show)
		}
		if got.state.Capacity == 20 && !got.state.LinesOpen {
			break
		}
	}
	st, err := store.LoadShowState(ctx, "morning")
	if err != nil || st.Capacity != 20 || st.LinesOpen || st.MaxOnAir != 4 {
		t.Fatalf("stored %+v %v, want capacity 20, lines closed, 4 on air", st, err)
	}
}

// TestShowStateTakeOver: a takeover applies each show's saved settings,
// leaves a show never saved as its flags made it, and reads the
// blocklist again for the blocks made meanwhile.
func TestShowStateTakeOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	addShow(t, store, "morning", "main")
	addShow(t, store, "evening", "main")
	list, err := blocklist.Load(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	// What the instance driving the node left behind.
	saved := postgres.ShowState{LinesOpen: false, Capacity: 7, MaxOnAir: 2, AnnounceEvery: 90 * time.Second}
	if err := store.SaveShowState(ctx, "morning", saved); err != nil {
		t.Fatal(err)
	}
	if err := store.Block(ctx, "+12025550101", "alice", "abusive"); err != nil {
		t.Fatal(err)
	}
	shows := newFakeShows("morning", "evening")
	k := NewShowState(store, shows, list, quiet())
	k.TakeOver(ctx, []string{"morning", "evening"})

	want := broadcast.Settings{Title: "morning", LinesOpen: false, Capacity: 7, MaxOnAir: 2, AnnounceEvery: 90 * time.Second}
	if got := shows.get("morning"); got != want {
		t.Errorf("morning: %+v, want %+v", got, want)
	}
	if got := shows.get("evening"); got != (broadcast.Settings{Title: "evening", LinesOpen: true, Capacity: 100, MaxOnAir: 4}) {
		t.Errorf("evening, never saved: %+v, want its flags' settings", got)
	}
	if blocked, _ := shows.isBlocked("+12025550101"); !blocked {
		t.Error("the block made meanwhile did not reach the callers in line")
	}
	if ok, _ := list.IsBlocked("+12025550101"); !ok {
		t.Error("the block made meanwhile is not in the blocklist")
	}
}

// TestRestoreStudios: at a start, a show's studio saved while it ran is
// named again, retried while its node is not driven (ErrNodeDown) and
// not after another refusal; a show never given one is left alone; the
// restored studio is kept in the show's next save.
func TestRestoreStudios(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	addShow(t, store, "morning", "A")
	addShow(t, store, "drive", "A")
	if err := store.SaveShowState(ctx, "morning", postgres.ShowState{LinesOpen: true, Capacity: 100, MaxOnAir: 4, Studio: "B"}); err != nil {
		t.Fatal(err)
	}
	shows := newFakeShows("morning", "drive")
	down := fmt.Errorf("node B: %w", broadcast.ErrNodeDown)
	shows.studioErr = []error{down, down}
	list, err := blocklist.Load(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	k := NewShowState(store, shows, list, quiet())
	k.retry = 10 * time.Millisecond
	k.saved.Init()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	k.RestoreStudios(wctx, []string{"morning", "drive"})
	if strings.Join(shows.studios, ",") != "morning=B" || len(shows.studioErr) != 0 {
		t.Fatalf("studios named %v (errors left %v), want morning=B after two ErrNodeDown", shows.studios, shows.studioErr)
	}
	// Refused for another reason: not retried.
	shows.studioErr = []error{fmt.Errorf("on air: %w", queue.ErrConflict), down}
	k.RestoreStudios(wctx, []string{"morning"})
	if len(shows.studios) != 1 || len(shows.studioErr) != 1 {
		t.Fatalf("after a refusal: named %v, errors left %v; want no retry", shows.studios, shows.studioErr)
	}
	// The next save of the show's settings keeps the studio.
	if err := shows.SetCapacity("morning", 7); err != nil {
		t.Fatal(err)
	}
	k.Changed("morning")
	if got, ok := k.saved.Wait(10 * time.Second); !ok || got.state.Studio != "B" || got.state.Capacity != 7 {
		t.Fatalf("saved %+v %v, want capacity 7 with studio B", got, ok)
	}
}
