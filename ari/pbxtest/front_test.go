package pbxtest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/pbxtest"
)

// arrivals counts the callers that reach Stasis(callin,<show>) on each
// node: the whole path of callin's dialplan (the room check, the answer,
// the IVR with DTMF 1), seen as StasisStart on the node's own app socket.
// callin is not running in these tests, so the test connects as app
// callin itself.
type arrivals struct {
	nodes   []*pbxtest.PBX
	mu      sync.Mutex
	count   map[string]map[string]int // node → show → callers
	changed chan struct{}             // closed and replaced on each arrival
}

func watchArrivals(t *testing.T, nodes []*pbxtest.PBX) *arrivals {
	t.Helper()
	a := &arrivals{nodes: nodes, count: map[string]map[string]int{}, changed: make(chan struct{})}
	for _, p := range nodes {
		a.count[p.Node] = map[string]int{}
		_, ev := events(t, p, "callin")
		go func() {
			for e := range ev {
				if s, ok := e.(*ari.StasisStart); ok && len(s.Args) > 0 {
					a.mu.Lock()
					a.count[p.Node][s.Args[0]]++
					close(a.changed)
					a.changed = make(chan struct{})
					a.mu.Unlock()
				}
			}
		}()
	}
	return a
}

// wait waits until want callers of show have arrived over all nodes, and
// returns how many arrived on each node, by node name.
func (a *arrivals) wait(t *testing.T, show string, want int) map[string]int {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		a.mu.Lock()
		per, total := map[string]int{}, 0
		for node, shows := range a.count {
			per[node] = shows[show]
			total += shows[show]
		}
		changed := a.changed
		a.mu.Unlock()
		if total >= want {
			return per
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("%d of %d callers of %s arrived (per node: %v)", total, want, show, per)
		}
	}
}

// TestFrontSpreads: callers dialled through the front (Kamailio with
// deploy/kamailio/kamailio.cfg) spread evenly over two real nodes, the
// least loaded first, and none is lost.
func TestFrontSpreads(t *testing.T) {
	t.Parallel()
	nodes := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	front := pbxtest.NewFront(t, nodes)
	arr := watchArrivals(t, nodes)
	front.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 10, Rate: 20, PressOne: true})
	per := arr.wait(t, "morning", 10)
	if a, b := per["A"], per["B"]; a+b != 10 || a-b > 1 || b-a > 1 {
		t.Errorf("callers per node %v, want 5 and 5 (call load: the node with fewer calls first)", per)
	}
}

// TestFrontNodeFull: a node marked full for a show through ARI
// (CALLIN_FULL_<show>=1, as callin will set it) refuses that show's
// callers before answering, with SIP 503 (Hangup(34) in callin's
// dialplan), and the front gives each to the other node: none lost. The
// node still takes another show's callers, and the show's again once the
// variable is cleared. A caller dialling the full node directly gets the
// 503 itself.
func TestFrontNodeFull(t *testing.T) {
	t.Parallel()
	nodes := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	a := nodes[0]
	front := pbxtest.NewFront(t, nodes)
	arr := watchArrivals(t, nodes)
	ctx := context.Background()
	ca, err := ari.NewClient(ari.Config{URL: a.HTTP, Username: a.User, Password: a.Password, App: "front-test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.SetGlobalVar(ctx, "CALLIN_FULL_morning", "1"); err != nil {
		t.Fatal(err)
	}
	front.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 6, Rate: 20, PressOne: true})
	if per := arr.wait(t, "morning", 6); per["A"] != 0 || per["B"] != 6 {
		t.Errorf("with A full for morning, morning's callers per node %v, want all 6 on B", per)
	}
	refused := front.LogLines("node " + front.NodeURI(a) + " refused 503")
	if len(refused) == 0 {
		t.Fatalf("the front logged no 503 from the full node A; its log:\n%s", front.LogTail(30))
	}
	t.Logf("the front saw A refuse %d times; the first: %s", len(refused), refused[0])

	front.Callers(t, pbxtest.CallerConfig{Number: "5550200", Count: 2, Rate: 20, PressOne: true, Prefix: "1556"})
	if per := arr.wait(t, "drive", 2); per["A"] != 2 {
		t.Errorf("drive's callers per node %v, want both on A (not full for drive, fewer calls)", per)
	}
	if err := ca.SetGlobalVar(ctx, "CALLIN_FULL_morning", ""); err != nil {
		t.Fatal(err)
	}
	front.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 2, Rate: 20, PressOne: true, Prefix: "1557"})
	if per := arr.wait(t, "morning", 8); per["A"] != 2 {
		t.Errorf("after clearing CALLIN_FULL_morning, morning's callers per node %v, want 2 on A", per)
	}

	if err := ca.SetGlobalVar(ctx, "CALLIN_FULL", "1"); err != nil {
		t.Fatal(err)
	}
	direct := a.Callers(t, pbxtest.CallerConfig{Number: "5550200", Count: 1, Prefix: "1558"})
	select {
	case <-direct.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the direct caller to the full node still calling after 20 s")
	}
	if out := direct.Output(); !strings.Contains(out, "SIP/2.0 503 Service Unavailable") || !strings.Contains(out, "Reason: Q.850;cause=34") {
		t.Errorf("a caller dialling the drained node (CALLIN_FULL=1) directly got no 503 with cause 34; sipp said:\n%s", out)
	}
}

