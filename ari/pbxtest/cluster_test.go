package pbxtest_test

import (
	"context"
	"testing"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/pbxtest"
)

// TestClusterTrunk: three real Asterisks joined by trunks, every node to
// every other; a leg originated on one node to ari.TrunkDial(other, token)
// enters the other's [callin-trunk] as Stasis(callin,trunk,<token>),
// ringing, from endpoint node<origin>; answered there, it enters the
// origin's app Up.
func TestClusterTrunk(t *testing.T) {
	t.Parallel()
	nodes := pbxtest.NewCluster(t, 3, pbxtest.Config{})
	clients := make([]*ari.Client, len(nodes))
	evs := make([]<-chan ari.Event, len(nodes))
	for i, p := range nodes {
		if want := pbxtest.NodeName(i); p.Node != want {
			t.Fatalf("node %d is named %q, want %q", i, p.Node, want)
		}
		clients[i], evs[i] = events(t, p, "callin")
	}
	ctx := context.Background()
	for _, hop := range [][2]int{{0, 2}, {1, 0}, {2, 1}} {
		from, to := hop[0], hop[1]
		token := "7" + nodes[from].Node + nodes[to].Node
		leg := "leg-" + token
		if _, err := clients[from].Originate(ctx, ari.OriginateParams{Endpoint: nodes[from].TrunkDial(nodes[to], token),
			App: "callin", AppArgs: "leg", ChannelID: leg, Formats: "ulaw"}); err != nil {
			t.Fatal(err)
		}
		far := wait(t, evs[to], func(e *ari.StasisStart) bool { tok, ok := ari.TrunkToken(e.Args); return ok && tok == token },
			"the far leg's StasisStart on node "+nodes[to].Node)
		if far.Channel.State != ari.StateRing {
			t.Errorf("far leg %s arrived %s, want Ring", far.Channel.Name, far.Channel.State)
		}
		if n, ok := ari.TrunkNode(far.Channel.Name); !ok || n != nodes[from].Node {
			t.Errorf("far leg %s: from node %q, want %s", far.Channel.Name, n, nodes[from].Node)
		}
		if err := clients[to].AnswerChannel(ctx, far.Channel.ID); err != nil {
			t.Fatal(err)
		}
		near := wait(t, evs[from], func(e *ari.StasisStart) bool { return e.Channel.ID == leg }, "the near leg's StasisStart")
		if near.Channel.State != ari.StateUp {
			t.Errorf("near leg %s entered Stasis %s, want Up", leg, near.Channel.State)
		}
		if err := clients[from].HangupChannel(ctx, leg, ""); err != nil {
			t.Fatal(err)
		}
		wait(t, evs[to], func(e *ari.StasisEnd) bool { return e.Channel.ID == far.Channel.ID }, "the far leg's StasisEnd")
	}
}
