package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres/pgtest"
)

// instance is one callin instance's claims in a test: its nodes' Claim
// functions and the shows it was told to take over.
type instance struct {
	claims  *Claims
	nodes   []broadcast.NodeConfig
	takeOvr chan []string
}

func newInstance(t *testing.T, dbURL, url string, every time.Duration) *instance {
	t.Helper()
	in := &instance{claims: NewClaims(openStore(t, dbURL), url, every, quiet()), takeOvr: make(chan []string, 10),
		nodes: []broadcast.NodeConfig{{Name: "main"}, {Name: "other"}}}
	in.claims.Claim(in.nodes, []broadcast.ShowConfig{showOn("morning", "main"), showOn("evening", "other"), showOn("drive", "main")})
	in.claims.TakeOverWith(func(_ context.Context, shows []string) { in.takeOvr <- shows })
	return in
}

func showOn(key, node string) broadcast.ShowConfig {
	var sc broadcast.ShowConfig
	sc.Key, sc.Node = key, node
	return sc
}

// claimed is what one call of a node's Claim returned.
type claimed struct {
	lost    <-chan struct{}
	release func()
	err     error
}

// claim calls the main node's Claim in the background until ctx ends.
func (in *instance) claim(ctx context.Context) <-chan claimed {
	out := make(chan claimed, 1)
	go func() {
		lost, release, err := in.nodes[0].Claim(ctx)
		out <- claimed{lost, release, err}
	}()
	return out
}

func waitClaimed(t *testing.T, c <-chan claimed, what string) claimed {
	t.Helper()
	select {
	case got := <-c:
		if got.err != nil {
			t.Fatalf("%s: %v", what, got.err)
		}
		return got
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: never claimed", what)
	}
	return claimed{}
}

// TestClaims: of two instances one drives a node and the other stands
// by, trying again; when the first lets go the second claims the node,
// takes its shows over (and only then), and says where it is reached.
func TestClaims(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbURL := pgtest.URL(t)
	const every = 50 * time.Millisecond
	a := newInstance(t, dbURL, "http://a:8080", every)
	b := newInstance(t, dbURL, "http://b:8080", every)
	drivers := openStore(t, dbURL)
	driver := func() string {
		t.Helper()
		u, err := drivers.NodeDriver(ctx, "main")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	ca := waitClaimed(t, a.claim(ctx), "a, the first")
	if u := driver(); u != "http://a:8080" {
		t.Errorf("driver %q, want a's URL", u)
	}
	bctx, stopB := context.WithCancel(ctx)
	bc := b.claim(bctx)
	select {
	case got := <-bc:
		t.Fatalf("b claimed the node a holds: %+v", got)
	case <-time.After(10 * every): // b tried and failed ten times or so
	}
	// The other node is nobody's: b claims it at once, taking nothing over.
	if _, release, err := b.nodes[1].Claim(ctx); err != nil {
		t.Fatal(err)
	} else {
		release()
	}

	ca.release()
	cb := waitClaimed(t, bc, "b, after a let go")
	defer stopB()
	if u := driver(); u != "http://b:8080" {
		t.Errorf("driver %q, want b's URL", u)
	}
	select {
	case shows := <-b.takeOvr:
		if !slices.Equal(shows, []string{"morning", "drive"}) {
			t.Errorf("took over %v, want main's shows, morning and drive", shows)
		}
	default:
		t.Error("b claimed the node from a but took nothing over")
	}
	if len(a.takeOvr) != 0 || len(b.takeOvr) != 0 {
		t.Error("a takeover without another instance before")
	}
	select {
	case <-cb.lost:
		t.Fatal("b lost a claim nobody else holds")
	default:
	}
	cb.release()
}

// TestClaimLost: when a claim's connection is gone and another instance
// claims the node before this one claims it again, this one is told it
// lost the node.
func TestClaimLost(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbURL := pgtest.URL(t)
	a := newInstance(t, dbURL, "http://a:8080", 300*time.Millisecond)
	admin := openStore(t, dbURL)
	other := openStore(t, dbURL)
	ca := waitClaimed(t, a.claim(ctx), "a")
	// End a's claim connection and claim the node elsewhere, before a's
	// next check claims it again (tried again if a was quicker).
	for try := 0; ; try++ {
		if _, err := admin.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
			t.Fatal(err)
		}
		cl, err := other.ClaimNode(ctx, "main", "http://c:8080", 0)
		if err == nil {
			defer cl.Release(context.WithoutCancel(ctx))
			break
		}
		if try == 10 {
			t.Fatalf("the node could not be claimed from a: %v", err)
		}
	}
	select {
	case <-ca.lost:
	case <-time.After(10 * time.Second):
		t.Fatal("a was never told it lost the node")
	}
	ca.release() // as broadcast does, once it let go
}
