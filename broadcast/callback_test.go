package broadcast_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// callbackEnv is a show that offers call-back to anyone who would wait at
// all, once it has taken three callers off the line, and calls back on
// PJSIP/{number}@trunk.
func callbackEnv(t *testing.T, policy queue.CallbackConfig) (*env, *aritest.Server) {
	t.Helper()
	srv := newFake(t, aritest.Options{})
	sc := showCfg("show1", "n1")
	sc.AnnounceEvery = 30 * time.Millisecond
	sc.Callback = policy
	sc.CallbackLine = broadcast.CallbackLine{Dial: "PJSIP/{number}@trunk", CallerID: `"Show" <+12025550000>`, KeyWait: 5 * time.Second}
	e := start(t, srv, broadcast.Config{Shows: []broadcast.ShowConfig{sc}, AnnounceTick: 10 * time.Millisecond, RingTimeout: time.Minute})
	w := e.w("show1")
	w.nodeUp()
	for i := range 3 { // a rate for the estimated wait
		c, id := dial(t, srv, w, "show1", fmt.Sprintf("+1202555090%d", i))
		if _, err := e.app.Promote(context.Background(), "show1", id, producer); err != nil {
			t.Fatal(err)
		}
		must(t, c.Hangup(16))
		waitDone(t, c)
	}
	return e, srv
}

// offeredTo waits until a channel has been offered a call-back.
func offeredTo(t *testing.T, srv *aritest.Server, chanID string) {
	t.Helper()
	prompted(t, srv, chanID, "sound:callin-callback-offer")
}

// prompted waits until media has been played to a channel; polls the
// fake's playback record (a playback a test did not start has no event it
// can wait on), for at most 5 s.
func prompted(t *testing.T, srv *aritest.Server, chanID, media string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		for _, pb := range srv.Playbacks() {
			if pb.Target == "channel:"+chanID && slices.Contains(pb.Media, media) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never played to %s", media, chanID)
		}
	}
}

