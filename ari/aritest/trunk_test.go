package aritest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/ari/pbxtest"
)

// TestDifferentialTrunk drives callin's flows across the SIP trunk between
// two nodes (issue 24) on a pair of real Asterisks joined by a trunk
// (pbxtest.NewCluster) and on a pair of fakes sharing an aritest.Trunk, one
// app=callin socket per node exactly as callin connects, and fails when the
// events either node's socket gets differ, per entity, or a REST call
// answers another status (TestDifferential's comparison, node by node).
// ARI_RECORD=1 writes each real run to testdata/pbx-<scenario>.jsonl, every
// event marked with the socket (node) that got it.
func TestDifferentialTrunk(t *testing.T) {
	pbxtest.Require(t)
	// One pair for the scenarios that leave it as they found it; a node
	// stopped or killed gets a pair of its own.
	shared := newRealPair(t)
	for _, sc := range trunkScenarios {
		t.Run(sc.name, func(t *testing.T) {
			rp := shared
			if sc.fresh {
				rp = newRealPair(t)
			}
			real := runPair(t, sc, rp)
			fake := runPair(t, sc, newFakePair(t))
			if t.Failed() {
				return
			}
			for i, node := range []string{"A", "B"} {
				compareAndLog(t, sc.name+" on node "+node, real[i], fake[i], sc.racy)
			}
		})
	}
}

// trunkScenario is one scenario on two nodes; fresh asks for a pair of its
// own (a node is stopped or killed).
type trunkScenario struct {
	name  string
	fresh bool
	note  string
	run   func(p *pair)
	// racy are event forms left out on both nodes and both sides, because
	// the real pair sends them in some runs and not in others (why is said
	// where the scenario sets them).
	racy []string
}

// pairSide is two nodes joined by a trunk: node A is 0, B is 1.
type pairSide interface {
	node(i int) side
	// kill ends node i as a crash does (SIGKILL): no SIP sent, its socket
	// ends without a close frame.
	kill(t *testing.T, i int)
	// stop stops node i cleanly (core stop now): its calls are hung up.
	stop(t *testing.T, i int)
	// cli runs an Asterisk CLI command on node i ("" on the fake).
	cli(i int, cmd string) string
}

type realPair struct{ nodes []*pbxtest.PBX }

func newRealPair(t *testing.T) *realPair {
	return &realPair{nodes: pbxtest.NewCluster(t, 2, pbxtest.Config{})}
}

func (r *realPair) node(i int) side { return &realSide{p: r.nodes[i]} }
func (r *realPair) kill(t *testing.T, i int) {
	if err := r.nodes[i].Kill(); err != nil {
		t.Fatal(err)
	}
}
func (r *realPair) stop(t *testing.T, i int) {
	if err := r.nodes[i].Stop(); err != nil {
		t.Fatal(err)
	}
}
func (r *realPair) cli(i int, cmd string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := r.nodes[i].CLI(ctx, cmd)
	if err != nil {
		return err.Error()
	}
	return out
}

type fakePair struct{ nodes [2]*fakeSide }

func newFakePair(t *testing.T) *fakePair {
	tr := aritest.NewTrunk()
	var fp fakePair
	for i := range fp.nodes {
		fp.nodes[i] = &fakeSide{srv: newServer(t, aritest.Options{TimeScale: 0.2, AnnouncerLeak: aritest.AnnouncerLeakNever,
			Trunk: tr, Node: pbxtest.NodeName(i)})}
	}
	return &fp
}

func (f *fakePair) node(i int) side            { return f.nodes[i] }
func (f *fakePair) kill(_ *testing.T, i int)   { f.nodes[i].srv.Kill() }
func (f *fakePair) stop(_ *testing.T, i int)   { f.nodes[i].srv.Stop() }
func (f *fakePair) cli(_ int, _ string) string { return "" }

// pair is a scenario's run on two nodes: a drive each.
type pair struct {
	t    *testing.T
	ps   pairSide
	a, b *drive
	rec  *recorder
}

func runPair(t *testing.T, sc trunkScenario, ps pairSide) [2]*diffRun {
	t.Helper()
	p := &pair{t: t, ps: ps}
	real := ps.node(0).name() == "real"
	if real && os.Getenv("ARI_RECORD") != "" {
		p.rec = createRecorder(t, sc.name)
		for i, n := range []string{"A", "B"} {
			u, _ := url.Parse(ps.node(i).base())
			p.rec.note("socket " + n + " = ws://" + u.Host + "/ari/events?app=callin: node " + n + "'s app socket, exactly as callin connects (no subscribeAll)")
		}
		p.rec.note("Recorded by ari/aritest's TestDifferentialTrunk (ARI_RECORD=1) on two pbxtest Asterisk 22.10.1 nodes joined by a SIP trunk " +
			"(pbxtest.NewCluster: endpoints nodeA/nodeB, context [callin-trunk] = Stasis(callin,trunk,<token>)), scenario " + sc.name + ": " + sc.note)
	}
	p.a = newDrive(t, ps.node(0), "A", p.rec)
	p.b = newDrive(t, ps.node(1), "B", p.rec)
	p.a.connect()
	p.b.connect()
	sc.run(p)
	out := [2]*diffRun{p.a.settle(), p.b.settle()}
	p.a.cleanup()
	p.b.cleanup()
	if p.rec != nil {
		p.rec.close()
	}
	return out
}

