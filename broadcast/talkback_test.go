package broadcast_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
)

// hearsLine waits until the caller hears line (the producer) and no music.
func hearsLine(t testing.TB, c *aritest.Call, line string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, ok := c.State()
		if ok && st.HearsLine == line && !st.HearsMusic {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("caller %s (in %q) hears %q, music %t; want the line %s alone", c.ID(), st.Bridge, st.HearsLine, st.HearsMusic, line)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// relays lists the talkback relay halves the fake has.
func relays(srv *aritest.Server, bridges ...string) []string {
	var ids []string
	for _, b := range bridges {
		chans, _ := srv.BridgeChannels(b)
		for _, id := range chans {
			if strings.HasPrefix(id, "callin-tbr-") {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func poolIDs(n int) []string {
	ids := []string{holdID("show1")}
	for i := 2; i <= n; i++ {
		ids = append(ids, holdID("show1")+"-"+string(rune('0'+i)))
	}
	return ids
}

// waitReach waits until n holding bridges hear the talkback, and says
// what each bridge holds when they do not.
func waitReach(t testing.TB, e *env, srv *aritest.Server, n int, bridges []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		snap, _ := e.app.Snapshot("show1")
		if snap.Media.TalkbackBridges == n {
			return
		}
		if time.Now().After(deadline) {
			var state []string
			for _, b := range bridges {
				chans, _ := srv.BridgeChannels(b)
				for _, id := range chans {
					st, _ := srv.Channel(id)
					state = append(state, b+":"+id+"/"+st.Role)
				}
				state = append(state, b+fmt.Sprintf(" music=%t", srv.BridgeMusicPlaying(b)))
			}
			t.Fatalf("the talkback reaches %d bridges of %d, want %d:\n%s", snap.Media.TalkbackBridges, snap.Media.HoldBridges, n, strings.Join(state, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitRelaysGone waits until no relay half is left in the pool's bridges.
func waitRelaysGone(t testing.TB, srv *aritest.Server, bridges []string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for len(relays(srv, bridges...)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("relays still bridged: %v", relays(srv, bridges...))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// poolOfTwos starts a show held in bridges of two (cfg's shows are
// replaced) and places n callers.
func poolOfTwos(t *testing.T, srv *aritest.Server, cfg broadcast.Config, n int) (*env, *watcher, []*aritest.Call) {
	t.Helper()
	sc := showCfg("show1", "n1")
	sc.HoldBridgeSize = 2
	cfg.Shows = []broadcast.ShowConfig{sc}
	e := start(t, srv, cfg)
	w := e.w("show1")
	w.nodeUp()
	return e, w, placeCalls(t, srv, w, "show1", n)
}

// TestTalkbackLiveReachesPool: a producer's live line reaches every holding
// bridge of the pool, not only the first: it is the first bridge's
// announcer, and a relay (a Local pair through [callin-talkback]) carries
// it to each other bridge, made when the producer answers or when a bridge
// is added meanwhile. Every waiting caller hears the producer and no music;
// callers are counted as they were; once the talkback ends the relays are
// gone and every bridge plays its music again.
func TestTalkbackLiveReachesPool(t *testing.T) {
	t.Parallel()
	for _, end := range []string{"stop", "producer-hangs-up"} {
		t.Run(end, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := newFake(t, aritest.Options{})
			e, w, calls := poolOfTwos(t, srv, broadcast.Config{Phones: phones{"pat": "PJSIP/pat"}}, 5) // bridges of 2, 2 and 1
			for _, c := range calls {
				waitMusic(t, c)
			}
			must(t, e.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{User: "pat", By: "Pat"}))
			u := w.next("the line in every bridge", func(u broadcast.Update) bool {
				return u.Kind == broadcast.UpdateMedia && u.Media.TalkbackBridges == 3
			})
			line := u.Media.TalkbackLine
			if u.Media.TalkbackBy != "Pat" {
				t.Errorf("the talkback is by %q, want Pat (who started it)", u.Media.TalkbackBy)
			}
			if st, _ := srv.Channel(line); st.Bridge != holdID("show1") || st.Role != "announcer" {
				t.Errorf("producer's line in %q as %q, want the first holding bridge's announcer", st.Bridge, st.Role)
			}
			for _, c := range calls {
				hearsLine(t, c, line)
			}
			if snap, _ := e.app.Snapshot("show1"); snap.Media.HoldMembers != 5 || snap.Media.HoldBridges != 3 || snap.Media.Music {
				t.Errorf("media %+v, want 5 callers in 3 bridges, no music", snap.Media)
			}

			// Two callers who arrive now fill the third bridge and a fourth,
			// new one: the line reaches it.
			late := []*aritest.Call{}
			for _, n := range []string{"5550098", "5550099"} {
				c, _ := dial(t, srv, w, "show1", n)
				late = append(late, c)
			}
			waitReach(t, e, srv, 4, poolIDs(4))
			for _, c := range late {
				hearsLine(t, c, line)
			}

			if end == "stop" {
				must(t, e.app.StopTalkback(ctx, "show1"))
			} else {
				ph, ok := srv.Caller(line)
				if !ok {
					t.Fatal("no handle on the producer's phone")
				}
				must(t, ph.Hangup(16))
			}
			w.music(true)
			waitRelaysGone(t, srv, poolIDs(4))
			for _, c := range append(calls, late...) {
				waitMusic(t, c)
			}
			for _, b := range poolIDs(4) {
				if !srv.BridgeMusicPlaying(b) {
					t.Errorf("bridge %s has no music after the talkback", b)
				}
			}
			if snap, _ := e.app.Snapshot("show1"); snap.Media.HoldMembers != 7 || snap.Media.Talkback || snap.Stats.Waiting != 7 {
				t.Errorf("after the talkback: media %+v, %d waiting; want 7 callers, no talkback", snap.Media, snap.Stats.Waiting)
			}
		})
	}
}

// TestTalkbackRelayLost: a bridge whose relay cannot be made (Asterisk has
// no [callin-talkback]) keeps its music while the first bridge hears the
// producer; a relay that Asterisk ends mid-talkback gives its bridge its
// music back at once, and the talkback goes on in the others.
func TestTalkbackRelayLost(t *testing.T) {
	t.Parallel()
	t.Run("no-dialplan", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		dp := aritest.DefaultDialplan()
		delete(dp, "s@callin-talkback")
		srv := newFake(t, aritest.Options{Dialplan: dp})
		e, w, calls := poolOfTwos(t, srv, broadcast.Config{}, 4)
		for _, c := range calls {
			waitMusic(t, c)
		}
		before := srv.ChannelCount()
		must(t, e.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{Endpoint: "PJSIP/prod1"}))
		u := w.next("the line on", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateMedia && u.Media.TalkbackLine != "" })
		// The relay's pair is destroyed at once: wait until only the line
		// was added to the callers' channels.
		for deadline := time.Now().Add(2 * time.Second); srv.ChannelCount() != before+1; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d channels, want %d", srv.ChannelCount(), before+1)
			}
		}
		heard, music := 0, 0
		for _, c := range calls {
			st, _ := c.State()
			switch {
			case st.HearsLine == u.Media.TalkbackLine && !st.HearsMusic:
				heard++
			case st.HearsMusic && st.HearsLine == "":
				music++
			}
		}
		if heard != 2 || music != 2 {
			t.Errorf("%d callers hear the line and %d music, want 2 and 2", heard, music)
		}
		if snap, _ := e.app.Snapshot("show1"); snap.Media.TalkbackBridges != 1 || snap.Media.HoldBridges != 2 {
			t.Errorf("media %+v, want the talkback in 1 of 2 bridges", snap.Media)
		}
		must(t, e.app.StopTalkback(ctx, "show1"))
		w.music(true)
		for _, c := range calls {
			waitMusic(t, c)
		}
	})
	t.Run("relay-ends", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		srv := newFake(t, aritest.Options{})
		e, w, calls := poolOfTwos(t, srv, broadcast.Config{}, 6)
		must(t, e.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{Endpoint: "PJSIP/prod1"}))
		u := w.next("the line in every bridge", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateMedia && u.Media.TalkbackBridges == 3
		})
		third := poolIDs(3)[2]
		var far string
		for _, id := range relays(srv, third) {
			far = id
		}
		fc, ok := srv.Caller(far)
		if !ok {
			t.Fatalf("no relay in %s", third)
		}
		must(t, fc.Hangup(16)) // Asterisk ends the relay's far half
		w.next("the relay gone", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateMedia && u.Media.Talkback && u.Media.TalkbackBridges == 2
		})
		byBridge := map[string]int{}
		for _, c := range calls {
			st, _ := c.State()
			if st.Bridge == third {
				waitMusic(t, c)
				byBridge[third]++
				continue
			}
			hearsLine(t, c, u.Media.TalkbackLine)
			byBridge[st.Bridge]++
		}
		if len(byBridge) != 3 {
			t.Errorf("callers by bridge %v, want 3 bridges", byBridge)
		}
		waitRelaysGone(t, srv, []string{third})
		if len(relays(srv, poolIDs(3)...)) != 2 { // the second bridge's pair: near in the first, far in the second
			t.Errorf("relay halves %v, want the second bridge's pair", relays(srv, poolIDs(3)...))
		}
		must(t, e.app.StopTalkback(ctx, "show1"))
		w.music(true)
		waitRelaysGone(t, srv, poolIDs(3))
		for _, c := range calls {
			waitMusic(t, c)
		}
	})
}

// TestTalkbackAfterRestart: callin restarts while a producer speaks to a
// pool of three bridges. The new service hangs up the line and its relays
// (nobody could stop them), counts only callers in the bridges, and every
// bridge gets its music back once its announcer has gone.
func TestTalkbackAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	client := newClient(t, srv.URL(), srv.User(), srv.Password())
	nodes := []broadcast.NodeConfig{{Name: "n1", ARI: client, Events: fastEvents}}
	sc := showCfg("show1", "n1")
	sc.HoldBridgeSize = 2
	shows := []broadcast.ShowConfig{sc}
	e1 := start(t, srv, broadcast.Config{Nodes: nodes, Shows: shows})
	w1 := e1.w("show1")
	w1.nodeUp()
	calls := placeCalls(t, srv, w1, "show1", 5)
	must(t, e1.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{Endpoint: "PJSIP/prod1"}))
	u := w1.next("the line in every bridge", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateMedia && u.Media.TalkbackBridges == 3
	})
	if n := len(relays(srv, poolIDs(3)...)); n != 4 {
		t.Fatalf("%d relay halves, want 4", n)
	}
	e1.stop()

	e2 := start(t, srv, broadcast.Config{Nodes: nodes, Shows: shows, Recall: recallFrom(e1.sink.all())})
	e2.w("show1").nodeUp()
	waitRelaysGone(t, srv, poolIDs(3))
	for _, c := range calls {
		waitMusic(t, c)
	}
	if _, ok := srv.Channel(u.Media.TalkbackLine); ok {
		t.Error("the producer's line is still up")
	}
	snap, _ := e2.app.Snapshot("show1")
	if snap.Media.HoldMembers != 5 || snap.Media.Talkback || len(snap.Lineup.Waiting) != 5 {
		t.Errorf("after the restart: media %+v, %d waiting; want 5 callers, no talkback", snap.Media, len(snap.Lineup.Waiting))
	}
}

