package broadcast_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestShowAcrossNodesPBX: on two real Asterisks joined by a trunk, SIP
// callers dialling the show on either node are held on their own node
// with its music, in one line in arrival order; node B killed, its
// callers' calls end node_lost within seconds while A's callers keep
// their places and their music.
func TestShowAcrossNodesPBX(t *testing.T) {
	t.Parallel()
	const perNode = 4
	ps := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	var log logBuf
	sc := showCfg("morning", "A")
	sc.MOHClass = "callin"
	sc.Nodes = []string{"A", "B"}
	var nodes []broadcast.NodeConfig
	for _, p := range ps {
		nodes = append(nodes, broadcast.NodeConfig{Name: p.Node, ARI: newClient(t, p.HTTP, p.User, p.Password), Events: fastEvents})
	}
	e := start(t, nil, broadcast.Config{
		Nodes: nodes, Shows: []broadcast.ShowConfig{sc}, NodeLostAfter: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	w := e.w("morning")
	for up := map[string]bool{}; len(up) < 2; {
		up[w.next("nodes up", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateNode && u.Node.OK() }).Node.Node] = true
	}
	ps[0].Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: perNode, Rate: 10, PressOne: true, Prefix: "1555"})
	ps[1].Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: perNode, Rate: 10, PressOne: true, Prefix: "1666"})
	for joined := 0; joined < 2*perNode; joined++ {
		w.next("callers joining", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin
		})
	}
	snap, _ := e.app.Snapshot("morning")
	line := snap.Lineup.Waiting
	byNode := map[string][]queue.Call{}
	for i, c := range line {
		wantPrefix := map[string]string{"A": "+1555", "B": "+1666"}[c.Node]
		if wantPrefix == "" || !strings.HasPrefix(c.Number, wantPrefix) || c.Position != i+1 {
			t.Errorf("caller %d: %s on node %q at position %d", i, c.Number, c.Node, c.Position)
		}
		if i > 0 && c.ArrivedAt.Before(line[i-1].ArrivedAt) {
			t.Errorf("line not in arrival order at %d: %v before %v", i, line[i-1].ArrivedAt, c.ArrivedAt)
		}
		byNode[c.Node] = append(byNode[c.Node], c)
	}
	if len(byNode["A"]) != perNode || len(byNode["B"]) != perNode {
		t.Fatalf("line %d on A, %d on B, want %d each", len(byNode["A"]), len(byNode["B"]), perNode)
	}
	for i, p := range ps {
		if bs := holdBridges(t, p, "morning"); len(bs) != 1 || len(bs[0].Channels) < perNode {
			t.Errorf("node %s holding bridges %+v, want its %d callers in one", p.Node, bs, perNode)
		}
		hearMusic(t, p, byNode[pbxtest.NodeName(i)])
	}

	// B killed: its callers end node_lost, A's keep their places.
	start := time.Now()
	if err := ps[1].Kill(); err != nil {
		t.Fatal(err)
	}
	for ended := 0; ended < perNode; ended++ {
		tr := w.next("B's callers ended", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.To == queue.StateEnded
		}).Transition
		if tr.Outcome != queue.OutcomeNodeLost || tr.Node != "B" {
			t.Fatalf("ended %+v, want node_lost on B", tr)
		}
	}
	t.Logf("B's %d callers ended node_lost %v after the kill", perNode, time.Since(start).Round(time.Millisecond))
	snap, _ = e.app.Snapshot("morning")
	if len(snap.Lineup.Waiting) != perNode {
		t.Fatalf("%d waiting after B was lost, want A's %d", len(snap.Lineup.Waiting), perNode)
	}
	for i, c := range snap.Lineup.Waiting {
		if c.ID != byNode["A"][i].ID || c.Position != i+1 {
			t.Errorf("A's caller %d is %s at %d, want %s at %d", i, c.ID, c.Position, byNode["A"][i].ID, i+1)
		}
	}
	hearMusic(t, ps[0], snap.Lineup.Waiting)
}

// hearMusic checks by sound that every one of calls hears the bridge
// music on node p.
func hearMusic(t *testing.T, p *pbxtest.PBX, calls []queue.Call) {
	t.Helper()
	l := p.Listener(t)
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			h, err := l.Hear(ctx, c.ChannelID, 1500*time.Millisecond)
			for try := 1; err != nil && strings.Contains(err.Error(), "not in Stasis") && try < 10; try++ {
				h, err = l.Hear(ctx, c.ChannelID, 1500*time.Millisecond) // see hearAll
			}
			if err != nil {
				t.Errorf("node %s: hearing %s: %v", p.Node, c.Number, err)
				return
			}
			if h.Music() < 0.5 {
				t.Errorf("node %s: %s hears music in %.0f%% of the windows: %s", p.Node, c.Number, 100*h.Music(), h)
			}
		})
	}
	wg.Wait()
}
