package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/stream"
	"github.com/callin-radio/callin/web/webtest"
)

func (e *env) eventsRequest(t *testing.T, lastID string) *http.Request {
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/api/v1/shows/morning/events", nil)
	req.Header.Set("Authorization", "Bearer host")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	return req
}

func transitionOf(t *testing.T, ev webtest.Event) queue.Transition {
	t.Helper()
	var tr queue.Transition
	if err := json.Unmarshal([]byte(ev.Data), &tr); err != nil {
		t.Fatalf("event data %q: %v", ev.Data, err)
	}
	return tr
}

func TestAPIEventsResume(t *testing.T) {
	e := newEnv(t)
	s := webtest.OpenSSE(t, e.eventsRequest(t, ""))
	e.app.Ring("c1", "+1555", "Ann") // one transition each
	first := s.Next(t, webtest.Named("transition"))
	if tr := transitionOf(t, first); tr.CallID != "c1" || tr.Action != queue.ActionArrive {
		t.Fatalf("first event: got %+v", tr)
	}
	e.app.Ring("c2", "+1556", "Bob")
	e.app.Ring("c3", "+1557", "Cy")
	second := s.Next(t, webtest.Named("transition"))
	third := s.Next(t, webtest.Named("transition"))
	id1, _ := strconv.ParseInt(first.ID, 10, 64)
	id2, _ := strconv.ParseInt(second.ID, 10, 64)
	id3, _ := strconv.ParseInt(third.ID, 10, 64)
	if id2 != id1+1 || id3 != id2+1 {
		t.Fatalf("ids %d %d %d, want consecutive", id1, id2, id3)
	}

	t.Run("OK", func(t *testing.T) {
		r := webtest.OpenSSE(t, e.eventsRequest(t, first.ID))
		for _, want := range []string{"c2", "c3"} {
			if tr := transitionOf(t, r.Next(t, webtest.Named("transition"))); tr.CallID != want {
				t.Fatalf("resumed: got %s, want %s", tr.CallID, want)
			}
		}
	})
	t.Run("TooOld", func(t *testing.T) {
		r := webtest.OpenSSE(t, e.eventsRequest(t, strconv.FormatInt(id1-100, 10)))
		ev := r.Next(t, func(ev webtest.Event) bool { return ev.Name != "" })
		if ev.Name != "reset" {
			t.Fatalf("got event %q, want reset", ev.Name)
		}
	})
	t.Run("FromTheFuture", func(t *testing.T) {
		r := webtest.OpenSSE(t, e.eventsRequest(t, strconv.FormatInt(id3+100, 10)))
		if ev := r.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "reset" {
			t.Fatalf("got event %q, want reset", ev.Name)
		}
	})
}

func TestAPIEventsRingOverflow(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Ring = 4 })
	s := webtest.OpenSSE(t, e.eventsRequest(t, ""))
	e.app.Arrive("c0", "+1550", "A")
	first := s.Next(t, webtest.Named("transition"))
	for i := 1; i <= 6; i++ {
		e.app.Arrive("c"+strconv.Itoa(i), "+155"+strconv.Itoa(i), "x")
		s.Next(t, webtest.Named("transition"))
	}
	r := webtest.OpenSSE(t, e.eventsRequest(t, first.ID))
	if ev := r.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "reset" {
		t.Fatalf("got %q, want reset: event %s fell out of a ring of 4", ev.Name, first.ID)
	}
}

func TestSSEHeartbeat(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Heartbeat = 5 * time.Millisecond })
	s := webtest.OpenSSE(t, e.eventsRequest(t, ""))
	s.Next(t, func(ev webtest.Event) bool { return ev.Comment })
}

func TestSSESlowClientIsDisconnected(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ClientBuffer = 2; c.Ring = 2 })
	ev := e.srv.api.events["morning"]
	c := stream.NewClient("host", 2)
	ev.attach(c, -1)
	for i := range 3 {
		e.app.Arrive("c"+strconv.Itoa(i), "+1", "x")
	}
	select {
	case <-c.Gone():
	case <-time.After(5 * time.Second):
		t.Fatal("a client that reads nothing was not disconnected")
	}
	ev.mu.Lock()
	_, still := ev.clients[c]
	ev.mu.Unlock()
	if still {
		t.Fatal("kicked client still registered")
	}
}

func TestHubResubscribesAndResets(t *testing.T) {
	e := newEnv(t)
	s := webtest.OpenSSE(t, e.eventsRequest(t, ""))
	e.app.Ring("c1", "+1", "x") // one transition
	s.Next(t, webtest.Named("transition"))
	e.app.Mu.Lock()
	for sub := range e.app.Subs {
		e.app.DropSub(sub, nil)
	}
	e.app.Mu.Unlock()
	if ev := s.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "reset" {
		t.Fatalf("got %q, want reset after the feed was lost", ev.Name)
	}
	e.waitSubscribed(t, 1)
	e.app.Arrive("c2", "+2", "y")
	if tr := transitionOf(t, s.Next(t, webtest.Named("transition"))); tr.CallID != "c2" {
		t.Fatalf("after resubscribing: got %+v", tr)
	}
}

// TestSSEResyncResets: a resync that readmits more callers than a client's
// buffer holds tells API clients to reload, with the transitions in the
// ring to resume from, instead of disconnecting them as too slow (issue 9).
func TestSSEResyncResets(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ClientBuffer = 8 })
	s := webtest.OpenSSE(t, e.eventsRequest(t, ""))
	e.app.Ring("c0", "+1", "x")
	first := s.Next(t, webtest.Named("transition"))
	var ts []queue.Transition
	for i := range 40 {
		ts = append(ts, queue.Transition{CallID: fmt.Sprint("r", i), Seq: 1, Show: "morning", From: queue.StateWaiting,
			To: queue.StateWaiting, Action: queue.ActionReadmit, Actor: queue.System, Number: "+1", Node: "n1", ChannelID: fmt.Sprint("ch", i)})
	}
	e.app.Update(broadcast.Update{Kind: broadcast.UpdateResync, Transitions: ts})
	if ev := s.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "reset" || !strings.Contains(ev.Data, "resynchronised") {
		t.Fatalf("got %q %s, want a reset naming the resync", ev.Name, ev.Data)
	}
	// Resuming from the last event seen replays the resync from the ring.
	r := webtest.OpenSSE(t, e.eventsRequest(t, first.ID))
	for i := range 40 {
		if tr := transitionOf(t, r.Next(t, webtest.Named("transition"))); tr.CallID != fmt.Sprint("r", i) {
			t.Fatalf("replay %d: got %s", i, tr.CallID)
		}
	}
}
