package aritest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
)

const wait = 5 * time.Second

// setup starts a fake with app "callin" connected and a raw client.
func setup(t *testing.T, opts aritest.Options) (*aritest.Server, *client, *events) {
	t.Helper()
	srv := newServer(t, opts)
	return srv, newClient(t, srv), dialEvents(t, srv, "callin", false)
}

// answeredCaller places a call, answers it and consumes its events.
func answeredCaller(t *testing.T, srv *aritest.Server, c *client, ev *events, id string) *aritest.Call {
	t.Helper()
	call, err := srv.Call(context.Background(), aritest.CallOptions{ChannelID: id, Args: []string{"morning"}, Number: "5551001", Name: "Caller"})
	if err != nil {
		t.Fatal(err)
	}
	got := ev.expect("StasisStart")
	if got[0].Channel.State != ari.StateRing || len(got[0].Args) != 1 || got[0].Args[0] != "morning" {
		t.Fatalf("StasisStart = %+v, want Ring with args [morning]", got[0])
	}
	c.must(http.StatusNoContent, "POST", "channels/"+id+"/answer", nil)
	ev.expect("ChannelStateChange")
	return call
}

func TestREST(t *testing.T) {
	t.Parallel()
	srv := newServer(t, aritest.Options{})
	c := newClient(t, srv)

	t.Run("Auth", func(t *testing.T) {
		bad := *c
		bad.pass = "wrong"
		st, b := bad.do("GET", "asterisk/info", nil, "", "")
		if st != 401 || message(b) != "Authentication required" {
			t.Fatalf("got %d %s, want 401 Authentication required", st, b)
		}
		bad.user = ""
		if st, _ := bad.do("GET", "asterisk/info", nil, "", ""); st != 401 {
			t.Fatalf("no auth: got %d, want 401", st)
		}
	})
	t.Run("Routing", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			status       int
			msg          string
		}{
			{"GET", "no/such/resource", 404, "Resource not found"},
			{"PUT", "channels", 405, "Invalid method"},
			{"PATCH", "bridges/x", 405, "Invalid method"},
			{"GET", "channels/nope", 404, "Channel not found"},
			{"GET", "bridges/nope", 404, "Bridge not found"},
			{"GET", "applications/callin", 404, "Application not found"},
			{"GET", "playbacks/nope", 404, "Playback not found"},
			{"GET", "channels/nope/variable", 404, "Provided channel was not found"},
		} {
			st, b := c.do(tc.method, tc.path, nil, "", "")
			if st != tc.status || message(b) != tc.msg {
				t.Errorf("%s %s: got %d %q, want %d %q", tc.method, tc.path, st, message(b), tc.status, tc.msg)
			}
		}
	})
	t.Run("Info", func(t *testing.T) {
		var info ari.AsteriskInfo
		if err := json.Unmarshal(c.must(200, "GET", "asterisk/info", nil), &info); err != nil {
			t.Fatal(err)
		}
		if info.System.EntityID != srv.AsteriskID() || info.Status.StartupTime.IsZero() {
			t.Fatalf("info = %+v", info)
		}
		var ping ari.AsteriskPing
		_ = json.Unmarshal(c.must(200, "GET", "asterisk/ping", nil), &ping)
		if ping.Ping != "pong" || ping.AsteriskID != srv.AsteriskID() {
			t.Fatalf("ping = %+v", ping)
		}
	})
	t.Run("Originate", func(t *testing.T) {
		for _, tc := range []struct {
			query  []string
			status int
			msg    string
		}{
			{[]string{"endpoint", "Bogus/thing", "app", "callin"}, 500, "error:Allocation failed"},
			{[]string{"endpoint", "Local/s@sim-caller"}, 400, "Application or extension must be specified"},
		} {
			st, b := c.do("POST", "channels", q(tc.query...), "", "")
			if st != tc.status || message(b) != tc.msg {
				t.Errorf("%v: got %d %q, want %d %q", tc.query, st, message(b), tc.status, tc.msg)
			}
		}
	})
	t.Run("Bridges", func(t *testing.T) {
		st, b := c.do("POST", "bridges", q("type", "nonsense-type"), "", "")
		if st != 500 || message(b) != "Unable to create bridge. Possible duplicate bridge id '(null)'" {
			t.Fatalf("bad type: %d %s", st, b)
		}
		c.must(200, "POST", "bridges/dup", q("type", "holding"))
		c.must(409, "POST", "bridges", q("bridgeId", "dup"))
		st, b = c.do("POST", "bridges", nil, "[1,2,3]", "")
		if st != 200 {
			t.Fatalf("array body: %d %s", st, b)
		}
		st, b = c.do("POST", "bridges", nil, "{not json", "")
		if st != 400 || message(b) != "Error parsing request body" {
			t.Fatalf("bad json: %d %s", st, b)
		}
		st, _ = c.do("POST", "bridges/dup/moh", nil, "", "")
		if st != 204 {
			t.Fatalf("moh: %d", st)
		}
	})
	t.Run("WebSocketHandshake", func(t *testing.T) {
		st, _ := c.do("GET", "events", nil, "", "") // no app
		if st != 400 {
			t.Fatalf("events without app: %d, want 400", st)
		}
		bad := *c
		bad.pass = "x"
		if st, _ := bad.do("GET", "events", q("app", "callin"), "", ""); st != 401 {
			t.Fatalf("events bad auth: %d, want 401", st)
		}
	})
}

