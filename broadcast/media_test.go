package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestMusicRestartsAfterEmpty: real Asterisk drops a holding bridge's
// music, silently, whenever its last caller leaves (trace 12c), and the
// last Left event may still name the music's channel (12b). callin sends
// POST /moh after every join, so whoever joins hears music. The rounds
// drive the race of issue 9: many callers leave at once, then one arrives.
func TestMusicRestartsAfterEmpty(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{})
	w := e.w("show1")
	w.nodeUp()
	for round := range 20 {
		var calls []*aritest.Call
		for i := range 8 {
			c, _ := dial(t, srv, w, "show1", fmt.Sprintf("%d%02d", round, i))
			calls = append(calls, c)
		}
		var wg sync.WaitGroup
		for _, c := range calls {
			wg.Go(func() { must(t, c.Hangup(16)) })
		}
		wg.Wait()
		for _, c := range calls {
			waitDone(t, c)
		}
		next, _ := dial(t, srv, w, "show1", fmt.Sprintf("%d99", round))
		waitMusic(t, next)
		must(t, next.Hangup(16))
		waitDone(t, next)
	}
}

func TestTalkback(t *testing.T) {
	t.Parallel()
	t.Run("Message", func(t *testing.T) {
		t.Parallel()
		srv := newFake(t, aritest.Options{})
		e := start(t, srv, broadcast.Config{})
		w := e.w("show1")
		w.nodeUp()
		dial(t, srv, w, "show1", "1")
		must(t, e.app.StartTalkback(context.Background(), "show1", broadcast.TalkbackOptions{Media: []string{"sound:tt-monkeys"}}))
		if srv.BridgeMusicPlaying(holdID("show1")) {
			t.Error("music still playing during talkback")
		}
		if err := e.app.StartTalkback(context.Background(), "show1", broadcast.TalkbackOptions{Media: []string{"sound:beep"}}); !errors.Is(err, queue.ErrConflict) {
			t.Errorf("second talkback: %v, want ErrConflict", err)
		}
		w.music(true) // the message ended
		pbs := srv.Playbacks()
		if len(pbs) != 1 || pbs[0].Target != "bridge:"+holdID("show1") || pbs[0].State != "done" {
			t.Errorf("playbacks %+v, want the message played to the holding bridge", pbs)
		}
		if !srv.BridgeMusicPlaying(holdID("show1")) {
			t.Error("music not back after talkback")
		}
	})
	t.Run("ProducerLine", func(t *testing.T) {
		t.Parallel()
		srv := newFake(t, aritest.Options{})
		e := start(t, srv, broadcast.Config{})
		w := e.w("show1")
		w.nodeUp()
		dial(t, srv, w, "show1", "1")
		must(t, e.app.StartTalkback(context.Background(), "show1", broadcast.TalkbackOptions{Endpoint: "PJSIP/producer"}))
		u := w.next("talkback line in", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateMedia && u.Media.TalkbackLine != "" })
		st, _ := srv.Channel(u.Media.TalkbackLine)
		if st.Bridge != holdID("show1") || st.Role != "announcer" {
			t.Errorf("talkback line in %q as %q, want the holding bridge as announcer", st.Bridge, st.Role)
		}
		if srv.BridgeMusicPlaying(holdID("show1")) {
			t.Error("music playing with the producer on")
		}
		must(t, e.app.StopTalkback(context.Background(), "show1"))
		w.music(true)
		if !srv.BridgeMusicPlaying(holdID("show1")) {
			t.Error("music not back after talkback")
		}
	})
}

// TestTalkbackFromPhone: a producer talks back from their own phone: it
// rings while the callers keep their music, and the music stops only when
// the producer answers; a phone that does not answer ends the talkback and
// the music never stopped.
func TestTalkbackFromPhone(t *testing.T) {
	t.Parallel()
	for _, answers := range []bool{true, false} {
		t.Run(fmt.Sprintf("answers=%t", answers), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := newFake(t, aritest.Options{})
			srv.SetPhone("PJSIP/pat", aritest.Phone{Ring: 20 * time.Second, NoAnswer: !answers}) // 200 ms
			e := start(t, srv, broadcast.Config{Phones: phones{"pat": "PJSIP/pat"}, RingTimeout: 30 * time.Second})
			w := e.w("show1")
			w.nodeUp()
			c, _ := dial(t, srv, w, "show1", "1")
			waitMusic(t, c)
			must(t, e.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{User: "pat"}))
			if !srv.BridgeMusicPlaying(holdID("show1")) {
				t.Error("the music stopped while the producer's phone rang")
			}
			if !answers {
				w.next("talkback over", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateMedia && !u.Media.Talkback })
				waitMusic(t, c)
				return
			}
			u := w.next("producer on", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateMedia && u.Media.TalkbackLine != "" })
			if srv.BridgeMusicPlaying(holdID("show1")) {
				t.Error("music still on with the producer speaking")
			}
			if st, _ := srv.Channel(u.Media.TalkbackLine); st.Role != "announcer" {
				t.Errorf("producer's line is %q, want the announcer", st.Role)
			}
			must(t, e.app.StopTalkback(ctx, "show1"))
			waitMusic(t, c)
		})
	}
	t.Run("ErrInvalidNoPhone", func(t *testing.T) {
		t.Parallel()
		srv := newFake(t, aritest.Options{})
		e := start(t, srv, broadcast.Config{Phones: phones{}})
		e.w("show1").nodeUp()
		if err := e.app.StartTalkback(context.Background(), "show1", broadcast.TalkbackOptions{User: "kim"}); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("talkback for a user without a phone: %v, want ErrInvalid", err)
		}
	})
}

