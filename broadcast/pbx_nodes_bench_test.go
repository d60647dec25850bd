package broadcast_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
)

// BenchmarkPBXNodesHold measures how many callers one show holds on one
// real Asterisk and on two (issue 24: "as many callers as two nodes hold
// together, at least twice what one node held in the same run"). Each
// Asterisk is pinned to a CPU of its own (node A to CPU 0, node B to
// CPU 1: pbxtest.Config.CPUs, PinCPUs) and, with the meters, given the
// first call there (real time, SCHED_FIFO, by default: PBX_NODES_SCHED)
// against the rest of a shared machine, as a node on a machine of its
// own; callin, sipp and the meters float.
// The callers are quiet (pbxtest.CallerConfig.MediaPort): they send no RTP,
// and the music Asterisk sends each of them arrives at an RTPMeter, counted
// per call, so that the load generator costs next to nothing while they
// wait and the nodes' CPU is what fills.
//
// A round ramps callers, PBX_NODES_STEP more on every node at a step
// (default 50; PBX_NODES_RATE a second each, default 25; one sipp a node,
// its limit of calls up raised at each step: SIPp.SetLimit), through the
// IVR (pressing 1) into the show: first with the show on node A alone, then
// with the show spanning A and B (callers dialled to both). After every
// step, once callin holds them all, the same test for both layouts: over a
// window of PBX_NODES_WINDOW seconds (default 10) every node must deliver
// music at 95 % of 50 packets a second or more to 99 % of its callers or
// more ("holds"). The last step passed is N1 (one node), N2 (two); the
// ramp stops at the first failure, or at PBX_NODES_MAX callers a node
// (default 950: a node has 1,000 RTP ports). Metrics: n1, n2, n2/n1; and
// callin's own CPU per waiting caller (the test process's CPU over the
// window: the meters run in processes of their own) and heap per waiting
// caller, for each layout at its last step passed.
//
//	go test -run '^$' -bench PBXNodesHold -benchtime 1x ./broadcast/
func BenchmarkPBXNodesHold(b *testing.B) {
	cfg := holdRamp{
		step: envInt("PBX_NODES_STEP", 50), rate: float64(envInt("PBX_NODES_RATE", 25)),
		max: envInt("PBX_NODES_MAX", 950), window: time.Duration(envInt("PBX_NODES_WINDOW", 10)) * time.Second,
	}
	for range b.N {
		one := rampHold(b, 1, cfg)
		two := rampHold(b, 2, cfg)
		for _, r := range []holdResult{one, two} {
			fmt.Printf("%d node(s): held %d (%s); callin %.4f ms CPU a second and %.0f B of heap per waiting caller; %.3f ms CPU per arriving caller\n",
				r.nodes, r.held, r.why, r.cpuPerCaller, r.heapPerCaller, r.arrivalCPU)
		}
		b.ReportMetric(float64(one.held), "n1")
		b.ReportMetric(float64(two.held), "n2")
		if one.held > 0 {
			b.ReportMetric(float64(two.held)/float64(one.held), "n2/n1")
		}
		b.ReportMetric(one.cpuPerCaller, "callin-ms/s/caller-1")
		b.ReportMetric(two.cpuPerCaller, "callin-ms/s/caller-2")
		b.ReportMetric(one.heapPerCaller, "callin-B/caller-1")
		b.ReportMetric(two.heapPerCaller, "callin-B/caller-2")
	}
}

// nodesPriority gives a benchmark's Asterisk or meter the first call on
// its CPU, as PBX_NODES_SCHED says: "fifo" (the default: real time,
// SCHED_FIFO 1, as on a machine of its own), "nice" (nice -10) or "none".
func nodesPriority(b *testing.B, pid int) {
	var err error
	switch os.Getenv("PBX_NODES_SCHED") {
	case "", "fifo":
		err = pbxtest.Realtime(pid, 1)
	case "nice":
		err = pbxtest.Renice(pid, -10)
	}
	if err != nil {
		b.Fatal(err)
	}
}

type holdRamp struct {
	step, max int
	rate      float64
	window    time.Duration
}

