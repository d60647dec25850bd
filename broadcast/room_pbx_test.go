package broadcast_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestRoomFrontPBX: callers dialled through the Kamailio front
// (deploy/kamailio) over two real nodes, with callin running and node A
// of capacity 2: the callers spread until A holds 2, callin marks A full
// (CALLIN_FULL_morning=1 there), A refuses the next ones with 503 before
// answering and the front gives them to B. Every caller is held with
// music on the node they reached, in one line in arrival order. A may
// take one caller more than its capacity: one already past the room
// check, in the IVR, while the second joined (room.go).
func TestRoomFrontPBX(t *testing.T) {
	t.Parallel()
	const callers, capacity = 8, 2
	ps := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	front := pbxtest.NewFront(t, ps)
	var log logBuf
	sc := showCfg("morning", "A")
	sc.MOHClass = "callin"
	sc.Nodes = []string{"A", "B"}
	var nodes []broadcast.NodeConfig
	for _, p := range ps {
		nodes = append(nodes, broadcast.NodeConfig{Name: p.Node, ARI: newClient(t, p.HTTP, p.User, p.Password), Events: fastEvents})
	}
	nodes[0].Capacity = capacity
	e := start(t, nil, broadcast.Config{
		Nodes: nodes, Shows: []broadcast.ShowConfig{sc},
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	w := e.w("morning")
	for up := map[string]bool{}; len(up) < 2; {
		up[w.next("nodes up", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateNode && u.Node.OK() }).Node.Node] = true
	}
	front.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: callers, Rate: 1, PressOne: true, Prefix: "1555"})
	for joined := 0; joined < callers; joined++ {
		w.next("callers joining", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin
		})
	}
	snap, _ := e.app.Snapshot("morning")
	line := snap.Lineup.Waiting
	byNode := map[string][]queue.Call{}
	for i, c := range line {
		if want := fmt.Sprintf("+1555%d", i+1); c.Number != want || c.Position != i+1 {
			t.Errorf("caller %d of the line: %s at position %d, want %s (arrival order)", i+1, c.Number, c.Position, want)
		}
		byNode[c.Node] = append(byNode[c.Node], c)
	}
	if a := len(byNode["A"]); a < capacity || a > capacity+1 || a+len(byNode["B"]) != callers {
		t.Errorf("callers on A %d, on B %d; want A at its capacity %d (or one more), the rest on B", a, len(byNode["B"]), capacity)
	}
	if l := snap.Nodes[0]; !l.Full || l.Held != len(byNode["A"]) || l.Capacity != capacity {
		t.Errorf("A's load %+v, want full", l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca, err := ari.NewClient(ari.Config{URL: ps[0].HTTP, Username: ps[0].User, Password: ps[0].Password, App: "room-test"})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := ca.GlobalVar(ctx, broadcast.FullVar("morning")); err != nil || v != "1" {
		t.Errorf("A full: %s = %q (%v), want 1", broadcast.FullVar("morning"), v, err)
	}
	refused := front.LogLines("node " + front.NodeURI(ps[0]) + " refused 503")
	if len(refused) == 0 {
		t.Errorf("the front logged no 503 from the full node A; its log:\n%s", front.LogTail(30))
	}
	t.Logf("per node: A %d, B %d; A refused %d callers", len(byNode["A"]), len(byNode["B"]), len(refused))
	for i, p := range ps {
		hearMusic(t, p, byNode[pbxtest.NodeName(i)])
	}
	if t.Failed() {
		t.Logf("callin's room log: %q", log.lines("room"))
	}
}
