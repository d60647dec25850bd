package broadcast_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

func TestArrival(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		srv := newFake(t, aritest.Options{})
		e := start(t, srv, broadcast.Config{})
		w := e.w("show1")
		w.nodeUp()
		m := watch(t, e.app, "show1")
		c, id := dial(t, srv, w, "show1", "5551001")
		m.music(true) // started when the first caller entered the empty bridge
		if got, _ := srv.BridgeChannels(holdID("show1")); !contains(got, c.ID()) {
			t.Errorf("holding bridge has %v, want %s", got, c.ID())
		}
		if !srv.BridgeMusicPlaying(holdID("show1")) {
			t.Error("holding bridge plays no music")
		}
		st, _ := c.State()
		if st.State != "Up" || !st.HearsMusic {
			t.Errorf("caller state %s hears music %t, want Up and music", st.State, st.HearsMusic)
		}
		snap, err := e.app.Snapshot("show1")
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Lineup.Waiting) != 1 || snap.Lineup.Waiting[0].ID != id || snap.Lineup.Waiting[0].Position != 1 {
			t.Errorf("lineup waiting %+v, want %s at 1", snap.Lineup.Waiting, id)
		}
		if got := snap.Lineup.Waiting[0].Number; got != "5551001" {
			t.Errorf("number %q, want 5551001", got)
		}
		var seqs []int
		for _, tr := range e.sink.all() {
			if tr.CallID == id {
				seqs = append(seqs, tr.Seq)
			}
		}
		if len(seqs) != 2 || seqs[0] != 1 || seqs[1] != 2 {
			t.Errorf("sink got seqs %v for the call, want [1 2]", seqs)
		}
	})
	t.Run("UnknownShowHungUp", func(t *testing.T) {
		t.Parallel()
		srv := newFake(t, aritest.Options{})
		e := start(t, srv, broadcast.Config{})
		e.w("show1").nodeUp()
		c, err := srv.Call(context.Background(), aritest.CallOptions{Args: []string{"nosuchshow"}})
		if err != nil {
			t.Fatal(err)
		}
		waitDone(t, c)
	})
}

func TestReject(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		setup   func(e *env)
		blocked bool
		media   string
		reason  string
	}{
		{"Closed", func(e *env) { must(t, e.app.SetLinesOpen("show1", false)) }, false, "sound:callin-lines-closed", "closed"},
		{"Full", func(e *env) { must(t, e.app.SetCapacity("show1", 1)) }, false, "sound:callin-queue-full", "full"},
		{"Blocked", func(e *env) {}, true, "sound:callin-blocked", "blocked: prank caller"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, aritest.Options{})
			bl := broadcast.NewMemoryBlocklist(nil)
			e := start(t, srv, broadcast.Config{Blocklist: bl})
			w := e.w("show1")
			w.nodeUp()
			if tc.name == "Full" {
				dial(t, srv, w, "show1", "5550000")
			}
			tc.setup(e)
			if tc.blocked {
				bl.Block("5559999", "prank caller")
			}
			c, err := srv.Call(context.Background(), aritest.CallOptions{Args: []string{"show1"}, Number: "5559999"})
			if err != nil {
				t.Fatal(err)
			}
			tr := w.transition(c.ID(), queue.ActionReject)
			if tr.Outcome != queue.OutcomeRejected || tr.Reason != tc.reason {
				t.Errorf("outcome %s reason %q, want rejected %q", tr.Outcome, tr.Reason, tc.reason)
			}
			waitDone(t, c)
			var found bool
			for _, p := range srv.Playbacks() {
				if p.Target == "channel:"+c.ID() {
					found = true
					if p.Media[0] != tc.media || p.State != "done" {
						t.Errorf("playback %v state %s, want %s played to the end (done) before the hangup", p.Media, p.State, tc.media)
					}
				}
			}
			if !found {
				t.Errorf("no announcement played to %s", c.ID())
			}
		})
	}
	t.Run("NeverFinishingMediaTimesOut", func(t *testing.T) {
		t.Parallel()
		srv := newFake(t, aritest.Options{Media: map[string]time.Duration{"sound:callin-lines-closed": aritest.Never}})
		e := start(t, srv, broadcast.Config{PlaybackTimeout: 100 * time.Millisecond})
		w := e.w("show1")
		w.nodeUp()
		must(t, e.app.SetLinesOpen("show1", false))
		c, err := srv.Call(context.Background(), aritest.CallOptions{Args: []string{"show1"}})
		if err != nil {
			t.Fatal(err)
		}
		waitDone(t, c)
		pbs := srv.Playbacks()
		if len(pbs) != 1 || pbs[0].State != "failed" {
			t.Errorf("playbacks %+v, want one cut off (failed) by the hangup", pbs)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestHangupWhileWaiting(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{})
	w := e.w("show1")
	w.nodeUp()
	c, id := dial(t, srv, w, "show1", "1")
	must(t, c.Hangup(17))
	tr := w.transition(c.ID(), queue.ActionHangup)
	if tr.Outcome != queue.OutcomeAbandoned || tr.Cause != 17 || tr.CallID != id {
		t.Errorf("got %s cause %d for %s, want abandoned cause 17 for %s", tr.Outcome, tr.Cause, tr.CallID, id)
	}
	if _, err := e.app.Promote(context.Background(), "show1", id, producer); !isGone(err) {
		t.Errorf("promote after hangup: %v, want ErrGone", err)
	}
}

// TestArrivalBeforeBridges: a caller who arrives while the show's holding
// bridge does not exist (a caller retrying in the dialplan gets in the
// moment the app registers, before the show's bridges are made) is still
// put on hold: the bridges are created then, and the caller is not failed.
func TestArrivalBeforeBridges(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{})
	w := e.w("show1")
	w.nodeUp()
	req, _ := http.NewRequest(http.MethodDelete, srv.URL()+"/ari/bridges/"+holdID("show1"), nil)
	req.SetBasicAuth(srv.User(), srv.Password())
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("destroy holding bridge: %v %v", resp, err)
	}
	resp.Body.Close()

	c, _ := dial(t, srv, w, "show1", "5551001")
	if got, ok := srv.BridgeChannels(holdID("show1")); !ok || !contains(got, c.ID()) {
		t.Errorf("holding bridge %v (exists %t), want it recreated with %s", got, ok, c.ID())
	}
}
