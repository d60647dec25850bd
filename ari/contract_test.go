package ari_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/prompts"
)

// The telephony contract: what callin relies on, checked in every test run
// against two Asterisks side by side, each test as subtests named after
// them:
//   - fake: the fake Asterisk of ari/aritest;
//   - asterisk: a real Asterisk 22.10.1 that ari/pbxtest starts for the
//     test, with callin's dialplan and prompts and the [sim-caller] and
//     [test-caller] contexts of shared/asterisk/conf/extensions.conf
//     (skipped with a message saying how to enable it where it is not
//     installed; CI requires it);
//   - external: also, when TEST_ARI_URL is set (with TEST_ARI_USER and
//     TEST_ARI_PASSWORD), an Asterisk someone else runs, which needs the
//     same contexts and prompts; the tests that restart a node, need two or
//     need a SIP caller skip there.
//
// Where the real Asterisk and the fake differ, the real one is right: the
// assertion and the fake follow it, and the fake's comment names the test
// here that showed it.

// A backend is one kind of Asterisk the contract runs against.
type backend struct {
	name  string
	start func(t *testing.T, app string) *node
}

// node is one Asterisk under test and a client for the test's own app.
type node struct {
	client *ari.Client
	fake   *aritest.Server // the fake, or nil
	pbx    *pbxtest.PBX    // a real Asterisk started here, or nil
}

var appSeq atomic.Int64

// backends are the Asterisks every contract test runs against.
func backends() []backend {
	bs := []backend{
		{"fake", func(t *testing.T, app string) *node {
			srv := aritest.NewServer(aritest.Options{Sounds: fakeSounds()})
			t.Cleanup(srv.Close)
			return &node{client: dialNode(t, srv.URL(), srv.User(), srv.Password(), app), fake: srv}
		}},
		{"asterisk", func(t *testing.T, app string) *node {
			p := pbxtest.New(t, pbxtest.Config{Extensions: sipCallerDialplan(app)})
			return &node{client: dialNode(t, p.HTTP, p.User, p.Password, app), pbx: p}
		}},
	}
	if u := os.Getenv("TEST_ARI_URL"); u != "" {
		bs = append(bs, backend{"external", func(t *testing.T, app string) *node {
			return &node{client: dialNode(t, u, os.Getenv("TEST_ARI_USER"), os.Getenv("TEST_ARI_PASSWORD"), app)}
		}})
	}
	return bs
}

// contract runs test against every backend, as parallel subtests.
func contract(t *testing.T, test func(t *testing.T, b backend)) {
	t.Helper()
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b)
		})
	}
}

// newNode starts a node of b's kind for t, with a client for a fresh app.
func (b backend) newNode(t *testing.T) *node {
	t.Helper()
	return b.start(t, fmt.Sprintf("contract%d", appSeq.Add(1)))
}

