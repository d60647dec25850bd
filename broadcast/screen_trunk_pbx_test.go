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

// channelID is the id of the channel on a real node whose name begins
// with prefix ("" if none).
func channelID(t *testing.T, p *pbxtest.PBX, prefix string) string {
	t.Helper()
	for _, c := range listChannels(t, p) {
		if strings.HasPrefix(c.Name, prefix) {
			return c.ID
		}
	}
	return ""
}

// TestScreenAcrossTrunkPBX: on two real Asterisks joined by a trunk, a SIP
// caller held on B is screened by a screener's phone (PJSIP/phone1, 1000
// Hz) rung from the studio A: the phone hears the caller's tone and the
// caller the phone's (by sound); Ready puts the caller back on hold on B
// (music), and no channel is left on A.
func TestScreenAcrossTrunkPBX(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	a, b := ps[0], ps[1]
	a.Phone(t, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, ToneHz: pbxtest.PhoneHz})
	var log logBuf
	e := startCluster(t, ps, &log, func(sc *broadcast.ShowConfig) {
		sc.ScreenerEndpoints = map[string]string{"sam": "PJSIP/phone1"}
	}, slog.LevelInfo)
	w := e.w("morning")
	b.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 1, PressOne: true})
	tr := w.next("caller joining", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin
	}).Transition
	if tr.Node != "B" {
		t.Fatalf("caller joined on %q, want B", tr.Node)
	}
	if c, err := e.app.Screen(ctx, "morning", tr.CallID, producer, "sam"); err != nil || c.Pending != queue.ActionScreen {
		t.Fatalf("screen: %+v %v", c, err)
	}
	if sc := w.screened(tr.CallID); sc.State != broadcast.ScreenAnswered {
		t.Fatalf("screening %+v, want answered; log: %v", sc, log.lines("broadcast"))
	}
	phone := channelID(t, a, "PJSIP/phone1")
	if phone == "" {
		t.Fatalf("no phone channel on A: %v", channelNames(t, a))
	}
	la, lb := a.Listener(t), b.Listener(t)
	if h := hear(t, la, phone); h.Share(440) < 0.5 {
		t.Errorf("the screener hears the caller's tone in %.0f%% of the windows: %s", 100*h.Share(440), h)
	}
	if h := hear(t, lb, tr.ChannelID); h.Share(pbxtest.PhoneHz) < 0.5 {
		t.Errorf("the caller hears the screener's tone in %.0f%% of the windows: %s", 100*h.Share(pbxtest.PhoneHz), h)
	}
	if c, err := e.app.Ready(ctx, "morning", tr.CallID, producer, queue.Notes{Name: "Kim"}); err != nil || c.State != queue.StateReady {
		t.Fatalf("ready: %+v %v", c, err)
	}
	if h := hear(t, lb, tr.ChannelID); h.Music() < 0.5 {
		t.Errorf("ready, the caller hears music in %.0f%% of the windows: %s", 100*h.Music(), h)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) { // no event tells a test's own GET
		left := append(channelNames(t, a), filterTrunk(channelNames(t, b))...)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("channels left after Ready: %v", left)
		}
	}
}
