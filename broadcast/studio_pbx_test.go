package broadcast_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestStudioLostPBX: on two real Asterisks, the studio A killed, the show
// says its studio is lost and B's caller keeps its music; B named the
// studio (SetStudio), a host phone on B joins the on-air bridge created
// there and B's caller, promoted, is heard by the host and hears the
// host (by sound).
func TestStudioLostPBX(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	a, b := ps[0], ps[1]
	b.Phone(t, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, ToneHz: pbxtest.PhoneHz})
	var log logBuf
	e := startCluster(t, ps, &log, nil, slog.LevelInfo)
	w := e.w("morning")
	b.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 1, PressOne: true})
	tr := w.next("caller joining", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin
	}).Transition
	if tr.Node != "B" {
		t.Fatalf("caller joined on %q, want B", tr.Node)
	}

	start := time.Now()
	if err := a.Kill(); err != nil {
		t.Fatal(err)
	}
	lost := w.next("studio lost", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateStudio && u.Studio.Lost })
	t.Logf("studio %+v lost %v after the kill", lost.Studio, time.Since(start).Round(time.Millisecond))
	if _, err := e.app.Promote(ctx, "morning", tr.CallID, producer); err == nil {
		t.Error("promote with the studio lost succeeded")
	}
	lb := b.Listener(t)
	if h := hear(t, lb, tr.ChannelID); h.Music() < 0.5 {
		t.Errorf("with the studio lost, B's caller hears music in %.0f%% of the windows: %s", 100*h.Music(), h)
	}

	if err := e.app.SetStudio(ctx, "morning", "B"); err != nil {
		t.Fatal(err)
	}
	if snap, _ := e.app.Snapshot("morning"); snap.Studio != (broadcast.StudioState{Node: "B", State: broadcast.NodeUp}) {
		t.Errorf("studio after SetStudio: %+v", snap.Studio)
	}
	host, err := e.app.JoinHost(ctx, "morning", "PJSIP/phone1")
	if err != nil {
		t.Fatal(err)
	}
	w.next("host on air", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateMedia && contains(u.Media.Hosts, host) })
	if c, err := e.app.Promote(ctx, "morning", tr.CallID, producer); err != nil || c.State != queue.StateOnAir {
		t.Fatalf("promote on the new studio: %+v %v", c, err)
	}
	if h := hear(t, lb, host); h.Share(440) < 0.5 {
		t.Errorf("the host on B hears the caller's tone in %.0f%% of the windows: %s", 100*h.Share(440), h)
	}
	if h := hear(t, lb, tr.ChannelID); h.Share(pbxtest.PhoneHz) < 0.5 {
		t.Errorf("the caller hears the host's tone in %.0f%% of the windows: %s", 100*h.Share(pbxtest.PhoneHz), h)
	}
	if t.Failed() {
		t.Logf("callin's studio log: %q", log.lines("studio"))
	}
}
