package broadcast_test

import (
	"context"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
)

// claims is a NodeConfig.Claim the test grants and takes back by hand.
type claims struct {
	grant    chan chan struct{} // the test sends the lost channel of the next claim
	released chan struct{}
}

func (c *claims) claim(ctx context.Context) (<-chan struct{}, func(), error) {
	select {
	case lost := <-c.grant:
		return lost, func() { c.released <- struct{}{} }, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// TestNodeClaim: a node with a claim stands by until it is granted,
// drives the node while it holds it, and stands by again (releasing it)
// when the claim is lost; claimed again, it takes the callers over where
// they are.
func TestNodeClaim(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	c := &claims{grant: make(chan chan struct{}), released: make(chan struct{}, 1)}
	e := start(t, srv, broadcast.Config{Nodes: []broadcast.NodeConfig{{Name: "n1",
		ARI: newClient(t, srv.URL(), srv.User(), srv.Password()), Events: fastEvents, Claim: c.claim}}})
	w := e.w("show1")
	w.next("standby", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.State == broadcast.NodeStandby
	})
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if srv.WaitApp(short, "callin", true) == nil {
		t.Fatal("a standing-by node connected to Asterisk")
	}
	lost := make(chan struct{})
	c.grant <- lost
	w.nodeUp()
	_, first := dial(t, srv, w, "show1", "1")
	_, second := dial(t, srv, w, "show1", "2")

	close(lost) // another instance holds the claim now
	w.next("standby again", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.State == broadcast.NodeStandby
	})
	<-c.released
	gone, cancelGone := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelGone()
	if err := srv.WaitApp(gone, "callin", false); err != nil {
		t.Fatalf("the node did not let go of Asterisk: %v", err)
	}
	c.grant <- make(chan struct{})
	w.nodeUp()
	snap, _ := e.app.Snapshot("show1")
	if len(snap.Lineup.Waiting) != 2 || snap.Lineup.Waiting[0].ID != first || snap.Lineup.Waiting[1].ID != second {
		t.Fatalf("after claiming again: %+v, want %s then %s", snap.Lineup.Waiting, first, second)
	}
}
