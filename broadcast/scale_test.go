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

// Test600Callers holds 600 callers in a pool of holding bridges of 50
// (the default), each bridge with its own music, the line in arrival order
// whatever bridge holds whom; and, configured so, in one bridge.
func Test600Callers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		size    int
		bridges int
	}{{"Pool", 0, 12}, {"OneBridge", -1, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			test600(t, tc.size, tc.bridges)
		})
	}
}

func test600(t *testing.T, size, bridges int) {
	const n = 600
	srv := newFake(t, aritest.Options{})
	sc := showCfg("show1", "n1")
	sc.HoldBridgeSize = size
	e := start(t, srv, broadcast.Config{SubscriberBuffer: 4 * n, Shows: []broadcast.ShowConfig{sc}})
	w := e.w("show1")
	w.nodeUp()
	calls := placeCalls(t, srv, w, "show1", n)
	per := map[string]int{}
	for _, c := range calls {
		waitMusic(t, c)
		st, _ := c.State()
		per[st.Bridge]++
	}
	if len(per) != bridges {
		t.Errorf("callers in %d bridges %v, want %d", len(per), per, bridges)
	}
	for id, k := range per {
		if k != n/bridges {
			t.Errorf("bridge %s holds %d callers, want %d", id, k, n/bridges)
		}
		if m, _ := srv.BridgeChannels(id); len(m) != k {
			t.Errorf("bridge %s lists %d channels, want %d", id, len(m), k)
		}
		if !srv.BridgeMusicPlaying(id) {
			t.Errorf("bridge %s plays no music", id)
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
	if snap.Media.HoldMembers != n || snap.Media.HoldBridges != bridges {
		t.Errorf("snapshot counts %d in %d holding bridges, want %d in %d", snap.Media.HoldMembers, snap.Media.HoldBridges, n, bridges)
	}
}
