package ari_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
)

// The telephony contract: what callin relies on, checked against the fake
// Asterisk always and against a real Asterisk when TEST_ARI_URL is set
// (with TEST_ARI_USER, TEST_ARI_PASSWORD; the Asterisk needs the
// [sim-caller] context of shared/ari-traces/lab-asterisk/extensions.conf
// and callin's dialplan/extensions.conf).

type node struct {
	client *ari.Client
	fake   *aritest.Server // nil against a real Asterisk
}

var appSeq atomic.Int64

// newNode gives a client for a fresh app name on the node under test.
func newNode(t *testing.T) node {
	t.Helper()
	app := fmt.Sprintf("contract%d", appSeq.Add(1))
	if u := os.Getenv("TEST_ARI_URL"); u != "" {
		c, err := ari.NewClient(ari.Config{URL: u, Username: os.Getenv("TEST_ARI_USER"), Password: os.Getenv("TEST_ARI_PASSWORD"), App: app})
		if err != nil {
			t.Fatal(err)
		}
		return node{client: c}
	}
	srv := aritest.NewServer(aritest.Options{})
	t.Cleanup(srv.Close)
	c, err := ari.NewClient(ari.Config{URL: srv.URL(), Username: srv.User(), Password: srv.Password(), App: app})
	if err != nil {
		t.Fatal(err)
	}
	return node{client: c, fake: srv}
}

// stream reads a Conn's events and lets a test wait for one.
type stream struct {
	t    *testing.T
	conn *ari.Conn
}

func connectStream(t *testing.T, c *ari.Client, opts ari.EventOptions) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn := c.Connect(ctx, opts)
	t.Cleanup(func() { cancel(); conn.Close() })
	s := &stream{t: t, conn: conn}
	s.want(func(e ari.Event) bool { _, ok := e.(*ari.Connected); return ok }, "Connected")
	return s
}

