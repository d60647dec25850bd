package broadcast_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