// holdResult is one layout's ramp: the callers held at the last step
// passed, why the ramp stopped, and callin's cost there.
type holdResult struct {
	nodes, held                 int
	why                         string
	cpuPerCaller, heapPerCaller float64 // ms of CPU a second; bytes
	arrivalCPU                  float64 // ms of CPU per admitted caller, over the ramp's admissions
}

// holdNodes starts k real Asterisks, node i pinned to CPU i (a cluster
// joined by trunks when k > 1), and callin's App with the show "morning"
// spanning them all.
func holdNodes(b *testing.B, k int) ([]*pbxtest.PBX, *env) {
	var ps []*pbxtest.PBX
	if k == 1 {
		ps = []*pbxtest.PBX{pbxtest.New(b, pbxtest.Config{CPUs: "0"})}
		ps[0].Node = "A"
	} else {
		ps = pbxtest.NewCluster(b, k, pbxtest.Config{})
		for i, p := range ps {
			if err := p.PinCPUs(strconv.Itoa(i % 2)); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, p := range ps {
		nodesPriority(b, p.PID())
	}
	sc := showCfg("morning", "A")
	sc.MOHClass = "callin"
	var nodes []broadcast.NodeConfig
	for _, p := range ps {
		sc.Nodes = append(sc.Nodes, p.Node)
		nodes = append(nodes, broadcast.NodeConfig{Name: p.Node, ARI: newClient(b, p.HTTP, p.User, p.Password), Events: fastEvents})
	}
	e := start(b, nil, broadcast.Config{Nodes: nodes, Shows: []broadcast.ShowConfig{sc}, Sink: discard{}, SubscriberBuffer: 1 << 14})
	w := e.w("morning")
	for up := map[string]bool{}; len(up) < k; {
		up[w.next("nodes up", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateNode && u.Node.OK() }).Node.Node] = true
	}
	w.sub.Close() // updates buffered for the benchmark are not callin's memory
	return ps, e
}

// rampHold ramps quiet callers onto k nodes until a node no longer holds
// them (see BenchmarkPBXNodesHold), then stops everything it started.
func rampHold(b *testing.B, k int, cfg holdRamp) holdResult {
	ps, e := holdNodes(b, k)
	meters := make([]*pbxtest.RTPMeter, k)
	for i := range meters {
		meters[i] = pbxtest.NewRTPMeter(b)
		nodesPriority(b, meters[i].Pid())
	}
	var sipps []*pbxtest.SIPp
	defer func() {
		e.stop()
		for _, p := range ps {
			p.Stop()
		}
		for _, s := range sipps {
			s.Stop()
		}
		for _, m := range meters {
			m.Close()
		}
	}()
	// The meters run in processes of their own: this process's CPU is
	// callin's (with the benchmark's few goroutines).
	callinCPU := func() time.Duration { return pbxtest.ProcessCPU(os.Getpid()) }
	heap0 := heapInUse()
	res := holdResult{nodes: k, why: fmt.Sprintf("stopped at PBX_NODES_MAX=%d a node", cfg.max)}
	var arrivalCPU time.Duration
	for perNode := cfg.step; perNode <= cfg.max; perNode += cfg.step {
		c0, t0 := callinCPU(), time.Now()
		for i, p := range ps {
			if perNode == cfg.step { // one sipp a node, its limit raised at each step
				sipps = append(sipps, p.Callers(b, pbxtest.CallerConfig{Number: "5550100", Count: cfg.max, Limit: cfg.step, Rate: cfg.rate,
					PressOne: true, MediaPort: meters[i].Port, Prefix: fmt.Sprintf("1%d", 5+i)}))
			} else if err := sipps[i].SetLimit(perNode); err != nil {
				b.Fatal(err)
			}
		}
		if why := waitHeld(e.app, ps, perNode, time.Duration(float64(cfg.step)/cfg.rate*float64(time.Second))+90*time.Second); why != "" {
			res.why = why
			break
		}
		admitted := time.Since(t0)
		arrivalCPU += callinCPU() - c0
		time.Sleep(2 * time.Second) // the last callers' music settles in
		row, cpu := holdWindow(ps, meters, perNode, cfg.window, callinCPU)
		load, _ := os.ReadFile("/proc/loadavg")
		fmt.Printf("%d node(s), %d callers (the last %d admitted in %.1f s): %s; load %s\n", k, perNode*k, cfg.step*k, admitted.Seconds(),
			row.String(), strings.Join(strings.Fields(string(load))[:3], " "))
		if row.failed != "" {
			res.why = fmt.Sprintf("%d callers: %s", perNode*k, row.failed)
			break
		}
		res.held = perNode * k
		res.cpuPerCaller = float64(cpu) / float64(cfg.window) / float64(res.held) * 1000
		res.heapPerCaller = float64(heapInUse()-heap0) / float64(res.held)
		res.arrivalCPU = float64(arrivalCPU) / float64(time.Millisecond) / float64(res.held)
	}
	return res
}

// waitHeld waits until callin holds n callers on every node; it returns
// why not ("" once they are).
func waitHeld(app *broadcast.App, ps []*pbxtest.PBX, n int, within time.Duration) string {
	deadline := time.Now().Add(within)
	for {
		var held []string
		all := true
		for _, l := range app.NodeLoads() {
			held = append(held, fmt.Sprintf("%s %d", l.Node, l.Held))
			all = all && l.Held >= n
		}
		if all {
			return ""
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("not all admitted within %v: held %s of %d each", within, strings.Join(held, ", "), n)
		}
		time.Sleep(200 * time.Millisecond) // polling callin's count; the deadline bounds it
	}
}

// windowRow is what each node delivered in one window.
type windowRow struct {
	nodes  []string
	failed string
}

func (r windowRow) String() string { return strings.Join(r.nodes, "; ") }

// holdWindow measures one window: for each node, the callers given music
// at 95 % of 50 packets a second or more, the worst gaps, Asterisk's CPU
// and the meter's drops; and callin's CPU over the window.
func holdWindow(ps []*pbxtest.PBX, meters []*pbxtest.RTPMeter, perNode int, window time.Duration, callinCPU func() time.Duration) (windowRow, time.Duration) {
	ast0 := make([]time.Duration, len(ps))
	drops0 := make([]int, len(ps))
	for i, p := range ps {
		meters[i].Reset()
		ast0[i], drops0[i] = pbxtest.ProcessCPU(p.PID()), meters[i].Drops()
	}
	c0 := callinCPU()
	time.Sleep(window) // the measuring window: real time passing is the point
	cpu := callinCPU() - c0
	var row windowRow
	want := int(0.95 * 50 * window.Seconds())
	for i, p := range ps {
		ast := pbxtest.ProcessCPU(p.PID()) - ast0[i]
		counts := meters[i].Read()
		good := 0
		var gaps []time.Duration
		var packets []int
		lost, got := 0, 0
		for _, c := range counts {
			lost += c.Lost
			got += c.Packets
			if c.Packets >= want {
				good++
			}
			gaps = append(gaps, c.MaxGap)
			packets = append(packets, c.Packets)
		}
		slices.Sort(gaps)
		slices.Sort(packets)
		pkts := "none"
		if len(packets) > 0 {
			pkts = fmt.Sprintf("%d/%d/%d", packets[0], packets[len(packets)/100], packets[len(packets)/2])
		}
		worst := time.Duration(0)
		if len(gaps) > 0 {
			worst = gaps[len(gaps)*99/100]
		}
		drops := meters[i].Drops() - drops0[i]
		row.nodes = append(row.nodes, fmt.Sprintf("%s: %d of %d with music (%d sources; packets min/p1/p50 %s of %d), lost %.2f %%, longest gap p99 %v, Asterisk %.0f %% of a CPU, meter drops %d",
			p.Node, good, perNode, len(counts), pkts, int(50*window.Seconds()), 100*float64(lost)/float64(max(1, lost+got)),
			worst.Round(time.Millisecond), 100*float64(ast)/float64(window), drops))
		if good*100 < perNode*99 && row.failed == "" {
			row.failed = fmt.Sprintf("node %s gave music to %d of %d", p.Node, good, perNode)
			if drops > 0 {
				row.failed += fmt.Sprintf(" (the meter dropped %d: not the node's fault)", drops)
			}
		}
	}
	return row, cpu
}
