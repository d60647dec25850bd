package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// noSubscribe refuses every explicit subscription, as an Asterisk that lost
// it would: then StasisEnd is all callin's socket gets for a hang-up.
type noSubscribe struct{ broadcast.Telephony }

func (noSubscribe) Subscribe(context.Context, ...string) error {
	return &ari.Error{Status: 500, Message: "refused by the test"}
}

// TestCallerHangsUp: a caller who hangs up while waiting, screening, ready
// or on air leaves the line, with the outcome and the Q.850 cause. With the
// channel subscribed, the cause comes from ChannelDestroyed; without, from
// the non-soft ChannelHangupRequest, and the call ends at StasisEnd: the
// grace for ChannelDestroyed is an hour here, so a call that waited for it
// would time the test out.
func TestCallerHangsUp(t *testing.T) {
	t.Parallel()
	states := []struct {
		name string
		to   func(e *env, id string) error
		want queue.Outcome
	}{
		{"Waiting", func(*env, string) error { return nil }, queue.OutcomeAbandoned},
		{"Screening", func(e *env, id string) error {
			_, err := e.app.Screen(context.Background(), "show1", id, producer, "sam")
			return err
		}, queue.OutcomeAbandoned},
		{"Ready", func(e *env, id string) error {
			_, err := e.app.Ready(context.Background(), "show1", id, producer, queue.Notes{Topic: "bins"})
			return err
		}, queue.OutcomeAbandoned},
		{"OnAir", func(e *env, id string) error {
			_, err := e.app.Promote(context.Background(), "show1", id, producer)
			return err
		}, queue.OutcomeAired},
	}
	for _, subscribe := range []bool{true, false} {
		for _, st := range states {
			t.Run(fmt.Sprintf("%s/subscribed=%t", st.name, subscribe), func(t *testing.T) {
				t.Parallel()
				srv := newFake(t, aritest.Options{})
				subs := watchSubs(newClient(t, srv.URL(), srv.User(), srv.Password()))
				var tel broadcast.Telephony = subs
				if !subscribe {
					tel = noSubscribe{tel}
				}
				e := start(t, srv, broadcast.Config{EndGrace: time.Hour,
					Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: tel, Events: fastEvents}}})
				w := e.w("show1")
				w.nodeUp()
				c, id := dial(t, srv, w, "show1", "5550100")
				if subscribe {
					subs.wait(t, c.ID()) // the cause comes in ChannelDestroyed
				}
				must(t, st.to(e, id))
				must(t, c.Hangup(17))
				tr := w.transition(c.ID(), queue.ActionHangup)
				if tr.Outcome != st.want || tr.Cause != 17 || tr.Actor.Kind != queue.ActorCaller {
					t.Errorf("ended %s cause %d by %v, want %s cause 17 by the caller", tr.Outcome, tr.Cause, tr.Actor, st.want)
				}
				snap, _ := e.app.Snapshot("show1")
				if n := snap.Stats.Waiting + snap.Stats.Ready + snap.Stats.OnAir + snap.Stats.Screening; n != 0 {
					t.Errorf("%d callers still in the show after the hang-up", n)
				}
				if _, err := e.app.Promote(context.Background(), "show1", id, producer); !isGone(err) {
					t.Errorf("promote after the hang-up: %v, want ErrGone", err)
				}
				if _, err := e.app.Drop(context.Background(), "show1", id, producer, broadcast.DropOptions{}); !isGone(err) {
					t.Errorf("drop after the hang-up: %v, want ErrGone", err)
				}
				for _, x := range e.sink.all() {
					if x.CallID == id && x.Action == queue.ActionDrop {
						t.Errorf("a hung-up caller was recorded as dropped: %+v", x)
					}
				}
			})
		}
	}
}

