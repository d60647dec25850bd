package aritest_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
)

func appOf(t *testing.T, c *client, name string) ari.Application {
	t.Helper()
	var app ari.Application
	if err := json.Unmarshal(c.must(200, "GET", "applications/"+name, nil), &app); err != nil {
		t.Fatal(err)
	}
	return app
}

// TestSubscriptions: reference counting with Stasis's own subscription
// (trace 10b), the app and its subscriptions outliving its socket while it
// has channels, Stasis() failing meanwhile (trace 11), and `channel:` with
// an empty id subscribing to every channel (trace 10g).
func TestSubscriptions(t *testing.T) {
	t.Parallel()
	top := t
	srv, c, ev := setup(t, aritest.Options{})
	c.must(200, "POST", "bridges/hold", q("type", "holding"))

	t.Run("OneTooManyUnsubscribes", func(t *testing.T) {
		call := answeredCaller(t, srv, c, ev, "u1")
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "u1"))
		ev.expect("ChannelEnteredBridge(hold)")
		c.must(200, "POST", "applications/callin/subscription", q("eventSource", "channel:u1"))
		for range 2 {
			c.must(200, "DELETE", "applications/callin/subscription", q("eventSource", "channel:u1"))
		}
		if app := appOf(t, c, "callin"); slices.Contains(app.ChannelIDs, "u1") {
			t.Fatalf("channel_ids %v still has u1 after one unsubscribe too many", app.ChannelIDs)
		}
		st, b := c.do("DELETE", "applications/callin/subscription", q("eventSource", "channel:u1"), "", "")
		if st != 422 || message(b) != "Event source was not subscribed to" {
			t.Fatalf("DELETE again: %d %s", st, b)
		}
		if err := call.Hangup(16); err != nil {
			t.Fatal(err)
		}
		// The hangup request is lost (trace 10b); ChannelLeftBridge still
		// comes through the subscription to the bridge (10d).
		ev.expect("ChannelLeftBridge(hold)", "StasisEnd")
		ev.expectNone()
	})

	t.Run("ForeignChannelInOurBridge", func(t *testing.T) {
		obs := dialEvents(top, srv, "observer", false)
		c.must(200, "POST", "channels", q("endpoint", "Local/s@sim-caller", "app", "observer", "channelId", "o1", "otherChannelId", "o1-far"))
		obs.waitFor(wait, ofType(ari.TypeStasisStart))
		answeredCaller(t, srv, c, ev, "u2")
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "u2"))
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "o1"))
		c.must(204, "DELETE", "channels/o1-far", nil)
		// Trace 10d: bridge events of a foreign member, nothing else of it.
		got := ev.expect("ChannelEnteredBridge(hold)", "ChannelEnteredBridge(hold)", "ChannelLeftBridge(hold)")
		if got[1].chanID() != "o1" || got[2].chanID() != "o1" {
			t.Fatalf("events for %s, %s; want o1", got[1].chanID(), got[2].chanID())
		}
		ev.expectNone()
		c.must(204, "DELETE", "channels/u2", nil)
		ev.expect("ChannelHangupRequest(32,soft)", "ChannelLeftBridge(hold)", "StasisEnd")
	})

	t.Run("SurvivesReconnect", func(t *testing.T) {
		call := answeredCaller(t, srv, c, ev, "u3")
		answeredCaller(t, srv, c, ev, "u4")
		c.must(200, "POST", "applications/callin/subscription", q("eventSource", "channel:u3"))
		ev.close(srv, "callin")
		app := appOf(t, c, "callin") // still there: it has channels (trace 11)
		if !slices.Contains(app.ChannelIDs, "u3") || !slices.Contains(app.ChannelIDs, "u4") {
			t.Fatalf("channel_ids %v, want u3 and u4", app.ChannelIDs)
		}
		if _, err := srv.Call(context.Background(), aritest.CallOptions{ChannelID: "lost"}); err == nil {
			t.Fatal("Stasis() worked without a socket")
		}
		ev = dialEvents(top, srv, "callin", false) // lives on in the next subtests
		if err := call.Hangup(16); err != nil {
			t.Fatal(err)
		}
		ev.expect("ChannelHangupRequest(16)", "StasisEnd", "ChannelVarset(STASISSTATUS)", "ChannelHangupRequest(16,soft)", "ChannelDestroyed(16)")
		c.must(204, "DELETE", "channels/u4", nil)
		ev.expect("ChannelHangupRequest(32,soft)", "StasisEnd")
		ev.expectNone()
	})

	t.Run("AllChannels", func(t *testing.T) {
		// ph-u5, not u5-phone: Asterisk refuses an otherChannelId that
		// starts the channelId (TestDifferential/ChannelIDPrefix).
		c.must(200, "POST", "channels", q("endpoint", "Local/101@callin", "extension", "s", "context", "sim-caller", "channelId", "ph-u5", "otherChannelId", "u5"))
		ev.expect("StasisStart")
		st, b := c.do("POST", "applications/callin/subscription", q("eventSource", "channel:no-such"), "", "")
		if st != 422 || message(b) != "Event source does not exist" {
			t.Fatalf("unknown channel: %d %s", st, b)
		}
		c.must(200, "POST", "applications/callin/subscription", q("eventSource", "channel:"))
		// The all-topic is listed beside the Stasis channel, and u5's
		// channel events come twice until its StasisEnd (through Stasis's
		// subscription and the all-topic), as on the real Asterisk 22.10.1
		// (TestDifferential/ChannelAllSubscription).
		if app := appOf(t, c, "callin"); !slices.Equal(app.ChannelIDs, []string{"__AST_CHANNEL_ALL_TOPIC", "u5"}) {
			t.Fatalf("channel_ids %v", app.ChannelIDs)
		}
		// Now the phone half's events come too, each once.
		c.must(204, "DELETE", "channels/ph-u5", nil)
		got := ev.expect("ChannelHangupRequest(32,soft)", "ChannelHangupRequest(16,soft)", "ChannelHangupRequest(16)", "ChannelHangupRequest(16)", "ChannelDestroyed(16)",
			"StasisEnd", "ChannelVarset(STASISSTATUS)", "ChannelHangupRequest(16,soft)", "ChannelDestroyed(16)")
		if got[0].chanID() != "ph-u5" || got[2].chanID() != "u5" || got[3].chanID() != "u5" || got[8].chanID() != "u5" {
			t.Fatalf("events on %s ... %s", got[0].chanID(), got[7].chanID())
		}
		ev.expectNone()
	})
}

