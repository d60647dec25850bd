package queue_test

import (
	"errors"
	"testing"

	"github.com/callin-radio/callin/queue"
)

// TestCause: a call that ended without its hang-up cause gets it later,
// once, as an ended → ended transition at the end's time, with the outcome.
func TestCause(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	waiting(t, s, "a", 0)
	if _, _, err := s.Cause("a", 16); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("cause of a live call: %v, want ErrInvalid", err)
	}
	_, ts, err := s.Hangup(at(5), "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	end := ts[0]
	c, ts, err := s.Cause("a", 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 {
		t.Fatalf("%d transitions, want 1", len(ts))
	}
	got := ts[0]
	if got.From != queue.StateEnded || got.To != queue.StateEnded || got.Action != queue.ActionCause ||
		got.Cause != 16 || got.Seq != end.Seq+1 || !got.At.Equal(end.At) || got.Outcome != queue.OutcomeAbandoned {
		t.Errorf("cause transition %+v, want ended→ended cause 16, seq %d, at the end's time, abandoned", got, end.Seq+1)
	}
	if c.State != queue.StateEnded {
		t.Errorf("state %s, want ended", c.State)
	}
	if _, ts, err := s.Cause("a", 16); err != nil || len(ts) != 0 {
		t.Errorf("the same cause again: %d transitions, %v; want none", len(ts), err)
	}
	if _, _, err := s.Cause("a", 0); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("cause 0: %v, want ErrInvalid", err)
	}
	if _, _, err := s.Cause("nobody", 16); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("cause of an unknown call: %v, want ErrNotFound", err)
	}

	// Ended with the cause already: nothing to add.
	waiting(t, s, "b", 1)
	if _, _, err := s.Hangup(at(6), "b", 17); err != nil {
		t.Fatal(err)
	}
	if _, ts, err := s.Cause("b", 17); err != nil || len(ts) != 0 {
		t.Errorf("cause known at the end: %d transitions, %v; want none", len(ts), err)
	}
}