func TestHostAndRecording(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	sc := showCfg("show1", "n1")
	sc.HostEndpoint = "PJSIP/host"
	recs := &recordings{}
	e := start(t, srv, broadcast.Config{Shows: []broadcast.ShowConfig{sc}, Recordings: recs})
	w := e.w("show1")
	w.nodeUp()
	_, first := dial(t, srv, w, "show1", "1")
	if _, err := e.app.Promote(ctx, "show1", first, producer); err != nil {
		t.Fatal(err)
	}
	id, err := e.app.JoinHost(ctx, "show1", "")
	if err != nil {
		t.Fatal(err)
	}
	w.next("host on air", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateMedia && contains(u.Media.Hosts, id) })
	if air, _ := srv.BridgeChannels(airID("show1")); !contains(air, id) {
		t.Errorf("on-air bridge %v, want the host %s", air, id)
	}
	rec, err := e.app.StartRecording(ctx, "show1")
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Active || rec.State != "recording" {
		t.Errorf("recording %+v, want active", rec)
	}
	if _, err := e.app.StartRecording(ctx, "show1"); !errors.Is(err, queue.ErrConflict) {
		t.Errorf("second recording: %v, want ErrConflict", err)
	}
	_, second := dial(t, srv, w, "show1", "2")
	if _, err := e.app.Promote(ctx, "show1", second, producer); err != nil {
		t.Fatal(err)
	}
	rec, err = e.app.StopRecording(ctx, "show1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Active || rec.State != "done" {
		t.Errorf("stopped recording %+v, want done", rec)
	}
	got := recs.all()
	if len(got) != 1 || got[0].Name != rec.Name || got[0].Format != "wav" || got[0].Started.IsZero() || got[0].Ended.Before(got[0].Started) ||
		!slices.Equal(got[0].Calls, []string{first, second}) {
		t.Errorf("recorded %+v, want %s with both on-air calls", got, rec.Name)
	}
	// A host who dials in with Stasis(callin,show1,host).
	c, err := srv.Call(ctx, aritest.CallOptions{Args: []string{"show1", "host"}})
	if err != nil {
		t.Fatal(err)
	}
	w.next("dial-in host", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateMedia && contains(u.Media.Hosts, c.ID())
	})
	snap, _ := e.app.Snapshot("show1")
	if len(snap.Lineup.Arriving)+len(snap.Lineup.Waiting) != 0 {
		t.Errorf("a host was queued as a caller: %+v", snap.Lineup)
	}
}

func TestPositionAnnouncements(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	h := &hooked{Telephony: newClient(t, srv.URL(), srv.User(), srv.Password())}
	plays := make(chan []string, 100)
	h.beforePlay = func(chanID string, media []string) { plays <- append([]string{chanID}, media...) }
	sc := showCfg("show1", "n1")
	sc.AnnounceEvery = 30 * time.Millisecond
	sc.Media.Position = []string{"sound:queue-thereare"}
	e := start(t, srv, broadcast.Config{Shows: []broadcast.ShowConfig{sc}, AnnounceTick: 5 * time.Millisecond,
		Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: h, Events: fastEvents}}})
	w := e.w("show1")
	w.nodeUp()
	c1, _ := dial(t, srv, w, "show1", "1")
	c2, _ := dial(t, srv, w, "show1", "2")
	heard := map[string]map[string]int{}
	deadline := time.After(wait)
	for len(heard[c1.ID()]) == 0 || heard[c2.ID()]["number:2"] < 2 {
		select {
		case p := <-plays:
			if heard[p[0]] == nil {
				heard[p[0]] = map[string]int{}
			}
			if p[1] != "sound:queue-thereare" {
				t.Errorf("announcement %v, want the prompt first", p)
			}
			heard[p[0]][p[2]]++
		case <-deadline:
			t.Fatalf("announcements heard %v, want each caller its position, repeatedly", heard)
		}
	}
	if heard[c1.ID()]["number:2"] != 0 || heard[c2.ID()]["number:1"] != 0 {
		t.Errorf("announcements %v, want caller 1 told 1 and caller 2 told 2", heard)
	}
}

// recordings keeps what Config.Recordings is given.
type recordings struct {
	mu   sync.Mutex
	recs []broadcast.RecordingState
}

func (r *recordings) Recorded(_ string, rec broadcast.RecordingState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

func (r *recordings) all() []broadcast.RecordingState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}
