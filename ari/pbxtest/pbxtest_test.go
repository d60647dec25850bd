package pbxtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/pbxtest"
)

// events connects as app and returns its events after the first Connected.
func events(t *testing.T, p *pbxtest.PBX, app string) (*ari.Client, <-chan ari.Event) {
	t.Helper()
	c, err := ari.NewClient(ari.Config{URL: p.HTTP, Username: p.User, Password: p.Password, App: app})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	conn := c.Connect(ctx, ari.EventOptions{})
	t.Cleanup(func() { cancel(); conn.Close() })
	for e := range conn.Events() {
		if _, ok := e.(*ari.Connected); ok {
			return c, conn.Events()
		}
	}
	t.Fatal("event stream ended before Connected")
	return nil, nil
}

func wait[E ari.Event](t *testing.T, ev <-chan ari.Event, match func(E) bool, what string) E {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e := <-ev:
			if x, ok := e.(E); ok && match(x) {
				return x
			}
		case <-timeout:
			var zero E
			t.Fatalf("timed out waiting for %s", what)
			return zero
		}
	}
}

func TestCallersReachCallinsDialplan(t *testing.T) {
	t.Parallel()
	p := pbxtest.New(t, pbxtest.Config{})
	_, ev := events(t, p, "callin")

	p.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 2, PressOne: true, Prefix: "1444"})
	start := time.Now()
	seen := map[string]string{}
	var names []string
	for len(seen) < 2 {
		st := wait(t, ev, func(*ari.StasisStart) bool { return true }, "StasisStart")
		if got := strings.Join(st.Args, ","); got != "morning" {
			t.Errorf("StasisStart args %q, want morning", got)
		}
		seen[st.Channel.ID] = st.Channel.Caller.Number
		names = append(names, st.Channel.Name)
	}
	// The DTMF 1 skips the IVR's 6 s wait for a digit.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("callers took %v to reach Stasis, want under 5 s with PressOne", d)
	}
	for id, num := range seen {
		if !strings.HasPrefix(num, "+1444") {
			t.Errorf("channel %s caller number %q, want +1444…", id, num)
		}
	}
	for _, name := range names {
		if err := p.Hangup(context.Background(), name); err != nil {
			t.Fatal(err)
		}
		end := wait(t, ev, func(*ari.ChannelHangupRequest) bool { return true }, "the caller's hang-up")
		if end.Channel.Name != name || end.Soft {
			t.Errorf("hang-up of %s (soft %v), want a caller's hang-up of %s", end.Channel.Name, end.Soft, name)
		}
	}
}

func TestPhones(t *testing.T) {
	t.Parallel()
	p := pbxtest.New(t, pbxtest.Config{})
	c, ev := events(t, p, "phones")
	ctx := context.Background()
	for i, tc := range []struct {
		kind  pbxtest.PhoneKind
		cause int // 0: answered
	}{
		{pbxtest.PhoneAnswers, 0},
		{pbxtest.PhoneBusy, 17},
		{pbxtest.PhoneAway, 19},
		{pbxtest.PhoneNoAnswer, 19},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			n := i + 1
			p.Phone(t, n, pbxtest.PhoneConfig{Kind: tc.kind})
			id := fmt.Sprintf("phone-test-%d", n)
			if _, err := c.Originate(ctx, ari.OriginateParams{Endpoint: fmt.Sprintf("PJSIP/phone%d", n), App: "phones", ChannelID: id, Timeout: 5 * time.Second}); err != nil {
				t.Fatal(err)
			}
			if tc.cause == 0 {
				wait(t, ev, func(e *ari.StasisStart) bool { return e.Channel.ID == id }, "the answered phone in Stasis")
				if err := c.HangupChannel(ctx, id, ""); err != nil {
					t.Fatal(err)
				}
			}
			d := wait(t, ev, func(e *ari.ChannelDestroyed) bool { return e.Channel.ID == id }, "ChannelDestroyed")
			if tc.cause != 0 && d.Cause != tc.cause {
				t.Errorf("cause %d (%s), want %d", d.Cause, d.CauseTxt, tc.cause)
			}
		})
	}
}