func TestAppRegistration(t *testing.T) {
	t.Parallel()
	srv, c, ev := setup(t, aritest.Options{})
	var app ari.Application
	if err := json.Unmarshal(c.must(200, "GET", "applications/callin", nil), &app); err != nil || app.Name != "callin" {
		t.Fatalf("app = %+v, %v", app, err)
	}

	t.Run("ApplicationReplaced", func(t *testing.T) {
		second := dialEvents(t, srv, "callin", false)
		got := ev.next(wait)
		if got.Type != ari.TypeApplicationReplaced || got.Application != "callin" {
			t.Fatalf("first socket got %v, want ApplicationReplaced", got)
		}
		// Events now go to the second socket only.
		if _, err := srv.Call(context.Background(), aritest.CallOptions{ChannelID: "r1"}); err != nil {
			t.Fatal(err)
		}
		second.expect("StasisStart")
		second.close(srv, "callin")
		if srv.AppRegistered("callin") {
			t.Fatal("app still registered after the socket that had it closed")
		}
		// The application stays while it has a channel (trace 11).
		var app ari.Application
		if err := json.Unmarshal(c.must(200, "GET", "applications/callin", nil), &app); err != nil || len(app.ChannelIDs) != 1 || app.ChannelIDs[0] != "r1" {
			t.Fatalf("app = %+v, %v; want channel_ids [r1]", app, err)
		}
	})

	t.Run("UnregisteredCallFails", func(t *testing.T) {
		_, err := srv.Call(context.Background(), aritest.CallOptions{ChannelID: "lost"})
		if !errors.Is(err, aritest.ErrStasisFailed) {
			t.Fatalf("err = %v, want ErrStasisFailed", err)
		}
		c.must(404, "GET", "channels/lost", nil)
		// The surviving channel is still there and in Stasis.
		if st, ok := srv.Channel("r1"); !ok || !st.InStasis {
			t.Fatalf("r1 = %+v, %v; want still in Stasis", st, ok)
		}
	})

	t.Run("RetrySucceedsAfterReconnect", func(t *testing.T) {
		done := make(chan error, 1)
		var call *aritest.Call
		go func() {
			var err error
			call, err = srv.Call(context.Background(), aritest.CallOptions{ChannelID: "retry", StasisRetry: 5 * time.Millisecond, RetryFor: wait})
			done <- err
		}()
		// Events that happen while disconnected are lost.
		c.must(204, "POST", "channels/r1/answer", nil)
		again := dialEvents(t, srv, "callin", false)
		if err := <-done; err != nil {
			t.Fatalf("retrying call: %v", err)
		}
		got := again.next(wait)
		if got.Type != ari.TypeStasisStart || got.chanID() != call.ID() {
			t.Fatalf("after reconnect got %v on %s, want StasisStart on retry", got, got.chanID())
		}
		again.expectNone()
	})

	t.Run("RetryGivesUp", func(t *testing.T) {
		srv2 := newServer(t, aritest.Options{})
		_, err := srv2.Call(context.Background(), aritest.CallOptions{StasisRetry: time.Millisecond, RetryFor: 20 * time.Millisecond})
		if !errors.Is(err, aritest.ErrStasisFailed) {
			t.Fatalf("err = %v, want ErrStasisFailed", err)
		}
	})
}

