package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestLiveCallsForgotten: what a show keeps per call (talking, position
// announcement, line quality or its absence, talk detection, screening and
// the screener's line) goes when the call ends, by a hang-up or by
// vanishing in a resync (issue 20: the vanish path left quality, screener
// lines and talk detection behind).
func TestLiveCallsForgotten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	srv.SetPhone("PJSIP/sam", aritest.Phone{Ring: 10 * time.Millisecond})
	srv.SetPhone("PJSIP/bo", aritest.Phone{Ring: 10 * time.Millisecond, Reject: 486})
	p := newProxy(t, srv.URL()[len("http://"):])
	tel := &talkDetects{Telephony: newClient(t, p.url(), srv.User(), srv.Password()), set: make(chan string, 64)}
	sc := showCfg("show1", "n1")
	sc.AnnounceEvery = 20 * time.Millisecond
	e := start(t, srv, broadcast.Config{
		Nodes:  []broadcast.NodeConfig{{Name: "n1", ARI: tel, Events: fastEvents}},
		Shows:  []broadcast.ShowConfig{sc},
		Phones: phones{"sam": "PJSIP/sam", "bo": "PJSIP/bo"}, RingTimeout: time.Second,
		AnnounceTick: 5 * time.Millisecond, QualityEvery: 5 * time.Millisecond, SubscriberBuffer: 1 << 14,
	})
	w := e.w("show1")
	w.nodeUp()
	type caller struct {
		c  *aritest.Call
		id string
	}
	var callers []caller
	for i := range 24 {
		c, err := srv.Call(ctx, aritest.CallOptions{Args: []string{"show1"}, Number: fmt.Sprint("+1202555", 1000+i), SIP: i%4 != 3})
		if err != nil {
			t.Fatal(err)
		}
		callers = append(callers, caller{c, w.transition(c.ID(), queue.ActionJoin).CallID})
	}
	for _, c := range callers { // quality, or none for a Local channel
		if _, err := e.app.LineQuality(ctx, "show1", c.id); err != nil && !errors.Is(err, broadcast.ErrNoQuality) {
			t.Fatal(err)
		}
	}
	for _, c := range callers[:4] { // on air, talking
		if _, err := e.app.Promote(ctx, "show1", c.id, producer); err != nil {
			t.Fatal(err)
		}
		select {
		case <-tel.set:
		case <-time.After(wait):
			t.Fatal("no TALK_DETECT(set) after a promote")
		}
		must(t, c.c.Talk(time.Hour))
		w.next("talking", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTalking && u.CallID == c.id && u.Talking
		})
	}
	for i, c := range callers[4:8] { // screening on a phone, answered or busy
		screener, want := "sam", broadcast.ScreenAnswered
		if i%2 == 1 {
			screener, want = "bo", broadcast.ScreenBusy
		}
		if _, err := e.app.Screen(ctx, "show1", c.id, producer, screener); err != nil {
			t.Fatal(err)
		}
		if got := w.screened(c.id); got.State != want {
			t.Fatalf("screening %s, want %s", got.State, want)
		}
	}
	if n := broadcast.LiveCalls(e.app, "show1"); n == 0 {
		t.Fatal("nothing kept for the calls: the test checks nothing")
	}

	// Half hang up while callin is away (they vanish at the resync), the
	// other half while it listens.
	p.pause(true)
	p.cut()
	w.next("node down", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.State == broadcast.NodeDown
	})
	must(t, srv.WaitApp(ctx, "callin", false))
	for i, c := range callers {
		if i%2 == 0 {
			must(t, c.c.Hangup(16))
		}
	}
	p.pause(false)
	w.nodeUp()
	for i, c := range callers {
		if i%2 == 1 {
			must(t, c.c.Hangup(16))
			w.transition(c.c.ID(), queue.ActionHangup)
		}
	}
	for _, c := range callers {
		if got, _ := e.app.Call("show1", c.id); got.State != queue.StateEnded {
			t.Fatalf("call %s is %s, want ended", c.id, got.State)
		}
	}
	if n := broadcast.LiveCalls(e.app, "show1"); n != 0 {
		t.Errorf("%d calls' records left after every call ended, want none", n)
	}
}
