package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

// TestClaimNode: of two instances on one database, one claims a node; the
// other is refused until it is released, or until the holder's connection
// is gone; another node is claimed apart.
func TestClaimNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := pgtest.NewStore(t)
	b := postgres.New(a.Pool()) // a second instance: same database, its own claims
	ca, err := a.ClaimNode(ctx, "main", "http://a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ClaimNode(ctx, "main", "http://a", 0); !errors.Is(err, queue.ErrConflict) {
		t.Fatalf("a claimed node claimed again: %v, want ErrConflict", err)
	}
	other, err := b.ClaimNode(ctx, "second", "", 0)
	if err != nil {
		t.Fatalf("another node: %v", err)
	}
	defer other.Release(ctx)
	if err := ca.Check(ctx); err != nil {
		t.Fatalf("a held claim's check: %v", err)
	}
	if url, err := b.NodeDriver(ctx, "main"); err != nil || url != "http://a" {
		t.Fatalf("the driver: %q %v, want http://a", url, err)
	}
	ca.Release(ctx)
	cb, err := b.ClaimNode(ctx, "main", "http://b", 0)
	if err != nil {
		t.Fatalf("after the release: %v", err)
	}
	// The holder's connection ends (its instance died, or the database
	// dropped it): the claim goes with it.
	if _, err := a.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() AND objid <> 0 AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	if url, err := a.NodeDriver(ctx, "main"); err != nil || url != "http://b" {
		t.Fatalf("the driver after the second claim: %q %v, want http://b", url, err)
	}
	if _, err := a.NodeDriver(ctx, "nowhere"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("a node never claimed: %v, want ErrNotFound", err)
	}
	if err := cb.Check(ctx); err == nil {
		t.Fatal("the claim's check passes after its connection was ended")
	}
	ca, err = a.ClaimNode(ctx, "main", "http://a", 0)
	if err != nil {
		t.Fatalf("after the holder's connection ended: %v", err)
	}
	ca.Release(ctx)

	// A holder that stops checking its claim (its host died: nothing
	// closes the connection) loses it after alive.
	gone, err := a.ClaimNode(ctx, "third", "", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Release(ctx)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c, err := b.ClaimNode(ctx, "third", "", 0)
		if err == nil {
			c.Release(ctx)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a silent holder kept its claim: %v", err)
		}
	}
}

// TestShowState: a show's run-time settings are kept, replaced, and read
// back; a show never saved has none, and an unknown show none can be saved.
func TestShowState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	if _, err := store.UpsertShow(ctx, postgres.Show{Key: "morning", Title: "M", Node: "main", LinesOpen: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LoadShowState(ctx, "morning"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("nothing saved: %v, want ErrNotFound", err)
	}
	for _, st := range []postgres.ShowState{
		{LinesOpen: true, Capacity: 600, MaxOnAir: 4, AnnounceEvery: 90 * time.Second},
		{LinesOpen: false, Capacity: 20, MaxOnAir: 1, AnnounceEvery: 0, Studio: "B"},
	} {
		if err := store.SaveShowState(ctx, "morning", st); err != nil {
			t.Fatal(err)
		}
		got, err := store.LoadShowState(ctx, "morning")
		if err != nil || got.LinesOpen != st.LinesOpen || got.Capacity != st.Capacity || got.MaxOnAir != st.MaxOnAir ||
			got.AnnounceEvery != st.AnnounceEvery || got.Studio != st.Studio || got.UpdatedAt.IsZero() {
			t.Errorf("read back %+v %v, want %+v", got, err, st)
		}
	}
	if err := store.SaveShowState(ctx, "nope", postgres.ShowState{}); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("unknown show: %v, want ErrNotFound", err)
	}
	if err := store.SaveShowState(ctx, "morning", postgres.ShowState{Capacity: -1}); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("negative capacity: %v, want ErrInvalid", err)
	}
}

// TestListenCallers: every change of a caller's profile, through any
// instance, reaches the listeners with the number, once committed.
func TestListenCallers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := pgtest.NewStore(t)
	other := postgres.New(store.Pool()) // another instance writes
	got := make(chan string, 8)
	done := make(chan error, 1)
	listening := make(chan struct{})
	go func() {
		close(listening)
		done <- store.ListenCallers(ctx, func(n string, mine bool) {
			if mine {
				n = "mine:" + n
			}
			got <- n
		})
	}()
	<-listening
	want := func(what, number string) {
		t.Helper()
		select {
		case n := <-got:
			if n != number {
				t.Fatalf("%s: heard %q, want %q", what, n, number)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nothing heard", what)
		}
	}
	// LISTEN may not be in place yet: block until the first change is heard.
	deadline := time.Now().Add(10 * time.Second)
	for heard := false; !heard; {
		if err := other.Block(ctx, "+1 202 555 0100", "pat", "abusive"); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-got:
			heard = n == "+12025550100"
		case <-time.After(50 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("a block was never heard")
			}
		}
	}
	if _, err := other.WriteCallerNotes(ctx, queue.CallerNotes{Number: "+12025550100", Topic: "roads"}, "pat"); err != nil {
		t.Fatal(err)
	}
	want("notes", "+12025550100")
	if err := other.Unblock(ctx, "+12025550100", "pat"); err != nil {
		t.Fatal(err)
	}
	want("unblock", "+12025550100")
	// A change through the listening Store itself is said to be its own.
	if err := store.Block(ctx, "+12025550100", "pat", "again"); err != nil {
		t.Fatal(err)
	}
	want("own block", "mine:+12025550100")
	if err := other.Unblock(ctx, "+19995550100", "pat"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("unblocking a number never seen: %v, want ErrNotFound", err)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the listener ended without saying why")
	}
}