// want reads events until match says yes, failing after a timeout or if the
// stream ends. It returns the matching event.
func (s *stream) want(match func(ari.Event) bool, what string) ari.Event {
	s.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-s.conn.Events():
			if !ok {
				s.t.Fatalf("event stream ended waiting for %s", what)
			}
			if match(e) {
				return e
			}
		case <-timeout:
			s.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func isType(typ, channel string) func(ari.Event) bool {
	return func(e ari.Event) bool {
		return e.EventType() == typ && (channel == "" || ari.ChannelID(e) == channel)
	}
}

// originateCaller puts a simulated caller into the app, as trace 08 does.
func originateCaller(t *testing.T, s *stream, c *ari.Client, id string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Originate(ctx, ari.OriginateParams{Endpoint: "Local/s@sim-caller", App: c.App(), AppArgs: "show1", ChannelID: id, OtherChannelID: id + "-far", Formats: "ulaw", CallerID: `"Contract" <5550100>`}); err != nil {
		t.Fatalf("originate %s: %v", id, err)
	}
	st := s.want(isType(ari.TypeStasisStart, id), "StasisStart "+id).(*ari.StasisStart)
	if len(st.Args) != 1 || st.Args[0] != "show1" {
		t.Errorf("StasisStart args = %q, want [show1]", st.Args)
	}
}

func TestContractCallPath(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	c := n.client
	ctx := context.Background()
	s := connectStream(t, c, ari.EventOptions{})

	id := fmt.Sprintf("ct-%d", time.Now().UnixNano())
	hold, air := id+"-hold", id+"-air"
	originateCaller(t, s, c, id)
	t.Cleanup(func() { c.DestroyBridge(ctx, hold); c.DestroyBridge(ctx, air); c.HangupChannel(ctx, id, "") })

	if _, err := c.CreateBridge(ctx, hold, ari.BridgeHolding, "hold"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBridge(ctx, air, ari.BridgeMixing, "air"); err != nil {
		t.Fatal(err)
	}
	t.Run("DuplicateBridgeConflict", func(t *testing.T) {
		_, err := c.CreateBridge(ctx, hold, ari.BridgeHolding, "again")
		if !errors.Is(err, ari.ErrConflict) {
			t.Errorf("got %v, want ErrConflict", err)
		}
	})

	if err := c.AddChannel(ctx, hold, ari.AddChannelParams{Channels: []string{id}, Role: ari.RoleParticipant}); err != nil {
		t.Fatal(err)
	}
	s.want(func(e ari.Event) bool { return isType(ari.TypeChannelEnteredBridge, id)(e) && ari.BridgeID(e) == hold }, "Entered hold")
	if err := c.StartBridgeMOH(ctx, hold, "default"); err != nil {
		t.Fatal(err)
	}
	if n.fake != nil && !n.fake.BridgeMusicPlaying(hold) {
		t.Error("fake: bridge music not playing after StartBridgeMOH")
	}

	// Promote: addChannel on a second bridge moves the channel, Left then Entered.
	if err := c.AddChannel(ctx, air, ari.AddChannelParams{Channels: []string{id}}); err != nil {
		t.Fatal(err)
	}
	left := s.want(isType(ari.TypeChannelLeftBridge, id), "Left").(*ari.ChannelLeftBridge)
	if left.Bridge.ID != hold {
		t.Errorf("left %s, want %s", left.Bridge.ID, hold)
	}
	entered := s.want(isType(ari.TypeChannelEnteredBridge, id), "Entered air").(*ari.ChannelEnteredBridge)
	if entered.Bridge.ID != air {
		t.Errorf("entered %s, want %s", entered.Bridge.ID, air)
	}
	b, err := c.GetBridge(ctx, air)
	if err != nil || len(b.Channels) != 1 || b.Channels[0] != id {
		t.Errorf("GetBridge(air) = %+v, %v; want channels [%s]", b, err, id)
	}

	t.Run("RemoveNotInBridge", func(t *testing.T) {
		err := c.RemoveChannel(ctx, hold, id)
		var ae *ari.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity {
			t.Errorf("got %v, want 422", err)
		}
	})
	t.Run("AddUnknownChannel", func(t *testing.T) {
		err := c.AddChannel(ctx, air, ari.AddChannelParams{Channels: []string{"no-such-channel"}})
		var ae *ari.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !errors.Is(err, ari.ErrInvalid) {
			t.Errorf("got %v, want 400 ErrInvalid", err)
		}
	})
	t.Run("UnknownChannel", func(t *testing.T) {
		_, err := c.GetChannel(ctx, "no-such-channel")
		if !errors.Is(err, ari.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})

	// Play, wait for PlaybackFinished, then hang up: the goodbye is heard.
	pb := id + "-bye"
	if _, err := c.PlayChannel(ctx, id, pb, "sound:hello-world"); err != nil {
		t.Fatal(err)
	}
	fin := s.want(func(e ari.Event) bool { return e.EventType() == ari.TypePlaybackFinished && ari.PlaybackID(e) == pb }, "PlaybackFinished").(*ari.PlaybackFinished)
	if fin.Playback.State != ari.PlaybackDone {
		t.Errorf("playback state %q, want done", fin.Playback.State)
	}
	if err := c.HangupChannel(ctx, id, "normal"); err != nil {
		t.Fatal(err)
	}
	// The caller leaves the bridge before StasisEnd, and ChannelDestroyed
	// (which alone has the real cause) comes after StasisEnd.
	s.want(isType(ari.TypeChannelLeftBridge, id), "Left on hangup")
	s.want(isType(ari.TypeStasisEnd, id), "StasisEnd")
	d := s.want(isType(ari.TypeChannelDestroyed, id), "ChannelDestroyed").(*ari.ChannelDestroyed)
	if d.Cause != 16 {
		t.Errorf("destroyed cause %d, want 16", d.Cause)
	}
}

func TestContractPlayThenHangupFails(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	c := n.client
	ctx := context.Background()
	s := connectStream(t, c, ari.EventOptions{})
	id := fmt.Sprintf("pth-%d", time.Now().UnixNano())
	originateCaller(t, s, c, id)
	pb := id + "-pb"
	if _, err := c.PlayChannel(ctx, id, pb, "sound:hello-world"); err != nil {
		t.Fatal(err)
	}
	if err := c.HangupChannel(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	fin := s.want(func(e ari.Event) bool { return e.EventType() == ari.TypePlaybackFinished && ari.PlaybackID(e) == pb }, "PlaybackFinished").(*ari.PlaybackFinished)
	if fin.Playback.State != ari.PlaybackFailed {
		t.Errorf("state %q, want failed: the caller heard nothing", fin.Playback.State)
	}
	s.want(isType(ari.TypeStasisEnd, id), "StasisEnd")
}

// TestContractTalkbackRelay: the Local pair a live talkback uses to reach
// a holding bridge beyond the first. Both halves come into the app (the
// far one ringing, from [callin-talkback] in dialplan/extensions.conf,
// which a real Asterisk needs for this test), the near half answers when
// the far one is answered, the far half can announce in a holding bridge
// while the near one listens in another, and hanging up the near half
// ends both.
func TestContractTalkbackRelay(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	c := n.client
	ctx := context.Background()
	s := connectStream(t, c, ari.EventOptions{})
	id := fmt.Sprintf("tbr-%d", time.Now().UnixNano())
	near, far, first, other := id, id+"-far", id+"-hold", id+"-hold-2"
	t.Cleanup(func() { c.DestroyBridge(ctx, first); c.DestroyBridge(ctx, other); c.HangupChannel(ctx, near, "") })
	for _, b := range []string{first, other} {
		if _, err := c.CreateBridge(ctx, b, ari.BridgeHolding, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Originate(ctx, ari.OriginateParams{Endpoint: "Local/s@callin-talkback/n", App: c.App(), AppArgs: "show1,relay",
		ChannelID: near, OtherChannelID: far, Variables: map[string]string{"CALLIN_APP": c.App(), "CALLIN_SHOW": "show1"}}); err != nil {
		t.Fatal(err)
	}
	st := s.want(isType(ari.TypeStasisStart, far), "StasisStart of the far half").(*ari.StasisStart)
	if st.Channel.State != ari.StateRing || len(st.Args) != 2 || st.Args[0] != "show1" || st.Args[1] != "relay" {
		t.Errorf("far half: state %q args %q, want Ring [show1 relay]", st.Channel.State, st.Args)
	}
	if err := c.AnswerChannel(ctx, far); err != nil {
		t.Fatal(err)
	}
	st = s.want(isType(ari.TypeStasisStart, near), "StasisStart of the near half").(*ari.StasisStart)
	if st.Channel.State != ari.StateUp {
		t.Errorf("near half: state %q, want Up", st.Channel.State)
	}
	for _, step := range []struct{ ch, bridge, role string }{{near, first, ari.RoleParticipant}, {far, other, ari.RoleAnnouncer}} {
		if err := c.AddChannel(ctx, step.bridge, ari.AddChannelParams{Channels: []string{step.ch}, Role: step.role}); err != nil {
			t.Fatal(err)
		}
		s.want(func(e ari.Event) bool {
			return isType(ari.TypeChannelEnteredBridge, step.ch)(e) && ari.BridgeID(e) == step.bridge
		}, "Entered "+step.bridge)
	}
	if n.fake != nil {
		if got, _ := n.fake.BridgeChannels(other); len(got) != 1 || got[0] != far {
			t.Errorf("fake: %s holds %v, want the far half", other, got)
		}
	}
	if err := c.HangupChannel(ctx, near, ""); err != nil {
		t.Fatal(err)
	}
	s.want(func(e ari.Event) bool { return isType(ari.TypeChannelLeftBridge, far)(e) && ari.BridgeID(e) == other }, "the far half leaves "+other)
	s.want(isType(ari.TypeStasisEnd, far), "StasisEnd of the far half")
}

func fakeOnly(t *testing.T) {
	t.Helper()
	if os.Getenv("TEST_ARI_URL") != "" {
		t.Skip("restarts the node: runs against the fake only")
	}
}

func TestContractSurvivesRestart(t *testing.T) {
	fakeOnly(t)
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []aritest.RestartOption
	}{
		{"CleanClose", nil},
		// A restarting Asterisk held the socket ~17 s with no close frame
		// (trace 07); the ping deadline notices first.
		{"SilentDrop", []aritest.RestartOption{aritest.HoldSockets(time.Minute)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newNode(t)
			c := n.client
			ctx := context.Background()
			s := connectStream(t, c, ari.EventOptions{PingInterval: 100 * time.Millisecond, PingTimeout: 300 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
			originateCaller(t, s, c, "before")

			n.fake.Restart(tc.opts...)
			if len(tc.opts) == 0 {
				// The shutdown is seen on the wire: soft cause 4, then StasisEnd.
				hr := s.want(isType(ari.TypeChannelHangupRequest, "before"), "HangupRequest").(*ari.ChannelHangupRequest)
				if !hr.Soft || hr.Cause != 4 {
					t.Errorf("shutdown hangup request soft=%v cause=%d, want soft cause 4", hr.Soft, hr.Cause)
				}
			}
			disc := s.want(func(e ari.Event) bool { _, ok := e.(*ari.Disconnected); return ok }, "Disconnected").(*ari.Disconnected)
			if tc.name == "SilentDrop" && !errors.Is(disc.Err, ari.ErrPingTimeout) {
				t.Errorf("silent drop noticed as %v, want ErrPingTimeout", disc.Err)
			}
			s.want(func(e ari.Event) bool { _, ok := e.(*ari.Connected); return ok }, "Connected again")

			chans, err := c.ListChannels(ctx)
			if err != nil || len(chans) != 0 {
				t.Errorf("after restart: %d channels, %v; want none", len(chans), err)
			}
			originateCaller(t, s, c, "after")
		})
	}
}

func TestContractApplicationReplaced(t *testing.T) {
	fakeOnly(t)
	t.Parallel()
	n := newNode(t)
	first := connectStream(t, n.client, ari.EventOptions{})
	second := connectStream(t, n.client, ari.EventOptions{})
	first.want(isType(ari.TypeApplicationReplaced, ""), "ApplicationReplaced")
	d := first.want(func(e ari.Event) bool { _, ok := e.(*ari.Disconnected); return ok }, "final Disconnected").(*ari.Disconnected)
	if !d.Final || !errors.Is(d.Err, ari.ErrApplicationReplaced) {
		t.Errorf("got %+v, want a final Disconnected with ErrApplicationReplaced", d)
	}
	if got := first.conn.State(); got != ari.ConnReplaced {
		t.Errorf("first State = %v, want replaced", got)
	}
	// The second connection owns the app and gets its callers.
	originateCaller(t, second, n.client, "to-second")
}

func TestContractTwoNodes(t *testing.T) {
	fakeOnly(t)
	t.Parallel()
	a, b := newNode(t), newNode(t)
	sa, sb := connectStream(t, a.client, ari.EventOptions{}), connectStream(t, b.client, ari.EventOptions{})
	originateCaller(t, sa, a.client, "on-a")
	originateCaller(t, sb, b.client, "on-b")
	if _, ok := a.fake.Channel("on-b"); ok {
		t.Error("node a has node b's caller")
	}
	if _, ok := b.fake.Channel("on-a"); ok {
		t.Error("node b has node a's caller")
	}
	// Restarting one node leaves the other untouched.
	a.fake.Restart()
	sa.want(func(e ari.Event) bool { _, ok := e.(*ari.Disconnected); return ok }, "a Disconnected")
	if _, ok := b.fake.Channel("on-b"); !ok {
		t.Error("node b lost its caller when node a restarted")
	}
	if got := sb.conn.State(); got != ari.ConnConnected {
		t.Errorf("node b state %v, want connected", got)
	}
}
