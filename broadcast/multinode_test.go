package broadcast_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// pair is an App with show "show1" across two fake nodes joined by a
// trunk: "A" (the studio) and "B", each reached through a proxy so that
// a test can cut its connection.
type pair struct {
	*env
	a, b          *aritest.Server
	proxy, proxyA *proxy
}

func startPair(t *testing.T, change func(*broadcast.Config)) *pair {
	t.Helper()
	tr := aritest.NewTrunk()
	a := newFake(t, aritest.Options{Trunk: tr, Node: "A"})
	b := newFake(t, aritest.Options{Trunk: tr, Node: "B"})
	p := newProxy(t, b.URL()[len("http://"):])
	pa := newProxy(t, a.URL()[len("http://"):])
	sc := showCfg("show1", "A")
	sc.Nodes = []string{"A", "B"}
	cfg := broadcast.Config{
		Nodes: []broadcast.NodeConfig{
			{Name: "A", ARI: newClient(t, pa.url(), a.User(), a.Password()), Events: fastEvents, Capacity: 100},
			{Name: "B", ARI: newClient(t, p.url(), b.User(), b.Password()), Events: fastEvents, Capacity: 50},
		},
		Shows: []broadcast.ShowConfig{sc},
	}
	if change != nil {
		change(&cfg)
	}
	e := start(t, a, cfg)
	w := e.w("show1")
	up := map[string]bool{}
	for len(up) < 2 {
		u := w.next("both nodes up", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateNode && u.Node.OK() })
		up[u.Node.Node] = true
	}
	return &pair{env: e, a: a, b: b, proxy: p, proxyA: pa}
}

// waiting returns the show's waiting callers' ids and nodes, in line.
func (p *pair) waiting(t *testing.T) (ids, nodes []string) {
	t.Helper()
	snap, err := p.app.Snapshot("show1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range snap.Lineup.Waiting {
		ids = append(ids, c.ID)
		nodes = append(nodes, c.Node)
	}
	return ids, nodes
}

// TestShowAcrossNodes: callers arriving on either node are held there, in
// that node's holding bridge with its music, in one line in arrival order;
// each node's load is readable; a caller on B is dropped with goodbye on
// B; and one on B is screened from the console without leaving B.
func TestShowAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startPair(t, nil)
	w := p.w("show1")
	var ids []string
	var calls []*aritest.Call
	for i, srv := range []*aritest.Server{p.a, p.b, p.b, p.a} {
		c, id := dial(t, srv, w, "show1", "555000"+string(rune('1'+i)))
		ids, calls = append(ids, id), append(calls, c)
	}
	got, nodes := p.waiting(t)
	if strings.Join(got, ",") != strings.Join(ids, ",") || strings.Join(nodes, ",") != "A,B,B,A" {
		t.Fatalf("line %v on %v, want %v on A,B,B,A", got, nodes, ids)
	}
	for _, c := range []struct {
		srv  *aritest.Server
		want []*aritest.Call
	}{{p.a, []*aritest.Call{calls[0], calls[3]}}, {p.b, []*aritest.Call{calls[1], calls[2]}}} {
		members, ok := c.srv.BridgeChannels(holdID("show1"))
		if !ok || len(members) < 2 {
			t.Fatalf("holding bridge on %s: %v %v", c.srv.URL(), members, ok)
		}
		for _, call := range c.want {
			if !contains(members, call.ID()) {
				t.Errorf("%s not held on its own node: %v", call.ID(), members)
			}
			waitMusic(t, call)
		}
	}
	// The load of each node, as the console and /metrics read it.
	snap, _ := p.app.Snapshot("show1")
	if len(snap.Nodes) != 2 || snap.Nodes[0].Node != "A" || !snap.Nodes[0].Studio || snap.Nodes[0].Held != 2 ||
		snap.Nodes[1].Node != "B" || snap.Nodes[1].Held != 2 || snap.Nodes[1].Capacity != 50 || snap.Nodes[1].State != broadcast.NodeUp ||
		!snap.Nodes[1].Music || snap.Nodes[1].Bridges != 1 {
		t.Errorf("snapshot nodes %+v", snap.Nodes)
	}
	for _, l := range p.app.NodeLoads() {
		if l.Held != 2 {
			t.Errorf("node load %+v, want 2 held", l)
		}
	}
	// Screened from the console (no phone) on B: the caller keeps the
	// music there (a phone across the trunk: TestScreenAcrossTrunk).
	if c, err := p.app.Screen(ctx, "show1", ids[1], producer, "sam"); err != nil || c.State != queue.StateScreening {
		t.Errorf("screening of a caller on B: %+v %v", c, err)
	}
	if _, err := p.app.Ready(ctx, "show1", ids[1], producer, queue.Notes{}); err != nil {
		t.Fatal(err)
	}
	// Drop with goodbye on B: played and hung up there; B's load follows.
	m := watch(t, p.app, "show1")
	c, err := p.app.Drop(ctx, "show1", ids[2], producer, broadcast.DropOptions{Goodbye: true})
	if err != nil || c.Outcome != queue.OutcomeDropped {
		t.Fatalf("drop on B: %+v %v", c, err)
	}
	waitDone(t, calls[2])
	m.next("B's load", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateLoad && u.Load.Node == "B" && u.Load.Held == 1 && !u.Load.Studio
	})
	played := false
	if playedTo(p.b, calls[2].ID(), "vm-goodbye") {
		played = true
	}
	if !played {
		t.Errorf("no goodbye played on B: %+v", p.b.Playbacks())
	}
	// A caller on B who hangs up ends their call; the line closes up.
	if err := calls[1].Hangup(16); err != nil {
		t.Fatal(err)
	}
	w.transition(calls[1].ID(), queue.ActionHangup)
	if got, nodes := p.waiting(t); strings.Join(got, ",") != ids[0]+","+ids[3] || strings.Join(nodes, ",") != "A,A" {
		t.Errorf("line after B's callers left: %v on %v", got, nodes)
	}
}

