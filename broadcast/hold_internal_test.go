package broadcast

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// bridgeMaker is a Telephony that creates and destroys bridges and starts
// music, and records what it was asked; anything else panics (the holding
// part must ask for nothing else here).
type bridgeMaker struct {
	Telephony
	mu      sync.Mutex
	created []string
	moh     []string
}

func (b *bridgeMaker) CreateBridge(_ context.Context, id, _, _ string) (*ari.Bridge, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.created = append(b.created, id)
	return &ari.Bridge{ID: id}, nil
}

func (b *bridgeMaker) StartBridgeMOH(_ context.Context, id, _ string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.moh = append(b.moh, id)
	return nil
}

// newTestHolding is the holding part of a show "s" whose holding bridges
// take size callers, on a node up on tel; the App does not run (jobs
// queue up unrun).
func newTestHolding(t *testing.T, tel Telephony, size int) *holding {
	t.Helper()
	a, err := New(Config{Nodes: []NodeConfig{{Name: "n1", ARI: tel}},
		Shows: []ShowConfig{{Config: queue.Config{Key: "s", Node: "n1", LinesOpen: true}, HoldBridgeSize: size}}})
	if err != nil {
		t.Fatal(err)
	}
	n := a.nodeMap()["n1"]
	n.health.State = NodeUp
	return a.shows["s"].studioHold()
}

// TestHoldingPool: callers fill the least filled bridge with room, a new
// bridge is made when all are full, joins owe the bridge its music, and an
// emptied bridge beyond the first leaves the pool (the first stays).
func TestHoldingPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tel := &bridgeMaker{}
	hm := newTestHolding(t, tel, 2)
	if !hm.isHold("callin-s-hold") || !hm.isHold("callin-s-hold-2") || hm.isHold("callin-s-hold-1") || hm.isHold("callin-s-hold-02") {
		t.Error("isHold: want the first bridge and -2, -3... only")
	}
	var got []string
	for _, ch := range []string{"c1", "c2", "c3"} {
		b, err := hm.pickHold(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		hm.holdChanged(b.id, ch, true)
		hm.joined(b, ch, true)
		got = append(got, b.id)
	}
	if want := []string{"callin-s-hold", "callin-s-hold", "callin-s-hold-2"}; !slices.Equal(got, want) {
		t.Errorf("picked %v, want %v", got, want)
	}
	if !slices.Equal(tel.created, []string{"callin-s-hold-2"}) {
		t.Errorf("created %v, want the second bridge only", tel.created)
	}
	hm.ensureMusic(ctx)
	slices.Sort(tel.moh)
	if !slices.Equal(tel.moh, []string{"callin-s-hold", "callin-s-hold-2"}) {
		t.Errorf("music started in %v, want both bridges", tel.moh)
	}
	hm.mu.Lock()
	m := hm.media()
	hm.mu.Unlock()
	if !m.Music || m.HoldMembers != 3 || m.HoldBridges != 2 {
		t.Errorf("media %+v, want music, 3 members in 2 bridges", m)
	}
	hm.holdChanged("callin-s-hold-2", "c3", false)
	hm.holdChanged("callin-s-hold", "c1", false)
	hm.holdChanged("callin-s-hold", "c2", false)
	hm.mu.Lock()
	ids := hm.holdIDs()
	hm.mu.Unlock()
	if !slices.Equal(ids, []string{"callin-s-hold"}) {
		t.Errorf("pool %v after everyone left, want the first bridge only", ids)
	}
	if hm.node.bridgeShow("callin-s-hold-2") != nil {
		t.Error("the removed bridge is still indexed by the node")
	}
}

// TestHoldingTalkbackKinds: a message is over when its last playback has
// finished, each playback's bridge getting its music back; a live line
// reaches the first bridge once joined and each bridge whose relay is
// live, speaks through its line and relays' far halves, and ends with its
// line, its relays hung up.
func TestHoldingTalkbackKinds(t *testing.T) {
	t.Parallel()
	hm := newTestHolding(t, &bridgeMaker{}, 2)
	hm.mu.Lock()
	second := hm.newPoolBridge()
	close(second.ready)
	msg := &messageTalkback{playbacks: map[string]string{"p1": hm.first, "p2": second.id}}
	hm.talkback = msg
	hm.holdByID[hm.first].heldBy, second.heldBy = "p1", "p2"
	hm.mu.Unlock()
	if msg.reach() != 2 || !hm.speaksThrough("p1") || hm.speaksThrough("x") {
		t.Errorf("message: reach %d, want 2, speaking through its playbacks only", msg.reach())
	}
	hm.playbackEnded("p1")
	hm.mu.Lock()
	on, held := hm.talkback != nil, hm.holdByID[hm.first].heldBy
	hm.mu.Unlock()
	if !on || held != "" || msg.reach() != 1 {
		t.Errorf("after one playback: on %t, first bridge held by %q, reach %d; want on, freed, 1", on, held, msg.reach())
	}
	hm.playbackEnded("p2")
	hm.mu.Lock()
	on = hm.talkback != nil
	hm.mu.Unlock()
	if on {
		t.Error("the message is still on after its last playback")
	}

	lt := &liveTalkback{line: "callin-tb-1", relays: map[string]*relay{
		second.id: {bridge: second.id, near: "callin-tbr-1", far: "callin-tbr-1-far"}}}
	hm.mu.Lock()
	hm.talkback = lt
	hm.mu.Unlock()
	if lt.reach() != 0 {
		t.Errorf("reach %d before the line joined, want 0", lt.reach())
	}
	lt.joined = true
	lt.relays[second.id].live = true
	if lt.reach() != 2 || !lt.speaksThrough("callin-tb-1") || !lt.speaksThrough("callin-tbr-1-far") || lt.speaksThrough("callin-tbr-1") {
		t.Errorf("live: reach %d, want 2, speaking through the line and the far half only", lt.reach())
	}
	hm.lineEnded("other-line") // not its line: nothing ends
	hm.mu.Lock()
	on = hm.talkback != nil
	hm.mu.Unlock()
	if !on {
		t.Fatal("another line's end ended the talkback")
	}
	jobs := len(hm.s.app.jobs)
	hm.lineEnded("callin-tb-1")
	hm.mu.Lock()
	on = hm.talkback != nil
	hm.mu.Unlock()
	if on || len(hm.s.app.jobs) != jobs+1 {
		t.Errorf("after the line ended: on %t, %d hang-up jobs; want off, one relay hung up", on, len(hm.s.app.jobs)-jobs)
	}
}
