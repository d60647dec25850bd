package queue_test

import (
	"slices"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
)

func listed(id, ch string, p queue.Place) queue.Listed {
	return queue.Listed{Arrival: queue.Arrival{CallID: id, ChannelID: ch, Number: "555" + id, Node: "pbx1", ArrivedAt: at(-60)}, Place: p}
}

func TestPlanResync(t *testing.T) {
	t.Parallel()
	// The show before the resync: w waiting, r ready, a on air, s
	// screening with sam, gone waiting (no longer in Asterisk), busy being
	// promoted (listed but in flux), dead ended.
	setup := func(t *testing.T) *queue.Show {
		s := newShow(t)
		for i, id := range []string{"w", "r", "a", "s", "gone", "busy", "dead", "fresh"} {
			waiting(t, s, id, i)
		}
		ready(t, s, "r", 0)
		onAir(t, s, "a")
		tk, err := s.Screen(producer, "s", "sam")
		wantErr(t, err, nil)
		_, _, err = s.Commit(at(20), tk)
		wantErr(t, err, nil)
		_, _, err = s.Hangup(at(21), "dead", 16)
		wantErr(t, err, nil)
		return s
	}
	stored := map[string]queue.Stored{
		"ch-x":   {CallID: "x", ChannelID: "ch-x", Number: "555x", State: queue.StateReady, Seq: 7, ArrivedAt: at(-300), Notes: queue.Notes{Topic: "bins"}},
		"ch-old": {CallID: "old", ChannelID: "ch-old", Number: "555old", State: queue.StateOnAir, Seq: 4, ArrivedAt: at(-900)},
		"ch-cut": {CallID: "cut", ChannelID: "ch-cut", State: queue.StateWaiting, Seq: 2, ArrivedAt: at(-100)},
		"ch-w":   {CallID: "w", ChannelID: "ch-w", State: queue.StateWaiting, Seq: 2, ArrivedAt: at(0)},
	}
	byCall := func(rs []queue.Readmission) map[string]queue.Readmission {
		m := map[string]queue.Readmission{}
		for _, r := range rs {
			m[r.CallID] = r
		}
		return m
	}
	t.Run("Decides", func(t *testing.T) {
		s := setup(t)
		p := s.PlanResync(at(30), queue.Listing{
			Callers: []queue.Listed{
				listed("w", "ch-w", queue.PlaceHold),
				listed("r", "ch-r", queue.PlaceHold),       // ready: the holding bridge carries it
				listed("a", "ch-a", queue.PlaceHold),       // was on air, Asterisk says holding: waiting
				listed("s", "ch-s", queue.PlaceScreen),     // keeps its screener
				listed("x", "ch-x", queue.PlaceHold),       // unknown, stored ready: ready, stored arrival and Seq
				listed("n", "ch-n", queue.PlaceNone),       // unknown, no history, in no bridge: to hold
				listed("dead", "ch-dead", queue.PlaceHold), // ended here, still there: hang up
				listed("z", "ch-z", queue.PlaceAir),        // unknown, on air
			},
			Stored: stored,
			Keep:   map[string]bool{"busy": true, "fresh": true},
		})
		got := byCall(p.Readmit)
		want := map[string]queue.State{"w": queue.StateWaiting, "r": queue.StateReady, "a": queue.StateWaiting,
			"s": queue.StateScreening, "x": queue.StateReady, "n": queue.StateWaiting, "z": queue.StateOnAir}
		if len(got) != len(want) {
			t.Errorf("readmits %v, want %v", got, want)
		}
		for id, st := range want {
			if got[id].State != st {
				t.Errorf("%s readmitted %s, want %s", id, got[id].State, st)
			}
		}
		if got["s"].Screener != "sam" {
			t.Errorf("screener %q, want sam kept", got["s"].Screener)
		}
		if x := got["x"]; x.Seq != 7 || x.ArrivedAt != at(-300) || x.Notes.Topic != "bins" || x.Was != queue.StateReady {
			t.Errorf("stored caller readmitted as %+v, want the store's arrival, Seq, notes and state", x)
		}
		// Without history: behind the last known arrival (fresh, at 7 s),
		// not at its channel's creation (-60 s; TestPlanResyncUnrecordedBehind).
		if n, z := got["n"], got["z"]; n.Seq != 0 || !n.ArrivedAt.Equal(at(7).Add(time.Microsecond)) || !z.ArrivedAt.After(n.ArrivedAt) {
			t.Errorf("callers without history %+v and %+v, want them behind the last known arrival in listed order, Seq 0", n, z)
		}
		if !p.ToHold["ch-n"] || len(p.ToHold) != 1 {
			t.Errorf("to hold %v, want [ch-n]", p.ToHold)
		}
		if !slices.Equal(p.Hangup, []string{"ch-dead"}) {
			t.Errorf("hang up %v, want [ch-dead]", p.Hangup)
		}
		if !slices.Equal(p.Vanish, []string{"gone"}) {
			t.Errorf("vanish %v, want [gone] (busy and fresh are kept)", p.Vanish)
		}
		stale := map[string]queue.Transition{}
		for _, tr := range p.Stale {
			stale[tr.CallID] = tr
		}
		if len(stale) != 2 || stale["old"].Outcome != queue.OutcomeAired || stale["old"].Seq != 5 ||
			stale["cut"].Outcome != queue.OutcomeAbandoned || stale["cut"].Seq != 3 {
			t.Errorf("stale %+v, want old aired (seq 5) and cut abandoned (seq 3); x and w are listed", p.Stale)
		}
		// Planning changed nothing.
		if state(t, s, "gone") != queue.StateWaiting || state(t, s, "a") != queue.StateOnAir {
			t.Error("PlanResync changed the show")
		}
	})
	t.Run("StoreDown", func(t *testing.T) {
		s := setup(t)
		p := s.PlanResync(at(30), queue.Listing{Callers: []queue.Listed{listed("w", "ch-w", queue.PlaceHold)}})
		if len(p.Stale) != 0 {
			t.Errorf("stale %v with no store answer, want none", p.Stale)
		}
		if len(p.Vanish) != 6 {
			t.Errorf("vanish %v, want every live call but w", p.Vanish)
		}
	})
	t.Run("StoredBefore", func(t *testing.T) {
		s := setup(t)
		p := s.PlanResync(at(30), queue.Listing{Stored: stored, StoredBefore: at(-500), Keep: map[string]bool{}})
		if len(p.Stale) != 1 || p.Stale[0].CallID != "old" {
			t.Errorf("stale %v, want only old (arrived before the cut-off)", p.Stale)
		}
		if got := s.StaleCalls(at(30), stored, at(-200)); len(got) != 2 {
			t.Errorf("sweep %v, want old and x (w is live)", got)
		}
	})
}