func TestHangupSequences(t *testing.T) {
	t.Parallel()
	srv, c, ev := setup(t, aritest.Options{})
	c.must(200, "POST", "bridges/hold", q("type", "holding"))

	t.Run("PhoneHangsUpInBridge", func(t *testing.T) {
		call := answeredCaller(t, srv, c, ev, "d1")
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "d1"))
		ev.expect("ChannelEnteredBridge(hold)")
		if err := call.Hangup(0); err != nil {
			t.Fatal(err)
		}
		// Trace 09a: nothing after StasisEnd for a dialplan caller.
		ev.expect("ChannelHangupRequest(16)", "ChannelLeftBridge(hold)", "StasisEnd")
		ev.expectNone()
		select {
		case <-call.Done():
		default:
			t.Fatal("Done not closed")
		}
		if err := call.Hangup(0); !errors.Is(err, aritest.ErrGone) {
			t.Fatalf("second hangup: %v", err)
		}
		c.must(404, "GET", "channels/d1", nil)
	})

	t.Run("SubscribedGetsCause", func(t *testing.T) {
		call := answeredCaller(t, srv, c, ev, "s1")
		c.must(200, "POST", "applications/callin/subscription", q("eventSource", "channel:s1"))
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "s1"))
		ev.expect("ChannelEnteredBridge(hold)")
		if err := call.Hangup(17); err != nil {
			t.Fatal(err)
		}
		// Trace 10a: the cause arrives after StasisEnd.
		got := ev.expect("ChannelHangupRequest(17)", "ChannelLeftBridge(hold)", "StasisEnd", "ChannelVarset(STASISSTATUS)", "ChannelHangupRequest(16,soft)", "ChannelDestroyed(17)")
		if got[3].Value != "SUCCESS" || got[5].CauseTxt != "User busy" {
			t.Fatalf("STASISSTATUS %q, cause_txt %q", got[3].Value, got[5].CauseTxt)
		}
		ev.expectNone()
	})

	t.Run("AppHangsUpBusy", func(t *testing.T) {
		answeredCaller(t, srv, c, ev, "d3")
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "d3"))
		ev.expect("ChannelEnteredBridge(hold)")
		c.must(400, "DELETE", "channels/d3", q("reason", "not-a-reason"))
		c.must(204, "DELETE", "channels/d3", q("reason", "busy"))
		// Trace 09e1: the app never sees cause 17.
		ev.expect("ChannelHangupRequest(32,soft)", "ChannelLeftBridge(hold)", "StasisEnd")
		ev.expectNone()
	})

	t.Run("SIPCallerHangsUp", func(t *testing.T) {
		call, err := srv.Call(context.Background(), aritest.CallOptions{ChannelID: "sip1", SIP: true, Args: []string{"show1"}})
		if err != nil {
			t.Fatal(err)
		}
		ev.expect("StasisStart")
		c.must(204, "POST", "channels/sip1/answer", nil)
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "sip1"))
		ev.expect("ChannelStateChange", "ChannelEnteredBridge(hold)")
		c.must(200, "GET", "channels/sip1/rtp_statistics", nil)
		if err := call.Hangup(16); err != nil {
			t.Fatal(err)
		}
		// Trace 09b1: RTP totals, then a hangup request with no cause.
		got := ev.expect("ChannelVarset(RTPAUDIOQOS)", "ChannelVarset(RTPAUDIOQOSJITTER)", "ChannelVarset(RTPAUDIOQOSLOSS)",
			"ChannelVarset(RTPAUDIOQOSRTT)", "ChannelVarset(RTPAUDIOQOSMES)", "ChannelHangupRequest()", "ChannelLeftBridge(hold)", "StasisEnd")
		if !strings.Contains(got[0].Value, "txcount=0;") {
			t.Errorf("RTPAUDIOQOS %q: the caller heard no music, want txcount=0", got[0].Value)
		}
		ev.expectNone()
	})

	t.Run("SIPCallerDeletedByApp", func(t *testing.T) {
		c.must(204, "POST", "bridges/hold/moh", nil)
		if _, err := srv.Call(context.Background(), aritest.CallOptions{ChannelID: "sip2", SIP: true, Answered: true}); err != nil {
			t.Fatal(err)
		}
		ev.expect("StasisStart")
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "sip2"))
		ev.expect("ChannelEnteredBridge(hold)")
		c.must(204, "DELETE", "channels/sip2", nil)
		got := ev.expect("ChannelVarset(RTPAUDIOQOS)", "ChannelVarset(RTPAUDIOQOSJITTER)", "ChannelVarset(RTPAUDIOQOSLOSS)",
			"ChannelVarset(RTPAUDIOQOSRTT)", "ChannelVarset(RTPAUDIOQOSMES)", "ChannelHangupRequest(32,soft)", "ChannelLeftBridge(hold)", "StasisEnd")
		if strings.Contains(got[0].Value, "txcount=0;") {
			t.Errorf("RTPAUDIOQOS %q: the caller heard music, want txcount > 0", got[0].Value)
		}
		ev.expectNone()
	})

	t.Run("OriginatedFarSideHangsUp", func(t *testing.T) {
		c.must(200, "POST", "channels", q("endpoint", "Local/s@sim-caller", "app", "callin", "appArgs", "show1", "channelId", "d4", "otherChannelId", "d4-far"))
		// Trace 09 f1: an originated channel's events come from its creation.
		got := ev.expect("ChannelStateChange", "Dial()", "ChannelStateChange", "Dial(ANSWER)", "ChannelVarset(STASISSTATUS)", "StasisStart")
		if got[0].chanID() != "d4-far" || got[1].Peer.ID != "d4" || got[5].Channel.State != ari.StateUp {
			t.Fatalf("originate events %v %v %v", got[0].chanID(), got[1].Peer, got[5].Channel)
		}
		c.must(409, "POST", "channels/d4-far/answer", nil)
		c.must(422, "POST", "bridges/hold/addChannel", q("channel", "d4-far"))
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "d4"))
		ev.expect("ChannelEnteredBridge(hold)")
		c.must(204, "DELETE", "channels/d4-far", q("reason_code", "17"))
		got = ev.expect("ChannelHangupRequest(32,soft)", "ChannelHangupRequest(16,soft)", "ChannelHangupRequest(17)", "ChannelDestroyed(17)",
			"ChannelLeftBridge(hold)", "StasisEnd", "ChannelVarset(STASISSTATUS)", "ChannelDestroyed(17)")
		for i, want := range []string{"d4-far", "d4-far", "d4", "d4-far", "d4", "d4", "d4", "d4"} {
			if got[i].chanID() != want {
				t.Errorf("event %d (%v) on %s, want %s", i, got[i], got[i].chanID(), want)
			}
		}
		ev.expectNone()
	})

	// callin's talkback relay: a Local pair to [callin-talkback], whose far
	// half runs Stasis(callin,${CALLIN_SHOW},relay) and whose near half is
	// originated into the app: both halves in Stasis (a guess: no trace).
	t.Run("RelayBothHalvesInStasis", func(t *testing.T) {
		code, body := c.do("POST", "channels", q("endpoint", "Local/s@callin-talkback/n", "app", "callin", "appArgs", "show1,relay",
			"channelId", "r1", "otherChannelId", "r1-far"), `{"variables":{"CALLIN_APP":"callin","CALLIN_SHOW":"show1"}}`, "application/json")
		if code != 200 {
			t.Fatalf("originate: %d %s", code, body)
		}
		// The near half is dialled first (Dial with an empty status, trace
		// 19b and TestDifferential/TalkbackRelay).
		got := ev.expect("Dial()", "ChannelVarset(STASISSTATUS)", "StasisStart")
		if got[0].Peer == nil || got[0].Peer.ID != "r1" {
			t.Fatalf("dial of %+v, want r1", got[0].Peer)
		}
		if got[2].chanID() != "r1-far" || got[2].Channel.State != ari.StateRing || strings.Join(got[2].Args, ",") != "show1,relay" {
			t.Fatalf("far half: %v state %s args %v", got[2].chanID(), got[2].Channel.State, got[2].Args)
		}
		c.must(204, "POST", "channels/r1-far/answer", nil)
		got = ev.expect("ChannelStateChange", "ChannelStateChange", "Dial(ANSWER)", "ChannelVarset(STASISSTATUS)", "StasisStart")
		if got[4].chanID() != "r1" || got[4].Channel.State != ari.StateUp || strings.Join(got[4].Args, ",") != "show1,relay" {
			t.Fatalf("near half: %v state %s args %v", got[4].chanID(), got[4].Channel.State, got[4].Args)
		}
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "r1-far", "role", "announcer"))
		ev.expect("ChannelEnteredBridge(hold)")
		c.must(204, "DELETE", "channels/r1", nil)
		got = ev.expect("ChannelHangupRequest(32,soft)", "StasisEnd", "ChannelVarset(STASISSTATUS)", "ChannelDestroyed(16)",
			"ChannelHangupRequest(16)", "ChannelLeftBridge(hold)", "StasisEnd", "ChannelVarset(STASISSTATUS)", "ChannelHangupRequest(16,soft)", "ChannelDestroyed(16)")
		for i, want := range []string{"r1", "r1", "r1", "r1", "r1-far", "r1-far", "r1-far", "r1-far", "r1-far", "r1-far"} {
			if got[i].chanID() != want {
				t.Errorf("event %d (%v) on %s, want %s", i, got[i], got[i].chanID(), want)
			}
		}
		ev.expectNone()
		if _, ok := srv.Channel("r1-far"); ok {
			t.Error("far half still listed")
		}
	})

	t.Run("RelayWithoutDialplan", func(t *testing.T) {
		// No [callin-relay] context: both halves go at once (trace 05 e6).
		c.must(200, "POST", "channels", q("endpoint", "Local/s@callin-relay/n", "app", "callin", "channelId", "r2", "otherChannelId", "r2-far"))
		ev.expect("ChannelDestroyed(0)", "ChannelDestroyed(0)")
		ev.expectNone()
	})
}