// TestShowAcrossNodesAnnounces: position announcements play to each
// caller on the node holding them.
func TestShowAcrossNodesAnnounces(t *testing.T) {
	t.Parallel()
	p := startPair(t, func(c *broadcast.Config) {
		c.AnnounceTick = 20 * time.Millisecond
		c.Shows[0].AnnounceEvery = 50 * time.Millisecond
	})
	w := p.w("show1")
	ca, _ := dial(t, p.a, w, "show1", "5550001")
	cb, _ := dial(t, p.b, w, "show1", "5550002")
	deadline := time.Now().Add(wait)
	for {
		onA, onB := playedTo(p.a, ca.ID(), "number:1"), playedTo(p.b, cb.ID(), "number:2")
		if onA && onB {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("announcements: A's caller heard position 1: %t, B's caller position 2: %t", onA, onB)
		}
		time.Sleep(20 * time.Millisecond) // the fake's playback history has no event
	}
}

func playedTo(srv *aritest.Server, chanID, media string) bool {
	for _, pb := range srv.Playbacks() {
		if pb.Target == "channel:"+chanID && strings.Contains(strings.Join(pb.Media, " "), media) {
			return true
		}
	}
	return false
}

// TestNodeLost: node B's connection gone past NodeLostAfter ends B's
// callers node_lost, A's callers keep their order; when B comes back its
// resync hangs up the channels of the ended calls, and B takes new
// callers at once.
func TestNodeLost(t *testing.T) {
	t.Parallel()
	p := startPair(t, func(c *broadcast.Config) { c.NodeLostAfter = 300 * time.Millisecond })
	w := p.w("show1")
	_, a1 := dial(t, p.a, w, "show1", "5550001")
	b1c, b1 := dial(t, p.b, w, "show1", "5550002")
	_, a2 := dial(t, p.a, w, "show1", "5550003")
	b2c, b2 := dial(t, p.b, w, "show1", "5550004")
	p.proxy.pause(true)
	p.proxy.cut()
	lost := map[string]bool{}
	for len(lost) < 2 {
		tr := w.next("B's calls ended", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.To == queue.StateEnded
		}).Transition
		if tr.Outcome != queue.OutcomeNodeLost || tr.Action != queue.ActionNodeLost || tr.Node != "B" {
			t.Fatalf("ended %+v, want node_lost on B", tr)
		}
		lost[tr.CallID] = true
	}
	if !lost[b1] || !lost[b2] {
		t.Fatalf("lost %v, want %s and %s", lost, b1, b2)
	}
	if got, _ := p.waiting(t); strings.Join(got, ",") != a1+","+a2 {
		t.Fatalf("line after B lost: %v, want [%s %s]", got, a1, a2)
	}
	if n := countOutcome(p.sink, queue.OutcomeNodeLost); n != 2 {
		t.Errorf("%d node_lost calls in the history, want 2", n)
	}
	// B comes back: what is left of the lost calls is hung up; B takes a
	// new caller at once.
	p.proxy.pause(false)
	w.next("B up again", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.Node == "B" && u.Node.OK()
	})
	waitDone(t, b1c)
	waitDone(t, b2c)
	_, b3 := dial(t, p.b, w, "show1", "5550005")
	if got, nodes := p.waiting(t); strings.Join(got, ",") != a1+","+a2+","+b3 || nodes[2] != "B" {
		t.Fatalf("line after B came back: %v on %v", got, nodes)
	}
}

// TestNodeReconnectKeepsCalls: a connection to B that comes back within
// NodeLostAfter ends nothing; B's resync ends only B's caller who hung up
// in the gap, and A's calls are not B's to end.
func TestNodeReconnectKeepsCalls(t *testing.T) {
	t.Parallel()
	p := startPair(t, func(c *broadcast.Config) { c.NodeLostAfter = 30 * time.Second })
	w := p.w("show1")
	_, a1 := dial(t, p.a, w, "show1", "5550001")
	b1c, _ := dial(t, p.b, w, "show1", "5550002")
	_, b2 := dial(t, p.b, w, "show1", "5550003")
	p.proxy.pause(true)
	p.proxy.cut()
	w.next("B down", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.Node == "B" && !u.Node.OK()
	})
	if err := b1c.Hangup(16); err != nil { // its events are lost with the connection
		t.Fatal(err)
	}
	p.proxy.pause(false)
	tr := w.next("B's resync", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateResync })
	for _, x := range tr.Transitions {
		if x.To == queue.StateEnded && x.ChannelID != b1c.ID() {
			t.Errorf("B's resync ended %+v", x)
		}
	}
	if got, _ := p.waiting(t); strings.Join(got, ",") != a1+","+b2 {
		t.Fatalf("line after B's reconnect: %v, want [%s %s]", got, a1, b2)
	}
	if n := countOutcome(p.sink, queue.OutcomeNodeLost); n != 0 {
		t.Errorf("%d node_lost calls after a quick reconnect", n)
	}
}

// countOutcome counts the calls the history recorded ending with o.
func countOutcome(s *sink, o queue.Outcome) int {
	n := 0
	for _, t := range s.all() {
		if t.To == queue.StateEnded && t.Outcome == o {
			n++
		}
	}
	return n
}
