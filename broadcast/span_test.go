package broadcast_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestSpanNodeWhileRunning: an App started with shows on node A alone
// gets node B while it runs (AddNode). show1 spans B at once, before B
// is connected (its first resync takes the show); show2 once B is up
// (SpanNode resyncs it there itself). A caller on B is then held on B,
// with B's music, in the one line behind A's caller; B's room variables
// cover both shows; a caller on B goes on air across the trunk into A's
// on-air bridge.
func TestSpanNodeWhileRunning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr := aritest.NewTrunk()
	a := newFake(t, aritest.Options{Trunk: tr, Node: "A"})
	b := newFake(t, aritest.Options{Trunk: tr, Node: "B"})
	e := start(t, a, broadcast.Config{
		Nodes: []broadcast.NodeConfig{{Name: "A", ARI: newClient(t, a.URL(), a.User(), a.Password()), Events: fastEvents}},
		Shows: []broadcast.ShowConfig{showCfg("show1", "A"), showCfg("show2", "A")},
	})
	w1, w2 := e.w("show1"), e.w("show2")
	w1.nodeUp()
	_, idA := dial(t, a, w1, "show1", "5550001")
	if err := e.app.SpanNode(ctx, "show1", "B"); !errors.Is(err, queue.ErrInvalid) {
		t.Fatalf("span an unknown node: %v, want ErrInvalid", err)
	}
	nb := broadcast.NodeConfig{Name: "B", ARI: newClient(t, b.URL(), b.User(), b.Password()), Events: fastEvents, Capacity: 1}
	if err := e.app.AddNode(nb); err != nil {
		t.Fatal(err)
	}
	if err := e.app.AddNode(nb); !errors.Is(err, queue.ErrConflict) {
		t.Fatalf("add B twice: %v, want ErrConflict", err)
	}
	if err := e.app.SpanNode(ctx, "show1", "B"); err != nil {
		t.Fatal(err)
	}
	w1.next("B up for show1", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.Node == "B" && u.Node.OK()
	})
	if err := e.app.SpanNode(ctx, "show2", "B"); err != nil { // B up: taken here
		t.Fatal(err)
	}
	if err := e.app.SpanNode(ctx, "show2", "B"); err != nil {
		t.Fatalf("span again: %v, want a no-op", err)
	}
	if err := e.app.SpanNode(ctx, "nope", "B"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("span for an unknown show: %v", err)
	}
	cB, idB := dial(t, b, w1, "show1", "5550002")
	waitMusic(t, cB)
	members, _ := b.BridgeChannels(holdID("show1"))
	if !contains(members, cB.ID()) {
		t.Fatalf("B's caller not held on B: %v", members)
	}
	snap, _ := e.app.Snapshot("show1")
	var got []string
	for _, c := range snap.Lineup.Waiting {
		got = append(got, c.ID+"@"+c.Node)
	}
	if want := idA + "@A," + idB + "@B"; strings.Join(got, ",") != want {
		t.Fatalf("line %v, want %s", got, want)
	}
	if len(snap.Nodes) != 2 || snap.Nodes[1].Node != "B" || snap.Nodes[1].Held != 1 || snap.Nodes[1].Capacity != 1 {
		t.Errorf("snapshot nodes %+v", snap.Nodes)
	}
	// B holds its capacity: both shows are marked full there.
	waitGlobal(t, b, broadcast.FullVar("show1"), "1")
	waitGlobal(t, b, broadcast.FullVar("show2"), "1")
	waitGlobal(t, b, broadcast.CapacityVar, "1")
	c2, _ := dial(t, b, w2, "show2", "5550003")
	waitMusic(t, c2)
	// On air across the trunk, into the studio's (A's) on-air bridge.
	c, err := e.app.Promote(ctx, "show1", idB, producer)
	if err != nil || c.State != queue.StateOnAir || c.Node != "B" {
		t.Fatalf("promote B's caller: %+v %v", c, err)
	}
	air, _ := a.BridgeChannels(airID("show1"))
	if far := trunkLegs(t, a); len(far) != 1 || !contains(air, far[0]) {
		t.Fatalf("A's far legs %v, on-air bridge %v", far, air)
	}
}

// TestAddShowNode: the operator's way in adds a node by name and URL
// through Config.NodeFor, once, and spans the show; a URL is needed only
// for a node callin does not have.
func TestAddShowNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newFake(t, aritest.Options{Node: "A"})
	b := newFake(t, aritest.Options{Node: "B"})
	var asked []string
	e := start(t, a, broadcast.Config{
		Nodes: []broadcast.NodeConfig{{Name: "A", ARI: newClient(t, a.URL(), a.User(), a.Password()), Events: fastEvents}},
		Shows: []broadcast.ShowConfig{showCfg("show1", "A")},
		NodeFor: func(name, url string) (broadcast.NodeConfig, error) {
			asked = append(asked, name+"="+url)
			return broadcast.NodeConfig{Name: name, ARI: newClient(t, url, b.User(), b.Password()), Events: fastEvents}, nil
		},
	})
	w := e.w("show1")
	if err := e.app.AddShowNode(ctx, "show1", "B", ""); !errors.Is(err, queue.ErrInvalid) {
		t.Fatalf("a new node without its URL: %v, want ErrInvalid", err)
	}
	if err := e.app.AddShowNode(ctx, "show1", "B", b.URL()); err != nil {
		t.Fatal(err)
	}
	w.next("B up", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.Node == "B" && u.Node.OK()
	})
	if err := e.app.AddShowNode(ctx, "show1", "B", ""); err != nil {
		t.Fatalf("a node callin has, again: %v", err)
	}
	if len(asked) != 1 || asked[0] != "B="+b.URL() {
		t.Fatalf("NodeFor asked %v, want B once", asked)
	}
	c, _ := dial(t, b, w, "show1", "5550001")
	waitMusic(t, c)
}
