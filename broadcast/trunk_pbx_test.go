package broadcast_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// startCluster runs an App against a cluster of real Asterisks: show
// "morning" (5550100) with its studio on the first node and callers
// taken on every node.
func startCluster(t testing.TB, ps []*pbxtest.PBX, log *logBuf, change func(*broadcast.ShowConfig), level slog.Level, more ...func(*broadcast.Config)) *env {
	t.Helper()
	sc := showCfg("morning", ps[0].Node)
	sc.MOHClass = "callin"
	var nodes []broadcast.NodeConfig
	for _, p := range ps {
		sc.Nodes = append(sc.Nodes, p.Node)
		nodes = append(nodes, broadcast.NodeConfig{Name: p.Node, ARI: newClient(t, p.HTTP, p.User, p.Password), Events: fastEvents})
	}
	if change != nil {
		change(&sc)
	}
	cfg := broadcast.Config{
		Nodes: nodes, Shows: []broadcast.ShowConfig{sc}, NodeLostAfter: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: level})),
	}
	for _, f := range more {
		f(&cfg)
	}
	e := start(t, nil, cfg)
	w := e.w("morning")
	for up := map[string]bool{}; len(up) < len(ps); {
		up[w.next("nodes up", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateNode && u.Node.OK() }).Node.Node] = true
	}
	return e
}

// hear is what a channel on p hears for 1.5 s (see hearAll for the
// retries).
func hear(t *testing.T, l *pbxtest.Listener, chanID string) *pbxtest.Heard {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := l.Hear(ctx, chanID, 1500*time.Millisecond)
	for try := 1; err != nil && strings.Contains(err.Error(), "not in Stasis") && try < 10; try++ {
		h, err = l.Hear(ctx, chanID, 1500*time.Millisecond)
	}
	if err != nil {
		t.Fatalf("hearing %s: %v", chanID, err)
	}
	return h
}

// pbxChannel is a channel a real node lists.
type pbxChannel struct{ ID, Name string }

// listChannels lists the channels a real node has.
func listChannels(t *testing.T, p *pbxtest.PBX) []pbxChannel {
	t.Helper()
	code, body, err := p.Get(context.Background(), "/channels")
	if err != nil || code != 200 {
		t.Fatalf("GET /channels on %s: %d %v", p.Node, code, err)
	}
	var chans []pbxChannel
	if err := json.Unmarshal(body, &chans); err != nil {
		t.Fatal(err)
	}
	return chans
}

// channelNames lists the channels a real node has, by name.
func channelNames(t *testing.T, p *pbxtest.PBX) []string {
	t.Helper()
	var out []string
	for _, c := range listChannels(t, p) {
		out = append(out, c.Name)
	}
	return out
}

