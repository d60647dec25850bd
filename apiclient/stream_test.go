package apiclient_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/callin-radio/callin/apiclient"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// The typed stream reader against a whole Server on the fakes
// (webenv), its answers checked against the document.

// gatedDoer is an HTTP client that records each request's Last-Event-ID
// and, once closed is set, holds every request until open is closed.
type gatedDoer struct {
	asked chan string // each request's Last-Event-ID
	gate  chan struct{}
}

func (d *gatedDoer) Do(req *http.Request) (*http.Response, error) {
	d.asked <- req.Header.Get("Last-Event-ID")
	if d.gate != nil {
		select {
		case <-d.gate:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return http.DefaultClient.Do(req)
}

func client(t *testing.T, e *webenv.Env, token string, doer apiclient.HttpRequestDoer) *apiclient.Client {
	t.Helper()
	opts := []apiclient.ClientOption{apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	})}
	if doer != nil {
		opts = append(opts, apiclient.WithHTTPClient(doer))
	}
	c, err := apiclient.NewClient(e.TS.URL+"/api/v1", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// next is the stream's next event, within 5 s.
func next(t *testing.T, s *apiclient.Stream) apiclient.StreamEvent {
	t.Helper()
	type got struct {
		ev  apiclient.StreamEvent
		err error
	}
	ch := make(chan got, 1)
	go func() {
		ev, err := s.Next()
		ch <- got{ev, err}
	}()
	select {
	case g := <-ch:
		if g.err != nil {
			t.Fatalf("next event: %v", g.err)
		}
		return g.ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	panic("unreachable")
}

// arrival is the call id of an event that must be a transition.
func arrival(t *testing.T, ev apiclient.StreamEvent) string {
	t.Helper()
	v, err := ev.Value()
	tf, ok := v.(apiclient.TransitionFrame)
	if err != nil || !ok || ev.ID == "" || tf.Id != ev.ID {
		t.Fatalf("event %s %s: %T %v, want a TransitionFrame with its id", ev.Name, ev.ID, v, err)
	}
	return tf.Data.CallId
}

// TestStreamResumes: the reader yields typed events, and after the
// connection drops it connects again with Last-Event-ID by itself: the
// events made while it was away come next, in order, none twice.
func TestStreamResumes(t *testing.T) {
	e := webenv.New(t)
	doer := &gatedDoer{asked: make(chan string, 10)}
	c := client(t, e, "host", doer)
	// List, then stream from the list's event id: the reader connects at
	// its first Next, and gets what happened since the list.
	list, err := c.ListCallers(t.Context(), "morning", nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := apiclient.ParseListCallersResponse(list)
	if err != nil || l.JSON200 == nil || l.JSON200.EventId == nil {
		t.Fatalf("list: %v %s", err, l.Body)
	}
	<-doer.asked
	s := c.Stream(t.Context(), "morning", apiclient.StreamOptions{LastEventID: *l.JSON200.EventId, Retry: 10 * time.Millisecond})
	defer s.Close()
	e.App.Ring("c1", "+15550001", "Ann")
	first := next(t, s)
	if id := arrival(t, first); id != "c1" {
		t.Fatalf("first event of call %s, want c1", id)
	}
	if got := <-doer.asked; got != *l.JSON200.EventId {
		t.Fatalf("first connection with Last-Event-ID %q, want the list's %s", got, *l.JSON200.EventId)
	}
	// Drop the connection; hold the reconnection until two events were
	// made with nobody connected.
	doer.gate = make(chan struct{})
	e.TS.CloseClientConnections()
	done := make(chan apiclient.StreamEvent, 2)
	go func() {
		for range 2 {
			ev, err := s.Next()
			if err != nil {
				t.Errorf("next after the drop: %v", err)
				return
			}
			done <- ev
		}
	}()
	select {
	case got := <-doer.asked:
		if got != first.ID {
			t.Fatalf("reconnected with Last-Event-ID %q, want %s", got, first.ID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reader did not connect again")
	}
	e.App.Ring("c2", "+15550002", "Bob")
	e.App.Ring("c3", "+15550003", "Cy")
	close(doer.gate)
	for _, want := range []string{"c2", "c3"} {
		select {
		case ev := <-done:
			if id := arrival(t, ev); id != want {
				t.Fatalf("after resuming: call %s, want %s", id, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event for %s after resuming", want)
		}
	}
	if s.LastEventID() == first.ID {
		t.Fatal("LastEventID did not move")
	}
}

// TestStreamReset: resumed from an id no longer kept, the reader gives a
// reset that carries the newest id, and goes on from it.
func TestStreamReset(t *testing.T) {
	e := webenv.New(t)
	seen := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	e.App.Ring("c1", "+15550001", "Ann")
	seen.Next(t, webtest.Named("transition")) // numbered before the reader connects
	s := client(t, e, "host", nil).Stream(t.Context(), "morning", apiclient.StreamOptions{LastEventID: "1"})
	defer s.Close()
	ev := next(t, s)
	v, err := ev.Value()
	rf, ok := v.(apiclient.ResetFrame)
	if err != nil || !ok || ev.Name != "reset" || ev.ID == "" || rf.Id != ev.ID || s.LastEventID() != ev.ID {
		t.Fatalf("got %s %q %T %v (last id %s), want a reset with an id", ev.Name, ev.ID, v, err, s.LastEventID())
	}
	if want := rf.Data.LastId; ev.ID != itoa(want) {
		t.Fatalf("reset's id %s, its last_id %d", ev.ID, want)
	}
	e.App.Ring("c2", "+15550002", "Bob")
	if id := arrival(t, next(t, s)); id != "c2" {
		t.Fatalf("after the reset: call %s, want c2", id)
	}
}

// TestStreamRefused: a refusal for good is a typed error, not retried.
func TestStreamRefused(t *testing.T) {
	e := webenv.New(t)
	s := client(t, e, "nobody", nil).Stream(t.Context(), "morning", apiclient.StreamOptions{Retry: time.Millisecond})
	var pe *apiclient.Error
	if _, err := s.Next(); !errors.As(err, &pe) || pe.StatusCode != http.StatusForbidden || pe.Problem.Code != apiclient.ProblemCodeForbidden {
		t.Fatalf("got %v, want a 403 problem", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