// TestDropReturnsPromptly: a drop returns once the caller's StasisEnd (and,
// for a subscribed channel, its ChannelDestroyed) has come, never after a
// timeout for an event callin's socket does not get: the timeouts are an
// hour here and the drop must return within the test's 10 s.
func TestDropReturnsPromptly(t *testing.T) {
	t.Parallel()
	for _, subscribe := range []bool{true, false} {
		t.Run(fmt.Sprintf("subscribed=%t", subscribe), func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, aritest.Options{})
			var tel broadcast.Telephony = newClient(t, srv.URL(), srv.User(), srv.Password())
			if !subscribe {
				tel = noSubscribe{tel}
			}
			e := start(t, srv, broadcast.Config{EndGrace: time.Hour, EventTimeout: time.Hour,
				Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: tel, Events: fastEvents}}})
			w := e.w("show1")
			w.nodeUp()
			c, id := dial(t, srv, w, "show1", "1")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := e.app.Drop(ctx, "show1", id, producer, broadcast.DropOptions{Goodbye: true, Reason: "time"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Outcome != queue.OutcomeDropped {
				t.Errorf("outcome %s, want dropped", got.Outcome)
			}
			waitDone(t, c)
			var last queue.Transition
			for _, tr := range e.sink.all() {
				if tr.CallID == id {
					last = tr
				}
			}
			if last.Action != queue.ActionDrop || last.Actor != producer || last.Cause != 16 {
				t.Errorf("last transition %s by %v cause %d, want drop by %v, cause 16", last.Action, last.Actor, last.Cause, producer)
			}
		})
	}
}

// staleRecall is a history store with open calls; it fails while down.
type staleRecall struct {
	mu    sync.Mutex
	down  int // fail this many more calls
	calls []queue.Stored
}

func (r *staleRecall) OpenCalls(context.Context, string) ([]queue.Stored, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down > 0 {
		r.down--
		return nil, errors.New("database down")
	}
	return r.calls, nil
}

// TestStaleCallsEnded: calls the history has open but Asterisk no longer
// has (callers who hung up while callin was away) are ended once by the
// resync, aired if they were ever on air, else abandoned; and when the
// store is down at the resync, by a later sweep.
func TestStaleCallsEnded(t *testing.T) {
	t.Parallel()
	long := time.Now().Add(-time.Hour)
	stale := []queue.Stored{
		{CallID: "s1", Number: "5550001", Node: "n1", ChannelID: "gone-1", State: queue.StateWaiting, Seq: 2, ArrivedAt: long},
		{CallID: "s2", Number: "5550002", Node: "n1", ChannelID: "gone-2", State: queue.StateWaiting, Seq: 6, ArrivedAt: long, WasOnAir: true},
		{CallID: "s3", Number: "5550003", Node: "n1", ChannelID: "gone-3", State: queue.StateOnAir, Seq: 4, ArrivedAt: long},
		{CallID: "other", Number: "5550004", Node: "n2", ChannelID: "gone-4", State: queue.StateWaiting, Seq: 2, ArrivedAt: long},
	}
	want := map[string]struct {
		outcome queue.Outcome
		seq     int
	}{"s1": {queue.OutcomeAbandoned, 3}, "s2": {queue.OutcomeAired, 7}, "s3": {queue.OutcomeAired, 5}}
	for _, down := range []int{0, 2} {
		t.Run(fmt.Sprintf("storeDownFor=%d", down), func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, aritest.Options{})
			rc := &staleRecall{down: down, calls: stale}
			e := start(t, srv, broadcast.Config{Recall: rc, AnnounceTick: 10 * time.Millisecond, SweepEvery: 10 * time.Millisecond})
			w := e.w("show1")
			w.nodeUp()
			// Ending stale calls has no event (they are in no show): poll
			// the sink, for at most 5 s.
			got := map[string]queue.Transition{}
			for deadline := time.Now().Add(5 * time.Second); len(got) < len(want); time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("ended %v, want %v", got, want)
				}
				for _, tr := range e.sink.all() {
					if tr.To != queue.StateEnded {
						continue
					}
					if prev, dup := got[tr.CallID]; dup && prev != tr {
						t.Fatalf("call %s ended twice: %+v and %+v", tr.CallID, prev, tr)
					}
					got[tr.CallID] = tr
				}
			}
			ends := map[string]int{}
			for _, tr := range e.sink.all() {
				if tr.To == queue.StateEnded {
					ends[tr.CallID]++
				}
			}
			for id, wt := range want {
				if ends[id] != 1 {
					t.Errorf("%s ended %d times, want once", id, ends[id])
				}
				tr := got[id]
				if tr.Outcome != wt.outcome || tr.Seq != wt.seq || tr.Action != queue.ActionVanish || tr.Actor != queue.System {
					t.Errorf("%s ended %+v, want %s with seq %d by the system", id, tr, wt.outcome, wt.seq)
				}
			}
			if _, ok := got["other"]; ok {
				t.Error("a call of another node was ended")
			}
		})
	}
}

