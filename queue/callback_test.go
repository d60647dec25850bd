package queue_test

import (
	"slices"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
)

// withCallback is a show offering call-back from an estimated wait of 2
// minutes, calling back 2 places from the front, 2 attempts a minute apart,
// one ringing at a time.
func withCallback(c *queue.Config) {
	c.Callback = queue.CallbackConfig{Offer: 2 * time.Minute, NearFront: 2, Attempts: 2, Gap: time.Minute, MaxRinging: 1}
	c.AnnounceEvery = 30 * time.Second
}

// busyShow took a caller off the line every 60 s from 60 s to 240 s, and
// then has a line of n waiting callers (c0 first, joined from 250 s): at
// 290 s a caller is taken about every 58 s.
func busyShow(t *testing.T, n int) *queue.Show {
	t.Helper()
	s := newShow(t, withCallback)
	for i := range 4 {
		id := "gone" + string(rune('a'+i))
		waiting(t, s, id, 0)
		tk, err := s.Promote(producer, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Commit(at(60*(i+1)), tk); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Hangup(at(60*(i+1)), id, 16); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		id := "c" + string(rune('0'+i))
		if _, err := s.Arrive(at(250+i), queue.Arrival{CallID: id, Number: "+1202555010" + string(rune('0'+i)), ChannelID: "ch-" + id}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Joined(at(250+i), id); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// offered makes the announcements due at sec and returns who was offered.
func offered(s *queue.Show, sec int) []string {
	var out []string
	for _, a := range s.DueAnnouncements(at(sec), 0) {
		if a.OfferCallback {
			out = append(out, a.CallID)
		}
		_ = s.AnnouncementDone(at(sec), a.CallID)
	}
	slices.Sort(out)
	return out
}

func TestCallbackOffer(t *testing.T) {
	t.Parallel()
	t.Run("LongWaitsOnly", func(t *testing.T) {
		s := busyShow(t, 4)
		if d, ok := s.EstimatedWait(at(290), 3); !ok || d < 2*time.Minute || d > 3*time.Minute {
			t.Fatalf("estimated wait at 3: %v %t, want about 174 s", d, ok)
		}
		got := offered(s, 290)
		// Places 1 and 2 wait under 2 minutes; 3 and 4 are offered.
		if !slices.Equal(got, []string{"c2", "c3"}) {
			t.Errorf("offered %v, want [c2 c3]", got)
		}
	})
	t.Run("NotWithheldOrBlocked", func(t *testing.T) {
		s := busyShow(t, 2)
		for _, a := range []queue.Arrival{
			{CallID: "anon", Number: "anonymous", ChannelID: "ch-anon"},
			{CallID: "none", Number: "", ChannelID: "ch-none"},
			{CallID: "bad", Number: "javascript:alert(1)", ChannelID: "ch-bad"},
			{CallID: "ok", Number: "+12025550100", ChannelID: "ch-ok"},
		} {
			if _, err := s.Arrive(at(20), a); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Joined(at(20), a.CallID); err != nil {
				t.Fatal(err)
			}
		}
		s.SetBlocked(at(21), producer, "+12025550100", true, "abuse")
		got := offered(s, 10000)
		for _, id := range []string{"anon", "none", "bad", "ok"} {
			if slices.Contains(got, id) {
				t.Errorf("%s offered a call-back (withheld, invalid or blocked number): %v", id, got)
			}
		}
		if !slices.Contains(got, "c1") {
			t.Errorf("offered %v: the long wait of c1 is not offered, so this proves nothing", got)
		}
	})
	t.Run("NoHistoryNoOffer", func(t *testing.T) {
		s := newShow(t, withCallback)
		for i := range 5 {
			waiting(t, s, "c"+string(rune('0'+i)), i)
		}
		if got := offered(s, 10000); len(got) != 0 {
			t.Errorf("offered %v with no rate known yet", got)
		}
	})
	t.Run("ErrInvalidWithoutOffer", func(t *testing.T) {
		s := busyShow(t, 1)
		_, _, err := s.RequestCallback(at(300), "c0")
		wantErr(t, err, queue.ErrInvalid)
	})
}

func TestCallbackKeepsPlace(t *testing.T) {
	t.Parallel()
	s := busyShow(t, 4)
	offered(s, 10000)
	c, ts, err := s.RequestCallback(at(10001), "c3")
	wantErr(t, err, nil)
	if c.State != queue.StateCallback || c.Position != 4 || c.ChannelID != "" || c.Callback == nil || c.Callback.Number != "+12025550103" {
		t.Fatalf("got %+v, want a call-back entry at place 4 without a channel", c)
	}
	if len(ts) != 1 || ts[0].Action != queue.ActionCallbackRequest || ts[0].Actor.Kind != queue.ActorCaller {
		t.Errorf("transitions %+v", ts)
	}
	// Not taken, screened, held or announced; still counted and in line.
	for range 3 {
		tk, err := s.TakeNext(producer)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Call.ID == "c3" {
			t.Fatal("TakeNext took a call-back entry")
		}
		_, _, _ = s.Commit(at(10002), tk)
	}
	_, err = s.TakeNext(producer)
	wantErr(t, err, queue.ErrNotFound)
	_, err = s.Screen(producer, "c3", "sam")
	wantErr(t, err, queue.ErrInvalid)
	_, err = s.Promote(producer, "c3")
	wantErr(t, err, queue.ErrInvalid)
	_, err = s.Hold(producer, "c3")
	wantErr(t, err, queue.ErrInvalid)
	for _, a := range s.DueAnnouncements(at(99999), 0) {
		if a.CallID == "c3" {
			t.Error("a call-back entry was announced")
		}
	}
	if st := s.Stats(at(10003)); st.Callback != 1 {
		t.Errorf("stats %+v, want one call-back", st)
	}
	if p, _ := s.Position("c3"); p != 1 {
		t.Errorf("position %d, want 1 (the others went on air)", p)
	}
}

func TestCallbackDialing(t *testing.T) {
	t.Parallel()
	s := busyShow(t, 5)
	offered(s, 10000)
	for _, id := range []string{"c2", "c3", "c4"} {
		if _, _, err := s.RequestCallback(at(10001), id); err != nil {
			t.Fatal(err)
		}
	}
	// c2 is at place 3, beyond NearFront 2: nobody is due.
	if due, _ := s.DueCallbacks(at(10002)); len(due) != 0 {
		t.Fatalf("due %+v, want none", due)
	}
	// A producer asks for c4 now; one rings at a time.
	if _, _, err := s.CallbackNow(at(10003), producer, "c4"); err != nil {
		t.Fatal(err)
	}
	due, ts := s.DueCallbacks(at(10003))
	if len(due) != 1 || due[0].CallID != "c4" || due[0].Attempt != 1 || len(ts) != 1 || ts[0].Action != queue.ActionCallbackDial {
		t.Fatalf("due %+v %+v, want c4's first attempt", due, ts)
	}
	if due, _ := s.DueCallbacks(at(10003)); len(due) != 0 {
		t.Errorf("due %+v while one rings (MaxRinging 1)", due)
	}
	// c4 does not answer: retried after the gap, then unreached.
	c, _, err := s.CallbackMissed(at(10010), "c4", "no answer")
	wantErr(t, err, nil)
	if c.State != queue.StateCallback || !c.Callback.NextAt.Equal(at(10070)) {
		t.Errorf("after a miss: %+v", c)
	}
	// c0 goes on air, c1 too: c2 is at the front now and due; c4 is not due before its gap.
	for _, id := range []string{"c0", "c1"} {
		tk, err := s.Promote(producer, id)
		done(t, s, 10020, tk, err)
	}
	due, _ = s.DueCallbacks(at(10030))
	if len(due) != 1 || due[0].CallID != "c2" {
		t.Fatalf("due %+v, want c2 (front of the line)", due)
	}
	c, ts, err = s.CallbackReturned(at(10040), "c2", "ch-new", "n2")
	wantErr(t, err, nil)
	if c.State != queue.StateWaiting || c.ChannelID != "ch-new" || c.Node != "n2" || c.Position != 1 || ts[0].Action != queue.ActionCallbackReturn {
		t.Errorf("returned: %+v", c)
	}
	due, _ = s.DueCallbacks(at(10080))
	if len(due) != 1 || due[0].CallID != "c3" {
		// c3 is at place 2 now (after c2): within NearFront.
		t.Fatalf("due %+v, want c3", due)
	}
	if _, _, err := s.CallbackMissed(at(10081), "c3", "busy"); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueCallbacks(at(10090))
	for _, d := range due {
		if d.CallID == "c4" && d.Attempt != 2 {
			t.Errorf("c4 attempt %d, want 2", d.Attempt)
		}
	}
	// The last attempt fails: the entry ends as unreached.
	for _, d := range due {
		if d.CallID == "c4" {
			c, ts, err := s.CallbackMissed(at(10100), "c4", "no answer")
			wantErr(t, err, nil)
			if c.State != queue.StateEnded || c.Outcome != queue.OutcomeUnreached || ts[0].Reason != "no answer" {
				t.Errorf("after the last attempt: %+v %+v", c, ts)
			}
		}
	}
}

func TestConfirm(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	waiting(t, s, "a", 0)
	c, ts, err := s.Confirm(at(1), "a")
	wantErr(t, err, nil)
	if !c.Confirmed || ts[0].Action != queue.ActionConfirm {
		t.Errorf("got %+v", c)
	}
	_, _, err = s.Confirm(at(2), "a")
	wantErr(t, err, queue.ErrConflict)
	onAir(t, s, "a")
	if c, _ := s.Get("a"); c.Confirmed {
		t.Error("confirmed mark kept on air")
	}
	_, _, err = s.Confirm(at(3), "a")
	wantErr(t, err, queue.ErrInvalid)
}

func TestCallbackResync(t *testing.T) {
	t.Parallel()
	s := busyShow(t, 3)
	offered(s, 10000)
	if _, _, err := s.RequestCallback(at(10001), "c2"); err != nil {
		t.Fatal(err)
	}
	p := s.PlanResync(at(10002), queue.Listing{})
	if slices.Contains(p.Vanish, "c2") {
		t.Error("a call-back entry vanished at a resync (it has no channel to list)")
	}
	// A restarted service finds the entry in the store and keeps it.
	s2 := newShow(t, withCallback)
	p = s2.PlanResync(at(10002), queue.Listing{Stored: map[string]queue.Stored{
		"": {CallID: "c2", Number: "+12025550102", State: queue.StateCallback, Seq: 3, ArrivedAt: at(12)},
	}})
	if len(p.Readmit) != 1 || p.Readmit[0].State != queue.StateCallback || len(p.Stale) != 0 {
		t.Fatalf("plan %+v, want the call-back entry readmitted", p)
	}
	c, _, err := s2.Readmit(at(10002), p.Readmit[0])
	wantErr(t, err, nil)
	if c.State != queue.StateCallback || c.Callback == nil || c.Callback.Number != "+12025550102" {
		t.Errorf("readmitted %+v", c)
	}
}

// TestCallbackDroppedWhileRinging: an entry dropped while its call-back
// rings frees its ringing place.
func TestCallbackDroppedWhileRinging(t *testing.T) {
	t.Parallel()
	s := busyShow(t, 3)
	offered(s, 10000)
	for _, id := range []string{"c1", "c2"} {
		if _, _, err := s.RequestCallback(at(10001), id); err != nil {
			t.Fatal(err)
		}
	}
	due, _ := s.DueCallbacks(at(10002))
	if len(due) != 1 || due[0].CallID != "c1" {
		t.Fatalf("due %+v, want c1 (MaxRinging 1)", due)
	}
	tk, err := s.Drop(producer, "c1", "changed our mind")
	done(t, s, 10003, tk, err)
	due, _ = s.DueCallbacks(at(10004))
	if len(due) != 1 || due[0].CallID != "c2" {
		t.Errorf("due %+v, want c2 once c1's ringing ended with its drop", due)
	}
}