// TestAnnouncerLeak: the last member's ChannelLeftBridge of a holding
// bridge with music lists the music's channel always, never, or now and
// then with a seed (trace 12b).
func TestAnnouncerLeak(t *testing.T) {
	t.Parallel()
	lastLeft := func(t *testing.T, opts aritest.Options, rounds int) []bool {
		srv, c, ev := setup(t, opts)
		c.must(200, "POST", "bridges/hold", q("type", "holding"))
		c.must(204, "POST", "bridges/hold/moh", nil)
		var leaks []bool
		for i := range rounds {
			id := "a" + strings.Repeat("x", i)
			answeredCaller(t, srv, c, ev, id)
			c.must(204, "POST", "bridges/hold/addChannel", q("channel", id))
			c.must(204, "POST", "bridges/hold/moh", nil) // after every join: the bridge may have emptied
			ev.expect("ChannelEnteredBridge(hold)")
			c.must(204, "POST", "bridges/hold/removeChannel", q("channel", id))
			left := ev.expect("ChannelLeftBridge(hold)")[0]
			if n := len(left.Bridge.Channels); n > 0 {
				if _, ok := srv.Channel(left.Bridge.Channels[0]); ok || n != 1 {
					t.Fatalf("Left lists %v: want only the music's channel, not in GET /channels", left.Bridge.Channels)
				}
			}
			leaks = append(leaks, len(left.Bridge.Channels) > 0)
			if srv.BridgeMusicPlaying("hold") {
				t.Fatal("music still playing in the emptied bridge")
			}
		}
		return leaks
	}
	t.Run("Always", func(t *testing.T) {
		if got := lastLeft(t, aritest.Options{AnnouncerLeak: aritest.AnnouncerLeakAlways}, 3); slices.Contains(got, false) {
			t.Errorf("leaks %v, want all", got)
		}
	})
	t.Run("Never", func(t *testing.T) {
		if got := lastLeft(t, aritest.Options{AnnouncerLeak: aritest.AnnouncerLeakNever}, 3); slices.Contains(got, true) {
			t.Errorf("leaks %v, want none", got)
		}
	})
	t.Run("SometimesSeeded", func(t *testing.T) {
		a := lastLeft(t, aritest.Options{Seed: 42}, 24)
		b := lastLeft(t, aritest.Options{Seed: 42}, 24)
		if !slices.Equal(a, b) {
			t.Errorf("same seed, different races: %v, %v", a, b)
		}
		if !slices.Contains(a, true) || !slices.Contains(a, false) {
			t.Errorf("leaks %v, want some of each", a)
		}
	})
}

