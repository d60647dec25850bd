package broadcast_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// waitFull waits until a node's load says full (or not).
func waitFull(w *watcher, app *broadcast.App, node string, full bool) {
	w.t.Helper()
	waitLoad(w, app, fmt.Sprintf("%s full=%v", node, full), node, func(l broadcast.NodeLoad) bool { return l.Full == full })
}

// waitLoad waits until show1's load on a node is as ok wants: at once
// when the snapshot says so (an update may have gone by while the test
// waited for another), else for the update, which follows the change.
func waitLoad(w *watcher, app *broadcast.App, what, node string, ok func(broadcast.NodeLoad) bool) {
	w.t.Helper()
	snap, err := app.Snapshot("show1")
	if err != nil {
		w.t.Fatal(err)
	}
	for _, l := range snap.Nodes {
		if l.Node == node && ok(l) {
			return
		}
	}
	w.next(what, func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateLoad && u.Load.Node == node && ok(u.Load)
	})
}

// waitGlobal polls the fake's global variable until it reads want: callin
// sends it with no event to wait for.
func waitGlobal(t *testing.T, srv *aritest.Server, name, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for srv.GlobalVar(name) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want %q", name, srv.GlobalVar(name), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRoomHysteresis: full at capacity; once full, cleared only below
// capacity minus a tenth of it (at least 1).
func TestRoomHysteresis(t *testing.T) {
	for _, c := range []struct {
		full           bool
		held, capacity int
		want           bool
	}{
		{false, 2, 3, false}, {false, 3, 3, true}, {true, 4, 3, true}, {true, 2, 3, true}, {true, 1, 3, false},
		{false, 99, 100, false}, {false, 100, 100, true}, {true, 90, 100, true}, {true, 89, 100, false},
		{false, 1, 1, true}, {true, 0, 1, false},
	} {
		if got := broadcast.NextFull(c.full, c.held, c.capacity); got != c.want {
			t.Errorf("full %v, %d held of %d: full %v, want %v", c.full, c.held, c.capacity, got, c.want)
		}
	}
}

// TestRoomFake: node B of capacity 3 is marked full for the show
// (CALLIN_FULL_show1=1) once it holds 3 callers, stays full at 2 and is
// cleared at 1, full again at 3; a reconnect sends the variable again
// (here lost behind callin's back), and after a restart of B (its
// callers gone) it is cleared, then set again once B fills anew. Node A,
// with room, is never marked.
func TestRoomFake(t *testing.T) {
	t.Parallel()
	p := startPair(t, func(c *broadcast.Config) {
		c.Nodes[1].Capacity = 3
		c.NodeLostAfter = 30 * time.Second
	})
	w := p.w("show1")
	v := broadcast.FullVar("show1")
	var calls []*aritest.Call
	for i := range 3 {
		c, _ := dial(t, p.b, w, "show1", "555000"+string(rune('1'+i)))
		calls = append(calls, c)
	}
	waitFull(w, p.app, "B", true)
	if got := p.b.GlobalVar(v); got != "1" {
		t.Fatalf("B holding 3 of 3: %s = %q, want 1", v, got)
	}
	dial(t, p.a, w, "show1", "5550010")
	if got := p.a.GlobalVar(v); got != "" {
		t.Errorf("A with room: %s = %q", v, got)
	}
	for _, l := range p.app.NodeLoads() {
		if l.Full != (l.Node == "B") {
			t.Errorf("NodeLoads %+v", l)
		}
	}
	// 2 of 3: still full; 1 of 3: cleared (the first update saying so
	// already counts 1).
	for _, c := range calls[:2] {
		if err := c.Hangup(16); err != nil {
			t.Fatal(err)
		}
	}
	if u := w.next("B not full", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateLoad && u.Load.Node == "B" && !u.Load.Full
	}); u.Load.Held != 1 {
		t.Errorf("B marked not full at %d held, want at 1", u.Load.Held)
	}
	waitGlobal(t, p.b, v, "")
	for i := range 2 {
		dial(t, p.b, w, "show1", "555001"+string(rune('1'+i)))
	}
	waitFull(w, p.app, "B", true)
	waitGlobal(t, p.b, v, "1")

	// A reconnect sends it again: lost here behind callin's back.
	ctx := context.Background()
	if err := newClient(t, p.b.URL(), p.b.User(), p.b.Password()).SetGlobalVar(ctx, v, ""); err != nil {
		t.Fatal(err)
	}
	p.proxy.cut()
	w.next("B down", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.Node == "B" && !u.Node.OK()
	})
	w.next("B up", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.Node == "B" && u.Node.OK()
	})
	waitGlobal(t, p.b, v, "1")

	// A restart loses B's callers (and the variable): B has room.
	p.b.Restart()
	w.next("B up", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.Node == "B" && u.Node.OK()
	})
	waitFull(w, p.app, "B", false)
	waitGlobal(t, p.b, v, "")
	for i := range 3 {
		dial(t, p.b, w, "show1", "555002"+string(rune('1'+i)))
	}
	waitFull(w, p.app, "B", true)
	waitGlobal(t, p.b, v, "1")
	if snap, _ := p.app.Snapshot("show1"); snap.Nodes[1].Held != 3 || !snap.Nodes[1].Full || snap.Nodes[0].Full {
		t.Errorf("snapshot loads %+v", snap.Nodes)
	}
}

// TestCallbackFromNodeWithRoom: the studio A full (capacity 1), a
// call-back is dialled from B and the caller who answers is held on B,
// at their place, with B's music.
func TestCallbackFromNodeWithRoom(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startPair(t, func(c *broadcast.Config) {
		c.Nodes[0].Capacity = 1
		c.AnnounceTick, c.RingTimeout = 10*time.Millisecond, time.Minute
		sc := &c.Shows[0]
		sc.AnnounceEvery = 30 * time.Millisecond
		sc.Callback = queue.CallbackConfig{Offer: time.Nanosecond, NearFront: 5}
		sc.CallbackLine = broadcast.CallbackLine{Dial: "PJSIP/{number}@trunk", KeyWait: 5 * time.Second}
	})
	w := p.w("show1")
	for i := range 3 { // a rate for the estimated wait
		c, id := dial(t, p.b, w, "show1", fmt.Sprintf("+1202555090%d", i))
		if _, err := p.app.Promote(ctx, "show1", id, producer); err != nil {
			t.Fatal(err)
		}
		must(t, c.Hangup(16))
		waitDone(t, c)
	}
	dial(t, p.a, w, "show1", "+12025550101")
	waitFull(w, p.app, "A", true)
	c2, id2 := dial(t, p.b, w, "show1", "+12025550102")
	offeredTo(t, p.b, c2.ID())
	must(t, c2.DTMF("2"))
	w.transition("", queue.ActionCallbackDial)
	line := callbackLine(t, p.env, p.b)
	prompted(t, p.b, line.ID(), "sound:callin-callback-return")
	must(t, line.DTMF("1"))
	back := w.next("back", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionCallbackReturn
	}).Transition
	if back.CallID != id2 || back.ChannelID != line.ID() || back.Node != "B" {
		t.Errorf("returned %+v, want %s on B's %s", back, id2, line.ID())
	}
	waitMusic(t, line)
	if got, _ := p.app.Call("show1", id2); got.State != queue.StateWaiting || got.Node != "B" || got.Position != 2 {
		t.Errorf("returned caller %+v, want waiting on B at 2", got)
	}
}
