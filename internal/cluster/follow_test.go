package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callin-radio/callin/internal/blocklist"
	"github.com/callin-radio/callin/postgres/pgtest"
)

// TestFollower: a caller changed through another instance reaches the
// consoles and, blocked, the callers in line at once; one changed through
// this instance is left alone (its console and blocklist know already).
func TestFollower(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbURL := pgtest.URL(t)
	here, elsewhere := openStore(t, dbURL), openStore(t, dbURL)
	list, err := blocklist.Load(ctx, here)
	if err != nil {
		t.Fatal(err)
	}
	shows := newFakeShows()
	shows.flagged = make(chan string, 10)
	changed := make(chan string, 10)
	f := Follower{Callers: here, Blocklist: list, App: shows, Changed: func(n string) { changed <- n },
		Every: time.Hour, Log: quiet()}
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.Run(fctx); close(done) }()
	defer func() { stop(); <-done }()

	// Listening may begin after a first change: change until one is heard.
	if err := here.Block(ctx, "+12025550101", "alice", "here"); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	var got string
	for got == "" {
		if err := elsewhere.Block(ctx, "+12025550109", "bob", "heard?"); err != nil {
			t.Fatal(err)
		}
		select {
		case got = <-changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("no change made elsewhere was heard")
		}
	}
	if got != "+12025550109" {
		t.Fatalf("heard %s first, want +12025550109 (the change made here is not the consoles' news)", got)
	}
	if err := elsewhere.Block(ctx, "+12025550102", "bob", "elsewhere"); err != nil {
		t.Fatal(err)
	}
	for got != "+12025550102" {
		select {
		case got = <-changed:
		case <-deadline:
			t.Fatal("the block made elsewhere was not heard")
		}
	}
	for n := ""; n != "+12025550102"; {
		select {
		case n = <-shows.flagged:
		case <-deadline:
			t.Fatal("the block made elsewhere did not reach the callers in line")
		}
	}
	if ok, _ := list.IsBlocked("+12025550102"); !ok {
		t.Error("the block made elsewhere is not in the blocklist")
	}
}

// failingCallers cannot listen.
type failingCallers struct{}

func (failingCallers) ListenCallers(context.Context, func(string, bool)) error {
	return errors.New("no connection")
}

// TestFollowerRetries: when listening fails, the blocklist is read again
// for what may have been missed, and listening tried again.
func TestFollowerRetries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := pgtest.NewStore(t)
	list, err := blocklist.Load(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Block(ctx, "+12025550103", "carol", "missed"); err != nil {
		t.Fatal(err)
	}
	shows := newFakeShows()
	shows.flagged = make(chan string, 10)
	f := Follower{Callers: failingCallers{}, Blocklist: list, App: shows, Changed: func(string) {},
		Every: time.Hour, Log: quiet(), Retry: 10 * time.Millisecond}
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.Run(fctx); close(done) }()
	select {
	case n := <-shows.flagged:
		if n != "+12025550103" {
			t.Errorf("flagged %s, want +12025550103", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the blocklist was not read again after listening failed")
	}
	stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return once its context ended")
	}
}