func TestRestartAndKill(t *testing.T) {
	t.Parallel()
	p := pbxtest.New(t, pbxtest.Config{})
	ctx := context.Background()
	first := p.PID()
	if err := p.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if p.PID() == first || p.PID() == 0 {
		t.Errorf("pid %d after restart, was %d", p.PID(), first)
	}
	if code, _, err := p.Get(ctx, "/asterisk/info"); err != nil || code != 200 {
		t.Fatalf("after restart: %d %v", code, err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Get(ctx, "/asterisk/info"); err == nil {
		t.Error("ARI answers after Kill")
	}
	if err := p.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := p.CLI(ctx, "core show version")
	if err != nil || !strings.Contains(out, "22.10.1") {
		t.Errorf("core show version: %q %v", out, err)
	}
}

func TestUnavailable(t *testing.T) {
	t.Setenv("CALLIN_ASTERISK", t.TempDir())
	// A folder without asterisk-run is skipped over for the others; only
	// the error's wording is checked here.
	if _, err := pbxtest.Find(); err != nil && !errors.Is(err, pbxtest.ErrNoAsterisk) {
		t.Errorf("Find: %v, want ErrNoAsterisk", err)
	}
}

// TestListener hears a SIP caller's holding bridge's music, then a tone
// played to the caller, then silence: the sound check the real-PBX tests
// rely on must tell them apart.
func TestListener(t *testing.T) {
	t.Parallel()
	p := pbxtest.New(t, pbxtest.Config{})
	if err := p.Sound("tone1800", 1800, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	c, ev := events(t, p, "callin")
	l := p.Listener(t)
	ctx := context.Background()
	p.Callers(t, pbxtest.CallerConfig{Number: "5550100", PressOne: true})
	st := wait(t, ev, func(*ari.StasisStart) bool { return true }, "StasisStart")
	id := st.Channel.ID
	if _, err := c.CreateBridge(ctx, "hold", ari.BridgeHolding, "hold"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddChannel(ctx, "hold", ari.AddChannelParams{Channels: []string{id}}); err != nil {
		t.Fatal(err)
	}
	wait(t, ev, func(e *ari.ChannelEnteredBridge) bool { return e.Channel.ID == id }, "the caller in the bridge")
	if err := c.StartBridgeMOH(ctx, "hold", "callin"); err != nil {
		t.Fatal(err)
	}
	heard, err := l.Hear(ctx, id, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if s := heard.Music(); s < 0.6 {
		t.Errorf("music heard in %.0f%% of the windows, want most: %v", 100*s, heard)
	}
	if d := heard.Duration(); d < time.Second || d > 3*time.Second {
		t.Errorf("recorded %v, want about 1.5 s", d)
	}

	if err := c.RemoveChannel(ctx, "hold", id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PlayChannel(ctx, id, "tone-pb", "sound:tone1800"); err != nil {
		t.Fatal(err)
	}
	wait(t, ev, func(e *ari.PlaybackStarted) bool { return true }, "PlaybackStarted")
	heard, err = l.Hear(ctx, id, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s := heard.Share(1800); s < 0.6 || heard.Share(pbxtest.MusicHz) > 0 {
		t.Errorf("the played tone in %.0f%% of the windows (music in %.0f%%), want most and none: %v", 100*s, 100*heard.Share(pbxtest.MusicHz), heard)
	}
	c.StopPlayback(ctx, "tone-pb")
	wait(t, ev, func(e *ari.PlaybackFinished) bool { return true }, "PlaybackFinished")
	heard, err = l.Hear(ctx, id, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s := heard.Silent(); s < 0.9 {
		t.Errorf("silence in %.0f%% of the windows, want all: %v", 100*s, heard)
	}
}
