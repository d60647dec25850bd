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
// music on the node they reached, in one line in arrival order. A takes
// no caller past its capacity, not even one still in the IVR while the
// second joined: the dialplan counts those (room.go, TestRoomIVRPBX).
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
	if a := len(byNode["A"]); a != capacity || a+len(byNode["B"]) != callers {
		t.Errorf("callers on A %d, on B %d; want A at its capacity %d, the rest on B", a, len(byNode["B"]), capacity)
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

// TestRoomIVRPBX: a node of capacity 3 and six callers arriving at once,
// all past the room check before the first is held: the dialplan counts
// the callers it let in (CALLIN_CAPACITY, set by callin), so it answers
// three and refuses three with 503, where callin's count of the held
// alone let all six in. One of the three hanging up makes room for the
// next caller.
func TestRoomIVRPBX(t *testing.T) {
	t.Parallel()
	const callers, capacity = 6, 3
	p := pbxtest.New(t, pbxtest.Config{})
	p.Node = "A"
	sc := showCfg("morning", "A")
	sc.MOHClass = "callin"
	e := start(t, nil, broadcast.Config{
		Nodes: []broadcast.NodeConfig{{Name: "A", ARI: newClient(t, p.HTTP, p.User, p.Password), Events: fastEvents, Capacity: capacity}},
		Shows: []broadcast.ShowConfig{sc},
	})
	w := e.w("morning")
	w.nodeUp()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	probe, err := ari.NewClient(ari.Config{URL: p.HTTP, Username: p.User, Password: p.Password, App: "room-test"})
	if err != nil {
		t.Fatal(err)
	}
	awaitVar(ctx, t, probe, broadcast.CapacityVar, "3")
	sipps := make([]*pbxtest.SIPp, callers)
	for i := range sipps {
		sipps[i] = p.Callers(t, pbxtest.CallerConfig{Number: "5550100", PressOne: true, Prefix: fmt.Sprintf("155%d", i)})
	}
	gone := make(chan struct{}, callers) // a refused caller's sipp ends
	for _, s := range sipps {
		go func() { <-s.Done(); gone <- struct{}{} }()
	}
	joined, refused := 0, 0
	for joined+refused < callers {
		select {
		case u := <-w.sub.C:
			if u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin {
				joined++
			}
		case <-gone:
			refused++
		case <-ctx.Done():
			t.Fatalf("held %d, refused %d of %d callers", joined, refused, callers)
		}
	}
	if l := e.app.NodeLoads()[0]; l.Held != capacity || refused != callers-capacity {
		t.Fatalf("held %d, refused %d; want %d held and %d refused", l.Held, refused, capacity, callers-capacity)
	}
	// Two hang up: callin clears CALLIN_FULL_morning (held below the
	// capacity less its margin), and the dialplan's count has room.
	snap, _ := e.app.Snapshot("morning")
	for _, c := range snap.Lineup.Waiting[:2] {
		if err := p.Hangup(ctx, channelName(t, p, c.ChannelID)); err != nil {
			t.Fatal(err)
		}
		w.next("the caller gone", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.To == queue.StateEnded
		})
	}
	awaitVar(ctx, t, probe, broadcast.FullVar("morning"), "")
	p.Callers(t, pbxtest.CallerConfig{Number: "5550100", PressOne: true, Prefix: "1777"})
	w.next("the next caller held", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin && u.Transition.Number == "+17771"
	})
}

// channelName is the name of channel id on p (for pbxtest.Hangup).
func channelName(t *testing.T, p *pbxtest.PBX, id string) string {
	t.Helper()
	for _, c := range listChannels(t, p) {
		if c.ID == id {
			return c.Name
		}
	}
	t.Fatalf("no channel %s on %s", id, p.Node)
	return ""
}

// awaitVar waits until the node's global variable name is want.
func awaitVar(ctx context.Context, t *testing.T, c *ari.Client, name, want string) {
	t.Helper()
	for v, _ := c.GlobalVar(ctx, name); v != want; v, _ = c.GlobalVar(ctx, name) {
		if ctx.Err() != nil {
			t.Fatalf("%s = %q, want %q", name, v, want)
		}
		time.Sleep(20 * time.Millisecond) // polling a variable callin sets once; the context bounds it
	}
}