// callbackLine waits for the call-back's channel to exist and returns it.
func callbackLine(t *testing.T, e *env, srv *aritest.Server) *aritest.Call {
	t.Helper()
	client := newClient(t, srv.URL(), srv.User(), srv.Password())
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		chans, err := client.ListChannels(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range chans {
			if strings.HasPrefix(ch.ID, "callin-cb-") {
				if c, ok := srv.Caller(ch.ID); ok {
					return c
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no call-back channel")
		}
	}
}

// TestCallback: a caller presses 2, hangs up and keeps their place; is
// called back near the front; presses 1 and is back on hold at their place.
func TestCallback(t *testing.T) {
	t.Parallel()
	e, srv := callbackEnv(t, queue.CallbackConfig{Offer: time.Nanosecond, NearFront: 1})
	w := e.w("show1")
	c1, id1 := dial(t, srv, w, "show1", "+12025550101")
	c2, id2 := dial(t, srv, w, "show1", "+12025550102")
	offeredTo(t, srv, c2.ID())
	must(t, c2.DTMF("2"))
	tr := w.transition("", queue.ActionCallbackRequest)
	if tr.CallID != id2 || tr.To != queue.StateCallback {
		t.Fatalf("got %+v, want %s to become a call-back entry", tr, id2)
	}
	waitDone(t, c2) // confirmed, then hung up
	entry, _ := e.app.Call("show1", id2)
	if entry.State != queue.StateCallback || entry.Position != 2 {
		t.Fatalf("entry %s at %d, want callback at 2", entry.State, entry.Position)
	}
	// Not near the front (NearFront 1) while c1 waits: nobody is called.
	snap, _ := e.app.Snapshot("show1")
	if snap.Stats.Callback != 1 {
		t.Errorf("stats %+v", snap.Stats)
	}
	// c1 goes on air: the entry is at the front and is called back.
	if _, err := e.app.Promote(context.Background(), "show1", id1, producer); err != nil {
		t.Fatal(err)
	}
	w.transition("", queue.ActionCallbackDial)
	line := callbackLine(t, e, srv)
	prompted(t, srv, line.ID(), "sound:callin-callback-return") // they press 1 once asked
	must(t, line.DTMF("1"))
	back := w.next("back", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionCallbackReturn
	}).Transition
	if back.CallID != id2 || back.To != queue.StateWaiting || back.ChannelID != line.ID() {
		t.Errorf("got %+v, want %s waiting on %s", back, id2, line.ID())
	}
	waitMusic(t, line)
	got, _ := e.app.Call("show1", id2)
	if got.State != queue.StateWaiting || got.Position != 1 {
		t.Errorf("returned caller %s at %d, want waiting at 1", got.State, got.Position)
	}
	_ = c1
}

// TestCallbackUnreached: a busy number is tried Attempts times, Gap apart,
// then the entry ends unreached, its place freed.
func TestCallbackUnreached(t *testing.T) {
	t.Parallel()
	e, srv := callbackEnv(t, queue.CallbackConfig{Offer: time.Nanosecond, NearFront: 3, Attempts: 2, Gap: 20 * time.Millisecond})
	w := e.w("show1")
	srv.SetPhone("PJSIP/+12025550102@trunk", aritest.Phone{Reject: 486})
	dial(t, srv, w, "show1", "+12025550101")
	c2, id2 := dial(t, srv, w, "show1", "+12025550102")
	offeredTo(t, srv, c2.ID())
	must(t, c2.DTMF("2"))
	var misses []queue.Transition
	end := w.next("unreached", func(u broadcast.Update) bool {
		if u.Kind != broadcast.UpdateTransition || u.Transition.CallID != id2 {
			return false
		}
		if u.Transition.Action == queue.ActionCallbackMiss {
			misses = append(misses, u.Transition)
		}
		return u.Transition.To == queue.StateEnded
	}).Transition
	if end.Outcome != queue.OutcomeUnreached || len(misses) != 2 || misses[0].Reason != "busy" {
		t.Errorf("ended %s after %d misses (%+v), want unreached after 2 busy", end.Outcome, len(misses), misses)
	}
	snap, _ := e.app.Snapshot("show1")
	if snap.Stats.Callback != 0 || len(snap.Lineup.Waiting) != 1 {
		t.Errorf("after: %+v", snap.Stats)
	}
}

// TestCallbackNotOffered: a withheld or invalid number is never offered a
// call-back (and pressing 2 does nothing), while a real number is.
func TestCallbackNotOffered(t *testing.T) {
	t.Parallel()
	e, srv := callbackEnv(t, queue.CallbackConfig{Offer: time.Nanosecond})
	w := e.w("show1")
	dial(t, srv, w, "show1", "+12025550101")
	anon, anonID := dial(t, srv, w, "show1", "anonymous")
	real, _ := dial(t, srv, w, "show1", "+12025550103")
	offeredTo(t, srv, real.ID())
	for _, pb := range srv.Playbacks() {
		if pb.Target == "channel:"+anon.ID() && slices.Contains(pb.Media, "sound:callin-callback-offer") {
			t.Error("a withheld number was offered a call-back")
		}
	}
	must(t, anon.DTMF("2"))
	if c, _ := e.app.Call("show1", anonID); c.State != queue.StateWaiting {
		t.Errorf("withheld caller became %s after pressing 2", c.State)
	}
}

// TestCallbackRingingLimit: a burst of call-backs due at once rings at most
// MaxRinging at a time.
func TestCallbackRingingLimit(t *testing.T) {
	t.Parallel()
	e, srv := callbackEnv(t, queue.CallbackConfig{Offer: time.Nanosecond, NearFront: 10, MaxRinging: 1, Attempts: 1})
	w := e.w("show1")
	m := watch(t, e.app, "show1") // every transition from here, whatever dial skips
	const n = 3
	for i := range n + 1 {
		num := fmt.Sprintf("+1202555020%d", i)
		srv.SetPhone("PJSIP/"+num+"@trunk", aritest.Phone{Ring: 30 * time.Second, Reject: 480}) // 300 ms each
		c, _ := dial(t, srv, w, "show1", num)
		if i == 0 {
			continue // stays waiting at the front
		}
		offeredTo(t, srv, c.ID())
		must(t, c.DTMF("2"))
	}
	ringing, ended, requested, waitingWhileRinging := 0, 0, 0, false
	for ended < n {
		u := m.next("call-backs", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateTransition })
		switch tr := u.Transition; tr.Action {
		case queue.ActionCallbackRequest:
			requested++
			if ringing > 0 {
				waitingWhileRinging = true
			}
		case queue.ActionCallbackDial:
			ringing++
			if ringing > 1 {
				t.Fatalf("%d call-backs ringing at once, want at most 1", ringing)
			}
		case queue.ActionCallbackMiss:
			ringing--
			if tr.To == queue.StateEnded {
				ended++
			}
		}
	}
	if requested != n {
		t.Errorf("%d call-back requests, want %d", requested, n)
	}
	if !waitingWhileRinging {
		t.Error("no call-back waited while another rang: the limit was never exercised")
	}
}

