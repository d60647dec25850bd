package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// talkDetects tells when a TALK_DETECT(set) has been sent, which no event
// shows: a promote is answered once the caller is in the on-air bridge,
// and the talking indicator is turned on after it.
type talkDetects struct {
	broadcast.Telephony
	set chan string
}

func (d *talkDetects) SetChannelVar(ctx context.Context, chanID, name, value string) error {
	err := d.Telephony.SetChannelVar(ctx, chanID, name, value)
	if name == "TALK_DETECT(set)" {
		select {
		case d.set <- chanID:
		default:
		}
	}
	return err
}

func TestPromoteHoldMute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	td := &talkDetects{Telephony: newClient(t, srv.URL(), srv.User(), srv.Password()), set: make(chan string, 16)}
	e := start(t, srv, broadcast.Config{Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: td, Events: fastEvents}}})
	w := e.w("show1")
	w.nodeUp()
	c1, id1 := dial(t, srv, w, "show1", "1")
	_, id2 := dial(t, srv, w, "show1", "2")

	got, err := e.app.Promote(ctx, "show1", id2, producer)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != queue.StateOnAir {
		t.Errorf("state %s, want on_air", got.State)
	}
	air, _ := srv.BridgeChannels(airID("show1"))
	hold, _ := srv.BridgeChannels(holdID("show1"))
	if len(air) != 1 || contains(hold, air[0]) || len(hold) != 1 {
		t.Errorf("air %v hold %v: want the promoted caller moved out of hold", air, hold)
	}
	select {
	case <-td.set:
	case <-time.After(wait):
		t.Fatal("no TALK_DETECT(set) after the promote")
	}
	st, _ := srv.Channel(air[0])
	if !st.TalkDetect || st.HearsMusic {
		t.Errorf("on-air caller talk detect %t music %t, want talk detect and no music", st.TalkDetect, st.HearsMusic)
	}
	if pos, _ := e.app.Call("show1", id1); pos.Position != 1 {
		t.Errorf("remaining caller at %d, want 1", pos.Position)
	}

	// Talking is surfaced.
	on, _ := srv.Caller(air[0])
	must(t, on.Talk(1e9))
	u := w.next("talking", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateTalking && u.Talking })
	if u.CallID != id2 {
		t.Errorf("talking %s, want %s", u.CallID, id2)
	}
	if snap, _ := e.app.Snapshot("show1"); len(snap.Talking) != 1 || snap.Talking[0] != id2 {
		t.Errorf("snapshot talking %v, want [%s]", snap.Talking, id2)
	}
	w.next("talking stops", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateTalking && !u.Talking })

	if _, err := e.app.Mute(ctx, "show1", id2, producer); err != nil {
		t.Fatal(err)
	}
	if st, _ := srv.Channel(air[0]); !st.MutedIn {
		t.Error("muted caller not muted in Asterisk")
	}
	if _, err := e.app.Mute(ctx, "show1", id2, producer); !errors.Is(err, queue.ErrConflict) {
		t.Errorf("second mute: %v, want ErrConflict", err)
	}
	if _, err := e.app.Lock("show1", id2, producer); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Hold(ctx, "show1", id2, producer); !errors.Is(err, queue.ErrLocked) {
		t.Errorf("hold of locked caller: %v, want ErrLocked", err)
	}
	if _, err := e.app.Unlock("show1", id2, producer); err != nil {
		t.Fatal(err)
	}
	got, err = e.app.Hold(ctx, "show1", id2, producer)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != queue.StateWaiting || got.Position != 2 {
		t.Errorf("held caller %s at %d, want waiting at 2 (kept its place behind the earlier caller)", got.State, got.Position)
	}
	st, _ = srv.Channel(air[0])
	if st.Bridge != holdID("show1") || st.MutedIn {
		t.Errorf("held caller in %q muted %t, want holding, unmuted", st.Bridge, st.MutedIn)
	}
	if held, ok := srv.Caller(air[0]); ok {
		waitMusic(t, held) // POST /moh follows the join
	} else {
		t.Error("no handle on the held caller")
	}

	// TakeNext takes the longest waiting.
	got, err = e.app.TakeNext(ctx, "show1", producer)
	if err != nil || got.ID != id1 {
		t.Fatalf("take next: %v %v, want %s", got.ID, err, id1)
	}
	must(t, c1.Hangup(16))
	tr := w.transition(c1.ID(), queue.ActionHangup)
	if tr.Outcome != queue.OutcomeAired || tr.Cause != 16 {
		t.Errorf("on-air hangup: %s cause %d, want aired 16", tr.Outcome, tr.Cause)
	}
}

