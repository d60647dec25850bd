package broadcast_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// placeCalls puts n callers into show, in order, and waits until all are
// waiting; it returns the handles.
func placeCalls(t testing.TB, srv *aritest.Server, w *watcher, show string, n int) []*aritest.Call {
	t.Helper()
	calls := make([]*aritest.Call, n)
	for i := range n {
		c, err := srv.Call(context.Background(), aritest.CallOptions{Args: []string{show}, Number: fmt.Sprintf("555%05d", i)})
		if err != nil {
			t.Fatal(err)
		}
		calls[i] = c
	}
	for joined := 0; joined < n; {
		w.next("joins", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin
		})
		joined++
	}
	return calls
}

func Test600Callers(t *testing.T) {
	t.Parallel()
	const n = 600
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{SubscriberBuffer: 4 * n})
	w := e.w("show1")
	w.nodeUp()
	calls := placeCalls(t, srv, w, "show1", n)
	members, _ := srv.BridgeChannels(holdID("show1"))
	if len(members) != n {
		t.Errorf("holding bridge has %d channels, want %d", len(members), n)
	}
	if !srv.BridgeMusicPlaying(holdID("show1")) {
		t.Error("no bridge music")
	}
	for _, c := range calls {
		if st, _ := c.State(); !st.HearsMusic || st.Bridge != holdID("show1") {
			t.Fatalf("caller %s in %q hears music %t", c.ID(), st.Bridge, st.HearsMusic)
		}
	}
	snap, _ := e.app.Snapshot("show1")
	if len(snap.Lineup.Waiting) != n || snap.Stats.Waiting != n {
		t.Fatalf("%d waiting (stats %d), want %d", len(snap.Lineup.Waiting), snap.Stats.Waiting, n)
	}
	for i, c := range snap.Lineup.Waiting {
		if want := fmt.Sprintf("555%05d", i); c.Position != i+1 || c.Number != want {
			t.Fatalf("place %d: %s at %d, want %s at %d", i, c.Number, c.Position, want, i+1)
		}
	}
	if snap.Media.HoldMembers != n {
		t.Errorf("snapshot counts %d in the holding bridge, want %d", snap.Media.HoldMembers, n)
	}
}
