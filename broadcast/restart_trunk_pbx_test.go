package broadcast_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestRestartOnAirAcrossTrunkPBX: on two real Asterisks joined by a trunk,
// a caller held on B is on air in A's on-air bridge when callin restarts
// (its App stopped, a new one started on the same nodes). The new App
// finds the caller alone in a trunk bridge it does not know: it hangs up
// both trunk legs, puts the caller back on hold on B, where they hear B's
// music, in the line as waiting, and removes the bridge; no trunk leg is
// left on either node, the host stays on air, and the caller can be put
// on air again.
func TestRestartOnAirAcrossTrunkPBX(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	a, b := ps[0], ps[1]
	var log logBuf
	e := startCluster(t, ps, &log, nil, slog.LevelInfo)
	w := e.w("morning")
	hostOnAir(t, e, w, a)
	tr := joinOne(t, w, b)
	if c, err := e.app.Promote(ctx, "morning", tr.CallID, producer); err != nil || c.State != queue.StateOnAir {
		t.Fatalf("promote across the trunk: %+v %v", c, err)
	}
	if n := len(filterTrunk(channelNames(t, a))) + len(filterTrunk(channelNames(t, b))); n != 2 {
		t.Fatalf("%d trunk legs before the restart, want 2", n)
	}

	e.stop() // callin restarts: its App gone, the calls left as they were
	e2 := startCluster(t, ps, &log, nil, slog.LevelInfo)
	var callID string // a new id: no history store here to recall the old one
	deadline := time.Now().Add(15 * time.Second)
	for {
		snap, _ := e2.app.Snapshot("morning")
		trunks := append(filterTrunk(channelNames(t, a)), filterTrunk(channelNames(t, b))...)
		if len(snap.Lineup.Waiting) == 1 && len(snap.Lineup.OnAir) == 0 && len(trunks) == 0 && len(strayBridges(t, b)) == 0 {
			if c := snap.Lineup.Waiting[0]; c.ChannelID != tr.ChannelID || c.Node != "B" {
				t.Fatalf("readmitted %+v, want the caller's channel %s on B", c, tr.ChannelID)
			}
			callID = snap.Lineup.Waiting[0].ID
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: waiting %d, on air %d, trunk legs %v, trunk bridges on B %v; want the caller waiting, no leg, no bridge",
				len(snap.Lineup.Waiting), len(snap.Lineup.OnAir), trunks, strayBridges(t, b))
		}
		time.Sleep(50 * time.Millisecond) // the resync's moves and hang-ups; no event tells a test's own GET
	}
	if bs := holdBridges(t, b, "morning"); len(bs) != 1 || !contains(bs[0].Channels, tr.ChannelID) {
		t.Errorf("B's holding bridges %+v, want the caller in one", bs)
	}
	if h := hear(t, b.Listener(t), tr.ChannelID); h.Music() < 0.5 {
		t.Errorf("back on hold, the caller hears music in %.0f%% of the windows: %s", 100*h.Music(), h)
	}
	if names := channelNames(t, a); len(names) != 1 || !strings.HasPrefix(names[0], "PJSIP/phone1") {
		t.Errorf("A's channels %v, want the host's phone alone", names)
	}
	// On air again across the trunk, from the new App.
	if c, err := e2.app.Promote(ctx, "morning", callID, producer); err != nil || c.State != queue.StateOnAir {
		t.Fatalf("promote after the restart: %+v %v", c, err)
	}
	if h := hear(t, b.Listener(t), tr.ChannelID); h.Share(pbxtest.PhoneHz) < 0.5 {
		t.Errorf("on air again, the caller hears the host's tone in %.0f%% of the windows: %s", 100*h.Share(pbxtest.PhoneHz), h)
	}
}

// strayBridges lists the trunk bridges (callin-morning-x-…) on p.
func strayBridges(t *testing.T, p *pbxtest.PBX) []string {
	t.Helper()
	var out []string
	for _, br := range allBridges(t, p) {
		if strings.HasPrefix(br.ID, "callin-morning-x-") {
			out = append(out, br.ID)
		}
	}
	return out
}

// joinOne has one SIP caller dial the show on p, pressing 1, and returns
// their join.
func joinOne(t *testing.T, w *watcher, p *pbxtest.PBX) queue.Transition {
	t.Helper()
	p.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 1, PressOne: true})
	return w.next("caller joining", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin
	}).Transition
}

// hostOnAir puts a host's phone (PJSIP/phone1 on p, answering with
// pbxtest.PhoneHz) on air.
func hostOnAir(t *testing.T, e *env, w *watcher, p *pbxtest.PBX) {
	t.Helper()
	p.Phone(t, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, ToneHz: pbxtest.PhoneHz})
	host, err := e.app.JoinHost(context.Background(), "morning", "PJSIP/phone1")
	if err != nil {
		t.Fatal(err)
	}
	w.next("host on air", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateMedia && contains(u.Media.Hosts, host) })
}