// TestTalkbackEndsDuringSetup: the producer hangs up while the line and its
// relays are still being set up, at many different moments. Whatever was
// set up goes, and every bridge gets its music back: none is left silent
// by a relay that stopped its music after the talkback had ended.
func TestTalkbackEndsDuringSetup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	e, _, calls := poolOfTwos(t, srv, broadcast.Config{}, 6)
	for round := range 30 {
		// The fake runs 100 times fast: 0.05 to 1.5 ms after the answer.
		srv.SetPhone("PJSIP/prod1", aritest.Phone{HangupAfter: time.Duration(round+1) * 5 * time.Millisecond})
		for _, c := range calls {
			waitMusic(t, c)
		}
		m := watch(t, e.app, "show1")
		must(t, e.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{Endpoint: "PJSIP/prod1"}))
		// Media updates from the last round's tail (a relay's bridge getting
		// its music back) can reach m before this round's start: skip them.
		m.next("the talkback on", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateMedia && u.Media.Talkback })
		m.next("the talkback over", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateMedia && !u.Media.Talkback })
		waitRelaysGone(t, srv, poolIDs(3))
		for _, c := range calls {
			waitMusic(t, c)
		}
		for _, b := range poolIDs(3) {
			if !srv.BridgeMusicPlaying(b) {
				t.Fatalf("round %d: bridge %s has no music", round, b)
			}
		}
	}
}