// note records what the scenario does next (recorder only).
func (p *pair) note(text string) {
	if p.rec != nil {
		p.rec.note(text)
	}
}

// cli records a CLI command's output on node i (recorder only, real only).
func (p *pair) cli(i int, name, cmd string) {
	if p.rec == nil {
		return
	}
	if out := p.ps.cli(i, cmd); out != "" {
		p.rec.data("cli:"+pbxtest.NodeName(i)+":"+name, out)
	}
}

// cross originates leg (on A) over the trunk to B with token, waits for the
// far leg's StasisStart on B (args trunk,<token>; named far-<token>), and
// returns the far leg's id; answer makes B's app answer it and waits for
// leg's StasisStart on A.
func (p *pair) cross(leg, token string, answer bool) string {
	p.t.Helper()
	a, b := p.a, p.b
	a.must(http.StatusOK, "POST", "channels", q("endpoint", ari.TrunkDial("B", token), "app", "callin",
		"appArgs", "morning,onair", "channelId", leg, "formats", "ulaw"))
	st := b.wait("the far leg's StasisStart", func(e wireEvent) bool {
		return e.Type == ari.TypeStasisStart && strings.Join(e.Args, ",") == ari.TrunkArg+","+token
	})
	far := st.Channel.ID
	b.alias(far, "far-"+token)
	if !answer {
		return far
	}
	b.must(http.StatusNoContent, "POST", "channels/"+far+"/answer", nil)
	a.wait("StasisStart of "+leg, on(ari.TypeStasisStart, leg))
	return far
}

// onAir is the promote of issue 24 across the trunk: caller (a dial-in on
// A, answered) and the trunk leg in mixing bridge x on A, the far leg in
// mixing bridge air on B. It returns the far leg's id.
func (p *pair) onAir(caller, leg, token string) string {
	p.t.Helper()
	p.a.bridge("x", "mixing")
	p.b.bridge("air", "mixing")
	p.a.answered(caller)
	far := p.cross(leg, token, true)
	p.b.join("air", far, "")
	p.a.join("x", caller, "")
	p.a.join("x", leg, "")
	return far
}

// quiet waits d, for something that must not happen (no event can say so),
// then makes sure every event sent before is in (sync).
func (p *pair) quiet(d *drive, wait time.Duration) {
	p.t.Helper()
	time.Sleep(wait)
	d.sync()
}

// legFact records the state of channel id on node d (GET /channels/{id}).
func (p *pair) legFact(d *drive, name, id string) {
	st, b := d.do("GET", "channels/"+id, nil, nil)
	state := ""
	if st == http.StatusOK {
		if i := strings.Index(string(b), `"state":"`); i >= 0 {
			state, _, _ = strings.Cut(string(b)[i+9:], `"`)
		}
	}
	d.fact(name, fmt.Sprintf("%d %s", st, state))
}

