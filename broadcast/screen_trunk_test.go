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

// noChannels waits until the fake node has no channel left, polling (the
// channel list has no event of its own), for at most wait.
func noChannels(t *testing.T, srv *aritest.Server, what string) {
	t.Helper()
	for deadline := time.Now().Add(wait); srv.ChannelCount() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d channels left", what, srv.ChannelCount())
		}
	}
}

// screenedAcross checks a caller on B screened by a phone on the studio
// A: the caller and the near leg in their own bridge on B, the far leg
// and the phone in A's screening bridge.
func (p *pair) screenedAcross(t *testing.T, c *aritest.Call, callID string) {
	t.Helper()
	st, _ := p.b.Channel(c.ID())
	if members, _ := p.b.BridgeChannels(st.Bridge); !strings.HasPrefix(st.Bridge, "callin-show1-x-") || len(members) != 2 {
		t.Fatalf("caller on B in %q with %v, want its trunk bridge with the near leg", st.Bridge, members)
	}
	far := trunkLegs(t, p.a)
	members, _ := p.a.BridgeChannels("callin-show1-scr-" + callID)
	if len(far) != 1 || len(members) != 2 || !contains(members, far[0]) {
		t.Fatalf("A's screening bridge %v, far legs %v: want the far leg and the phone", members, far)
	}
}

// TestScreenAcrossTrunk: a caller held on B is screened by a screener's
// phone rung from the studio A, across the trunk as a promote is: Screen
// answers while it rings, the outcome follows as updates; Ready puts the
// caller back on hold on B; the screener hanging up, the caller hanging
// up and the trunk leg ending each end the screening with no leg left
// open; a busy phone leaves the caller on hold and opens no trunk leg.
func TestScreenAcrossTrunk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startPair(t, func(c *broadcast.Config) {
		c.Phones = phones{"sam": "PJSIP/sam"}
		c.RingTimeout = time.Second
	})
	p.a.SetPhone("PJSIP/sam", aritest.Phone{Ring: 20 * time.Millisecond})
	w := p.w("show1")
	c1, id1 := dial(t, p.b, w, "show1", "5550001")
	got, err := p.app.Screen(ctx, "show1", id1, producer, "sam")
	if err != nil || got.Pending != queue.ActionScreen {
		t.Fatalf("screen: %+v %v, want pending screen", got, err)
	}
	if sc := w.screened(id1); sc.State != broadcast.ScreenAnswered {
		t.Fatalf("screening %+v, want answered", sc)
	}
	if c, _ := p.app.Call("show1", id1); c.State != queue.StateScreening || c.Node != "B" {
		t.Fatalf("call %+v, want screening on B", c)
	}
	p.screenedAcross(t, c1, id1)
	// Ready: back on hold on B, every leg and the phone hung up.
	if c, err := p.app.Ready(ctx, "show1", id1, producer, queue.Notes{Name: "Kim"}); err != nil || c.State != queue.StateReady {
		t.Fatalf("ready: %+v %v", c, err)
	}
	waitMusic(t, c1)
	p.noTrunkLegs(t)
	noChannels(t, p.a, "A after Ready")

	// The screener hangs up: back on hold by the system.
	p.a.SetPhone("PJSIP/sam", aritest.Phone{Ring: 20 * time.Millisecond, HangupAfter: 20 * time.Second})
	screen(t, p.env, w, id1, "sam")
	tr := w.next("back to hold", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.CallID == id1 && u.Transition.Action == queue.ActionHold
	}).Transition
	if tr.Actor != queue.System || tr.From != queue.StateScreening {
		t.Errorf("screener hung up: %+v", tr)
	}
	waitMusic(t, c1)
	p.noTrunkLegs(t)
	noChannels(t, p.a, "A after the screener hung up")

	// The far leg ends (not by callin): back on hold, the phone hung up.
	p.a.SetPhone("PJSIP/sam", aritest.Phone{Ring: 20 * time.Millisecond})
	screen(t, p.env, w, id1, "sam")
	far := trunkLegs(t, p.a)
	if len(far) != 1 {
		t.Fatalf("far legs on A: %v", far)
	}
	if err := newClient(t, p.a.URL(), p.a.User(), p.a.Password()).HangupChannel(ctx, far[0], "normal"); err != nil {
		t.Fatal(err)
	}
	if tr := w.transition(c1.ID(), queue.ActionHold); tr.From != queue.StateScreening || tr.Actor != queue.System {
		t.Errorf("trunk leg lost while screening: %+v", tr)
	}
	waitMusic(t, c1)
	p.noTrunkLegs(t)
	noChannels(t, p.a, "A after the trunk leg ended")

	// Busy: nothing crosses; the caller stays on hold.
	p.a.SetPhone("PJSIP/sam", aritest.Phone{Ring: 20 * time.Millisecond, Reject: 486})
	if _, err := p.app.Screen(ctx, "show1", id1, producer, "sam"); err != nil {
		t.Fatal(err)
	}
	if sc := w.screened(id1); sc.State != broadcast.ScreenBusy {
		t.Fatalf("screening %+v, want busy", sc)
	}
	if st, _ := c1.State(); !st.HearsMusic {
		t.Errorf("caller in %q after a busy phone, want the music", st.Bridge)
	}
	p.noTrunkLegs(t)

	// The caller hangs up while screened: the call ends, no leg is left.
	p.a.SetPhone("PJSIP/sam", aritest.Phone{Ring: 20 * time.Millisecond})
	screen(t, p.env, w, id1, "sam")
	if err := c1.Hangup(16); err != nil {
		t.Fatal(err)
	}
	w.transition(c1.ID(), queue.ActionHangup)
	p.noTrunkLegs(t)
	noChannels(t, p.a, "A after the caller hung up")
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) { // no event says a bridge is gone
		if _, ok := p.a.BridgeChannels("callin-show1-scr-" + id1); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a screening bridge was left on A")
		}
	}
}
