package broadcast_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// trunkLegs lists the trunk legs a fake node has (PJSIP/node… channels).
func trunkLegs(t *testing.T, srv *aritest.Server) []string {
	t.Helper()
	chans, err := newClient(t, srv.URL(), srv.User(), srv.Password()).ListChannels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range chans {
		if strings.HasPrefix(c.Name, "PJSIP/node") {
			out = append(out, c.ID)
		}
	}
	return out
}

// noTrunkLegs waits until neither node has a trunk leg left, polling (the
// fake's channel list has no event of its own), for at most wait.
func (p *pair) noTrunkLegs(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		a, b := trunkLegs(t, p.a), trunkLegs(t, p.b)
		if len(a) == 0 && len(b) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("trunk legs left open: A %v, B %v", a, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// onAirFromB checks that a caller on B promoted is on air across the trunk:
// with its near leg in its own bridge on B, the far leg in A's on-air
// bridge.
func (p *pair) onAirFromB(t *testing.T, c *aritest.Call, callID string) {
	t.Helper()
	st, _ := p.b.Channel(c.ID())
	x := st.Bridge
	members, ok := p.b.BridgeChannels(x)
	if !strings.HasPrefix(x, "callin-show1-x-") {
		t.Fatalf("caller %s on B is in %q, not its trunk bridge", callID, x)
	}
	if !ok || len(members) != 2 || !contains(members, c.ID()) {
		t.Fatalf("bridge %s on B: %v %v, want the caller and the near leg", x, members, ok)
	}
	air, _ := p.a.BridgeChannels(airID("show1"))
	if far := trunkLegs(t, p.a); len(far) != 1 || !contains(air, far[0]) {
		t.Fatalf("A's far legs %v, on-air bridge %v", far, air)
	}
}

// TestOnAirAcrossTrunk: a caller held on B goes on air in A's on-air
// bridge across the trunk; mute, lock, hold, take next, drop with goodbye
// and a hang-up behave as on the studio; no leg is left open after any.
func TestOnAirAcrossTrunk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startPair(t, nil)
	w := p.w("show1")
	c1, id1 := dial(t, p.b, w, "show1", "5550001")
	c2, id2 := dial(t, p.b, w, "show1", "5550002")
	got, err := p.app.Promote(ctx, "show1", id1, producer)
	if err != nil || got.State != queue.StateOnAir || got.Node != "B" {
		t.Fatalf("promote across the trunk: %+v %v", got, err)
	}
	p.onAirFromB(t, c1, id1)
	if _, err := p.app.Mute(ctx, "show1", id1, producer); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.b.Channel(c1.ID()); !st.MutedIn {
		t.Error("the caller on B is not muted")
	}
	if _, err := p.app.Lock("show1", id1, producer); err != nil {
		t.Fatal(err)
	}
	if _, err := p.app.Unlock("show1", id1, producer); err != nil {
		t.Fatal(err)
	}
	// Hold: back in B's holding bridge, unmuted, both legs hung up.
	onAir, _ := p.b.Channel(c1.ID())
	x := onAir.Bridge
	if got, err := p.app.Hold(ctx, "show1", id1, producer); err != nil || got.State != queue.StateWaiting {
		t.Fatalf("hold: %+v %v", got, err)
	}
	if st, _ := p.b.Channel(c1.ID()); st.Bridge != holdID("show1") || st.MutedIn {
		t.Errorf("held caller %+v, want in B's holding bridge, unmuted", st)
	}
	waitMusic(t, c1)
	p.noTrunkLegs(t)
	if _, ok := p.b.BridgeChannels(x); ok {
		t.Error("the caller's trunk bridge is left on B")
	}
	// Take next takes the first in line, across the trunk again.
	if got, err := p.app.TakeNext(ctx, "show1", producer); err != nil || got.ID != id1 {
		t.Fatalf("take next: %+v %v", got, err)
	}
	p.onAirFromB(t, c1, id1)
	// Drop with goodbye: played to the caller on B, then every leg ends.
	if got, err := p.app.Drop(ctx, "show1", id1, producer, broadcast.DropOptions{Goodbye: true}); err != nil || got.Outcome != queue.OutcomeAired {
		t.Fatalf("drop: %+v %v", got, err)
	}
	if !playedTo(p.b, c1.ID(), "vm-goodbye") {
		t.Error("no goodbye played on B")
	}
	waitDone(t, c1)
	p.noTrunkLegs(t)
	// The caller hangs up on air: both legs end.
	if _, err := p.app.Promote(ctx, "show1", id2, producer); err != nil {
		t.Fatal(err)
	}
	p.onAirFromB(t, c2, id2)
	if err := c2.Hangup(16); err != nil {
		t.Fatal(err)
	}
	if tr := w.transition(c2.ID(), queue.ActionHangup); tr.Outcome != queue.OutcomeAired {
		t.Errorf("hang-up on air: %+v", tr)
	}
	p.noTrunkLegs(t)
}

// TestTrunkLegLost: the far leg ending (not by callin) puts the caller
// back on hold with an air_lost transition, and the near leg is hung up;
// hold all and drop all reach callers across the trunk.
func TestTrunkLegLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startPair(t, nil)
	w := p.w("show1")
	c1, id1 := dial(t, p.b, w, "show1", "5550001")
	if _, err := p.app.Promote(ctx, "show1", id1, producer); err != nil {
		t.Fatal(err)
	}
	far := trunkLegs(t, p.a)
	if len(far) != 1 {
		t.Fatalf("far legs on A: %v", far)
	}
	if err := newClient(t, p.a.URL(), p.a.User(), p.a.Password()).HangupChannel(ctx, far[0], "normal"); err != nil {
		t.Fatal(err)
	}
	tr := w.transition(c1.ID(), queue.ActionAirLost)
	if tr.To != queue.StateWaiting || tr.Reason == "" {
		t.Errorf("air lost: %+v", tr)
	}
	waitMusic(t, c1)
	p.noTrunkLegs(t)
	// Hold all, then drop all, with a caller on air from each node.
	ca, ida := dial(t, p.a, w, "show1", "5550002")
	for _, id := range []string{id1, ida} {
		if _, err := p.app.Promote(ctx, "show1", id, producer); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := p.app.ClearAir(ctx, "show1", producer, broadcast.ClearHold, broadcast.DropOptions{}); err != nil || len(res.Cleared) != 2 {
		t.Fatalf("hold all: %+v %v", res, err)
	}
	p.noTrunkLegs(t)
	for _, id := range []string{id1, ida} {
		if _, err := p.app.Promote(ctx, "show1", id, producer); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := p.app.ClearAir(ctx, "show1", producer, broadcast.ClearDrop, broadcast.DropOptions{Goodbye: true}); err != nil || len(res.Cleared) != 2 {
		t.Fatalf("drop all: %+v %v", res, err)
	}
	waitDone(t, c1)
	waitDone(t, ca)
	p.noTrunkLegs(t)
}

// TestTrunkNodesLost: B lost with its caller on air ends the call
// node_lost and callin hangs up the far leg on A (a killed node's legs
// stay up: TrunkNodeKilled); the studio A lost with B's caller on air puts
// the caller back on hold on B (air_lost) and hangs up the near leg.
func TestTrunkNodesLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startPair(t, func(c *broadcast.Config) { c.NodeLostAfter = 300 * time.Millisecond })
	w := p.w("show1")
	c1, id1 := dial(t, p.b, w, "show1", "5550001")
	if _, err := p.app.Promote(ctx, "show1", id1, producer); err != nil {
		t.Fatal(err)
	}
	p.proxyA.pause(true)
	p.proxyA.cut()
	if tr := w.transition(c1.ID(), queue.ActionAirLost); tr.To != queue.StateWaiting {
		t.Errorf("studio lost: %+v", tr)
	}
	waitMusic(t, c1)
	if legs := trunkLegs(t, p.b); len(legs) != 0 {
		t.Errorf("near legs left on B: %v", legs)
	}
	p.proxyA.pause(false)
	w.next("A up again", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.Node == "A" && u.Node.OK()
	})
	p.noTrunkLegs(t) // A's resync hangs up the far leg it still has
	if _, err := p.app.Promote(ctx, "show1", id1, producer); err != nil {
		t.Fatal(err)
	}
	p.proxy.pause(true)
	p.proxy.cut()
	if tr := w.transition(c1.ID(), queue.ActionNodeLost); tr.Outcome != queue.OutcomeNodeLost {
		t.Errorf("B lost: %+v", tr)
	}
	deadline := time.Now().Add(wait)
	for len(trunkLegs(t, p.a)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("far leg left on A: %v", trunkLegs(t, p.a))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTalkbackAcrossNodes: a producer's live talkback on the studio
// reaches every holding bridge of B through one trunk leg (B's first
// bridge's announcer) and B's own relays; stopped, B's callers get their
// music back and no leg or relay is left. A message plays on both nodes.
func TestTalkbackAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startPair(t, func(c *broadcast.Config) {
		c.Phones = phones{"pat": "PJSIP/pat"}
		c.Shows[0].HoldBridgeSize = 2
	})
	w := p.w("show1")
	ca, _ := dial(t, p.a, w, "show1", "5550001")
	var onB []*aritest.Call
	for _, n := range []string{"5550002", "5550003", "5550004"} { // B's bridges of 2 and 1
		c, _ := dial(t, p.b, w, "show1", n)
		onB = append(onB, c)
	}
	for _, c := range append(onB, ca) {
		waitMusic(t, c)
	}
	must(t, p.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{User: "pat"}))
	bLoad := func() broadcast.NodeLoad {
		snap, _ := p.app.Snapshot("show1")
		return snap.Nodes[1]
	}
	deadline := time.Now().Add(wait)
	for l := bLoad(); !l.Talkback || l.TalkbackBridges != 2; l = bLoad() {
		if time.Now().After(deadline) {
			t.Fatalf("B's load %+v: the talkback does not reach B's 2 bridges", l)
		}
		time.Sleep(5 * time.Millisecond) // the fake's bridges have no event for a test
	}
	snap, _ := p.app.Snapshot("show1")
	hearsLine(t, ca, snap.Media.TalkbackLine)
	far := trunkLegs(t, p.b)
	if len(far) != 1 {
		t.Fatalf("talkback legs on B: %v", far)
	}
	for _, c := range onB {
		hearsLine(t, c, far[0])
	}
	must(t, p.app.StopTalkback(ctx, "show1"))
	for _, c := range append(onB, ca) {
		waitMusic(t, c)
	}
	p.noTrunkLegs(t)
	if r := relays(p.b, holdID("show1"), holdID("show1")+"-2"); len(r) != 0 {
		t.Errorf("relays left on B: %v", r)
	}
	if l := bLoad(); l.Talkback {
		t.Errorf("B's load %+v after the stop", l)
	}
	// A message plays to every holding bridge of both nodes.
	must(t, p.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{Media: []string{"sound:hello-world"}}))
	for _, c := range []struct {
		srv     *aritest.Server
		bridges []string
	}{{p.a, []string{holdID("show1")}}, {p.b, []string{holdID("show1"), holdID("show1") + "-2"}}} {
		for _, b := range c.bridges {
			played := false
			for _, pb := range c.srv.Playbacks() {
				played = played || pb.Target == "bridge:"+b && strings.Contains(strings.Join(pb.Media, " "), "hello-world")
			}
			if !played {
				t.Errorf("no message played in %s on %s", b, c.srv.URL())
			}
		}
	}
	for _, c := range append(onB, ca) {
		waitMusic(t, c) // once the message is over
	}
}