var trunkScenarios = []trunkScenario{
	{name: "TrunkCrossing", note: "a caller on A is put on air on B over the trunk, held back and put on air again (docs/multinode.md): the leg crosses, " +
		"B's app answers, the caller and the near leg share mixing bridge x on A, the far leg joins mixing bridge air on B; hold moves the caller to " +
		"holding bridge hold on A and A's app hangs the leg up; back on air with a new leg; then the caller hangs up (DELETE of its phone half) " +
		"and A's app hangs up the near leg",
		run: func(p *pair) {
			p.note("the crossing: originate on A to PJSIP/501@nodeB app=callin; B's app answers the far leg; bridges on both")
			far := p.onAir("c1", "tk1", "501")
			p.cli(0, "channelstats", "pjsip show channelstats")
			p.cli(1, "channelstats", "pjsip show channelstats")
			p.note("hold: the caller moves to A's holding bridge, A's app hangs up the near leg")
			p.a.bridge("hold", "holding")
			p.a.join("hold", "c1", "")
			p.a.must(http.StatusNoContent, "POST", "bridges/hold/moh", nil)
			p.a.hangup("tk1", "")
			p.a.wait("ChannelDestroyed of tk1", on(ari.TypeChannelDestroyed, "tk1"))
			p.b.wait("StasisEnd of the far leg", on(ari.TypeStasisEnd, far))
			p.note("back on air: a new leg crosses, the caller moves back to x")
			far = p.cross("tk1b", "511", true)
			p.b.join("air", far, "")
			p.a.join("x", "c1", "")
			p.a.join("x", "tk1b", "")
			p.note("the caller on A hangs up; A's app then hangs up the near leg; B sees the far leg end")
			p.a.must(http.StatusNoContent, "DELETE", "channels/ph-c1", nil)
			p.a.wait("StasisEnd of c1", on(ari.TypeStasisEnd, "c1"))
			p.a.hangup("tk1b", "")
			p.a.wait("ChannelDestroyed of tk1b", on(ari.TypeChannelDestroyed, "tk1b"))
			p.b.wait("StasisEnd of the far leg", on(ari.TypeStasisEnd, far))
		}},
	{name: "TrunkFarHangup", note: "the far leg on B is hung up by B's app while on air: what A's near leg sees",
		run: func(p *pair) {
			far := p.onAir("c2", "tk2", "502")
			p.note("B's app hangs up the far leg")
			p.b.hangup(far, "")
			p.a.wait("StasisEnd of tk2", on(ari.TypeStasisEnd, "tk2"))
			p.a.wait("ChannelDestroyed of tk2", on(ari.TypeChannelDestroyed, "tk2"))
			p.a.hangup("c2", "")
		}},
	{name: "TrunkNotAnswered",
		// A's CANCEL of tk3 reached the ringing far leg as
		// ChannelHangupRequest(16) in most runs and (127) in about one of
		// six; the fake sends 16. No other request in this scenario has
		// either cause.
		racy: []string{"ChannelHangupRequest(16)", "ChannelHangupRequest(127)"},
		note: "legs that never get answered: A's app hangs up a leg still ringing on B; B's app refuses (hangs up) " +
			"a ringing leg; a leg to B while B's app is not connected",
		run: func(p *pair) {
			far := p.cross("tk3", "503", false)
			p.note("A's app hangs up tk3 while B has not answered")
			p.a.must(http.StatusNoContent, "DELETE", "channels/tk3", nil)
			p.a.wait("ChannelDestroyed of tk3", on(ari.TypeChannelDestroyed, "tk3"))
			p.b.wait("StasisEnd of the far leg", on(ari.TypeStasisEnd, far))
			far = p.cross("tk4", "504", false)
			p.note("B's app hangs up the ringing far leg of tk4")
			p.b.hangup(far, "")
			p.a.wait("ChannelDestroyed of tk4", on(ari.TypeChannelDestroyed, "tk4"))
			far = p.cross("tk4b", "514", false)
			p.note("B's app hangs up the ringing far leg of tk4b with reason busy")
			p.b.hangup(far, "busy")
			p.a.wait("ChannelDestroyed of tk4b", on(ari.TypeChannelDestroyed, "tk4b"))
			p.note("B's socket closes (no channel left: the app is gone); A originates tk5 to B")
			p.b.closeSocket()
			p.b.waitAppGone()
			p.a.must(http.StatusOK, "POST", "channels", q("endpoint", ari.TrunkDial("B", "505"), "app", "callin",
				"appArgs", "morning,onair", "channelId", "tk5", "formats", "ulaw"))
			p.a.wait("ChannelDestroyed of tk5", on(ari.TypeChannelDestroyed, "tk5"))
			p.b.connect()
		}},
	{name: "TrunkCauses", note: "answered legs hung up with reason busy (17), by A's app and by B's app: which cause the other leg gets",
		run: func(p *pair) {
			far := p.cross("tk8", "508", true)
			p.note("A's app hangs up tk8 with reason busy")
			p.a.hangup("tk8", "busy")
			p.a.wait("ChannelDestroyed of tk8", on(ari.TypeChannelDestroyed, "tk8"))
			p.b.wait("StasisEnd of the far leg", on(ari.TypeStasisEnd, far))
			far = p.cross("tk9", "509", true)
			p.note("B's app hangs up the far leg of tk9 with reason busy")
			p.b.hangup(far, "busy")
			p.a.wait("ChannelDestroyed of tk9", on(ari.TypeChannelDestroyed, "tk9"))
		}},
	{name: "TrunkNodeKilled", fresh: true, note: "node B is killed (SIGKILL) while the leg is on air: what A's near leg sees, and when",
		run: func(p *pair) {
			p.onAir("c6", "tk6", "506")
			p.note("SIGKILL of node B")
			p.ps.kill(p.t, 1)
			p.b.down = true
			p.b.waitClosed()
			p.note("3 s later: A's near leg")
			p.quiet(p.a, 3*time.Second)
			p.legFact(p.a, "tk6 3 s after B's kill", "tk6")
			p.note("A's app hangs up the near leg")
			p.a.hangup("tk6", "")
			p.a.wait("ChannelDestroyed of tk6", on(ari.TypeChannelDestroyed, "tk6"))
			p.a.hangup("c6", "")
		}},
	{name: "TrunkNodeStopped", fresh: true, note: "node B is stopped cleanly (core stop now) while the leg is on air: what A's near leg sees",
		run: func(p *pair) {
			p.onAir("c7", "tk7", "507")
			p.note("core stop now on node B")
			p.ps.stop(p.t, 1)
			p.b.down = true
			p.a.wait("ChannelDestroyed of tk7", on(ari.TypeChannelDestroyed, "tk7"))
			p.b.waitClosed()
			p.legFact(p.a, "tk7 after B's stop", "tk7")
			p.a.hangup("c7", "")
		}},
}

// waitAppGone waits until GET /applications/callin answers 404 (the socket
// closed with no channel left; no event can say so).
func (d *drive) waitAppGone() {
	d.t.Helper()
	d.waitNotFound("applications/" + d.app)
}