func TestBridgeMembership(t *testing.T) {
	t.Parallel()
	srv, c, ev := setup(t, aritest.Options{})
	c.must(200, "POST", "bridges", q("bridgeId", "hold", "type", "holding"))
	c.must(200, "POST", "bridges", q("bridgeId", "air", "type", "mixing"))
	for _, id := range []string{"b1", "b2"} {
		answeredCaller(t, srv, c, ev, id)
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", id, "role", "participant"))
		ev.expect("ChannelEnteredBridge(hold)")
	}

	t.Run("AddToSecondBridgeMoves", func(t *testing.T) {
		c.must(204, "POST", "bridges/air/addChannel", q("channel", "b1"))
		got := ev.expect("ChannelLeftBridge(hold)", "ChannelEnteredBridge(air)")
		if got[0].chanID() != "b1" || len(got[0].Bridge.Channels) != 1 || got[1].Bridge.Channels[0] != "b1" {
			t.Fatalf("move events: %+v %+v", got[0].Bridge, got[1].Bridge)
		}
		if st, _ := srv.Channel("b1"); st.Bridge != "air" {
			t.Fatalf("b1 in %q, want air", st.Bridge)
		}
	})
	t.Run("ReAddSameBridge", func(t *testing.T) {
		c.must(204, "POST", "bridges/air/addChannel", q("channel", "b1", "mute", "true"))
		ev.expect("ChannelLeftBridge(air)", "ChannelEnteredBridge(air)")
		if st, _ := srv.Channel("b1"); !st.MutedIn {
			t.Fatal("mute=true did not mute the channel")
		}
	})
	t.Run("RemoveNotInBridge", func(t *testing.T) {
		st, b := c.do("POST", "bridges/hold/removeChannel", q("channel", "b1"), "", "")
		if st != 422 || message(b) != "Channel not in this bridge" {
			t.Fatalf("got %d %s", st, b)
		}
		st, b = c.do("POST", "bridges/hold/addChannel", q("channel", "b1,nope"), "", "")
		if st != 400 || message(b) != "Channel not found" {
			t.Fatalf("got %d %s", st, b)
		}
		ev.expectNone()
	})
	t.Run("DestroyWithMembers", func(t *testing.T) {
		c.must(204, "POST", "bridges/air/addChannel", q("channel", "b2"))
		ev.expect("ChannelLeftBridge(hold)", "ChannelEnteredBridge(air)")
		c.must(204, "DELETE", "bridges/air", nil)
		// The members leave while in Stasis, which ends the app's
		// subscription: no BridgeDestroyed (trace 14c).
		got := ev.expect("ChannelLeftBridge(air)", "ChannelLeftBridge(air)")
		if got[0].chanID() != "b2" || got[1].chanID() != "b1" {
			t.Fatalf("left order %s, %s; want last joined first", got[0].chanID(), got[1].chanID())
		}
		ev.expectNone()
		for _, id := range []string{"b1", "b2"} {
			if st, ok := srv.Channel(id); !ok || !st.InStasis || st.Bridge != "" {
				t.Fatalf("%s = %+v, want in Stasis, no bridge", id, st)
			}
		}
	})
}