// TestPlanResyncUnrecordedBehind: after a restart of the service, callers
// the store has no record of (their arrival was not yet written when it
// died) come behind every recorded caller, in the order their channels were
// created, although their channels were created before the recorded
// callers entered the app (the IVR comes between: TestRealPBXKillCallin saw
// the last caller jump to the front).
func TestPlanResyncUnrecordedBehind(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	stored := map[string]queue.Stored{
		"ch-a": {CallID: "a", ChannelID: "ch-a", State: queue.StateWaiting, Seq: 2, ArrivedAt: at(10)},
		"ch-b": {CallID: "b", ChannelID: "ch-b", State: queue.StateWaiting, Seq: 2, ArrivedAt: at(20)},
	}
	late1, late2 := listed("u1", "ch-u1", queue.PlaceHold), listed("u2", "ch-u2", queue.PlaceNone)
	late1.ArrivedAt, late2.ArrivedAt = at(18), at(5) // created before b (and a) entered the app
	plan := s.PlanResync(at(30), queue.Listing{
		Callers: []queue.Listed{late1, listed("b", "ch-b", queue.PlaceHold), late2, listed("a", "ch-a", queue.PlaceHold)},
		Stored:  stored,
	})
	for _, r := range plan.Readmit {
		if _, _, err := s.Readmit(at(30), r); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, c := range s.List().Waiting {
		got = append(got, c.ID)
	}
	if want := []string{"a", "b", "u2", "u1"}; !slices.Equal(got, want) {
		t.Errorf("line %v, want %v", got, want)
	}

	t.Run("StoreDown", func(t *testing.T) {
		// Nobody is known: the channels' creation decides, as before.
		s := newShow(t)
		plan := s.PlanResync(at(30), queue.Listing{Callers: []queue.Listed{late1, late2}})
		for _, r := range plan.Readmit {
			if r.CallID == "u1" && !r.ArrivedAt.Equal(at(18)) || r.CallID == "u2" && !r.ArrivedAt.Equal(at(5)) {
				t.Errorf("%s arrived %v, want its channel's creation", r.CallID, r.ArrivedAt)
			}
		}
	})
}

// A show across nodes resynchronises each node on its own: a node's
// listing vanishes only the calls held on that node, and NodeLost ends one
// node's calls while the others keep their places.
func TestPlanResyncPerNodeAndNodeLost(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	arrive := func(id, node string, sec int) {
		adm, err := s.Arrive(at(sec), queue.Arrival{CallID: id, ChannelID: "ch-" + id, Node: node})
		if err != nil || !adm.Admitted() {
			t.Fatalf("Arrive %s: %v", id, err)
		}
		if _, _, err := s.Joined(at(sec), id); err != nil {
			t.Fatal(err)
		}
	}
	arrive("a1", "pbx1", 1)
	arrive("b1", "pbx2", 2)
	arrive("a2", "pbx1", 3)
	arrive("b2", "pbx2", 4)
	// pbx2 lists only b2: b1 vanishes, pbx1's calls are not pbx2's to end.
	p := s.PlanResync(at(5), queue.Listing{Node: "pbx2", Stored: map[string]queue.Stored{}, Keep: map[string]bool{},
		Callers: []queue.Listed{{Arrival: queue.Arrival{CallID: "b2", ChannelID: "ch-b2", Node: "pbx2"}, Place: queue.PlaceHold}}})
	if !slices.Equal(p.Vanish, []string{"b1"}) {
		t.Fatalf("pbx2's resync vanishes %v, want [b1]", p.Vanish)
	}
	calls, ts := s.NodeLost(at(6), "pbx1")
	if len(calls) != 2 || calls[0].ID != "a1" || calls[1].ID != "a2" || len(ts) != 2 {
		t.Fatalf("NodeLost(pbx1) ended %+v", calls)
	}
	for _, tr := range ts {
		if tr.Outcome != queue.OutcomeNodeLost || tr.Action != queue.ActionNodeLost || tr.Node != "pbx1" {
			t.Fatalf("transition %+v, want node_lost on pbx1", tr)
		}
	}
	l := s.List()
	if len(l.Waiting) != 2 || l.Waiting[0].ID != "b1" || l.Waiting[1].ID != "b2" || l.Waiting[1].Position != 2 {
		t.Fatalf("line after pbx1 lost: %+v", l.Waiting)
	}
	if calls, _ := s.NodeLost(at(7), "pbx1"); len(calls) != 0 {
		t.Fatalf("a node lost twice ends %v again", calls)
	}
}