// TestOnAirAcrossTrunkPBX: on two real Asterisks joined by a trunk, a SIP
// caller held on B is put on air in A's on-air bridge with the host's
// phone on A: the host hears the caller's tone and the caller the host's
// (by sound); held back, the caller hears the music on B; dropped with
// goodbye, the caller hears it; no trunk leg or caller's channel is left
// on either node.
func TestOnAirAcrossTrunkPBX(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	a, b := ps[0], ps[1]
	if err := b.Sound("callin-test-bye", 1400, 4*time.Second); err != nil {
		t.Fatal(err)
	}
	a.Phone(t, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, ToneHz: pbxtest.PhoneHz})
	var log logBuf
	e := startCluster(t, ps, &log, func(sc *broadcast.ShowConfig) { sc.Media.Goodbye = []string{"sound:callin-test-bye"} }, slog.LevelInfo)
	w := e.w("morning")
	host, err := e.app.JoinHost(ctx, "morning", "PJSIP/phone1")
	if err != nil {
		t.Fatal(err)
	}
	w.next("host on air", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateMedia && contains(u.Media.Hosts, host) })
	b.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 1, PressOne: true})
	tr := w.next("caller joining", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin
	}).Transition
	if tr.Node != "B" {
		t.Fatalf("caller joined on %q, want B", tr.Node)
	}
	start := time.Now()
	if c, err := e.app.Promote(ctx, "morning", tr.CallID, producer); err != nil || c.State != queue.StateOnAir {
		t.Fatalf("promote across the trunk: %+v %v", c, err)
	}
	t.Logf("promote across the trunk answered in %v", time.Since(start).Round(time.Millisecond))
	la, lb := a.Listener(t), b.Listener(t)
	if h := hear(t, la, host); h.Share(440) < 0.5 {
		t.Errorf("the host hears the caller's tone in %.0f%% of the windows: %s", 100*h.Share(440), h)
	}
	if h := hear(t, lb, tr.ChannelID); h.Share(pbxtest.PhoneHz) < 0.5 {
		t.Errorf("the caller hears the host's tone in %.0f%% of the windows: %s", 100*h.Share(pbxtest.PhoneHz), h)
	}
	if c, err := e.app.Hold(ctx, "morning", tr.CallID, producer); err != nil || c.State != queue.StateWaiting {
		t.Fatalf("hold: %+v %v", c, err)
	}
	if h := hear(t, lb, tr.ChannelID); h.Music() < 0.5 {
		t.Errorf("held back, the caller hears music in %.0f%% of the windows: %s", 100*h.Music(), h)
	}
	for _, p := range ps {
		for _, name := range channelNames(t, p) {
			if strings.HasPrefix(name, "PJSIP/node") {
				t.Errorf("trunk leg %s left on %s after the hold", name, p.Node)
			}
		}
	}
	if _, err := e.app.Promote(ctx, "morning", tr.CallID, producer); err != nil {
		t.Fatal(err)
	}
	heard := make(chan *pbxtest.Heard, 1)
	go func() {
		h, err := lb.Hear(ctx, tr.ChannelID, 1500*time.Millisecond)
		if err != nil {
			t.Logf("hearing the goodbye: %v", err)
		}
		heard <- h
	}()
	time.Sleep(300 * time.Millisecond) // the snoop starts before the goodbye (4 s long) has played a second
	if c, err := e.app.Drop(ctx, "morning", tr.CallID, producer, broadcast.DropOptions{Goodbye: true}); err != nil || c.Outcome != queue.OutcomeAired {
		t.Fatalf("drop: %+v %v", c, err)
	}
	if h := <-heard; h == nil || h.Share(1400) < 0.3 {
		t.Errorf("the caller did not hear the goodbye: %v", h)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := append(channelNames(t, b), filterTrunk(channelNames(t, a))...)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("channels left after the drop: %v", left)
		}
		time.Sleep(50 * time.Millisecond) // no event tells a test's own GET
	}
}

func filterTrunk(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, "PJSIP/node") {
			out = append(out, n)
		}
	}
	return out
}

// TestTalkbackAcrossNodesPBX: on two real Asterisks, a producer's live
// talkback on A (PJSIP/phone1, 1000 Hz) is heard, by sound, by callers in
// both of B's holding bridges (the trunk leg is B's first bridge's
// announcer, a relay carries it to the second); stopped, they hear music
// again and no trunk leg is left.
func TestTalkbackAcrossNodesPBX(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	a, b := ps[0], ps[1]
	a.Phone(t, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, ToneHz: pbxtest.PhoneHz})
	var log logBuf
	e := startCluster(t, ps, &log, func(sc *broadcast.ShowConfig) { sc.HoldBridgeSize = 1 }, slog.LevelInfo)
	w := e.w("morning")
	b.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 2, Rate: 10, PressOne: true})
	for range 2 {
		w.next("callers joining", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin
		})
	}
	bridges := holdBridges(t, b, "morning")
	if len(bridges) != 2 {
		t.Fatalf("B's holding bridges %+v, want 2 of 1", bridges)
	}
	if err := e.app.StartTalkback(ctx, "morning", broadcast.TalkbackOptions{Endpoint: "PJSIP/phone1"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		snap, _ := e.app.Snapshot("morning")
		if snap.Nodes[1].TalkbackBridges == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the talkback does not reach B's bridges: %+v", snap.Nodes)
		}
		time.Sleep(20 * time.Millisecond) // UpdateLoad says it too; the watcher's buffer is the callers'
	}
	lb := b.Listener(t)
	shares, what := hearAll(t, lb, bridges, producerShare)
	for i, s := range shares {
		if s < 0.5 {
			t.Errorf("%s on B hears the producer in %.0f%% of the windows: %s", bridges[i].ID, 100*s, what[i])
		}
	}
	if err := e.app.StopTalkback(ctx, "morning"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		snap, _ := e.app.Snapshot("morning")
		if !snap.Nodes[1].Talkback && snap.Nodes[1].Music {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's talkback not over with music: %+v", snap.Nodes)
		}
		time.Sleep(20 * time.Millisecond)
	}
	shares, what = hearAll(t, lb, holdBridges(t, b, "morning"), (*pbxtest.Heard).Music)
	for i, s := range shares {
		if s < 0.5 {
			t.Errorf("after the stop, B's caller %d hears music in %.0f%% of the windows: %s", i, 100*s, what[i])
		}
	}
	for _, p := range ps {
		if legs := filterTrunk(channelNames(t, p)); len(legs) != 0 {
			t.Errorf("trunk legs left on %s: %v", p.Node, legs)
		}
	}
}