func TestPromoteRace(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{})
	w := e.w("show1")
	w.nodeUp()
	_, id := dial(t, srv, w, "show1", "1")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { _, errs[i] = e.app.Promote(context.Background(), "show1", id, producer) })
	}
	wg.Wait()
	var ok, conflict int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, queue.ErrConflict):
			conflict++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 || conflict != 1 {
		t.Errorf("%d won, %d conflicts; want exactly one of each", ok, conflict)
	}
	if air, _ := srv.BridgeChannels(airID("show1")); len(air) != 1 {
		t.Errorf("on-air bridge has %v, want one caller", air)
	}
}

// TestHangupDuring hangs the caller up just before the action's request
// reaches Asterisk: the action reports ErrGone and leaves no reservation.
func TestHangupDuring(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		arm  func(h *hooked, c *aritest.Call)
		act  func(e *env, id string) (queue.Call, error)
		want func(t *testing.T, c queue.Call, err error)
	}{
		{"Promote", func(h *hooked, c *aritest.Call) {
			h.beforeAdd = func(string, []string) { _ = c.Hangup(16) }
		}, func(e *env, id string) (queue.Call, error) {
			return e.app.Promote(context.Background(), "show1", id, producer)
		}, func(t *testing.T, _ queue.Call, err error) {
			if !isGone(err) {
				t.Errorf("got %v, want ErrGone", err)
			}
		}},
		// Screen answers while the phone rings; the caller hangs up once
		// it is answered, as the screening bridge is made.
		{"Screen", func(h *hooked, c *aritest.Call) {
			h.beforeStart = func(string) { _ = c.Hangup(16) }
		}, func(e *env, id string) (queue.Call, error) {
			w := watch(e.t, e.app, "show1") // its own: the test's watcher waits for the end
			c, err := e.app.Screen(context.Background(), "show1", id, producer, "sam")
			if err == nil {
				if sc := w.screened(id); sc.State != broadcast.ScreenCallerGone {
					err = fmt.Errorf("screening %s, want caller_gone", sc.State)
				}
			}
			return c, err
		}, func(t *testing.T, c queue.Call, err error) {
			if err != nil || c.Pending != queue.ActionScreen {
				t.Errorf("got pending %q, %v; want the screening pending, then the caller gone", c.Pending, err)
			}
		}},
		{"DropWithGoodbye", func(h *hooked, c *aritest.Call) {
			h.beforePlay = func(string, []string) { _ = c.Hangup(16) }
		}, func(e *env, id string) (queue.Call, error) {
			return e.app.Drop(context.Background(), "show1", id, producer, broadcast.DropOptions{Goodbye: true, Reason: "rude"})
		}, func(t *testing.T, c queue.Call, err error) {
			if err != nil || c.Outcome != queue.OutcomeDropped {
				t.Errorf("got %s, %v; want the drop completed (dropped)", c.Outcome, err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, aritest.Options{})
			h := &hooked{Telephony: newClient(t, srv.URL(), srv.User(), srv.Password())}
			sc := showCfg("show1", "n1")
			sc.ScreenerEndpoints = map[string]string{"sam": "PJSIP/sam"}
			e := start(t, srv, broadcast.Config{Shows: []broadcast.ShowConfig{sc},
				Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: h, Events: fastEvents}}})
			w := e.w("show1")
			w.nodeUp()
			c, id := dial(t, srv, w, "show1", "1")
			h.set(func(h *hooked) { tc.arm(h, c) })
			got, err := tc.act(e, id)
			tc.want(t, got, err)
			w.next("call ended", func(u broadcast.Update) bool {
				return u.Kind == broadcast.UpdateTransition && u.Transition.CallID == id && u.Transition.To == queue.StateEnded
			})
			// The call has ended and holds no reservation.
			call, _ := e.app.Call("show1", id)
			if call.State != queue.StateEnded || call.Pending != "" {
				t.Errorf("call %s pending %q, want ended with nothing pending", call.State, call.Pending)
			}
		})
	}
}