// TestResyncOneUpdate: a restarted service that readmits 300 callers tells
// a console with a small buffer in one update, and the console stays
// subscribed (issue 9: a resync overflowed every console's buffer).
func TestResyncOneUpdate(t *testing.T) {
	t.Parallel()
	const n = 300
	srv := newFake(t, aritest.Options{})
	client := newClient(t, srv.URL(), srv.User(), srv.Password())
	nodes := []broadcast.NodeConfig{{Name: "n1", ARI: client, Events: fastEvents}}
	e1 := start(t, srv, broadcast.Config{Nodes: nodes, SubscriberBuffer: 4 * n})
	w1 := e1.w("show1")
	w1.nodeUp()
	placeCalls(t, srv, w1, "show1", n)
	e1.stop()

	e2 := start(t, srv, broadcast.Config{Nodes: nodes, SubscriberBuffer: 16, Recall: recallFrom(e1.sink.all())})
	w2 := e2.w("show1")
	u := w2.next("the resync", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateResync })
	readmitted := 0
	for _, tr := range u.Transitions {
		if tr.Action == queue.ActionReadmit {
			readmitted++
		}
	}
	if readmitted != n {
		t.Errorf("the resync update carries %d readmissions, want %d", readmitted, n)
	}
	w2.nodeUp()
	if err := w2.sub.Err(); err != nil {
		t.Errorf("console subscription ended: %v", err)
	}
	snap, _ := e2.app.Snapshot("show1")
	if len(snap.Lineup.Waiting) != n {
		t.Errorf("%d waiting after the resync, want %d", len(snap.Lineup.Waiting), n)
	}
}

// TestSIPHangupCause: a SIP caller's BYE brings a ChannelHangupRequest
// without a cause (trace 09b): only the subscription's ChannelDestroyed
// tells it, after the call has ended at StasisEnd (with cause 0), as a
// cause transition. Without the subscription the cause stays unknown (0).
func TestSIPHangupCause(t *testing.T) {
	t.Parallel()
	for _, subscribe := range []bool{true, false} {
		t.Run(fmt.Sprintf("subscribed=%t", subscribe), func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, aritest.Options{})
			subs := watchSubs(newClient(t, srv.URL(), srv.User(), srv.Password()))
			var tel broadcast.Telephony = subs
			want := 17
			if !subscribe {
				tel, want = noSubscribe{tel}, 0
			}
			e := start(t, srv, broadcast.Config{EndGrace: time.Hour,
				Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: tel, Events: fastEvents}}})
			w := e.w("show1")
			w.nodeUp()
			c, err := srv.Call(context.Background(), aritest.CallOptions{Args: []string{"show1"}, Number: "+12025550101", SIP: true})
			if err != nil {
				t.Fatal(err)
			}
			w.transition(c.ID(), queue.ActionJoin)
			if subscribe {
				subs.wait(t, c.ID())
			}
			must(t, c.Hangup(17))
			if tr := w.transition(c.ID(), queue.ActionHangup); tr.Cause != 0 || tr.Outcome != queue.OutcomeAbandoned {
				t.Errorf("ended %s cause %d, want abandoned, cause not known yet", tr.Outcome, tr.Cause)
			}
			waitDone(t, c)
			if subscribe {
				if tr := w.transition(c.ID(), queue.ActionCause); tr.Cause != want || tr.Outcome != queue.OutcomeAbandoned {
					t.Errorf("cause %d (%s), want %d (abandoned)", tr.Cause, tr.Outcome, want)
				}
				return
			}
			for _, tr := range e.sink.all() {
				if tr.Action == queue.ActionCause {
					t.Errorf("a cause without a subscription: %+v", tr)
				}
			}
		})
	}
}

// hungRecall is a database that takes connections and never answers: each
// read lasts until its context ends. It counts the reads without a
// deadline.
type hungRecall struct{ unbounded atomic.Int32 }

