package queue_test

import (
	"slices"
	"testing"

	"github.com/callin-radio/callin/queue"
)

func TestReadmit(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "new", 100)
		r := queue.Readmission{
			Arrival: queue.Arrival{CallID: "old", Number: "555", ChannelID: "ch-old", ArrivedAt: at(10)},
			State:   queue.StateReady, Was: queue.StateOnAir, Seq: 7,
			Notes: queue.Notes{Name: "Al", Priority: 2}, WasOnAir: true,
		}
		c, ts, err := s.Readmit(at(200), r)
		wantErr(t, err, nil)
		if c.State != queue.StateReady || !c.ArrivedAt.Equal(at(10)) || c.Position != 1 || !c.WasOnAir || c.Node != "pbx1" {
			t.Errorf("got %+v", c)
		}
		if len(ts) != 1 || ts[0].Seq != 8 || ts[0].From != queue.StateOnAir || ts[0].To != queue.StateReady ||
			ts[0].Action != queue.ActionReadmit || ts[0].Actor != queue.System {
			t.Errorf("got %+v", ts)
		}
		// It was on air once: vanishing now makes it aired.
		c, _, err = s.Vanish(at(300), "old")
		if err != nil || c.Outcome != queue.OutcomeAired {
			t.Errorf("Vanish: %+v, %v", c, err)
		}
	})
	t.Run("OrderByStoredArrival", func(t *testing.T) {
		s := newShow(t)
		for i, id := range []string{"c", "a", "b"} {
			sec := map[string]int{"a": 1, "b": 2, "c": 3}[id]
			_, _, err := s.Readmit(at(100+i), queue.Readmission{
				Arrival: queue.Arrival{CallID: id, ArrivedAt: at(sec)}, State: queue.StateWaiting})
			wantErr(t, err, nil)
		}
		if got := line(s); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Errorf("got line %v", got)
		}
	})
	t.Run("KnownCallCorrected", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "a", 0)
		waiting(t, s, "b", 1)
		tk, err := s.Promote(producer, "a")
		wantErr(t, err, nil)
		// Asterisk shows a still in the holding bridge: nothing changes but
		// the reservation is void.
		_, ts, err := s.Readmit(at(5), queue.Readmission{Arrival: queue.Arrival{CallID: "a"}, State: queue.StateWaiting})
		if err != nil || len(ts) != 0 {
			t.Fatalf("got %v, %v; want no transition", ts, err)
		}
		_, _, err = s.Commit(at(6), tk)
		wantErr(t, err, queue.ErrConflict)
		if st := s.Stats(at(6)); st.PendingOnAir != 0 {
			t.Errorf("got %d pending on air, want 0", st.PendingOnAir)
		}
		// Asterisk shows b in the mixing bridge.
		c, ts, err := s.Readmit(at(7), queue.Readmission{Arrival: queue.Arrival{CallID: "b", ArrivedAt: at(50)}, State: queue.StateOnAir, Muted: true})
		wantErr(t, err, nil)
		if c.State != queue.StateOnAir || !c.Muted || !c.ArrivedAt.Equal(at(1)) || len(ts) != 1 ||
			ts[0].Action != queue.ActionReconcile || ts[0].From != queue.StateWaiting || ts[0].Seq != 3 {
			t.Errorf("got %+v %+v", c, ts)
		}
		// And back: b keeps its place before a? No: a arrived first.
		_, _, err = s.Readmit(at(8), queue.Readmission{Arrival: queue.Arrival{CallID: "b"}, State: queue.StateWaiting})
		wantErr(t, err, nil)
		if got := line(s); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("got line %v", got)
		}
	})
	tests := []struct {
		name string
		r    queue.Readmission
		want error
	}{
		{"ErrEmptyID", queue.Readmission{State: queue.StateWaiting}, queue.ErrInvalid},
		{"ErrEndedState", queue.Readmission{Arrival: queue.Arrival{CallID: "z"}, State: queue.StateEnded}, queue.ErrInvalid},
		{"ErrNoState", queue.Readmission{Arrival: queue.Arrival{CallID: "z"}}, queue.ErrInvalid},
		{"ErrNegativeSeq", queue.Readmission{Arrival: queue.Arrival{CallID: "z"}, State: queue.StateWaiting, Seq: -1}, queue.ErrInvalid},
		{"ErrCallerGone", queue.Readmission{Arrival: queue.Arrival{CallID: "gone"}, State: queue.StateWaiting}, queue.ErrGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShow(t)
			waiting(t, s, "gone", 0)
			s.Hangup(at(1), "gone", 16)
			_, _, err := s.Readmit(at(2), tt.r)
			wantErr(t, err, tt.want)
		})
	}
}