func dialNode(t *testing.T, url, user, password, app string) *ari.Client {
	t.Helper()
	c, err := ari.NewClient(ari.Config{URL: url, Username: user, Password: password, App: app, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeSounds are the fake's default sounds and callin's prompts with
// their real lengths: a real Asterisk started by pbxtest has the prompts.
func fakeSounds() map[string]time.Duration {
	sounds := maps.Clone(aritest.DefaultSounds)
	for _, name := range prompts.Names() {
		if d, err := wavLength(name); err == nil {
			sounds[name] = d
		}
	}
	return sounds
}

// promptLength is the length of one of callin's prompts.
func promptLength(t *testing.T, name string) time.Duration {
	t.Helper()
	d, err := wavLength(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func wavLength(name string) (time.Duration, error) {
	b, err := prompts.WAV(name)
	if err != nil {
		return 0, err
	}
	f, err := prompts.ReadFormat(b)
	if err != nil {
		return 0, err
	}
	if f.SampleRate == 0 || f.Channels == 0 || f.Bits == 0 {
		return 0, fmt.Errorf("prompt %s: format %+v", name, f)
	}
	const header = 44 // a canonical RIFF/WAVE header
	return time.Duration(len(b)-header) * time.Second / time.Duration(f.SampleRate*f.Channels*f.Bits/8), nil
}

// sipCallerDialplan sends a SIP caller who dials 5559… (sipp through the
// instance's [from-test], which hands every number to [callin-inbound])
// into the test's own app with the argument show1, answered, as callin's
// IVR would but without its prompts. The extension is added to callin's
// [callin-inbound]: Asterisk merges contexts of the same name.
func sipCallerDialplan(app string) string {
	return fmt.Sprintf("[callin-inbound]\nexten => _5559.,1,Answer()\n same => n,Stasis(%s,show1)\n same => n,Hangup()\n", app)
}

// restart restarts the node as `core stop now` and a start do, in the
// background: the returned channel gives the restart's error once the node
// answers again. An external node cannot be restarted: t is skipped.
func (n *node) restart(t *testing.T) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	switch {
	case n.fake != nil:
		// A booting node refuses the app's first dials (trace 17; the
		// real one in TestContractSurvivesRestart/asterisk refused many:
		// connection refused, 404, then 503 "Asterisk not booted").
		n.fake.Restart(aritest.RefuseDials(1, 1))
		done <- nil
	case n.pbx != nil:
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done <- n.pbx.Restart(ctx)
		}()
	default:
		t.Skip("restarts the node: not on an external Asterisk")
	}
	return done
}

// waitRestart waits for a restart started by restart to end.
func waitRestart(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("restart: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("restart still going after a minute")
	}
}

// hasChannel says whether the node has the channel, asked over REST.
func hasChannel(t *testing.T, c *ari.Client, id string) bool {
	t.Helper()
	_, err := c.GetChannel(context.Background(), id)
	if err != nil && !errors.Is(err, ari.ErrNotFound) {
		t.Fatalf("GET /channels/%s: %v", id, err)
	}
	return err == nil
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
// stream ends. It returns the matching event. The timeout covers a real
// Asterisk's restart with a WebSocket open (stop up to 8 s, start 1.5 s).
func (s *stream) want(match func(ari.Event) bool, what string) ari.Event {
	s.t.Helper()
	timeout := time.After(20 * time.Second)
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

// in returns the stream for a subtest t, whose failures end t alone.
func (s *stream) in(t *testing.T) *stream { return &stream{t: t, conn: s.conn} }

func isType(typ, channel string) func(ari.Event) bool {
	return func(e ari.Event) bool {
		return e.EventType() == typ && (channel == "" || ari.ChannelID(e) == channel)
	}
}

func isDisconnected(e ari.Event) bool { _, ok := e.(*ari.Disconnected); return ok }
func isConnected(e ari.Event) bool    { _, ok := e.(*ari.Connected); return ok }

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

// TestContractCallPath: a caller's way through callin: into a holding
// bridge with music, moved to a mixing bridge, played a goodbye to its end,
// hung up; with the errors callin maps on the way.
func TestContractCallPath(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		n := b.newNode(t)
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
		switch {
		case n.fake != nil:
			if !n.fake.BridgeMusicPlaying(hold) {
				t.Error("fake: bridge music not playing after StartBridgeMOH")
			}
		case n.pbx != nil:
			// The bridge's music is an announcer channel of its own (trace 12).
			if out, err := n.pbx.CLI(ctx, "bridge show "+hold); err != nil || !strings.Contains(out, "Announcer/ARI_MOH") {
				t.Errorf("bridge show %s after StartBridgeMOH: %v\n%s", hold, err, out)
			}
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
		br, err := c.GetBridge(ctx, air)
		if err != nil || len(br.Channels) != 1 || br.Channels[0] != id {
			t.Errorf("GetBridge(air) = %+v, %v; want channels [%s]", br, err, id)
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
		// callin-goodbye is one of callin's prompts, which pbxtest installs.
		pb := id + "-bye"
		if _, err := c.PlayChannel(ctx, id, pb, "sound:callin-goodbye"); err != nil {
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
	})
}

// TestContractPlayThenHangupFails: a caller hung up by the app right after
// a play never hears it: the playback ends "failed" (trace 03).
func TestContractPlayThenHangupFails(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		n := b.newNode(t)
		c := n.client
		ctx := context.Background()
		s := connectStream(t, c, ari.EventOptions{})
		id := fmt.Sprintf("pth-%d", time.Now().UnixNano())
		originateCaller(t, s, c, id)
		pb := id + "-pb"
		if _, err := c.PlayChannel(ctx, id, pb, "sound:callin-goodbye"); err != nil {
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
	})
}

// TestContractTalkbackRelay: the Local pair a live talkback uses to reach
// a holding bridge beyond the first. Both halves come into the app (the
// far one ringing, from [callin-talkback] in dialplan/extensions.conf),
// the near half answers when the far one is answered, the far half can
// announce in a holding bridge while the near one listens in another, and
// hanging up the near half ends both.
func TestContractTalkbackRelay(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		n := b.newNode(t)
		c := n.client
		ctx := context.Background()
		s := connectStream(t, c, ari.EventOptions{})
		id := fmt.Sprintf("tbr-%d", time.Now().UnixNano())
		near, far, first, other := id, id+"-far", id+"-hold", id+"-hold-2"
		t.Cleanup(func() { c.DestroyBridge(ctx, first); c.DestroyBridge(ctx, other); c.HangupChannel(ctx, near, "") })
		for _, br := range []string{first, other} {
			if _, err := c.CreateBridge(ctx, br, ari.BridgeHolding, br); err != nil {
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
		if br, err := c.GetBridge(ctx, other); err != nil || len(br.Channels) != 1 || br.Channels[0] != far {
			t.Errorf("GetBridge(%s) = %+v, %v; want the far half", other, br, err)
		}
		if err := c.HangupChannel(ctx, near, ""); err != nil {
			t.Fatal(err)
		}
		s.want(func(e ari.Event) bool { return isType(ari.TypeChannelLeftBridge, far)(e) && ari.BridgeID(e) == other }, "the far half leaves "+other)
		s.want(isType(ari.TypeStasisEnd, far), "StasisEnd of the far half")
	})
}

// TestContractSurvivesRestart: the node restarts under a connected app
// with a caller in it; the app is told, reconnects by itself, finds
// nothing left and takes a new caller.
//   - CleanClose: `core stop now` and a start (a real Asterisk through
//     pbxtest's Restart): the shutdown is seen on the wire (trace 17).
//   - SilentDrop: the node stops answering on an open socket, as a
//     restarting Asterisk held the socket ~17 s with no close frame
//     (trace 07); the ping deadline notices first. On the real Asterisk
//     the process is frozen (SIGSTOP), then killed and started again.
func TestContractSurvivesRestart(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		for _, tc := range []struct {
			name   string
			silent bool
		}{
			{"CleanClose", false},
			{"SilentDrop", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				n := b.newNode(t)
				if n.fake == nil && n.pbx == nil {
					t.Skip("restarts the node: not on an external Asterisk")
				}
				c := n.client
				ctx := context.Background()
				s := connectStream(t, c, ari.EventOptions{PingInterval: 200 * time.Millisecond, PingTimeout: 2 * time.Second, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
				originateCaller(t, s, c, "before")

				var done <-chan error
				if !tc.silent {
					done = n.restart(t)
					// The shutdown is seen on the wire: soft cause 4, then
					// StasisEnd, before the socket drops (trace 17).
					hr := s.want(isType(ari.TypeChannelHangupRequest, "before"), "HangupRequest").(*ari.ChannelHangupRequest)
					if !hr.Soft || hr.Cause != 4 {
						t.Errorf("shutdown hangup request soft=%v cause=%d, want soft cause 4", hr.Soft, hr.Cause)
					}
					if e := s.want(func(e ari.Event) bool { return isType(ari.TypeStasisEnd, "before")(e) || isDisconnected(e) }, "StasisEnd"); isDisconnected(e) {
						t.Fatalf("the socket dropped (%v) before the caller's StasisEnd", e.(*ari.Disconnected).Err)
					}
				} else {
					thaw := freeze(t, n)
					disc := s.want(isDisconnected, "Disconnected").(*ari.Disconnected)
					if !errors.Is(disc.Err, ari.ErrPingTimeout) {
						t.Errorf("silent drop noticed as %v, want ErrPingTimeout", disc.Err)
					}
					done = thaw()
				}
				if !tc.silent {
					s.want(isDisconnected, "Disconnected")
				}
				s.want(isConnected, "Connected again")
				waitRestart(t, done)

				chans, err := c.ListChannels(ctx)
				if err != nil || len(chans) != 0 {
					t.Errorf("after restart: %d channels, %v; want none", len(chans), err)
				}
				originateCaller(t, s, c, "after")
			})
		}
	})
}

// freeze makes the node stop answering on its open sockets without closing
// them. The fake restarts holding its sockets (aritest.HoldSockets); a real
// Asterisk is stopped with SIGSTOP. The returned function ends the freeze
// by restarting the node (a real one is killed first) and gives the
// restart's end.
func freeze(t *testing.T, n *node) func() <-chan error {
	t.Helper()
	if n.fake != nil {
		n.fake.Restart(aritest.HoldSockets(time.Minute))
		return func() <-chan error {
			done := make(chan error, 1)
			done <- nil
			return done
		}
	}
	pid := n.pbx.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP Asterisk (pid %d): %v", pid, err)
	}
	var thawed atomic.Bool
	t.Cleanup(func() {
		if !thawed.Load() {
			syscall.Kill(pid, syscall.SIGCONT) // so that pbxtest's stop can reach it
		}
	})
	return func() <-chan error {
		err := n.pbx.Kill() // SIGKILL ends a stopped process too
		thawed.Store(true)
		if err != nil {
			t.Fatalf("kill the frozen Asterisk: %v", err)
		}
		return n.restart(t)
	}
}

// TestContractApplicationReplaced: a second WebSocket for the same app
// takes it over; the first is told and stops for good.
func TestContractApplicationReplaced(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		n := b.newNode(t)
		first := connectStream(t, n.client, ari.EventOptions{})
		second := connectStream(t, n.client, ari.EventOptions{})
		first.want(isType(ari.TypeApplicationReplaced, ""), "ApplicationReplaced")
		d := first.want(isDisconnected, "final Disconnected").(*ari.Disconnected)
		if !d.Final || !errors.Is(d.Err, ari.ErrApplicationReplaced) {
			t.Errorf("got %+v, want a final Disconnected with ErrApplicationReplaced", d)
		}
		if got := first.conn.State(); got != ari.ConnReplaced {
			t.Errorf("first State = %v, want replaced", got)
		}
		// The second connection owns the app and gets its callers, also
		// after the first has closed its socket.
		originateCaller(t, second, n.client, "to-second")
	})
}

// TestContractTwoNodes: two nodes keep their callers apart, and one
// restarting leaves the other alone.
func TestContractTwoNodes(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		a, bn := b.newNode(t), b.newNode(t)
		if a.fake == nil && a.pbx == nil {
			t.Skip("needs two nodes: not on an external Asterisk")
		}
		sa, sb := connectStream(t, a.client, ari.EventOptions{}), connectStream(t, bn.client, ari.EventOptions{})
		originateCaller(t, sa, a.client, "on-a")
		originateCaller(t, sb, bn.client, "on-b")
		if hasChannel(t, a.client, "on-b") {
			t.Error("node a has node b's caller")
		}
		if hasChannel(t, bn.client, "on-a") {
			t.Error("node b has node a's caller")
		}
		// Restarting one node leaves the other untouched.
		done := a.restart(t)
		sa.want(isDisconnected, "a Disconnected")
		if !hasChannel(t, bn.client, "on-b") {
			t.Error("node b lost its caller when node a restarted")
		}
		if got := sb.conn.State(); got != ari.ConnConnected {
			t.Errorf("node b state %v, want connected", got)
		}
		waitRestart(t, done)
		sa.want(isConnected, "a Connected again")
		if !hasChannel(t, bn.client, "on-b") {
			t.Error("node b lost its caller after node a came back")
		}
	})
}