// TestTalkbackSurvivesReconnect: the event connection drops while a
// producer speaks to three bridges, and Asterisk ends one relay in the gap
// (its events lost). After the resync the talkback goes on in the bridges
// that still hear it, the one whose relay went gets its music back, and a
// stop brings the music back everywhere.
func TestTalkbackSurvivesReconnect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	p := newProxy(t, srv.URL()[len("http://"):])
	e, w, calls := poolOfTwos(t, srv, broadcast.Config{Nodes: []broadcast.NodeConfig{
		{Name: "n1", ARI: newClient(t, p.url(), srv.User(), srv.Password()), Events: fastEvents}}}, 5)
	must(t, e.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{Endpoint: "PJSIP/prod1"}))
	waitReach(t, e, srv, 3, poolIDs(3))
	third := poolIDs(3)[2]
	var far string
	for _, id := range relays(srv, third) {
		far = id
	}

	p.pause(true)
	p.cut()
	w.next("node down", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.State == broadcast.NodeDown
	})
	must(t, srv.WaitApp(ctx, "callin", false))
	fc, ok := srv.Caller(far)
	if !ok {
		t.Fatalf("no relay in %s", third)
	}
	must(t, fc.Hangup(16)) // nobody hears of it
	p.pause(false)
	w.nodeUp()

	waitReach(t, e, srv, 2, poolIDs(3))
	line := ""
	if snap, _ := e.app.Snapshot("show1"); snap.Media.Talkback {
		line = snap.Media.TalkbackLine
	}
	for _, c := range calls {
		if st, _ := c.State(); st.Bridge == third {
			waitMusic(t, c)
		} else {
			hearsLine(t, c, line)
		}
	}
	must(t, e.app.StopTalkback(ctx, "show1"))
	waitRelaysGone(t, srv, poolIDs(3))
	for _, c := range calls {
		waitMusic(t, c)
	}
}

