package queue_test

import (
	"testing"

	"github.com/callin-radio/callin/queue"
)

// TestBlockedInLine: blocking a number reaches its callers already in
// line: they are flagged, TakeNext passes them by (even when picked), and
// a producer may still promote them by name (issue 10, point 12).
func TestBlockedInLine(t *testing.T) {
	t.Parallel()
	t.Run("TakeNextSkips", func(t *testing.T) {
		// waiting numbers caller id as "+1555<id>".
		if calls, _ := newShow(t).SetBlocked(at(0), producer, "+1 555 b", true, "x"); len(calls) != 0 {
			t.Fatalf("a number with a letter blocked %v", calls)
		}
		s := newShow(t)
		for i, id := range []string{"1", "2", "3"} {
			waiting(t, s, id, i)
		}
		ready(t, s, "2", 5)
		calls, ts := s.SetBlocked(at(3), producer, "+1 (555) 2", true, "abusive")
		if len(calls) != 1 || !calls[0].Blocked || calls[0].BlockNote != "abusive" || calls[0].State != queue.StateReady {
			t.Fatalf("SetBlocked: got %+v, want caller 2 flagged, still ready", calls)
		}
		if len(ts) != 1 || ts[0].Action != queue.ActionBlock || ts[0].From != ts[0].To || ts[0].Actor != producer || ts[0].Reason != "abusive" {
			t.Fatalf("transition: %+v", ts)
		}
		tk, err := s.TakeNext(producer)
		if err != nil || tk.Call.ID != "1" {
			t.Fatalf("TakeNext: got %q, %v; want 1, past the blocked ready caller", tk.Call.ID, err)
		}
		done(t, s, 4, tk, err)
		if _, _, err := s.PickNext(at(5), producer, "2"); err != nil {
			t.Fatal(err)
		}
		tk, err = s.TakeNext(producer)
		if err != nil || tk.Call.ID != "3" {
			t.Fatalf("TakeNext with the blocked caller picked: got %q, %v; want 3", tk.Call.ID, err)
		}
		done(t, s, 6, tk, err)
		_, err = s.TakeNext(producer)
		wantErr(t, err, queue.ErrNotFound)
		// Chosen by name, the blocked caller goes on air.
		onAir(t, s, "2")
	})
	t.Run("Unblock", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "7", 0)
		s.SetBlocked(at(1), producer, "+15557", true, "x")
		if again, _ := s.SetBlocked(at(2), producer, "+15557", true, "x"); len(again) != 0 {
			t.Fatalf("blocked twice: %v", again)
		}
		calls, ts := s.SetBlocked(at(3), other, "+1-555-7", false, "ignored")
		if len(calls) != 1 || calls[0].Blocked || calls[0].BlockNote != "" || ts[0].Action != queue.ActionUnblock || ts[0].Actor != other {
			t.Fatalf("unblock: %+v %+v", calls, ts)
		}
		tk, err := s.TakeNext(producer)
		if err != nil || tk.Call.ID != "7" {
			t.Fatalf("TakeNext after unblock: %q %v", tk.Call.ID, err)
		}
	})
	t.Run("ReadmittedFlagged", func(t *testing.T) {
		s := newShow(t, func(c *queue.Config) { c.Blocklist = &blocklist{map[string]string{"+15550000": "spam"}} })
		_, ts, err := s.Readmit(at(0), queue.Readmission{Arrival: queue.Arrival{CallID: "r", Number: "+1 555 0000", ChannelID: "ch"}, State: queue.StateWaiting})
		if err != nil || len(ts) != 1 {
			t.Fatal(err)
		}
		c, _ := s.Get("r")
		if !c.Blocked || c.BlockNote != "spam" {
			t.Fatalf("readmitted blocked caller: %+v, want flagged", c)
		}
		_, err = s.TakeNext(producer)
		wantErr(t, err, queue.ErrNotFound)
	})
}

// blocklist is a queue.Blocklist of normalised numbers.
type blocklist struct{ m map[string]string }

func (b *blocklist) IsBlocked(n string) (bool, string) {
	r, ok := b.m[queue.NormalizeNumber(n)]
	return ok, r
}