func TestDropWithGoodbye(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{})
	w := e.w("show1")
	w.nodeUp()
	c, id := dial(t, srv, w, "show1", "1")
	if _, err := e.app.Promote(context.Background(), "show1", id, producer); err != nil {
		t.Fatal(err)
	}
	got, err := e.app.Drop(context.Background(), "show1", id, producer, broadcast.DropOptions{Goodbye: true, Reason: "time"})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != queue.StateEnded || got.Outcome != queue.OutcomeAired {
		t.Errorf("dropped on-air caller %s %s, want ended aired", got.State, got.Outcome)
	}
	waitDone(t, c)
	pbs := srv.Playbacks()
	if len(pbs) != 1 || pbs[0].Media[0] != "sound:vm-goodbye" || pbs[0].State != "done" {
		t.Errorf("playbacks %+v, want the goodbye played to the end before the hangup", pbs)
	}
	var last queue.Transition
	for _, tr := range e.sink.all() {
		if tr.CallID == id {
			last = tr
		}
	}
	if last.Action != queue.ActionDrop || last.Actor != producer || last.Cause != 16 {
		t.Errorf("last transition %s by %v cause %d, want drop by %v with cause 16", last.Action, last.Actor, last.Cause, producer)
	}
	if _, err := e.app.Drop(context.Background(), "show1", id, producer, broadcast.DropOptions{}); !isGone(err) {
		t.Errorf("second drop: %v, want ErrGone", err)
	}
}

func TestScreenWithLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	sc := showCfg("show1", "n1")
	sc.ScreenerEndpoints = map[string]string{"sam": "PJSIP/sam"}
	e := start(t, srv, broadcast.Config{Shows: []broadcast.ShowConfig{sc}})
	w := e.w("show1")
	w.nodeUp()
	c, id := dial(t, srv, w, "show1", "1")
	screen(t, e, w, id, "sam")
	if got, _ := e.app.Call("show1", id); got.State != queue.StateScreening || got.Screener != "sam" {
		t.Errorf("got %s with %q, want screening with sam", got.State, got.Screener)
	}
	w.next("screener line", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateScreener && u.CallID == id })
	scr := "callin-show1-scr-" + id
	members, _ := srv.BridgeChannels(scr)
	if len(members) != 2 || !contains(members, c.ID()) {
		t.Errorf("screening bridge has %v, want the caller and the screener line", members)
	}
	got, err := e.app.Ready(ctx, "show1", id, producer, queue.Notes{Name: "Al", Topic: "traffic", Priority: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != queue.StateReady || got.Notes.Topic != "traffic" {
		t.Errorf("got %s %+v, want ready with notes", got.State, got.Notes)
	}
	if st, _ := c.State(); st.Bridge != holdID("show1") {
		t.Errorf("ready caller in %q, want the holding bridge", st.Bridge)
	}
	// Ready tears the screening down before it returns.
	if _, ok := srv.BridgeChannels(scr); ok {
		t.Errorf("screening bridge %s still there after Ready", scr)
	}
}

func TestSubscriberTooSlow(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{SubscriberBuffer: 4})
	slow, err := e.app.Subscribe("show1")
	if err != nil {
		t.Fatal(err)
	}
	w := e.w("show1")
	w.nodeUp()
	for i := range 4 {
		dial(t, srv, w, "show1", string(rune('1'+i)))
	}
	n := 0
	for range slow.C {
		n++
	}
	if n > 4 || !errors.Is(slow.Err(), broadcast.ErrSlowSubscriber) {
		t.Errorf("slow subscriber got %d updates then %v, want at most its buffer then ErrSlowSubscriber", n, slow.Err())
	}
	if _, err := e.app.Subscribe("nope"); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("subscribe to unknown show: %v, want ErrNotFound", err)
	}
}

// TestDropNotOnAir: a drop limited to waiting callers is refused, and
// changes nothing, when the caller is on air.
func TestDropNotOnAir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{})
	w := e.w("show1")
	w.nodeUp()
	c1, id1 := dial(t, srv, w, "show1", "1")
	_, id2 := dial(t, srv, w, "show1", "2")
	if _, err := e.app.Promote(ctx, "show1", id1, producer); err != nil {
		t.Fatal(err)
	}
	_, err := e.app.Drop(ctx, "show1", id1, producer, broadcast.DropOptions{NotOnAir: true})
	if !errors.Is(err, queue.ErrConflict) {
		t.Fatalf("drop of an on-air caller: %v, want ErrConflict", err)
	}
	if c, _ := e.app.Call("show1", id1); c.State != queue.StateOnAir {
		t.Errorf("refused drop left the caller %s, want on_air", c.State)
	}
	if st, ok := c1.State(); !ok || st.Bridge != airID("show1") {
		t.Errorf("refused drop touched the channel: %+v", st)
	}
	// The same option lets a waiting caller be dropped.
	if c, err := e.app.Drop(ctx, "show1", id2, producer, broadcast.DropOptions{NotOnAir: true}); err != nil || c.State != queue.StateEnded {
		t.Errorf("drop of a waiting caller: %s %v", c.State, err)
	}
}