// TestTrunkLegLostPromoteInGap: a promote arriving while a caller whose
// trunk leg was lost is still on its way back to hold is never silently
// undone: it waits, is refused (ErrConflict), or works and the caller
// stays on air. The hook sends the promote just before the caller's
// addChannel into B's holding bridge; before the fix the air_lost
// transition was already out, the promote went through, and the caller
// then landed in the holding bridge while the line said on air.
func TestTrunkLegLostPromoteInGap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var hb *hooked
	p := startPair(t, func(c *broadcast.Config) {
		hb = &hooked{Telephony: c.Nodes[1].ARI}
		c.Nodes[1].ARI = hb
	})
	w := p.w("show1")
	c1, id1 := dial(t, p.b, w, "show1", "5550001")
	if _, err := p.app.Promote(ctx, "show1", id1, producer); err != nil {
		t.Fatal(err)
	}
	p.onAirFromB(t, c1, id1)
	gap := make(chan error, 1)
	var once sync.Once
	hb.set(func(h *hooked) {
		h.beforeAdd = func(bridgeID string, chans []string) {
			if strings.Contains(bridgeID, "-hold") && contains(chans, c1.ID()) {
				once.Do(func() {
					_, err := p.app.Promote(ctx, "show1", id1, producer)
					gap <- err
				})
			}
		}
	})
	far := trunkLegs(t, p.a)
	if len(far) != 1 {
		t.Fatalf("far legs on A: %v", far)
	}
	if err := newClient(t, p.a.URL(), p.a.User(), p.a.Password()).HangupChannel(ctx, far[0], "normal"); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-gap:
	case <-time.After(wait):
		t.Fatal("the caller was not put back on hold")
	}
	hb.set(func(h *hooked) { h.beforeAdd = nil })
	if tr := w.transition(c1.ID(), queue.ActionAirLost); tr.To != queue.StateWaiting {
		t.Errorf("air lost: %+v", tr)
	}
	switch {
	case err == nil:
		// It worked: the caller must stay on air. The undoing move, if
		// any, follows the hook at once; the fake makes it within
		// milliseconds, so half a second of not hearing music is enough.
		for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if st, _ := c1.State(); st.HearsMusic {
				t.Fatalf("the promote in the gap was undone: the line says on air, the caller is in %q hearing music", st.Bridge)
			}
		}
		p.onAirFromB(t, c1, id1)
	case errors.Is(err, queue.ErrConflict):
		waitMusic(t, c1)
		snap, _ := p.app.Snapshot("show1")
		if len(snap.Lineup.Waiting) != 1 || snap.Lineup.Waiting[0].ID != id1 || snap.Lineup.Waiting[0].Pending != "" {
			t.Fatalf("after a refused promote: waiting %+v, on air %+v", snap.Lineup.Waiting, snap.Lineup.OnAir)
		}
	default:
		t.Fatalf("promote in the gap: %v, want nil or ErrConflict", err)
	}
	// Afterwards the caller can go on air again.
	if err != nil {
		p.noTrunkLegs(t)
		if _, err := p.app.Promote(ctx, "show1", id1, producer); err != nil {
			t.Fatal(err)
		}
		p.onAirFromB(t, c1, id1)
	}
}