func (r *hungRecall) OpenCalls(ctx context.Context, _ string) ([]queue.Stored, error) {
	if _, ok := ctx.Deadline(); !ok {
		r.unbounded.Add(1)
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestResyncDatabaseHung: a database that never answers holds up neither
// the resync nor the callers behind it: callin reads the stored calls
// with a deadline, then admits callers without history.
func TestResyncDatabaseHung(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	rc := &hungRecall{}
	e := start(t, srv, broadcast.Config{Recall: rc})
	w := e.w("show1")
	w.nodeUp() // the resync is over
	dial(t, srv, w, "show1", "+15550001")
	if n := rc.unbounded.Load(); n != 0 {
		t.Fatalf("%d reads of the stored calls without a deadline", n)
	}
}

// TestHangupCauseAfterSlowDestroyed: with many callers hanging up at once a
// real Asterisk sent ChannelDestroyed, the one event with the real cause,
// 0.8-1.5 s after the caller had left (issue 25), past the 0.5 s callin
// used to wait, so calls were stored without a cause. The call must leave
// the line at once (before its ChannelDestroyed has been sent) and get its
// cause when ChannelDestroyed comes, however late within EndGrace; a drop
// must not wait for it either. The fake holds ChannelDestroyed back 3 s.
func TestHangupCauseAfterSlowDestroyed(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{DestroyDelay: 3 * time.Second})
	subs := watchSubs(newClient(t, srv.URL(), srv.User(), srv.Password()))
	e := start(t, srv, broadcast.Config{Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: subs, Events: fastEvents}}})
	w := e.w("show1")
	w.nodeUp()

	const n = 5
	var calls []*aritest.Call
	ids := map[string]string{} // channel -> call
	for i := range n + 1 {
		c, err := srv.Call(context.Background(), aritest.CallOptions{Args: []string{"show1"}, Number: fmt.Sprint("+1555", i), SIP: true})
		if err != nil {
			t.Fatal(err)
		}
		ids[c.ID()] = w.transition(c.ID(), queue.ActionJoin).CallID
		subs.wait(t, c.ID())
		calls = append(calls, c)
	}
	// n callers hang up at once (a SIP BYE: no cause until ChannelDestroyed).
	for _, c := range calls[:n] {
		must(t, c.Hangup(16))
	}
	for _, c := range calls[:n] {
		tr := w.transition(c.ID(), queue.ActionHangup)
		select {
		case <-c.Done():
			t.Errorf("%s left the line only after its ChannelDestroyed", c.ID())
		default:
		}
		if tr.Outcome != queue.OutcomeAbandoned {
			t.Errorf("%s ended %s, want abandoned", c.ID(), tr.Outcome)
		}
	}
	// A drop returns on the caller's StasisEnd, not on its late ChannelDestroyed.
	last := calls[n]
	got, err := e.app.Drop(context.Background(), "show1", ids[last.ID()], producer, broadcast.DropOptions{Reason: "time"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-last.Done():
		t.Error("the drop returned only after the caller's ChannelDestroyed")
	default:
	}
	if got.Outcome != queue.OutcomeDropped {
		t.Errorf("drop: outcome %s, want dropped", got.Outcome)
	}
	// The causes follow, in whatever order the channels are destroyed.
	caused := map[string]bool{}
	for range n {
		tr := w.next("a cause", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionCause
		}).Transition
		caused[tr.ChannelID] = true
		if tr.Cause != 16 || tr.From != queue.StateEnded || tr.To != queue.StateEnded || tr.Outcome != queue.OutcomeAbandoned {
			t.Errorf("%s: cause transition %s→%s cause %d outcome %s, want ended→ended cause 16 abandoned", tr.ChannelID, tr.From, tr.To, tr.Cause, tr.Outcome)
		}
	}
	for _, c := range calls[:n] {
		if !caused[c.ID()] {
			t.Errorf("%s: no cause recorded", c.ID())
		}
	}
	waitDone(t, last)
	for _, tr := range e.sink.all() {
		if tr.CallID == ids[last.ID()] && tr.Action == queue.ActionCause {
			t.Errorf("the drop's own cause (16) recorded again: %+v", tr)
		}
	}
}
