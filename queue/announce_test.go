package queue_test

import (
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
)

func ids(as []queue.Announcement) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.CallID)
	}
	return out
}

func TestAnnouncements(t *testing.T) {
	t.Parallel()
	every := func(c *queue.Config) { c.AnnounceEvery = 60 * time.Second }
	t.Run("OK", func(t *testing.T) {
		s := newShow(t, every)
		waiting(t, s, "a", 0)
		waiting(t, s, "b", 30)
		if got := s.DueAnnouncements(at(59), 0); len(got) != 0 {
			t.Fatalf("got %v due before the interval", got)
		}
		got := s.DueAnnouncements(at(60), 0)
		if len(got) != 1 || got[0] != (queue.Announcement{CallID: "a", ChannelID: "ch-a", Position: 1}) {
			t.Fatalf("got %+v, want a at position 1", got)
		}
		if c, _ := s.Get("a"); !c.Announcing {
			t.Errorf("a not marked announcing")
		}
		// Still playing: never queued twice.
		if got := ids(s.DueAnnouncements(at(200), 0)); len(got) != 1 || got[0] != "b" {
			t.Fatalf("got %v, want only b", got)
		}
		wantErr(t, s.AnnouncementDone(at(210), "a"), nil)
		wantErr(t, s.AnnouncementDone(at(211), "a"), queue.ErrInvalid)
		if got := s.DueAnnouncements(at(269), 0); len(got) != 0 {
			t.Fatalf("got %v, want none before 270", got)
		}
		if got := ids(s.DueAnnouncements(at(270), 0)); len(got) != 1 || got[0] != "a" {
			t.Fatalf("got %v, want a", got)
		}
	})
	t.Run("Limit", func(t *testing.T) {
		s := newShow(t, every)
		for i, id := range []string{"a", "b", "c"} {
			waiting(t, s, id, i)
		}
		if got := ids(s.DueAnnouncements(at(100), 2)); len(got) != 2 || got[0] != "a" || got[1] != "b" {
			t.Fatalf("got %v, want [a b]", got)
		}
		if got := ids(s.DueAnnouncements(at(100), 2)); len(got) != 1 || got[0] != "c" {
			t.Fatalf("got %v, want [c]", got)
		}
	})
	t.Run("Off", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "a", 0)
		if got := s.DueAnnouncements(at(1000), 0); got != nil {
			t.Fatalf("got %v with announcements off", got)
		}
		wantErr(t, s.SetAnnounceEvery(time.Minute), nil)
		if got := ids(s.DueAnnouncements(at(1000), 0)); len(got) != 1 {
			t.Fatalf("got %v after turning announcements on", got)
		}
	})
	t.Run("BusyPutOff", func(t *testing.T) {
		s := newShow(t, every)
		waiting(t, s, "a", 0)
		tk, err := s.Promote(producer, "a")
		wantErr(t, err, nil)
		if got := s.DueAnnouncements(at(60), 0); len(got) != 0 {
			t.Fatalf("got %v for a busy caller", got)
		}
		wantErr(t, s.Abort(tk), nil)
		if got := s.DueAnnouncements(at(119), 0); len(got) != 0 {
			t.Fatalf("got %v, want it put off to 120", got)
		}
		if got := s.DueAnnouncements(at(120), 0); len(got) != 1 {
			t.Fatalf("got %v at 120", got)
		}
	})
	t.Run("OutOfLine", func(t *testing.T) {
		s := newShow(t, every)
		waiting(t, s, "a", 0)
		waiting(t, s, "b", 0)
		s.DueAnnouncements(at(60), 0) // a and b announcing
		onAir(t, s, "a")
		tk, err := s.Screen(producer, "b", "scr")
		done(t, s, 61, tk, err)
		wantErr(t, s.AnnouncementDone(at(62), "b"), nil)
		tk, err = s.Hold(producer, "a")
		done(t, s, 63, tk, err)
		// a's old announcement may still play: none due until it is done.
		if got := s.DueAnnouncements(at(1000), 0); len(got) != 0 {
			t.Fatalf("got %v", got)
		}
		wantErr(t, s.AnnouncementDone(at(1000), "a"), nil)
		if got := ids(s.DueAnnouncements(at(1060), 0)); len(got) != 1 || got[0] != "a" {
			t.Fatalf("got %v, want [a]", got)
		}
		// b, screening, is never due.
		if c, _ := s.Get("b"); c.Announcing {
			t.Errorf("b still announcing")
		}
	})
	t.Run("JoiningLineRestartsClock", func(t *testing.T) {
		s := newShow(t, every)
		waiting(t, s, "a", 0)
		onAir(t, s, "a")
		tk, err := s.Hold(producer, "a")
		done(t, s, 50, tk, err)
		if got := s.DueAnnouncements(at(100), 0); len(got) != 0 {
			t.Fatalf("got %v, want none before 110", got)
		}
		// Notes changes keep the clock.
		if _, _, err := s.UpdateNotes(at(105), producer, "a", queue.Notes{Topic: "x"}); err != nil {
			t.Fatal(err)
		}
		if got := s.DueAnnouncements(at(110), 0); len(got) != 1 || got[0].Position != 1 {
			t.Fatalf("got %v at 110", got)
		}
	})
	t.Run("ErrCallerGone", func(t *testing.T) {
		s := newShow(t, every)
		waiting(t, s, "a", 0)
		s.DueAnnouncements(at(60), 0)
		s.Hangup(at(61), "a", 16)
		wantErr(t, s.AnnouncementDone(at(62), "a"), queue.ErrGone)
		wantErr(t, s.AnnouncementDone(at(62), "zz"), queue.ErrNotFound)
	})
}