func TestBridgeMusic(t *testing.T) {
	t.Parallel()
	srv, c, ev := setup(t, aritest.Options{})
	c.must(200, "POST", "bridges/hold", q("type", "holding"))
	for _, id := range []string{"a1", "a2"} {
		answeredCaller(t, srv, c, ev, id)
	}
	c.must(204, "POST", "bridges/hold/addChannel", q("channel", "a1"))
	ev.expect("ChannelEnteredBridge(hold)")
	c.must(204, "POST", "bridges/hold/moh", q("mohClass", "default"))
	ev.expectNone() // bridge MOH produces no event
	if st, _ := srv.Channel("a1"); !st.HearsMusic || !srv.BridgeMusicPlaying("hold") {
		t.Fatalf("a1 = %+v, music %v; want hearing music", st, srv.BridgeMusicPlaying("hold"))
	}

	t.Run("SecondAnnouncerThrownOut", func(t *testing.T) {
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "a2", "role", "announcer"))
		ev.expect("ChannelEnteredBridge(hold)", "ChannelLeftBridge(hold)")
		if st, _ := srv.Channel("a2"); st.Bridge != "" || !st.InStasis {
			t.Fatalf("a2 = %+v, want out of the bridge, in Stasis", st)
		}
	})
	t.Run("MusicWithAnnouncerNeverPlays", func(t *testing.T) {
		c.must(204, "DELETE", "bridges/hold/moh", nil)
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "a2", "role", "announcer"))
		ev.expect("ChannelEnteredBridge(hold)")
		c.must(204, "POST", "bridges/hold/moh", nil)
		if srv.BridgeMusicPlaying("hold") {
			t.Fatal("music plays with an announcer channel in the bridge")
		}
		st, b := c.do("DELETE", "bridges/hold/moh", nil, "", "")
		if st != 409 || message(b) != "Bridge isn't playing music" {
			t.Fatalf("DELETE moh: %d %s", st, b)
		}
		c.must(204, "POST", "bridges/hold/removeChannel", q("channel", "a2"))
		ev.expect("ChannelLeftBridge(hold)")
	})
	t.Run("MusicStopsWhenBridgeEmpties", func(t *testing.T) {
		c.must(204, "POST", "bridges/hold/moh", nil)
		if !srv.BridgeMusicPlaying("hold") {
			t.Fatal("music not playing")
		}
		c.must(204, "POST", "bridges/hold/removeChannel", q("channel", "a1"))
		ev.expect("ChannelLeftBridge(hold)")
		c.must(204, "POST", "bridges/hold/addChannel", q("channel", "a1"))
		ev.expect("ChannelEnteredBridge(hold)")
		if st, _ := srv.Channel("a1"); st.HearsMusic || srv.BridgeMusicPlaying("hold") {
			t.Fatalf("music still playing after the bridge emptied: %+v", st)
		}
		c.must(409, "DELETE", "bridges/hold/moh", nil)
		c.must(204, "POST", "bridges/hold/moh", nil)
		if st, _ := srv.Channel("a1"); !st.HearsMusic {
			t.Fatal("music not back after POST moh")
		}
		ev.expectNone()
	})
	t.Run("ChannelMOHAndHold", func(t *testing.T) {
		c.must(204, "POST", "channels/a2/moh", q("mohClass", "nonexistent-class"))
		c.must(204, "POST", "channels/a2/hold", nil)
		st, _ := srv.Channel("a2")
		if !st.HearsMusic || !st.OnHold {
			t.Fatalf("a2 = %+v", st)
		}
		c.must(204, "DELETE", "channels/a2/moh", nil)
		c.must(204, "DELETE", "channels/a2/hold", nil)
		ev.expectNone()
	})
}

