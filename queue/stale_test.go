package queue_test

import (
	"errors"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
)

func TestEndStale(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	stale := func(id string, st queue.State, onAir bool) queue.Readmission {
		return queue.Readmission{Arrival: queue.Arrival{CallID: id, Number: "5550100", Name: "Ann", Node: "n1", ChannelID: "ch-" + id},
			State: st, Seq: 4, WasOnAir: onAir}
	}
	for _, tc := range []struct {
		name string
		r    queue.Readmission
		want queue.Outcome
	}{
		{"WaitingAbandoned", stale("a", queue.StateWaiting, false), queue.OutcomeAbandoned},
		{"ReadyAbandoned", stale("b", queue.StateReady, false), queue.OutcomeAbandoned},
		{"OnAirAired", stale("c", queue.StateOnAir, false), queue.OutcomeAired},
		{"BackOnHoldAired", stale("d", queue.StateWaiting, true), queue.OutcomeAired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newShow(t)
			tr, err := s.EndStale(now, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Outcome != tc.want || tr.Seq != 5 || tr.From != tc.r.State || tr.To != queue.StateEnded ||
				tr.Action != queue.ActionVanish || tr.Actor != queue.System || tr.Number != "5550100" || tr.ChannelID != "ch-"+tc.r.CallID {
				t.Errorf("got %+v", tr)
			}
			if _, err := s.Get(tc.r.CallID); !errors.Is(err, queue.ErrNotFound) {
				t.Errorf("the show learned of the stale call: %v", err)
			}
		})
	}
	t.Run("ErrConflictLive", func(t *testing.T) {
		s := newShow(t)
		adm, err := s.Arrive(now, queue.Arrival{CallID: "live", Number: "1", ChannelID: "c1"})
		if err != nil || !adm.Admitted() {
			t.Fatal(err)
		}
		if _, err := s.EndStale(now, stale("live", queue.StateWaiting, false)); !errors.Is(err, queue.ErrConflict) {
			t.Errorf("live call: %v, want ErrConflict", err)
		}
		if _, _, err := s.Hangup(now, "live", 16); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EndStale(now, stale("live", queue.StateWaiting, false)); !errors.Is(err, queue.ErrGone) {
			t.Errorf("ended call: %v, want ErrGone", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		s := newShow(t)
		if _, err := s.EndStale(now, stale("", queue.StateWaiting, false)); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("empty id: %v", err)
		}
		if _, err := s.EndStale(now, stale("x", queue.StateEnded, false)); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("ended state: %v", err)
		}
	})
}
