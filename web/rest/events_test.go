package rest_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

func TestAPIEventsResume(t *testing.T) {
	e := webenv.New(t)
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	e.App.Ring("c1", "+1555", "Ann") // one transition each
	first := s.Next(t, webtest.Named("transition"))
	if tr := webenv.TransitionOf(t, first); tr.CallID != "c1" || tr.Action != queue.ActionArrive {
		t.Fatalf("first event: got %+v", tr)
	}
	e.App.Ring("c2", "+1556", "Bob")
	e.App.Ring("c3", "+1557", "Cy")
	second := s.Next(t, webtest.Named("transition"))
	third := s.Next(t, webtest.Named("transition"))
	id1, _ := strconv.ParseInt(first.ID, 10, 64)
	id2, _ := strconv.ParseInt(second.ID, 10, 64)
	id3, _ := strconv.ParseInt(third.ID, 10, 64)
	if id2 != id1+1 || id3 != id2+1 {
		t.Fatalf("ids %d %d %d, want consecutive", id1, id2, id3)
	}

	t.Run("OK", func(t *testing.T) {
		r := webtest.OpenSSE(t, e.EventsRequest(t, first.ID))
		for _, want := range []string{"c2", "c3"} {
			if tr := webenv.TransitionOf(t, r.Next(t, webtest.Named("transition"))); tr.CallID != want {
				t.Fatalf("resumed: got %s, want %s", tr.CallID, want)
			}
		}
	})
	t.Run("TooOld", func(t *testing.T) {
		r := webtest.OpenSSE(t, e.EventsRequest(t, strconv.FormatInt(id1-100, 10)))
		ev := r.Next(t, func(ev webtest.Event) bool { return ev.Name != "" })
		if ev.Name != "reset" {
			t.Fatalf("got event %q, want reset", ev.Name)
		}
	})
	t.Run("FromTheFuture", func(t *testing.T) {
		r := webtest.OpenSSE(t, e.EventsRequest(t, strconv.FormatInt(id3+100, 10)))
		if ev := r.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "reset" {
			t.Fatalf("got event %q, want reset", ev.Name)
		}
	})
}

func TestAPIEventsRingOverflow(t *testing.T) {
	e := webenv.New(t, func(c *core.Config) { c.Ring = 4 })
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	e.App.Arrive("c0", "+1550", "A")
	first := s.Next(t, webtest.Named("transition"))
	for i := 1; i <= 6; i++ {
		e.App.Arrive("c"+strconv.Itoa(i), "+155"+strconv.Itoa(i), "x")
		s.Next(t, webtest.Named("transition"))
	}
	r := webtest.OpenSSE(t, e.EventsRequest(t, first.ID))
	if ev := r.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "reset" {
		t.Fatalf("got %q, want reset: event %s fell out of a ring of 4", ev.Name, first.ID)
	}
}

func TestSSEHeartbeat(t *testing.T) {
	e := webenv.New(t, func(c *core.Config) { c.Heartbeat = 5 * time.Millisecond })
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	s.Next(t, func(ev webtest.Event) bool { return ev.Comment })
}

func TestHubResubscribesAndResets(t *testing.T) {
	e := webenv.New(t)
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	e.App.Ring("c1", "+1", "x") // one transition
	s.Next(t, webtest.Named("transition"))
	e.App.Mu.Lock()
	for sub := range e.App.Subs {
		e.App.DropSub(sub, nil)
	}
	e.App.Mu.Unlock()
	if ev := s.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "reset" {
		t.Fatalf("got %q, want reset after the feed was lost", ev.Name)
	}
	e.WaitSubscribed(t, 1)
	e.App.Arrive("c2", "+2", "y")
	if tr := webenv.TransitionOf(t, s.Next(t, webtest.Named("transition"))); tr.CallID != "c2" {
		t.Fatalf("after resubscribing: got %+v", tr)
	}
}

// TestSSEResyncResets: a resync that readmits more callers than a client's
// buffer holds tells API clients to reload, with the transitions in the
// ring to resume from, instead of disconnecting them as too slow (issue 9).
func TestSSEResyncResets(t *testing.T) {
	e := webenv.New(t, func(c *core.Config) { c.ClientBuffer = 8 })
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	e.App.Ring("c0", "+1", "x")
	first := s.Next(t, webtest.Named("transition"))
	var ts []queue.Transition
	for i := range 40 {
		ts = append(ts, queue.Transition{CallID: fmt.Sprint("r", i), Seq: 1, Show: "morning", From: queue.StateWaiting,
			To: queue.StateWaiting, Action: queue.ActionReadmit, Actor: queue.System, Number: "+1", Node: "n1", ChannelID: fmt.Sprint("ch", i)})
	}
	e.App.Update(broadcast.Update{Kind: broadcast.UpdateResync, Transitions: ts})
	if ev := s.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "reset" || !strings.Contains(ev.Data, "resynchronised") {
		t.Fatalf("got %q %s, want a reset naming the resync", ev.Name, ev.Data)
	}
	// Resuming from the last event seen replays the resync from the ring.
	r := webtest.OpenSSE(t, e.EventsRequest(t, first.ID))
	for i := range 40 {
		if tr := webenv.TransitionOf(t, r.Next(t, webtest.Named("transition"))); tr.CallID != fmt.Sprint("r", i) {
			t.Fatalf("replay %d: got %s", i, tr.CallID)
		}
	}
}
