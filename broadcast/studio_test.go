package broadcast_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestStudioLostFake: the studio A of a show across A and B, killed with
// a caller of B on air across the trunk: A's caller ends node_lost, B's
// goes back on hold (air_lost), the show says its studio is lost and
// cannot put anyone on air; SetStudio(B) brings it back on air: the on-air
// bridge is created on B and B's caller is promoted into it. SetStudio
// refuses a node outside the show, a node that is down, and, while the
// studio is up, a move with a caller on air.
func TestStudioLostFake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startPair(t, func(c *broadcast.Config) { c.NodeLostAfter = 300 * time.Millisecond })
	w := p.w("show1")
	_, a1 := dial(t, p.a, w, "show1", "5550001")
	_, b1 := dial(t, p.b, w, "show1", "5550002")
	if c, err := p.app.Promote(ctx, "show1", b1, producer); err != nil || c.State != queue.StateOnAir {
		t.Fatalf("promote across the trunk: %+v %v", c, err)
	}
	if err := p.app.SetStudio(ctx, "show1", "B"); !errors.Is(err, queue.ErrConflict) {
		t.Errorf("moving the studio with a caller on air: %v, want ErrConflict", err)
	}
	if err := p.app.SetStudio(ctx, "show1", "C"); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("a studio outside the show: %v, want ErrInvalid", err)
	}
	if err := p.app.SetStudio(ctx, "show1", "A"); err != nil {
		t.Errorf("naming the studio it has: %v", err)
	}
	if snap, _ := p.app.Snapshot("show1"); snap.Studio != (broadcast.StudioState{Node: "A", State: broadcast.NodeUp}) {
		t.Errorf("studio %+v", snap.Studio)
	}

	p.a.Kill()
	lost := w.next("studio lost", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateStudio && u.Studio.Lost })
	if lost.Studio.Node != "A" || lost.Studio.State == broadcast.NodeUp {
		t.Errorf("studio lost: %+v", lost.Studio)
	}
	w.next("B's caller back on hold", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.CallID == b1 && u.Transition.Action == queue.ActionAirLost
	})
	// The air_lost transition comes once the caller is back in B's
	// holding bridge (TestTrunkLegLostPromoteInGap).
	waitLoad(w, p.app, "B's caller held", "B", func(l broadcast.NodeLoad) bool { return l.Held == 1 })
	snap, _ := p.app.Snapshot("show1")
	if !snap.Studio.Lost || len(snap.Lineup.Waiting) != 1 || snap.Lineup.Waiting[0].ID != b1 || len(snap.Lineup.OnAir) != 0 {
		t.Fatalf("after the studio was lost: studio %+v, waiting %+v, on air %+v", snap.Studio, snap.Lineup.Waiting, snap.Lineup.OnAir)
	}
	if c, ok := lookup(p.sink.all(), a1); !ok || c.Outcome != queue.OutcomeNodeLost {
		t.Errorf("A's caller: %+v, want ended node_lost", c)
	}
	if _, err := p.app.Promote(ctx, "show1", b1, producer); !errors.Is(err, broadcast.ErrNodeDown) {
		t.Errorf("promote with the studio lost: %v, want ErrNodeDown", err)
	}

	if err := p.app.SetStudio(ctx, "show1", "B"); err != nil {
		t.Fatal(err)
	}
	if u := w.next("studio B", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateStudio && u.Studio.Node == "B" }); u.Studio.Lost || u.Studio.State != broadcast.NodeUp {
		t.Errorf("new studio %+v", u.Studio)
	}
	if c, err := p.app.Promote(ctx, "show1", b1, producer); err != nil || c.State != queue.StateOnAir {
		t.Fatalf("promote on the new studio: %+v %v", c, err)
	}
	snap, _ = p.app.Snapshot("show1")
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) { // the fake moves it a moment after the answer
		members, ok := p.b.BridgeChannels(airID("show1"))
		if ok && len(members) == 1 && members[0] == snap.Lineup.OnAir[0].ChannelID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's on-air bridge %v (%v), want B's caller %s", members, ok, snap.Lineup.OnAir[0].ChannelID)
		}
	}
	if !snap.Nodes[1].Studio || snap.Nodes[0].Studio || snap.Studio.Node != "B" {
		t.Errorf("loads %+v, studio %+v", snap.Nodes, snap.Studio)
	}
	if err := p.app.SetStudio(ctx, "show1", "A"); !errors.Is(err, broadcast.ErrNodeDown) {
		t.Errorf("naming the lost node: %v, want ErrNodeDown", err)
	}
}

// lookup finds a call's last transition.
func lookup(ts []queue.Transition, callID string) (queue.Transition, bool) {
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].CallID == callID {
			return ts[i], true
		}
	}
	return queue.Transition{}, false
}