// TestHoldingMusic: music started on an empty bridge plays for whoever
// enters; a bridge playback over it fails; the music stops with the last
// member (trace 12, 15).
func TestHoldingMusic(t *testing.T) {
	t.Parallel()
	srv, c, ev := setup(t, aritest.Options{TimeScale: 0.01})
	c.must(200, "POST", "bridges/hold", q("type", "holding"))
	c.must(204, "POST", "bridges/hold/moh", nil)
	c.must(204, "POST", "bridges/hold/moh", nil) // idempotent (12e)
	call, err := srv.Call(context.Background(), aritest.CallOptions{ChannelID: "m1", SIP: true, Answered: true})
	if err != nil {
		t.Fatal(err)
	}
	ev.expect("StasisStart")
	if call.HearsMusic() {
		t.Fatal("hears music outside the bridge")
	}
	c.must(204, "POST", "bridges/hold/addChannel", q("channel", "m1"))
	ev.expect("ChannelEnteredBridge(hold)")
	if !call.HearsMusic() {
		t.Fatal("no music in a bridge whose music was started while empty (12a)")
	}
	c.must(201, "POST", "bridges/hold/play", q("media", "sound:hello-world", "playbackId", "tb1"))
	ev.expect("PlaybackStarted(playing)", "PlaybackFinished(failed)") // 15a
	c.must(204, "DELETE", "bridges/hold/moh", nil)
	c.must(201, "POST", "bridges/hold/play", q("media", "sound:hello-world", "playbackId", "tb2"))
	ev.expect("PlaybackStarted(playing)", "PlaybackFinished(done)") // 15b
	if call.HearsMusic() {
		t.Fatal("music back by itself after the talkback")
	}
	c.must(204, "POST", "bridges/hold/moh", nil)
	if !call.HearsMusic() {
		t.Fatal("no music after POST /moh")
	}
}

// TestPhone: an originated screener phone rings, answers and hangs up
// (13a), or is busy (13c), or nobody answers within the timeout (13b).
func TestPhone(t *testing.T) {
	t.Parallel()
	srv, c, ev := setup(t, aritest.Options{TimeScale: 0.01, Phones: map[string]aritest.Phone{
		"PJSIP/screener1": {Ring: 1500 * time.Millisecond, HangupAfter: 4 * time.Second},
	}})
	orig := func(id string) {
		c.must(200, "POST", "channels", q("endpoint", "PJSIP/screener1", "app", "callin", "appArgs", "morning,screener", "channelId", id))
	}
	orig("scr1")
	got := ev.expect("Dial()", "Dial(RINGING)", "ChannelStateChange", "ChannelStateChange", "Dial(ANSWER)", "ChannelVarset(STASISSTATUS)", "StasisStart")
	if got[2].Channel.State != "Ringing" || got[6].Channel.State != ari.StateUp || len(got[6].Args) != 2 {
		t.Fatalf("ringing %q, StasisStart %+v", got[2].Channel.State, got[6])
	}
	if st, ok := srv.Channel("scr1"); !ok || !st.SIP {
		t.Fatalf("scr1 = %+v, want a SIP channel", st)
	}
	ev.expect("ChannelVarset(RTPAUDIOQOS)", "ChannelVarset(RTPAUDIOQOSJITTER)", "ChannelVarset(RTPAUDIOQOSLOSS)", "ChannelVarset(RTPAUDIOQOSRTT)",
		"ChannelVarset(RTPAUDIOQOSMES)", "ChannelHangupRequest()", "StasisEnd", "ChannelVarset(STASISSTATUS)", "ChannelDestroyed(16)")

	srv.SetPhone("PJSIP/screener1", aritest.Phone{Ring: time.Second, Reject: 486})
	orig("scr3")
	ev.expect("Dial()", "Dial(RINGING)", "ChannelStateChange", "ChannelHangupRequest(17)", "Dial(BUSY)", "ChannelDestroyed(17)")

	srv.SetPhone("PJSIP/screener1", aritest.Phone{Unreachable: true})
	orig("scr2")
	got = ev.expect("Dial()", "ChannelDestroyed(19)")
	if got[1].Channel.State != ari.StateDown {
		t.Fatalf("unreachable phone destroyed in state %s, want Down", got[1].Channel.State)
	}

	srv.SetPhone("PJSIP/screener1", aritest.Phone{NoAnswer: true})
	orig("scr6")
	ev.expect("Dial()", "Dial(RINGING)", "ChannelStateChange")
	c.must(204, "DELETE", "channels/scr6", nil)
	ev.expect("ChannelHangupRequest(32,soft)", "Dial(NOANSWER)", "ChannelDestroyed(16)") // 13e
	ev.expectNone()
}
