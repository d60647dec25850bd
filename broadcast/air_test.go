package broadcast_test

import (
	"context"
	"errors"
	"testing"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// airShow has four callers on air, the second locked, and two waiting.
func airShow(t *testing.T, next string) (*env, *aritest.Server, []*aritest.Call, []string) {
	t.Helper()
	srv := newFake(t, aritest.Options{})
	sc := showCfg("show1", "n1")
	sc.MaxOnAir = 4
	sc.NextClears = next
	e := start(t, srv, broadcast.Config{Shows: []broadcast.ShowConfig{sc}})
	w := e.w("show1")
	w.nodeUp()
	var calls []*aritest.Call
	var ids []string
	for _, n := range []string{"1", "2", "3", "4", "5", "6"} {
		c, id := dial(t, srv, w, "show1", "555000"+n)
		calls, ids = append(calls, c), append(ids, id)
	}
	for _, id := range ids[:4] {
		if _, err := e.app.Promote(context.Background(), "show1", id, producer); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.app.Lock("show1", ids[1], producer); err != nil {
		t.Fatal(err)
	}
	return e, srv, calls, ids
}

func stateOf(t *testing.T, e *env, id string) queue.State {
	t.Helper()
	c, err := e.app.Call("show1", id)
	if err != nil {
		return ""
	}
	return c.State
}

// TestClearAir: hold all and drop all clear every unlocked caller on air
// and leave the locked one there.
func TestClearAir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("hold", func(t *testing.T) {
		t.Parallel()
		e, _, calls, ids := airShow(t, "")
		got, err := e.app.ClearAir(ctx, "show1", producer, broadcast.ClearHold, broadcast.DropOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Cleared) != 3 || len(got.Locked) != 1 || got.Locked[0].ID != ids[1] {
			t.Fatalf("cleared %d, locked %v; want 3 cleared and %s kept", len(got.Cleared), got.Locked, ids[1])
		}
		for i, id := range ids[:4] {
			want := queue.StateWaiting
			if i == 1 {
				want = queue.StateOnAir
			}
			if st := stateOf(t, e, id); st != want {
				t.Errorf("caller %d: %s, want %s", i+1, st, want)
			}
		}
		for _, i := range []int{0, 2, 3} {
			waitMusic(t, calls[i])
		}
		// The held keep their places: first in line again, in their order.
		if snap, _ := e.app.Snapshot("show1"); len(snap.Lineup.Waiting) != 5 || snap.Lineup.Waiting[0].ID != ids[0] || snap.Lineup.Waiting[1].ID != ids[2] {
			t.Errorf("line after hold all: %+v", snap.Lineup.Waiting)
		}
	})
	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		e, _, calls, ids := airShow(t, "")
		got, err := e.app.ClearAir(ctx, "show1", producer, broadcast.ClearDrop, broadcast.DropOptions{Reason: "end of the hour"})
		if err != nil || len(got.Cleared) != 3 || len(got.Locked) != 1 {
			t.Fatalf("cleared %d, locked %d, %v; want 3 and 1", len(got.Cleared), len(got.Locked), err)
		}
		for _, i := range []int{0, 2, 3} {
			waitDone(t, calls[i])
		}
		if st := stateOf(t, e, ids[1]); st != queue.StateOnAir {
			t.Errorf("locked caller %s, want still on air", st)
		}
		if st := stateOf(t, e, ids[4]); st != queue.StateWaiting {
			t.Errorf("waiting caller %s, want untouched", st)
		}
	})
	t.Run("bad", func(t *testing.T) {
		t.Parallel()
		e, _, _, _ := airShow(t, "")
		if _, err := e.app.ClearAir(ctx, "show1", producer, "mute", broadcast.DropOptions{}); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("clear by mute: %v, want ErrInvalid", err)
		}
	})
}

// TestTakeNextClearsAir: a show whose Take next clears the air (a Telos
// Next) holds or drops the unlocked callers on air, then puts the next
// caller on, the locked one staying; with nobody in line nothing changes.
func TestTakeNextClearsAir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, how := range []string{broadcast.ClearHold, broadcast.ClearDrop} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			e, _, calls, ids := airShow(t, how)
			c, err := e.app.TakeNext(ctx, "show1", producer)
			if err != nil || c.ID != ids[4] {
				t.Fatalf("take next: %s %v, want %s", c.ID, err, ids[4])
			}
			if snap, _ := e.app.Snapshot("show1"); len(snap.Lineup.OnAir) != 2 {
				t.Errorf("on air %+v, want the locked caller and the next", snap.Lineup.OnAir)
			}
			for _, i := range []int{0, 2, 3} {
				if how == broadcast.ClearHold {
					waitMusic(t, calls[i])
				} else {
					waitDone(t, calls[i])
				}
			}
			// Take next again: the caller just taken goes the same way, and
			// the next in line comes on: a held caller, first in line again
			// (their place kept), is next once the one named is on.
			c, err = e.app.TakeNext(ctx, "show1", producer)
			want := ids[5]
			if how == broadcast.ClearHold {
				want = ids[0]
			}
			if err != nil || c.ID != want {
				t.Fatalf("second take next: %s %v, want %s", c.ID, err, want)
			}
			if st := stateOf(t, e, ids[4]); (how == broadcast.ClearHold) != (st == queue.StateWaiting) {
				t.Errorf("the first taken is %s after the second take next", st)
			}
		})
	}
	t.Run("nobody-next", func(t *testing.T) {
		t.Parallel()
		e, _, _, ids := airShow(t, broadcast.ClearDrop)
		for _, id := range ids[4:] {
			if _, err := e.app.Drop(ctx, "show1", id, producer, broadcast.DropOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.app.TakeNext(ctx, "show1", producer); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("take next with nobody in line: %v, want ErrNotFound", err)
		}
		if snap, _ := e.app.Snapshot("show1"); len(snap.Lineup.OnAir) != 4 {
			t.Errorf("%d on air, want the 4 untouched", len(snap.Lineup.OnAir))
		}
	})
	t.Run("bad-config", func(t *testing.T) {
		t.Parallel()
		sc := showCfg("show1", "n1")
		sc.NextClears = "mute"
		if _, err := broadcast.New(broadcast.Config{Shows: []broadcast.ShowConfig{sc}}); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("next clears by mute: %v, want ErrInvalid", err)
		}
	})
}
