package broadcast_test

import (
	"context"
	"errors"
	"testing"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

func TestAsteriskRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{})
	w := e.w("show1")
	w.nodeUp()
	c1, _ := dial(t, srv, w, "show1", "1")
	c2, id2 := dial(t, srv, w, "show1", "2")
	if _, err := e.app.Promote(ctx, "show1", id2, producer); err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	want := map[string]queue.Outcome{c1.ID(): queue.OutcomeAbandoned, c2.ID(): queue.OutcomeAired}
	got := map[string]queue.Outcome{}
	for len(got) < len(want) { // in whatever order Asterisk ends them
		tr := w.next("ended", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.To == queue.StateEnded
		}).Transition
		got[tr.ChannelID] = tr.Outcome
	}
	for ch, o := range want {
		if got[ch] != o {
			t.Errorf("%s ended %s, want %s", ch, got[ch], o)
		}
	}
	w.nodeUp()
	if _, ok := srv.BridgeChannels(holdID("show1")); !ok {
		t.Fatal("holding bridge not recreated after the restart")
	}
	if _, ok := srv.BridgeChannels(airID("show1")); !ok {
		t.Fatal("on-air bridge not recreated after the restart")
	}
	m := watch(t, e.app, "show1")
	c3, id3 := dial(t, srv, w, "show1", "3")
	m.music(true)
	if !srv.BridgeMusicPlaying(holdID("show1")) {
		t.Error("no music after the restart")
	}
	if got, err := e.app.Promote(ctx, "show1", id3, producer); err != nil || got.State != queue.StateOnAir {
		t.Errorf("promote after restart: %s %v", got.State, err)
	}
	_ = c3
	snap, _ := e.app.Snapshot("show1")
	if snap.Stats.OnAir != 1 || snap.Stats.Waiting != 0 {
		t.Errorf("stats %+v, want just the new caller on air (nothing counted twice)", snap.Stats)
	}
}

// TestWebSocketDrop cuts the event connection without restarting Asterisk:
// the calls and their places survive, and a caller who hung up during the
// gap (its events lost) is ended by the resync.
func TestWebSocketDrop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	p := newProxy(t, srv.URL()[len("http://"):])
	e := start(t, srv, broadcast.Config{Nodes: []broadcast.NodeConfig{
		{Name: "n1", ARI: newClient(t, p.url(), srv.User(), srv.Password()), Events: fastEvents}}})
	w := e.w("show1")
	w.nodeUp()
	_, id1 := dial(t, srv, w, "show1", "1")
	c2, id2 := dial(t, srv, w, "show1", "2")
	_, id3 := dial(t, srv, w, "show1", "3")
	if _, err := e.app.Promote(ctx, "show1", id3, producer); err != nil {
		t.Fatal(err)
	}

	p.pause(true)
	p.cut()
	w.next("node down", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.State == broadcast.NodeDown
	})
	if _, err := e.app.Hold(ctx, "show1", id3, producer); !errors.Is(err, broadcast.ErrNodeDown) {
		t.Errorf("action while down: %v, want ErrNodeDown", err)
	}
	must(t, srv.WaitApp(ctx, "callin", false))
	must(t, c2.Hangup(16)) // nobody hears of it
	p.pause(false)
	w.nodeUp()

	snap, _ := e.app.Snapshot("show1")
	if len(snap.Lineup.Waiting) != 1 || snap.Lineup.Waiting[0].ID != id1 || snap.Lineup.Waiting[0].Position != 1 {
		t.Errorf("waiting %+v, want %s kept at 1", snap.Lineup.Waiting, id1)
	}
	if len(snap.Lineup.OnAir) != 1 || snap.Lineup.OnAir[0].ID != id3 {
		t.Errorf("on air %+v, want %s kept", snap.Lineup.OnAir, id3)
	}
	gone, _ := e.app.Call("show1", id2)
	if gone.State != queue.StateEnded || gone.Outcome != queue.OutcomeAbandoned {
		t.Errorf("caller who hung up in the gap: %s %s, want ended abandoned", gone.State, gone.Outcome)
	}
	// Nothing was readmitted as new or ended twice.
	count := map[string]int{}
	for _, tr := range e.sink.all() {
		if tr.To == queue.StateEnded {
			count[tr.CallID]++
		}
		if tr.Action == queue.ActionReadmit {
			t.Errorf("known call readmitted as new: %+v", tr)
		}
	}
	if count[id2] != 1 || count[id1] != 0 || count[id3] != 0 {
		t.Errorf("ended transitions %v, want one for %s only", count, id2)
	}
	if _, err := e.app.Hold(ctx, "show1", id3, producer); err != nil {
		t.Errorf("hold after reconnect: %v", err)
	}
}

func TestTwoNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv1, srv2 := newFake(t, aritest.Options{}), newFake(t, aritest.Options{})
	e := start(t, srv1, broadcast.Config{
		Nodes: []broadcast.NodeConfig{
			{Name: "n1", ARI: newClient(t, srv1.URL(), srv1.User(), srv1.Password()), Events: fastEvents},
			{Name: "n2", ARI: newClient(t, srv2.URL(), srv2.User(), srv2.Password()), Events: fastEvents},
		},
		Shows: []broadcast.ShowConfig{showCfg("morning", "n1"), showCfg("evening", "n2")},
	})
	for _, tc := range []struct {
		show string
		srv  *aritest.Server
	}{{"morning", srv1}, {"evening", srv2}} {
		w := e.w(tc.show)
		w.nodeUp()
		c, id := dial(t, tc.srv, w, tc.show, "1")
		got, err := e.app.Promote(ctx, tc.show, id, producer)
		if err != nil || got.Node != map[string]string{"morning": "n1", "evening": "n2"}[tc.show] {
			t.Fatalf("%s: promote %+v %v", tc.show, got, err)
		}
		if air, _ := tc.srv.BridgeChannels(airID(tc.show)); !contains(air, c.ID()) {
			t.Errorf("%s: on-air bridge %v, want %s", tc.show, air, c.ID())
		}
	}
	if _, ok := srv1.BridgeChannels(holdID("evening")); ok {
		t.Error("evening's bridges were made on morning's node")
	}
	if h := e.app.Health(); len(h) != 2 || !h[0].OK() || !h[1].OK() {
		t.Errorf("health %+v, want two nodes up", h)
	}
}

func TestApplicationReplaced(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{})
	w := e.w("show1")
	w.nodeUp()
	_, id := dial(t, srv, w, "show1", "1")
	other := newClient(t, srv.URL(), srv.User(), srv.Password()).Connect(ctx, ari.EventOptions{})
	defer other.Close()
	w.next("replaced", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.State == broadcast.NodeReplaced
	})
	if h, _ := e.app.NodeHealth("n1"); h.OK() || h.State != broadcast.NodeReplaced {
		t.Errorf("health %+v, want replaced", h)
	}
	if _, err := e.app.Promote(ctx, "show1", id, producer); !errors.Is(err, broadcast.ErrNodeDown) {
		t.Errorf("promote on a replaced node: %v, want ErrNodeDown", err)
	}
}

// recallFrom serves a Recall from the transitions a first App recorded.
type recallFrom []queue.Transition

func (r recallFrom) OpenCalls(_ context.Context, show string) ([]queue.Stored, error) {
	last := map[string]queue.Transition{}
	first := map[string]queue.Transition{}
	for _, t := range r {
		if t.Show != show {
			continue
		}
		if t.Seq == 1 {
			first[t.CallID] = t
		}
		last[t.CallID] = t
	}
	var out []queue.Stored
	for id, t := range last {
		if t.To == queue.StateEnded {
			continue
		}
		out = append(out, queue.Stored{CallID: id, Node: t.Node, ChannelID: t.ChannelID, State: t.To,
			Seq: t.Seq, ArrivedAt: first[id].At})
	}
	return out, nil
}

// TestServiceRestart stops the App and starts a new one on the same node:
// the callers are readmitted with their ids, order and Seq, from Recall.
func TestServiceRestart(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	client := newClient(t, srv.URL(), srv.User(), srv.Password())
	nodes := []broadcast.NodeConfig{{Name: "n1", ARI: client, Events: fastEvents}}

	s1 := &sink{}
	app1, err := broadcast.New(broadcast.Config{Nodes: nodes, Shows: []broadcast.ShowConfig{showCfg("show1", "n1")}, Logger: quiet(), Sink: s1})
	if err != nil {
		t.Fatal(err)
	}
	w1 := watch(t, app1, "show1")
	ctx1, cancel1 := context.WithCancel(context.Background())
	done1 := make(chan struct{})
	go func() { defer close(done1); _ = app1.Run(ctx1) }()
	w1.nodeUp()
	var ids []string
	for _, n := range []string{"1", "2", "3"} {
		_, id := dial(t, srv, w1, "show1", n)
		ids = append(ids, id)
	}
	if _, err := app1.Promote(context.Background(), "show1", ids[0], producer); err != nil {
		t.Fatal(err)
	}
	cancel1()
	<-done1

	for _, tc := range []struct {
		name   string
		recall broadcast.Recall
	}{{"WithRecall", recallFrom(s1.all())}, {"WithoutRecall", nil}} {
		e := start(t, srv, broadcast.Config{Nodes: nodes, Recall: tc.recall})
		e.w("show1").nodeUp()
		snap, _ := e.app.Snapshot("show1")
		if len(snap.Lineup.Waiting) != 2 || len(snap.Lineup.OnAir) != 1 {
			t.Fatalf("%s: lineup %+v, want 2 waiting and 1 on air", tc.name, snap.Lineup)
		}
		if got := []string{snap.Lineup.Waiting[0].Number, snap.Lineup.Waiting[1].Number}; got[0] != "2" || got[1] != "3" {
			t.Errorf("%s: waiting numbers %v, want [2 3] (arrival order kept)", tc.name, got)
		}
		e.stop()
		if tc.recall == nil {
			continue
		}
		if snap.Lineup.OnAir[0].ID != ids[0] || snap.Lineup.Waiting[0].ID != ids[1] || snap.Lineup.Waiting[1].ID != ids[2] {
			t.Errorf("%s: lineup %+v, want ids %v in place", tc.name, snap.Lineup, ids)
		}
		for _, tr := range e.sink.all() {
			if tr.CallID == ids[1] && (tr.Action != queue.ActionReadmit || tr.Seq != 3) {
				t.Errorf("%s: readmission %s seq %d, want readmit with seq 3 (after arrive and join)", tc.name, tr.Action, tr.Seq)
			}
		}
	}
}
