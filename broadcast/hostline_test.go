package broadcast_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// hostLineIs finds the host line id in a media update in state st (or
// gone, for st "").
func hostLineIs(u broadcast.Update, id string, st broadcast.HostState, muted bool) bool {
	if u.Kind != broadcast.UpdateMedia {
		return false
	}
	for _, h := range u.Media.HostLines {
		if h.Channel == id {
			return h.State == st && h.Muted == muted
		}
	}
	return st == ""
}

// TestHostLine: a host line called with JoinHost is the show's from the
// first ring (ringing, then on air once answered, with when), can be
// muted and hung up by its channel, and leaves the show's lines when it
// ends; a busy host phone leaves them too (issue 23, point 6: the host's
// phone was invisible until on air, and could not be hung up).
func TestHostLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	srv.SetPhone("PJSIP/host", aritest.Phone{Ring: 50 * time.Millisecond})
	srv.SetPhone("PJSIP/busy", aritest.Phone{Ring: 50 * time.Millisecond, Reject: 486})
	sc := showCfg("show1", "n1")
	sc.HostEndpoint = "PJSIP/host"
	e := start(t, srv, broadcast.Config{Shows: []broadcast.ShowConfig{sc}})
	w := e.w("show1")
	w.nodeUp()

	id, err := e.app.JoinHost(ctx, "show1", "")
	if err != nil {
		t.Fatal(err)
	}
	w.next("host ringing", func(u broadcast.Update) bool { return hostLineIs(u, id, broadcast.HostRinging, false) })
	u := w.next("host on air", func(u broadcast.Update) bool { return hostLineIs(u, id, broadcast.HostOnAir, false) })
	if h := u.Media.HostLines[0]; h.Endpoint != "PJSIP/host" || h.Since.IsZero() || !contains(u.Media.Hosts, id) {
		t.Errorf("host line %+v (hosts %v), want PJSIP/host on air since a time", h, u.Media.Hosts)
	}
	if err := e.app.MuteHost(ctx, "show1", id, true); err != nil {
		t.Fatal(err)
	}
	w.next("host muted", func(u broadcast.Update) bool { return hostLineIs(u, id, broadcast.HostOnAir, true) })
	if st, _ := srv.Channel(id); !st.MutedIn {
		t.Error("the host's line is not muted in Asterisk")
	}
	if err := e.app.HangupHost(ctx, "show1", id); err != nil {
		t.Fatal(err)
	}
	w.next("host hung up", func(u broadcast.Update) bool { return hostLineIs(u, id, "", false) })
	if err := e.app.HangupHost(ctx, "show1", id); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("hang up a host line gone: %v, want ErrNotFound", err)
	}

	busy, err := e.app.JoinHost(ctx, "show1", "PJSIP/busy")
	if err != nil {
		t.Fatal(err)
	}
	w.next("busy host ringing", func(u broadcast.Update) bool { return hostLineIs(u, busy, broadcast.HostRinging, false) })
	w.next("busy host gone", func(u broadcast.Update) bool { return hostLineIs(u, busy, "", false) })
	if snap, _ := e.app.Snapshot("show1"); len(snap.Media.HostLines) != 0 {
		t.Errorf("host lines %+v after both ended, want none", snap.Media.HostLines)
	}
}