// TestCallbackSimulated: the fake's simulated listeners take the offer,
// are called back and press 1, as in the demo.
func TestCallbackSimulated(t *testing.T) {
	t.Parallel()
	e, srv := callbackEnv(t, queue.CallbackConfig{Offer: time.Nanosecond, NearFront: 10, MaxRinging: 2})
	m := watch(t, e.app, "show1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = srv.Simulate(ctx, aritest.SimOptions{Shows: []string{"show1"}, Max: 4, CallbackShare: 1}, nil)
	}()
	returned := map[string]bool{}
	for len(returned) < 4 {
		tr := m.next("call-backs returned", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionCallbackReturn
		}).Transition
		returned[tr.CallID] = true
	}
}

// TestAnnounceWait: with AnnounceWait, the position announcement says the
// estimated wait in minutes once the show's pace is known.
func TestAnnounceWait(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	sc := showCfg("show1", "n1")
	sc.AnnounceEvery = 30 * time.Millisecond
	sc.AnnounceWait = true
	e := start(t, srv, broadcast.Config{Shows: []broadcast.ShowConfig{sc}, AnnounceTick: 10 * time.Millisecond})
	w := e.w("show1")
	w.nodeUp()
	for i := range 3 { // a pace
		c, id := dial(t, srv, w, "show1", fmt.Sprintf("+1202555090%d", i))
		if _, err := e.app.Promote(context.Background(), "show1", id, producer); err != nil {
			t.Fatal(err)
		}
		must(t, c.Hangup(16))
		waitDone(t, c)
	}
	c, _ := dial(t, srv, w, "show1", "+12025550101")
	prompted(t, srv, c.ID(), "sound:callin-wait-about")
	for _, pb := range srv.Playbacks() {
		if pb.Target == "channel:"+c.ID() && slices.Contains(pb.Media, "sound:callin-wait-about") {
			i := slices.Index(pb.Media, "sound:callin-wait-about")
			if len(pb.Media) < i+3 || !strings.HasPrefix(pb.Media[i+1], "number:") || !strings.HasPrefix(pb.Media[i+2], "sound:minute") {
				t.Errorf("announcement %v, want the wait in minutes after the position", pb.Media)
			}
			return
		}
	}
}

// TestCallbackLineAfterRestart: a call-back line that a restarted service
// finds (answered, waiting for a key nobody will take) is hung up; the
// entry keeps its place from the history and is called again.
func TestCallbackLineAfterRestart(t *testing.T) {
	t.Parallel()
	e1, srv := callbackEnv(t, queue.CallbackConfig{Offer: time.Nanosecond, NearFront: 1})
	w := e1.w("show1")
	c, id := dial(t, srv, w, "show1", "+12025550102")
	offeredTo(t, srv, c.ID())
	must(t, c.DTMF("2"))
	w.transition("", queue.ActionCallbackDial)
	line := callbackLine(t, e1, srv)
	prompted(t, srv, line.ID(), "sound:callin-callback-return")
	e1.stop()

	sc := showCfg("show1", "n1")
	sc.AnnounceEvery = 30 * time.Millisecond
	sc.Callback = queue.CallbackConfig{Offer: time.Nanosecond, NearFront: 1}
	sc.CallbackLine = broadcast.CallbackLine{Dial: "PJSIP/{number}@trunk"}
	e2 := start(t, srv, broadcast.Config{Shows: []broadcast.ShowConfig{sc}, Recall: recallFrom(e1.sink.all()),
		AnnounceTick: 10 * time.Millisecond, RingTimeout: time.Minute})
	e2.w("show1").nodeUp()
	waitDone(t, line)
	got, err := e2.app.Call("show1", id)
	if err != nil || got.State != queue.StateCallback {
		t.Fatalf("entry after the restart: %+v %v, want a call-back entry", got, err)
	}
}