func TestPlayback(t *testing.T) {
	t.Parallel()
	srv, c, ev := setup(t, aritest.Options{})

	t.Run("PlayThenHangup", func(t *testing.T) {
		answeredCaller(t, srv, c, ev, "c1")
		var pb ari.Playback
		_ = json.Unmarshal(c.must(201, "POST", "channels/c1/play", q("media", "sound:hello-world", "playbackId", "pb1")), &pb)
		if pb.State != ari.PlaybackQueued || pb.TargetURI != "channel:c1" {
			t.Fatalf("play response %+v", pb)
		}
		c.must(204, "DELETE", "channels/c1", nil)
		ev.expect("PlaybackStarted(playing)", "ChannelHangupRequest(32,soft)", "PlaybackFinished(failed)", "StasisEnd")
		c.must(404, "GET", "playbacks/pb1", nil)
	})

	t.Run("QueueStopAndMulti", func(t *testing.T) {
		answeredCaller(t, srv, c, ev, "c3")
		var pb ari.Playback
		_ = json.Unmarshal(c.must(201, "POST", "channels/c3/play", q("media", "sound:hello-world,sound:beep", "playbackId", "pb3")), &pb)
		if pb.NextMediaURI != "sound:beep" {
			t.Fatalf("next_media_uri = %q", pb.NextMediaURI)
		}
		c.must(201, "POST", "channels/c3/play/pb4", q("media", "sound:beep"))
		ev.expect("PlaybackStarted(playing)")
		_ = json.Unmarshal(c.must(200, "GET", "playbacks/pb4", nil), &pb)
		if pb.State != ari.PlaybackQueued {
			t.Fatalf("second playback is %s, want queued", pb.State)
		}
		c.must(204, "DELETE", "playbacks/pb3", nil)
		got := ev.expect("PlaybackFinished(done)", "PlaybackStarted(playing)", "PlaybackFinished(done)")
		if got[1].Playback.ID != "pb4" {
			t.Fatalf("started %s, want pb4", got[1].Playback.ID)
		}
		hist := srv.Playbacks()
		if len(hist) < 3 || hist[len(hist)-1].ID != "pb4" || hist[len(hist)-1].State != ari.PlaybackDone {
			t.Fatalf("history %+v", hist)
		}
	})

	t.Run("ErrorsAndBogus", func(t *testing.T) {
		st, b := c.do("POST", "channels/c3/play", nil, "", "")
		if st != 500 || message(b) != "Failed to queue media for playback" {
			t.Fatalf("no media: %d %s", st, b)
		}
		c.must(201, "POST", "channels/c3/play", q("media", "sound:does-not-exist"))
		ev.expect("PlaybackStarted(playing)", "PlaybackFinished(failed)")
		c.must(201, "POST", "channels/c3/play", q("media", "bogus:thing", "playbackId", "bog"))
		ev.expect("PlaybackStarted(playing)")
		c.must(404, "GET", "playbacks/bog", nil)
		// The channel can still play at once.
		c.must(201, "POST", "channels/c3/play", q("media", "sound:beep"))
		ev.expect("PlaybackStarted(playing)", "PlaybackFinished(done)")
		ev.expectNone()
	})
}