// TestHostLineNotOnAir: a host line answered but refused by the on-air
// bridge is hung up and shown failed, saying why, instead of "ringing"
// until it ends; it cannot be muted, HangupHost dismisses it, and a new
// Call host replaces it and goes on air.
func TestHostLineNotOnAir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	srv.SetPhone("PJSIP/host", aritest.Phone{Ring: 20 * time.Millisecond})
	h := &hooked{Telephony: newClient(t, srv.URL(), srv.User(), srv.Password())}
	h.addErr = func(bridgeID string, _ []string) error {
		if bridgeID != airID("show1") {
			return nil
		}
		return &ari.Error{Method: "POST", Path: "/bridges/" + bridgeID + "/addChannel", Status: 500, Message: "Internal Server Error"}
	}
	sc := showCfg("show1", "n1")
	sc.HostEndpoint = "PJSIP/host"
	e := start(t, srv, broadcast.Config{Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: h, Events: fastEvents}},
		Shows: []broadcast.ShowConfig{sc}})
	w := e.w("show1")
	w.nodeUp()

	id, err := e.app.JoinHost(ctx, "show1", "")
	if err != nil {
		t.Fatal(err)
	}
	u := w.next("host line failed", func(u broadcast.Update) bool { return hostLineIs(u, id, broadcast.HostFailed, false) })
	if hl := u.Media.HostLines[0]; !strings.Contains(hl.Error, "did not put the host's line on air") || len(u.Media.Hosts) != 0 {
		t.Errorf("failed host line %+v (hosts %v), want why and nobody on air", hl, u.Media.Hosts)
	}
	if _, up := srv.Channel(id); up {
		t.Error("the failed host line is still up in Asterisk, want it hung up")
	}
	if err := e.app.MuteHost(ctx, "show1", id, true); !errors.Is(err, queue.ErrConflict) {
		t.Errorf("mute a failed host line: %v, want ErrConflict", err)
	}
	snap, _ := e.app.Snapshot("show1")
	if len(snap.Media.HostLines) != 1 || snap.Media.HostLines[0].State != broadcast.HostFailed {
		t.Errorf("host lines %+v once the line ended, want it still failed", snap.Media.HostLines)
	}
	if err := e.app.HangupHost(ctx, "show1", id); err != nil {
		t.Fatal(err)
	}
	w.next("failed line dismissed", func(u broadcast.Update) bool { return hostLineIs(u, id, "", false) })

	failed, err := e.app.JoinHost(ctx, "show1", "")
	if err != nil {
		t.Fatal(err)
	}
	w.next("failed again", func(u broadcast.Update) bool { return hostLineIs(u, failed, broadcast.HostFailed, false) })
	h.set(func(h *hooked) { h.addErr = nil })
	again, err := e.app.JoinHost(ctx, "show1", "")
	if err != nil {
		t.Fatal(err)
	}
	u = w.next("new line on air", func(u broadcast.Update) bool { return hostLineIs(u, again, broadcast.HostOnAir, false) })
	if len(u.Media.HostLines) != 1 {
		t.Errorf("host lines %+v, want the new line alone (Call host replaces a failed one)", u.Media.HostLines)
	}
}

// TestHostLinePBX: on a real Asterisk, a busy host phone's line rings and
// then leaves the show's host lines (its ChannelDestroyed reaches callin
// though it never entered Stasis); an answering phone's goes on air, is
// muted, and leaves once hung up.
func TestHostLinePBX(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pbxtest.New(t, pbxtest.Config{})
	p.Phone(t, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneBusy})
	p.Phone(t, 2, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, ToneHz: pbxtest.PhoneHz})
	var log logBuf
	e := startPBX(t, p, 0, &log)
	w := e.w("morning")
	w.nodeUp()

	busy, err := e.app.JoinHost(ctx, "morning", "PJSIP/phone1")
	if err != nil {
		t.Fatal(err)
	}
	w.next("busy host ringing", func(u broadcast.Update) bool { return hostLineIs(u, busy, broadcast.HostRinging, false) })
	w.next("busy host gone", func(u broadcast.Update) bool { return hostLineIs(u, busy, "", false) })

	host, err := e.app.JoinHost(ctx, "morning", "PJSIP/phone2")
	if err != nil {
		t.Fatal(err)
	}
	w.next("host on air", func(u broadcast.Update) bool { return hostLineIs(u, host, broadcast.HostOnAir, false) })
	if err := e.app.MuteHost(ctx, "morning", host, true); err != nil {
		t.Fatal(err)
	}
	w.next("host muted", func(u broadcast.Update) bool { return hostLineIs(u, host, broadcast.HostOnAir, true) })
	if err := e.app.HangupHost(ctx, "morning", host); err != nil {
		t.Fatal(err)
	}
	w.next("host hung up", func(u broadcast.Update) bool { return hostLineIs(u, host, "", false) })
}
