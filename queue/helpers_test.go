package queue_test

import (
	"errors"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
)

var (
	t0       = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	producer = queue.Actor{Kind: queue.ActorUser, Name: "pat"}
	other    = queue.Actor{Kind: queue.ActorUser, Name: "sam"}
)

// at returns t0 plus sec seconds.
func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func newShow(t testing.TB, change ...func(*queue.Config)) *queue.Show {
	t.Helper()
	cfg := queue.Config{Key: "morning", Title: "Morning", Node: "pbx1", LinesOpen: true}
	for _, f := range change {
		f(&cfg)
	}
	s, err := queue.NewShow(cfg)
	if err != nil {
		t.Fatalf("NewShow: %v", err)
	}
	return s
}

// waiting puts a caller in the show's holding bridge, arrived at sec.
func waiting(t testing.TB, s *queue.Show, id string, sec int) {
	t.Helper()
	adm, err := s.Arrive(at(sec), queue.Arrival{CallID: id, Number: "+1555" + id, ChannelID: "ch-" + id})
	if err != nil || !adm.Admitted() {
		t.Fatalf("Arrive %s: %v, reject %q", id, err, adm.Reject)
	}
	if _, _, err := s.Joined(at(sec), id); err != nil {
		t.Fatalf("Joined %s: %v", id, err)
	}
}

// done commits a ticket that must work.
func done(t testing.TB, s *queue.Show, sec int, tk queue.Ticket, err error) queue.Call {
	t.Helper()
	if err != nil {
		t.Fatalf("reserve: %v", err)
	}
	c, _, err := s.Commit(at(sec), tk)
	if err != nil {
		t.Fatalf("Commit %s: %v", tk.Action, err)
	}
	return c
}

func ready(t testing.TB, s *queue.Show, id string, prio int) {
	t.Helper()
	tk, err := s.Ready(producer, id, queue.Notes{Topic: "t", Priority: prio})
	done(t, s, 0, tk, err)
}

func onAir(t testing.TB, s *queue.Show, id string) {
	t.Helper()
	tk, err := s.Promote(producer, id)
	done(t, s, 0, tk, err)
}

func state(t testing.TB, s *queue.Show, id string) queue.State {
	t.Helper()
	c, err := s.Get(id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return c.State
}

// line returns the ids of the callers in line, in order.
func line(s *queue.Show) []string {
	l := s.List()
	var ids []string
	for _, c := range append(l.Ready, l.Waiting...) {
		ids = append(ids, c.ID)
	}
	// Ready and Waiting are each in order; Position merges them.
	byPos := make([]string, len(ids))
	for _, c := range append(l.Ready, l.Waiting...) {
		byPos[c.Position-1] = c.ID
	}
	return byPos
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}