func TestPlaybackDurations(t *testing.T) {
	t.Parallel()
	srv, c, ev := setup(t, aritest.Options{TimeScale: 0.001, Media: map[string]time.Duration{"sound:tt-monkeys": aritest.Never}})
	answeredCaller(t, srv, c, ev, "p1")
	c.must(201, "POST", "channels/p1/play", q("media", "sound:hello-world,number:42", "playbackId", "multi"))
	got := ev.expect("PlaybackStarted(playing)", "PlaybackContinuing(playing)", "PlaybackFinished(done)")
	if got[1].Playback.MediaURI != "number:42" {
		t.Fatalf("continuing media %q", got[1].Playback.MediaURI)
	}
	c.must(201, "POST", "channels/p1/play", q("media", "sound:tt-monkeys", "playbackId", "forever"))
	ev.expect("PlaybackStarted(playing)")
	ev.expectNone()
	if st, _ := srv.Channel("p1"); st.Playing != "sound:tt-monkeys" {
		t.Fatalf("playing %q", st.Playing)
	}
	c.must(204, "DELETE", "playbacks/forever", nil)
	ev.expect("PlaybackFinished(done)")
}

func TestBridgePlaybackAndRecording(t *testing.T) {
	t.Parallel()
	srv, c, ev := setup(t, aritest.Options{})
	all := dialEvents(t, srv, "observer", true) // subscribeAll doubles bridge playback and recording events (traces 03, 14)
	c.must(200, "POST", "bridges/air", nil)
	all.expect("BridgeCreated")
	answeredCaller(t, srv, c, ev, "c3")
	c.must(204, "POST", "bridges/air/addChannel", q("channel", "c3"))
	ev.expect("ChannelEnteredBridge(air)")

	var rec ari.LiveRecording
	_ = json.Unmarshal(c.must(201, "POST", "bridges/air/record", q("name", "show-1", "format", "wav")), &rec)
	if rec.TargetURI != "bridge:air" || rec.State != "queued" {
		t.Fatalf("recording %+v", rec)
	}
	got := ev.expect("RecordingStarted")
	if got[0].Recording.State != "recording" {
		t.Fatalf("RecordingStarted state %q", got[0].Recording.State)
	}
	for _, tc := range []struct {
		query  url.Values
		status int
		msg    string
	}{
		{q("name", "show-1", "format", "wav"), 409, "Recording 'show-1' already exists and can not be overwritten"},
		{q("name", "show-1", "format", "wav", "ifExists", "overwrite"), 409, "Recording 'show-1' already exists and can not be overwritten"},
		{q("name", "x", "format", "mp3"), 422, "specified format is unknown on this system"},
		{q("name", "../x", "format", "wav"), 500, "Error parsing request"},
		{q("name", "nofmt"), 400, "Missing parameter format"}, // Asterisk 22.10.1 crashed (trace 14)
	} {
		if st, b := c.do("POST", "bridges/air/record", tc.query, "", ""); st != tc.status || message(b) != tc.msg {
			t.Errorf("record %v: %d %s, want %d %q", tc.query, st, b, tc.status, tc.msg)
		}
	}
	c.must(200, "GET", "recordings/live/show-1", nil)
	c.must(204, "POST", "recordings/live/show-1/pause", nil)
	c.must(204, "DELETE", "recordings/live/show-1/pause", nil)
	c.must(204, "POST", "recordings/live/show-1/stop", nil)
	got = ev.expect("RecordingFinished")
	if got[0].Recording.State != "done" {
		t.Fatalf("RecordingFinished state %q", got[0].Recording.State)
	}
	c.must(404, "GET", "recordings/live/show-1", nil)
	if b := c.must(200, "GET", "recordings/stored", nil); strings.TrimSpace(string(b)) != `[{"format":"wav","name":"show-1"}]` {
		t.Errorf("stored recordings %s", b)
	}
	c.must(409, "POST", "bridges/air/record", q("name", "show-1", "format", "wav", "ifExists", "fail"))
	c.must(201, "POST", "bridges/air/record", q("name", "show-1", "format", "wav", "ifExists", "append"))
	ev.expect("RecordingStarted")
	c.must(204, "POST", "recordings/live/show-1/stop", nil)
	ev.expect("RecordingFinished")
	st, body := c.do("GET", "recordings/stored/show-1/file", nil, "", "")
	if st != 200 || len(body) < 44 || string(body[:4]) != "RIFF" || string(body[8:12]) != "WAVE" {
		t.Errorf("stored file: %d, %d bytes", st, len(body))
	}
	var n int
	for _, e := range all.sync() {
		if strings.HasPrefix(e.Type, "Recording") {
			n++
		}
	}
	if n != 8 {
		t.Errorf("subscribeAll socket got %d recording events, want each of 4 twice", n)
	}

	c.must(201, "POST", "bridges/air/play", q("media", "sound:hello-world", "playbackId", "bp"))
	c.must(204, "DELETE", "bridges/air", nil)
	// The member leaves first, which ends the app's subscription to the
	// bridge: the app sees neither the failed playback nor BridgeDestroyed.
	ev.expect("PlaybackStarted(playing)", "ChannelLeftBridge(air)")
	ev.expectNone()
	var forms []string
	for _, e := range all.sync() {
		if e.Bridge != nil || e.Playback != nil {
			forms = append(forms, e.String())
		}
	}
	want := "PlaybackStarted(playing) PlaybackStarted(playing) ChannelLeftBridge(air) PlaybackFinished(failed) PlaybackFinished(failed) BridgeDestroyed"
	if strings.Join(forms, " ") != want {
		t.Errorf("subscribeAll socket: %v\nwant %s", forms, want)
	}
}