// TestTalkbackAnnouncerRefused: Asterisk can refuse the line or a relay as
// a holding bridge's announcer right after DELETE /moh, while the music's
// announcer is still leaving (trace 19r; the fake's AnnouncerRace models
// it). A refused join is tried again, and the talkback reaches every
// bridge; one refused past every try is given up with a log line saying
// why, the line is hung up and the music comes back.
func TestTalkbackAnnouncerRefused(t *testing.T) {
	t.Parallel()
	t.Run("retried", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		srv := newFake(t, aritest.Options{AnnouncerRace: 2})
		var log logBuf
		e, w, calls := poolOfTwos(t, srv, broadcast.Config{Logger: slog.New(slog.NewTextHandler(&log, nil))}, 5)
		for _, c := range calls {
			waitMusic(t, c)
		}
		must(t, e.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{Endpoint: "PJSIP/prod1"}))
		u := w.next("the line in every bridge", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateMedia && u.Media.TalkbackBridges == 3
		})
		for _, c := range calls {
			hearsLine(t, c, u.Media.TalkbackLine)
		}
		// The line and both relays, each refused twice.
		if n := len(log.lines("trying again")); n != 6 {
			t.Errorf("%d retries logged, want 6:\n%s", n, strings.Join(log.lines("talkback"), "\n"))
		}
		must(t, e.app.StopTalkback(ctx, "show1"))
		w.music(true)
		waitRelaysGone(t, srv, poolIDs(3))
		for _, c := range calls {
			waitMusic(t, c)
		}
	})
	t.Run("gave-up", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		srv := newFake(t, aritest.Options{AnnouncerRace: 100})
		var log logBuf
		e, w, calls := poolOfTwos(t, srv, broadcast.Config{Logger: slog.New(slog.NewTextHandler(&log, nil))}, 3)
		for _, c := range calls {
			waitMusic(t, c)
		}
		before := srv.ChannelCount()
		must(t, e.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{Endpoint: "PJSIP/prod1"}))
		w.next("the talkback over", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateMedia && !u.Media.Talkback
		})
		w.music(true)
		for _, c := range calls {
			waitMusic(t, c)
		}
		gave := log.lines("gave up")
		if len(gave) != 1 || !strings.Contains(gave[0], "Bridge already has one") || !strings.Contains(gave[0], "tries=6") {
			t.Errorf("give-up lines %q, want one saying why after 6 tries", gave)
		}
		for deadline := time.Now().Add(2 * time.Second); srv.ChannelCount() != before; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d channels, want the line hung up (%d)", srv.ChannelCount(), before)
			}
		}
	})
}