// TestFrontNodeStopped: a node stopped loses no caller. A front that has
// not probed it since gives each INVITE it does not answer to the other
// node after its timeout (2 s); a front probing every second has marked it
// down and sends the callers straight to the other node; once the node is
// back, its probe brings it up and it takes the next callers at once.
func TestFrontNodeStopped(t *testing.T) {
	t.Parallel()
	nodes := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	a := nodes[0]
	probing := pbxtest.NewFront(t, nodes)
	blind := pbxtest.NewFront(t, nodes, pbxtest.FrontConfig{Probe: time.Hour})
	arr := watchArrivals(t, nodes)
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	blind.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 3, Rate: 20, PressOne: true})
	if per := arr.wait(t, "morning", 3); per["B"] != 3 {
		t.Errorf("through the front that does not probe, callers per node %v, want all 3 on B", per)
	}
	if n := len(blind.LogLines("node " + blind.NodeURI(a) + " did not answer")); n == 0 {
		t.Errorf("the front that does not probe never found A silent; its log:\n%s", blind.LogTail(30))
	}

	if _, err := probing.WaitLog(ctx, "node down "+probing.NodeURI(a)); err != nil {
		t.Fatal(err)
	}
	probing.Callers(t, pbxtest.CallerConfig{Number: "5550200", Count: 3, Rate: 20, PressOne: true, Prefix: "1556"})
	if per := arr.wait(t, "drive", 3); per["B"] != 3 {
		t.Errorf("through the probing front, callers per node %v, want all 3 on B", per)
	}
	if lines := probing.LogLines("did not answer"); len(lines) != 0 {
		t.Errorf("the probing front still sent INVITEs to the stopped node: %s", strings.Join(lines, "\n"))
	}

	if err := a.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := probing.WaitLog(ctx, "node up "+probing.NodeURI(a)); err != nil {
		t.Fatal(err)
	}
	probing.Callers(t, pbxtest.CallerConfig{Number: "5550200", Count: 2, Rate: 20, PressOne: true, Prefix: "1557"})
	if per := arr.wait(t, "drive", 5); per["A"] != 2 {
		t.Errorf("after A came back, drive's callers per node %v, want the 2 new ones on A (fewer calls)", per)
	}
}

// BenchmarkFrontSetup measures what the front adds to a call's set-up: the
// time from the caller's INVITE to the node's 200 OK (callin's dialplan
// answers at once, before its IVR), for callers dialling one real node
// through the front and directly, in the same run: 5 rounds of 10 calls
// each way, alternating. The node's app (callin is not running: the
// benchmark connects as app callin) hangs every caller up as it enters
// Stasis, so the calls end. Reported: p50 of each (sipp's message log, µs)
// and their ratio (front / direct).
//
//	go test -run '^$' -bench FrontSetup -benchtime 1x ./ari/pbxtest/
func BenchmarkFrontSetup(b *testing.B) {
	p := pbxtest.New(b, pbxtest.Config{})
	front := pbxtest.NewFront(b, []*pbxtest.PBX{p})
	c, ev := benchEvents(b, p)
	go func() {
		for e := range ev {
			if s, ok := e.(*ari.StasisStart); ok {
				_ = c.HangupChannel(context.Background(), s.Channel.ID, "")
			}
		}
	}()
	var direct, through []time.Duration
	for round := range 5 {
		for _, viaFront := range []bool{false, true} {
			cfg := pbxtest.CallerConfig{Number: "5550100", Count: 10, Rate: 5, PressOne: true, Times: true, Prefix: fmt.Sprintf("155%d%d", round, btoi(viaFront))}
			var s *pbxtest.SIPp
			if viaFront {
				s = front.Callers(b, cfg)
			} else {
				s = p.Callers(b, cfg)
			}
			select {
			case <-s.Done():
			case <-time.After(60 * time.Second):
				b.Fatalf("round %d: callers still calling after 60 s:\n%s", round, s.Output())
			}
			times, err := s.SetupTimes()
			if err != nil || len(times) != cfg.Count {
				b.Fatalf("round %d: %d set-up times (%v), want %d:\n%s", round, len(times), err, cfg.Count, s.Output())
			}
			if viaFront {
				through = append(through, times...)
			} else {
				direct = append(direct, times...)
			}
		}
	}
	pd, pf := p50(direct), p50(through)
	b.ReportMetric(float64(pd.Microseconds())/1000, "direct-p50-ms")
	b.ReportMetric(float64(pf.Microseconds())/1000, "front-p50-ms")
	b.ReportMetric(float64(pf)/float64(max(pd, time.Millisecond)), "front/direct")
	b.Logf("INVITE→200 over %d calls each: direct p50 %v (min %v, max %v), through the front p50 %v (min %v, max %v)",
		len(direct), pd, slices.Min(direct), slices.Max(direct), pf, slices.Min(through), slices.Max(through))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func p50(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