func TestTalkAndDTMF(t *testing.T) {
	t.Parallel()
	srv, c, ev := setup(t, aritest.Options{TimeScale: 0.001})
	call := answeredCaller(t, srv, c, ev, "f")
	if err := call.Talk(time.Second); err != nil {
		t.Fatal(err)
	}
	ev.expectNone() // no TALK_DETECT yet
	c.must(204, "POST", "channels/f/variable", q("variable", "TALK_DETECT(set)", "value", ""))
	_ = call.Talk(3 * time.Second)
	got := ev.expect("ChannelTalkingStarted", "ChannelTalkingFinished")
	if got[1].Duration < 1 {
		t.Fatalf("duration %d", got[1].Duration)
	}
	st, b := c.do("DELETE", "channels/f/mute", nil, "", "")
	if st != 400 || message(b) != "Direction is required" {
		t.Fatalf("DELETE mute: %d %s", st, b)
	}
	c.must(400, "POST", "channels/f/mute", q("direction", "sideways"))
	c.must(204, "POST", "channels/f/mute", q("direction", "in"))
	_ = call.Talk(time.Second)
	ev.expectNone() // muted in: no talking events
	c.must(204, "DELETE", "channels/f/mute", q("direction", "in"))

	if err := call.DTMF("12#"); err != nil {
		t.Fatal(err)
	}
	got = ev.expect("ChannelDtmfReceived", "ChannelDtmfReceived", "ChannelDtmfReceived")
	if got[0].Digit+got[1].Digit+got[2].Digit != "12#" {
		t.Fatalf("digits %v", got)
	}
	c.must(400, "POST", "channels/f/dtmf", nil)
	c.must(204, "POST", "channels/f/dtmf", q("dtmf", "9"))

	if st, _ := c.do("POST", "channels/f/variable", nil, `{"variable":"FOO","value":"bar"}`, ""); st != 204 {
		t.Fatalf("variable by JSON body: %d", st)
	}
	var v struct{ Value string }
	_ = json.Unmarshal(c.must(200, "GET", "channels/f/variable", q("variable", "FOO")), &v)
	if v.Value != "bar" {
		t.Fatalf("FOO = %q", v.Value)
	}
	c.must(404, "GET", "channels/f/variable", q("variable", "NO_SUCH_VAR"))
	c.must(400, "GET", "channels/f/variable", nil)
}
