package queue_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
)

func TestNewShow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  queue.Config
		want error
	}{
		{"OK", queue.Config{Key: "k"}, nil},
		{"ErrEmptyKey", queue.Config{}, queue.ErrInvalid},
		{"OKKeyChars", queue.Config{Key: "Morning_Show-2"}, nil},
		{"ErrKeySlash", queue.Config{Key: "a/b"}, queue.ErrInvalid},
		{"ErrKeyDots", queue.Config{Key: ".."}, queue.ErrInvalid},
		{"ErrKeyComma", queue.Config{Key: "a,b"}, queue.ErrInvalid},
		{"ErrKeyLong", queue.Config{Key: strings.Repeat("k", 41)}, queue.ErrInvalid},
		{"ErrNegativeCapacity", queue.Config{Key: "k", Capacity: -1}, queue.ErrInvalid},
		{"ErrNegativeOnAir", queue.Config{Key: "k", MaxOnAir: -1}, queue.ErrInvalid},
		{"ErrNegativeInterval", queue.Config{Key: "k", AnnounceEvery: -time.Second}, queue.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := queue.NewShow(tt.cfg)
			wantErr(t, err, tt.want)
			if err == nil && s.Config() != tt.cfg {
				t.Errorf("got config %+v, want %+v", s.Config(), tt.cfg)
			}
		})
	}
}

func TestSetters(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	s.SetLinesOpen(false)
	wantErr(t, s.SetCapacity(5), nil)
	wantErr(t, s.SetMaxOnAir(2), nil)
	wantErr(t, s.SetAnnounceEvery(time.Minute), nil)
	got := s.Config()
	if got.LinesOpen || got.Capacity != 5 || got.MaxOnAir != 2 || got.AnnounceEvery != time.Minute {
		t.Errorf("got config %+v", got)
	}
	wantErr(t, s.SetCapacity(-1), queue.ErrInvalid)
	wantErr(t, s.SetMaxOnAir(-1), queue.ErrInvalid)
	wantErr(t, s.SetAnnounceEvery(-1), queue.ErrInvalid)
	if s.Config().Capacity != 5 {
		t.Errorf("failed SetCapacity changed capacity to %d", s.Config().Capacity)
	}
}

func TestArrive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        func(*queue.Config)
		before     []string // callers arriving first
		in         queue.Arrival
		wantReject queue.Reject
		wantReason string
		wantErr    error
	}{
		{name: "OK", in: queue.Arrival{CallID: "a", Number: "555"}},
		{name: "RejectClosed", cfg: func(c *queue.Config) { c.LinesOpen = false }, in: queue.Arrival{CallID: "a"}, wantReject: queue.RejectClosed, wantReason: "closed"},
		{name: "RejectBlocked", in: queue.Arrival{CallID: "a", Blocked: true, BlockNote: "abusive"}, wantReject: queue.RejectBlocked, wantReason: "blocked: abusive"},
		{name: "RejectFull", cfg: func(c *queue.Config) { c.Capacity = 2 }, before: []string{"x", "y"}, in: queue.Arrival{CallID: "a"}, wantReject: queue.RejectFull, wantReason: "full"},
		{name: "OKBelowCapacity", cfg: func(c *queue.Config) { c.Capacity = 2 }, before: []string{"x"}, in: queue.Arrival{CallID: "a"}},
		{name: "ClosedBeforeBlocked", cfg: func(c *queue.Config) { c.LinesOpen = false }, in: queue.Arrival{CallID: "a", Blocked: true}, wantReject: queue.RejectClosed, wantReason: "closed"},
		{name: "ErrEmptyID", in: queue.Arrival{}, wantErr: queue.ErrInvalid},
		{name: "ErrDuplicate", before: []string{"a"}, in: queue.Arrival{CallID: "a"}, wantErr: queue.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s *queue.Show
			if tt.cfg != nil {
				s = newShow(t, tt.cfg)
			} else {
				s = newShow(t)
			}
			for _, id := range tt.before {
				if _, err := s.Arrive(at(0), queue.Arrival{CallID: id}); err != nil {
					t.Fatal(err)
				}
			}
			adm, err := s.Arrive(at(5), tt.in)
			wantErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if adm.Reject != tt.wantReject {
				t.Fatalf("got reject %q, want %q", adm.Reject, tt.wantReject)
			}
			first := adm.Transitions[0]
			if first.Seq != 1 || first.From != "" || first.To != queue.StateArriving || first.Action != queue.ActionArrive ||
				first.Show != "morning" || first.Node != "pbx1" || first.Number != tt.in.Number || !first.At.Equal(at(5)) {
				t.Errorf("got arrival transition %+v", first)
			}
			if tt.wantReject == "" {
				if len(adm.Transitions) != 1 || adm.Call.State != queue.StateArriving || !adm.Admitted() {
					t.Errorf("got %+v, want one arrival and state arriving", adm)
				}
				if !adm.Call.ArrivedAt.Equal(at(5)) {
					t.Errorf("got arrived %v, want %v", adm.Call.ArrivedAt, at(5))
				}
				return
			}
			if len(adm.Transitions) != 2 {
				t.Fatalf("got %d transitions, want 2", len(adm.Transitions))
			}
			rej := adm.Transitions[1]
			if rej.Seq != 2 || rej.From != queue.StateArriving || rej.To != queue.StateEnded ||
				rej.Outcome != queue.OutcomeRejected || rej.Reason != tt.wantReason || rej.Action != queue.ActionReject {
				t.Errorf("got rejection %+v", rej)
			}
			_, _, err = s.Hangup(at(6), tt.in.CallID, 16)
			wantErr(t, err, queue.ErrGone)
			if st := s.Stats(at(6)); st.Arriving != len(tt.before) {
				t.Errorf("got %d arriving, want %d", st.Arriving, len(tt.before))
			}
		})
	}
}

func TestArriveReusedEndedID(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	waiting(t, s, "a", 0)
	if _, _, err := s.Hangup(at(1), "a", 16); err != nil {
		t.Fatal(err)
	}
	_, err := s.Arrive(at(2), queue.Arrival{CallID: "a"})
	wantErr(t, err, queue.ErrConflict)
}

func TestJoined(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	if _, err := s.Arrive(at(0), queue.Arrival{CallID: "a"}); err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		c, ts, err := s.Joined(at(1), "a")
		wantErr(t, err, nil)
		if c.State != queue.StateWaiting || c.Position != 1 || len(ts) != 1 || ts[0].Seq != 2 ||
			ts[0].From != queue.StateArriving || ts[0].To != queue.StateWaiting || ts[0].Actor.Kind != queue.ActorCaller {
			t.Errorf("got %+v, %+v", c, ts)
		}
	})
	t.Run("ErrNotArriving", func(t *testing.T) {
		_, _, err := s.Joined(at(2), "a")
		wantErr(t, err, queue.ErrInvalid)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, _, err := s.Joined(at(2), "nobody")
		wantErr(t, err, queue.ErrNotFound)
	})
	t.Run("ErrCallerGone", func(t *testing.T) {
		if _, _, err := s.Hangup(at(3), "a", 16); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.Joined(at(4), "a")
		wantErr(t, err, queue.ErrGone)
	})
}

// Setups name the state a test caller "c" is put in before an action.
var setups = map[string]func(testing.TB, *queue.Show){
	"arriving": func(t testing.TB, s *queue.Show) {
		if _, err := s.Arrive(at(0), queue.Arrival{CallID: "c"}); err != nil {
			t.Fatal(err)
		}
	},
	"waiting": func(t testing.TB, s *queue.Show) { waiting(t, s, "c", 0) },
	"screening": func(t testing.TB, s *queue.Show) {
		waiting(t, s, "c", 0)
		tk, err := s.Screen(producer, "c", "scr1")
		done(t, s, 1, tk, err)
	},
	"ready":  func(t testing.TB, s *queue.Show) { waiting(t, s, "c", 0); ready(t, s, "c", 1) },
	"on_air": func(t testing.TB, s *queue.Show) { waiting(t, s, "c", 0); onAir(t, s, "c") },
	"muted": func(t testing.TB, s *queue.Show) {
		waiting(t, s, "c", 0)
		onAir(t, s, "c")
		tk, err := s.Mute(producer, "c")
		done(t, s, 1, tk, err)
	},
	"locked": func(t testing.TB, s *queue.Show) {
		waiting(t, s, "c", 0)
		onAir(t, s, "c")
		if _, _, err := s.Lock(at(1), producer, "c"); err != nil {
			t.Fatal(err)
		}
	},
	"busy": func(t testing.TB, s *queue.Show) {
		waiting(t, s, "c", 0)
		if _, err := s.Ready(other, "c", queue.Notes{}); err != nil {
			t.Fatal(err)
		}
	},
	"busy_on_air": func(t testing.TB, s *queue.Show) {
		waiting(t, s, "c", 0)
		onAir(t, s, "c")
		if _, err := s.Mute(other, "c"); err != nil {
			t.Fatal(err)
		}
	},
	"gone": func(t testing.TB, s *queue.Show) {
		waiting(t, s, "c", 0)
		if _, _, err := s.Hangup(at(1), "c", 16); err != nil {
			t.Fatal(err)
		}
	},
	"unknown": func(testing.TB, *queue.Show) {},
	"on_air_full": func(t testing.TB, s *queue.Show) {
		waiting(t, s, "x", 0)
		onAir(t, s, "x")
		waiting(t, s, "c", 0)
		ready(t, s, "c", 0)
	},
}

// An act performs one action on caller "c", committing any ticket.
type act func(s *queue.Show) error

func reserveAndCommit(reserve func(*queue.Show) (queue.Ticket, error)) act {
	return func(s *queue.Show) error {
		tk, err := reserve(s)
		if err != nil {
			return err
		}
		_, _, err = s.Commit(at(9), tk)
		return err
	}
}

func immediate(f func(*queue.Show) (queue.Call, []queue.Transition, error)) act {
	return func(s *queue.Show) error { _, _, err := f(s); return err }
}

func TestActions(t *testing.T) {
	t.Parallel()
	actions := map[string]act{
		"Screen":    reserveAndCommit(func(s *queue.Show) (queue.Ticket, error) { return s.Screen(producer, "c", "scr2") }),
		"Ready":     reserveAndCommit(func(s *queue.Show) (queue.Ticket, error) { return s.Ready(producer, "c", queue.Notes{Name: "Al"}) }),
		"Promote":   reserveAndCommit(func(s *queue.Show) (queue.Ticket, error) { return s.Promote(producer, "c") }),
		"Hold":      reserveAndCommit(func(s *queue.Show) (queue.Ticket, error) { return s.Hold(producer, "c") }),
		"Mute":      reserveAndCommit(func(s *queue.Show) (queue.Ticket, error) { return s.Mute(producer, "c") }),
		"Unmute":    reserveAndCommit(func(s *queue.Show) (queue.Ticket, error) { return s.Unmute(producer, "c") }),
		"Drop":      reserveAndCommit(func(s *queue.Show) (queue.Ticket, error) { return s.Drop(producer, "c", "rude") }),
		"Lock":      immediate(func(s *queue.Show) (queue.Call, []queue.Transition, error) { return s.Lock(at(9), producer, "c") }),
		"Unlock":    immediate(func(s *queue.Show) (queue.Call, []queue.Transition, error) { return s.Unlock(at(9), producer, "c") }),
		"MoveToTop": immediate(func(s *queue.Show) (queue.Call, []queue.Transition, error) { return s.MoveToTop(at(9), producer, "c") }),
		"PickNext":  immediate(func(s *queue.Show) (queue.Call, []queue.Transition, error) { return s.PickNext(at(9), producer, "c") }),
		"UpdateNotes": immediate(func(s *queue.Show) (queue.Call, []queue.Transition, error) {
			return s.UpdateNotes(at(9), producer, "c", queue.Notes{Topic: "new"})
		}),
		"Hangup": immediate(func(s *queue.Show) (queue.Call, []queue.Transition, error) { return s.Hangup(at(9), "c", 16) }),
		"Fail":   immediate(func(s *queue.Show) (queue.Call, []queue.Transition, error) { return s.Fail(at(9), "c", "boom") }),
	}
	type row struct {
		action, setup string
		want          error
		wantState     queue.State
	}
	rows := []row{
		{"Screen", "waiting", nil, queue.StateScreening},
		{"Screen", "ready", nil, queue.StateScreening},
		{"Screen", "screening", queue.ErrConflict, ""},
		{"Screen", "arriving", queue.ErrInvalid, ""},
		{"Screen", "on_air", queue.ErrInvalid, ""},
		{"Ready", "screening", nil, queue.StateReady},
		{"Ready", "waiting", nil, queue.StateReady},
		{"Ready", "ready", queue.ErrConflict, ""},
		{"Ready", "on_air", queue.ErrInvalid, ""},
		{"Ready", "arriving", queue.ErrInvalid, ""},
		{"Promote", "waiting", nil, queue.StateOnAir},
		{"Promote", "ready", nil, queue.StateOnAir},
		{"Promote", "screening", queue.ErrInvalid, ""},
		{"Promote", "arriving", queue.ErrInvalid, ""},
		{"Promote", "on_air", queue.ErrConflict, ""},
		{"Hold", "on_air", nil, queue.StateWaiting},
		{"Hold", "muted", nil, queue.StateWaiting},
		{"Hold", "ready", nil, queue.StateWaiting},
		{"Hold", "screening", nil, queue.StateWaiting},
		{"Hold", "waiting", queue.ErrConflict, ""},
		{"Hold", "arriving", queue.ErrInvalid, ""},
		{"Hold", "locked", queue.ErrLocked, ""},
		{"Mute", "on_air", nil, queue.StateOnAir},
		{"Mute", "locked", nil, queue.StateOnAir},
		{"Mute", "muted", queue.ErrConflict, ""},
		{"Mute", "waiting", queue.ErrInvalid, ""},
		{"Unmute", "muted", nil, queue.StateOnAir},
		{"Unmute", "on_air", queue.ErrConflict, ""},
		{"Unmute", "ready", queue.ErrInvalid, ""},
		{"Drop", "arriving", nil, queue.StateEnded},
		{"Drop", "waiting", nil, queue.StateEnded},
		{"Drop", "screening", nil, queue.StateEnded},
		{"Drop", "on_air", nil, queue.StateEnded},
		{"Drop", "locked", queue.ErrLocked, ""},
		{"Lock", "on_air", nil, queue.StateOnAir},
		{"Lock", "locked", queue.ErrConflict, ""},
		{"Lock", "waiting", queue.ErrInvalid, ""},
		{"Unlock", "locked", nil, queue.StateOnAir},
		{"Unlock", "on_air", queue.ErrConflict, ""},
		{"Unlock", "ready", queue.ErrInvalid, ""},
		{"MoveToTop", "waiting", nil, queue.StateWaiting},
		{"MoveToTop", "ready", nil, queue.StateReady},
		{"MoveToTop", "screening", queue.ErrInvalid, ""},
		{"MoveToTop", "on_air", queue.ErrInvalid, ""},
		{"PickNext", "waiting", nil, queue.StateWaiting},
		{"PickNext", "ready", nil, queue.StateReady},
		{"PickNext", "on_air", queue.ErrInvalid, ""},
		{"UpdateNotes", "waiting", nil, queue.StateWaiting},
		{"UpdateNotes", "screening", nil, queue.StateScreening},
		{"UpdateNotes", "on_air", nil, queue.StateOnAir},
		{"UpdateNotes", "arriving", queue.ErrInvalid, ""},
		{"Hangup", "arriving", nil, queue.StateEnded},
		{"Hangup", "busy", nil, queue.StateEnded},
		{"Hangup", "locked", nil, queue.StateEnded},
		{"Fail", "busy_on_air", nil, queue.StateEnded},
		{"Fail", "screening", nil, queue.StateEnded},
	}
	for name := range actions {
		if name == "Unmute" || name == "Unlock" {
			rows = append(rows, row{name, "busy_on_air", queue.ErrBusy, ""})
		} else if name != "Hangup" && name != "Fail" {
			rows = append(rows, row{name, "busy", queue.ErrBusy, ""})
		}
		rows = append(rows, row{name, "gone", queue.ErrGone, ""}, row{name, "unknown", queue.ErrNotFound, ""})
	}
	rows = append(rows, row{"Promote", "on_air_full", queue.ErrOnAirFull, ""})
	for _, r := range rows {
		t.Run(fmt.Sprintf("%s/%s", r.action, r.setup), func(t *testing.T) {
			t.Parallel()
			s := newShow(t, func(c *queue.Config) {
				if r.setup == "on_air_full" {
					c.MaxOnAir = 1
				}
			})
			setups[r.setup](t, s)
			var before queue.Call
			if r.want != nil && r.setup != "gone" && r.setup != "unknown" {
				before, _ = s.Get("c")
			}
			err := actions[r.action](s)
			wantErr(t, err, r.want)
			if err != nil {
				if !strings.Contains(err.Error(), `"c"`) && r.want != queue.ErrOnAirFull {
					t.Errorf("error %q does not name the call", err)
				}
				if r.setup != "gone" && r.setup != "unknown" {
					if after, _ := s.Get("c"); after != before {
						t.Errorf("failed action changed the call:\n got %+v\nwant %+v", after, before)
					}
				}
				return
			}
			if got := state(t, s, "c"); got != r.wantState {
				t.Errorf("got state %s, want %s", got, r.wantState)
			}
		})
	}
}

func TestCommitEffects(t *testing.T) {
	t.Parallel()
	t.Run("Screen", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "c", 0)
		tk, err := s.Screen(producer, "c", "scr1")
		if tk.Screener != "scr1" || tk.From != queue.StateWaiting || tk.To != queue.StateScreening || tk.Call.ChannelID != "ch-c" {
			t.Errorf("got ticket %+v", tk)
		}
		c := done(t, s, 3, tk, err)
		if c.Screener != "scr1" || !c.Since.Equal(at(3)) {
			t.Errorf("got %+v", c)
		}
		tk, err = s.Ready(producer, "c", queue.Notes{Name: "Al", Location: "Leeds", Topic: "bins", Priority: 2})
		c = done(t, s, 4, tk, err)
		if c.Screener != "" || c.Notes.Name != "Al" || c.Notes.Priority != 2 || c.Position != 1 {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("MuteLockClearedByHold", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "c", 0)
		onAir(t, s, "c")
		tk, err := s.Mute(producer, "c")
		c := done(t, s, 1, tk, err)
		if !c.Muted || c.State != queue.StateOnAir {
			t.Fatalf("got %+v, want muted on air", c)
		}
		if _, _, err := s.Lock(at(2), producer, "c"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Unlock(at(3), producer, "c"); err != nil {
			t.Fatal(err)
		}
		tk, err = s.Hold(producer, "c")
		if !tk.Call.Muted {
			t.Errorf("hold ticket says not muted; broadcast would not unmute")
		}
		c = done(t, s, 4, tk, err)
		if c.Muted || c.Locked || !c.WasOnAir {
			t.Errorf("got %+v, want unmuted, unlocked, was on air", c)
		}
	})
	t.Run("UnchangedNotesRecordNothing", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "c", 0)
		ready(t, s, "c", 1)
		c, _ := s.Get("c")
		_, ts, err := s.UpdateNotes(at(5), producer, "c", c.Notes)
		if err != nil || len(ts) != 0 {
			t.Errorf("got %v, %v; want no transitions", ts, err)
		}
	})
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	var all []queue.Transition
	add := func(_ queue.Call, ts []queue.Transition, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ts...)
	}
	adm, _ := s.Arrive(at(0), queue.Arrival{CallID: "c", Number: "555", Name: "AL", ChannelID: "ch"})
	all = append(all, adm.Transitions...)
	add(s.Joined(at(1), "c"))
	tk, _ := s.Screen(producer, "c", "scr")
	add(s.Commit(at(2), tk))
	add(s.UpdateNotes(at(3), producer, "c", queue.Notes{Topic: "x"}))
	tk, _ = s.Ready(producer, "c", queue.Notes{Topic: "y", Priority: 1})
	add(s.Commit(at(4), tk))
	tk, _ = s.Promote(producer, "c")
	add(s.Commit(at(5), tk))
	add(s.Lock(at(6), producer, "c"))
	add(s.Hangup(at(7), "c", 16))

	wantActions := []string{queue.ActionArrive, queue.ActionJoin, queue.ActionScreen, queue.ActionNotes,
		queue.ActionReady, queue.ActionPromote, queue.ActionLock, queue.ActionHangup}
	var gotActions []string
	prev := queue.State("")
	for i, tr := range all {
		gotActions = append(gotActions, tr.Action)
		if tr.Seq != i+1 || tr.From != prev || !tr.At.Equal(at(i)) {
			t.Errorf("transition %d: got seq %d from %q at %v; want seq %d from %q at %v", i, tr.Seq, tr.From, tr.At, i+1, prev, at(i))
		}
		if tr.CallID != "c" || tr.Number != "555" || tr.Name != "AL" || tr.ChannelID != "ch" || tr.Node != "pbx1" || tr.Show != "morning" {
			t.Errorf("transition %d lacks identity: %+v", i, tr)
		}
		prev = tr.To
	}
	if !slices.Equal(gotActions, wantActions) {
		t.Errorf("got actions %v, want %v", gotActions, wantActions)
	}
	if n := all[3].Notes; n == nil || n.Topic != "x" {
		t.Errorf("got notes %+v on the notes transition", n)
	}
	if all[2].Reason != "screener scr" {
		t.Errorf("got screen reason %q", all[2].Reason)
	}
	last := all[len(all)-1]
	if last.Outcome != queue.OutcomeAired || last.Cause != 16 || last.Actor.Kind != queue.ActorCaller {
		t.Errorf("got last %+v, want aired, cause 16, by caller", last)
	}
}

func TestRace(t *testing.T) {
	t.Parallel()
	t.Run("SecondReservationConflicts", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "c", 0)
		first, err := s.Promote(producer, "c")
		wantErr(t, err, nil)
		_, err = s.Drop(other, "c", "")
		wantErr(t, err, queue.ErrBusy)
		wantErr(t, err, queue.ErrConflict)
		_, err = s.Promote(other, "c")
		wantErr(t, err, queue.ErrBusy)
		if c, _ := s.Get("c"); c.Pending != queue.ActionPromote || c.State != queue.StateWaiting {
			t.Errorf("got %+v, want pending promote while waiting", c)
		}
		_, ts, err := s.Commit(at(1), first)
		wantErr(t, err, nil)
		if ts[0].Actor != producer {
			t.Errorf("got actor %+v, want %+v", ts[0].Actor, producer)
		}
		_, _, err = s.Commit(at(2), first)
		wantErr(t, err, queue.ErrConflict)
		wantErr(t, s.Abort(first), queue.ErrConflict)
		// The loser retrying now sees the result.
		_, err = s.Promote(other, "c")
		wantErr(t, err, queue.ErrConflict)
	})
	t.Run("AbortReleases", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "c", 0)
		tk, _ := s.Screen(producer, "c", "scr")
		wantErr(t, s.Abort(tk), nil)
		if c, _ := s.Get("c"); c.Pending != "" || c.State != queue.StateWaiting {
			t.Errorf("got %+v after abort", c)
		}
		_, _, err := s.Commit(at(1), tk)
		wantErr(t, err, queue.ErrConflict)
		_, err = s.Screen(other, "c", "scr2")
		wantErr(t, err, nil)
	})
	t.Run("ErrCallerGone", func(t *testing.T) {
		s := newShow(t, func(c *queue.Config) { c.MaxOnAir = 1 })
		waiting(t, s, "c", 0)
		waiting(t, s, "d", 0)
		tk, _ := s.Promote(producer, "c")
		c, ts, err := s.Hangup(at(1), "c", 16)
		wantErr(t, err, nil)
		if c.Outcome != queue.OutcomeAbandoned || ts[0].Actor.Kind != queue.ActorCaller {
			t.Errorf("got %+v %+v, want abandoned by caller", c, ts[0])
		}
		_, _, err = s.Commit(at(2), tk)
		wantErr(t, err, queue.ErrGone)
		wantErr(t, s.Abort(tk), queue.ErrGone)
		// The reserved on-air place was released.
		onAir(t, s, "d")
	})
	t.Run("HangupCompletesDrop", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "c", 0)
		tk, _ := s.Drop(producer, "c", "off topic")
		c, ts, err := s.Hangup(at(1), "c", 16)
		wantErr(t, err, nil)
		if c.Outcome != queue.OutcomeDropped || ts[0].Action != queue.ActionDrop || ts[0].Actor != producer ||
			ts[0].Reason != "off topic" || ts[0].Cause != 16 {
			t.Errorf("got %+v", ts[0])
		}
		_, _, err = s.Commit(at(2), tk)
		wantErr(t, err, queue.ErrGone)
	})
	t.Run("ZeroTicket", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "c", 0)
		_, _, err := s.Commit(at(1), queue.Ticket{Call: queue.Call{ID: "c"}})
		wantErr(t, err, queue.ErrConflict)
		_, _, err = s.Commit(at(1), queue.Ticket{})
		wantErr(t, err, queue.ErrNotFound)
	})
}

func TestOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(*testing.T, *queue.Show) (queue.Call, []queue.Transition, error)
		want queue.Outcome
	}{
		{"AbandonedWaiting", func(t *testing.T, s *queue.Show) (queue.Call, []queue.Transition, error) {
			return s.Hangup(at(5), "c", 16)
		}, queue.OutcomeAbandoned},
		{"AiredOnAir", func(t *testing.T, s *queue.Show) (queue.Call, []queue.Transition, error) {
			onAir(t, s, "c")
			return s.Hangup(at(5), "c", 16)
		}, queue.OutcomeAired},
		{"AiredAfterHold", func(t *testing.T, s *queue.Show) (queue.Call, []queue.Transition, error) {
			onAir(t, s, "c")
			tk, err := s.Hold(producer, "c")
			done(t, s, 1, tk, err)
			return s.Hangup(at(5), "c", 16)
		}, queue.OutcomeAired},
		{"DroppedWaiting", func(t *testing.T, s *queue.Show) (queue.Call, []queue.Transition, error) {
			tk, _ := s.Drop(producer, "c", "")
			return s.Commit(at(5), tk)
		}, queue.OutcomeDropped},
		{"AiredWhenDroppedOnAir", func(t *testing.T, s *queue.Show) (queue.Call, []queue.Transition, error) {
			onAir(t, s, "c")
			tk, _ := s.Drop(producer, "c", "")
			return s.Commit(at(5), tk)
		}, queue.OutcomeAired},
		{"Failed", func(t *testing.T, s *queue.Show) (queue.Call, []queue.Transition, error) {
			return s.Fail(at(5), "c", "addChannel 500")
		}, queue.OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newShow(t)
			waiting(t, s, "c", 0)
			c, ts, err := tt.run(t, s)
			wantErr(t, err, nil)
			if c.State != queue.StateEnded || c.Outcome != tt.want || ts[len(ts)-1].Outcome != tt.want {
				t.Errorf("got %s/%s, want ended/%s", c.State, c.Outcome, tt.want)
			}
			if st := s.Stats(at(6)); st != (queue.Stats{}) {
				t.Errorf("got stats %+v after the only call ended", st)
			}
			if g, err := s.Get("c"); err != nil || g.Outcome != tt.want {
				t.Errorf("Get after end: %+v, %v", g, err)
			}
			_, _, err = s.Hangup(at(7), "c", 16)
			wantErr(t, err, queue.ErrGone)
		})
	}
}

func TestOrdering(t *testing.T) {
	t.Parallel()
	// Callers a..e arrive in order; b and d are made ready.
	setup := func(t *testing.T) *queue.Show {
		s := newShow(t)
		for i, id := range []string{"a", "b", "c", "d", "e"} {
			waiting(t, s, id, i)
		}
		return s
	}
	tests := []struct {
		name string
		do   func(*testing.T, *queue.Show)
		want []string
	}{
		{"Arrival", func(*testing.T, *queue.Show) {}, []string{"a", "b", "c", "d", "e"}},
		{"ReadyFirst", func(t *testing.T, s *queue.Show) { ready(t, s, "d", 0); ready(t, s, "b", 0) },
			[]string{"b", "d", "a", "c", "e"}},
		{"Priority", func(t *testing.T, s *queue.Show) { ready(t, s, "b", 1); ready(t, s, "d", 5) },
			[]string{"d", "b", "a", "c", "e"}},
		{"PriorityChangeReorders", func(t *testing.T, s *queue.Show) {
			ready(t, s, "b", 1)
			ready(t, s, "d", 5)
			if _, _, err := s.UpdateNotes(at(9), producer, "b", queue.Notes{Priority: 9}); err != nil {
				t.Fatal(err)
			}
		}, []string{"b", "d", "a", "c", "e"}},
		{"MoveToTop", func(t *testing.T, s *queue.Show) {
			ready(t, s, "b", 5)
			s.MoveToTop(at(9), producer, "e")
		}, []string{"e", "b", "a", "c", "d"}},
		{"LatestMoveToTopFirst", func(t *testing.T, s *queue.Show) {
			s.MoveToTop(at(9), producer, "e")
			s.MoveToTop(at(9), producer, "c")
		}, []string{"c", "e", "a", "b", "d"}},
		{"PickBeatsTop", func(t *testing.T, s *queue.Show) {
			s.MoveToTop(at(9), producer, "e")
			s.PickNext(at(9), producer, "d")
		}, []string{"d", "e", "a", "b", "c"}},
		{"ScreeningKeepsPlace", func(t *testing.T, s *queue.Show) {
			tk, err := s.Screen(producer, "a", "scr")
			done(t, s, 9, tk, err)
			tk, err = s.Hold(producer, "a")
			done(t, s, 10, tk, err)
		}, []string{"a", "b", "c", "d", "e"}},
		{"OnAirAndBackKeepsPlace", func(t *testing.T, s *queue.Show) {
			onAir(t, s, "b")
			tk, err := s.Hold(producer, "b")
			done(t, s, 10, tk, err)
		}, []string{"a", "b", "c", "d", "e"}},
		{"ReadyBackToWaitingKeepsPlace", func(t *testing.T, s *queue.Show) {
			ready(t, s, "d", 3)
			tk, err := s.Hold(producer, "d")
			done(t, s, 10, tk, err)
		}, []string{"a", "b", "c", "d", "e"}},
		{"TopSurvivesHold", func(t *testing.T, s *queue.Show) {
			s.MoveToTop(at(9), producer, "d")
			onAir(t, s, "d")
			tk, err := s.Hold(producer, "d")
			done(t, s, 10, tk, err)
		}, []string{"d", "a", "b", "c", "e"}},
		{"HangupLeavesLine", func(t *testing.T, s *queue.Show) { s.Hangup(at(9), "c", 16) },
			[]string{"a", "b", "d", "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t)
			tt.do(t, s)
			got := line(s)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got line %v, want %v", got, tt.want)
			}
			for i, id := range tt.want {
				if p, err := s.Position(id); err != nil || p != i+1 {
					t.Errorf("Position(%s) = %d, %v; want %d", id, p, err, i+1)
				}
			}
			// TakeNext takes them in the same order.
			for _, id := range tt.want {
				tk, err := s.TakeNext(producer)
				if err != nil || tk.Call.ID != id || tk.Action != queue.ActionTakeNext {
					t.Fatalf("TakeNext: got %s, %v; want %s", tk.Call.ID, err, id)
				}
				done(t, s, 20, tk, err)
			}
		})
	}
}

func TestPickNext(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	waiting(t, s, "a", 0)
	waiting(t, s, "b", 1)
	waiting(t, s, "c", 2)
	_, ts, err := s.PickNext(at(3), producer, "b")
	if err != nil || len(ts) != 1 || ts[0].Action != queue.ActionPickNext {
		t.Fatalf("got %+v, %v", ts, err)
	}
	_, ts, err = s.PickNext(at(4), producer, "c")
	if err != nil || len(ts) != 2 || ts[0].CallID != "b" || ts[0].Action != queue.ActionUnpick || ts[1].CallID != "c" {
		t.Fatalf("got %+v, %v; want unpick b, pick c", ts, err)
	}
	_, _, err = s.PickNext(at(5), producer, "c")
	wantErr(t, err, queue.ErrConflict)
	if got := line(s); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Errorf("got line %v", got)
	}
	if c, _ := s.Get("c"); !c.Next {
		t.Errorf("c is not marked next")
	}
	// Detail changes keep the pick.
	if _, _, err := s.UpdateNotes(at(5), producer, "c", queue.Notes{Topic: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := line(s); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Errorf("got line %v after notes", got)
	}
	// Leaving the line consumes the pick.
	tk, err := s.Screen(producer, "c", "scr")
	done(t, s, 6, tk, err)
	tk, err = s.Ready(producer, "c", queue.Notes{})
	done(t, s, 7, tk, err)
	if c, _ := s.Get("c"); c.Next {
		t.Errorf("c is still next after screening")
	}
	if got := line(s); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Errorf("got line %v (ready c before waiting)", got)
	}
}

func TestTakeNext(t *testing.T) {
	t.Parallel()
	t.Run("SkipsBusy", func(t *testing.T) {
		s := newShow(t)
		waiting(t, s, "a", 0)
		waiting(t, s, "b", 1)
		first, err := s.TakeNext(producer)
		wantErr(t, err, nil)
		second, err := s.TakeNext(other)
		wantErr(t, err, nil)
		if first.Call.ID != "a" || second.Call.ID != "b" {
			t.Errorf("got %s then %s, want a then b", first.Call.ID, second.Call.ID)
		}
		_, err = s.TakeNext(producer)
		wantErr(t, err, queue.ErrNotFound)
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		s := newShow(t)
		_, err := s.TakeNext(producer)
		wantErr(t, err, queue.ErrNotFound)
	})
	t.Run("IgnoresScreeningAndArriving", func(t *testing.T) {
		s := newShow(t)
		setups["screening"](t, s)
		s.Arrive(at(0), queue.Arrival{CallID: "x"})
		_, err := s.TakeNext(producer)
		wantErr(t, err, queue.ErrNotFound)
		if c, ok := s.Next(); ok {
			t.Errorf("Next: %s, want nobody", c.ID)
		}
	})
	// Next names whom TakeNext takes, without reserving, also at the
	// on-air limit.
	t.Run("Next", func(t *testing.T) {
		s := newShow(t, func(c *queue.Config) { c.MaxOnAir = 1 })
		waiting(t, s, "a", 0)
		waiting(t, s, "b", 1)
		waiting(t, s, "c", 2)
		if _, _, err := s.PickNext(at(3), producer, "b"); err != nil {
			t.Fatal(err)
		}
		if c, ok := s.Next(); !ok || c.ID != "b" {
			t.Fatalf("Next: %q %t, want the picked b", c.ID, ok)
		}
		onAir(t, s, "a")
		if c, ok := s.Next(); !ok || c.ID != "b" {
			t.Fatalf("Next at the limit: %q %t, want b", c.ID, ok)
		}
		_, err := s.TakeNext(producer)
		wantErr(t, err, queue.ErrOnAirFull)
		tk, err := s.Hold(producer, "a")
		done(t, s, 4, tk, err)
		tk, err = s.TakeNext(producer)
		if err != nil || tk.Call.ID != "b" {
			t.Fatalf("TakeNext: %s %v, want b", tk.Call.ID, err)
		}
	})
	// TakeNextOf takes the caller a cleared Take next named, as a
	// take_next, if still free, unblocked and in line.
	t.Run("Of", func(t *testing.T) {
		s := newShow(t, func(c *queue.Config) { c.MaxOnAir = 1 })
		waiting(t, s, "a", 0)
		waiting(t, s, "b", 1)
		onAir(t, s, "a")
		_, err := s.TakeNextOf(producer, "b")
		wantErr(t, err, queue.ErrOnAirFull)
		_, err = s.TakeNextOf(producer, "a")
		wantErr(t, err, queue.ErrConflict)
		_, err = s.TakeNextOf(producer, "zz")
		wantErr(t, err, queue.ErrNotFound)
		tk, err := s.Hold(producer, "a")
		done(t, s, 2, tk, err)
		tk, err = s.TakeNextOf(producer, "b") // "a" is first in line again
		if err != nil || tk.Call.ID != "b" || tk.Action != queue.ActionTakeNext {
			t.Fatalf("TakeNextOf: %+v %v, want b as take_next", tk, err)
		}
	})
}

func TestOnAirLimit(t *testing.T) {
	t.Parallel()
	s := newShow(t, func(c *queue.Config) { c.MaxOnAir = 2 })
	for i, id := range []string{"a", "b", "c", "d"} {
		waiting(t, s, id, i)
	}
	onAir(t, s, "a")
	pending, err := s.Promote(producer, "b")
	wantErr(t, err, nil)
	// A reserved promotion holds the last place.
	_, err = s.Promote(other, "c")
	wantErr(t, err, queue.ErrOnAirFull)
	_, err = s.TakeNext(other)
	wantErr(t, err, queue.ErrOnAirFull)
	if st := s.Stats(at(5)); st.OnAir != 1 || st.PendingOnAir != 1 {
		t.Errorf("got %+v", st)
	}
	wantErr(t, s.Abort(pending), nil)
	onAir(t, s, "c")
	_, err = s.Promote(producer, "d")
	wantErr(t, err, queue.ErrOnAirFull)
	wantErr(t, s.SetMaxOnAir(3), nil)
	onAir(t, s, "d")
	// Lowering the limit takes nobody off air.
	wantErr(t, s.SetMaxOnAir(1), nil)
	if st := s.Stats(at(5)); st.OnAir != 3 {
		t.Errorf("got %d on air, want 3", st.OnAir)
	}
	tk, err := s.Hold(producer, "a")
	done(t, s, 6, tk, err)
	_, err = s.Promote(producer, "a")
	wantErr(t, err, queue.ErrOnAirFull)
	if !strings.Contains(err.Error(), "2 of 1 on air") {
		t.Errorf("error %q does not say the count", err)
	}
}

func TestLock(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	waiting(t, s, "c", 0)
	onAir(t, s, "c")
	c, ts, err := s.Lock(at(1), producer, "c")
	if err != nil || !c.Locked || ts[0].Action != queue.ActionLock || ts[0].From != queue.StateOnAir || ts[0].To != queue.StateOnAir {
		t.Fatalf("Lock: %+v %+v %v", c, ts, err)
	}
	_, err = s.Drop(other, "c", "")
	wantErr(t, err, queue.ErrLocked)
	_, err = s.Hold(other, "c")
	wantErr(t, err, queue.ErrLocked)
	if !strings.Contains(err.Error(), "unlock") {
		t.Errorf("error %q does not tell what to do", err)
	}
	if _, _, err := s.Unlock(at(2), producer, "c"); err != nil {
		t.Fatal(err)
	}
	tk, err := s.Drop(other, "c", "")
	c = done(t, s, 3, tk, err)
	if c.Outcome != queue.OutcomeAired {
		t.Errorf("got %s", c.Outcome)
	}
}

func TestStatsAndList(t *testing.T) {
	t.Parallel()
	s := newShow(t)
	if st := s.Stats(at(0)); st != (queue.Stats{}) {
		t.Errorf("got %+v for an empty show", st)
	}
	waiting(t, s, "a", 0)
	waiting(t, s, "b", 10)
	waiting(t, s, "c", 20)
	waiting(t, s, "d", 30)
	s.Arrive(at(35), queue.Arrival{CallID: "x"})
	ready(t, s, "c", 0)
	onAir(t, s, "d")
	tk, err := s.Screen(producer, "b", "scr")
	done(t, s, 36, tk, err)
	got := s.Stats(at(40))
	want := queue.Stats{Arriving: 1, Waiting: 1, Screening: 1, Ready: 1, OnAir: 1,
		AverageWait: 30 * time.Second, LongestWait: 40 * time.Second}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	l := s.List()
	ids := func(cs []queue.Call) string {
		var out []string
		for _, c := range cs {
			out = append(out, fmt.Sprintf("%s@%d", c.ID, c.Position))
		}
		return strings.Join(out, ",")
	}
	for name, pair := range map[string][2]string{
		"Ready":     {ids(l.Ready), "c@1"},
		"Waiting":   {ids(l.Waiting), "a@2"},
		"OnAir":     {ids(l.OnAir), "d@0"},
		"Screening": {ids(l.Screening), "b@0"},
		"Arriving":  {ids(l.Arriving), "x@0"},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s: got %s, want %s", name, pair[0], pair[1])
		}
	}
	_, err = s.Position("d")
	wantErr(t, err, queue.ErrInvalid)
	_, err = s.Position("nobody")
	wantErr(t, err, queue.ErrNotFound)
}

func TestTombstones(t *testing.T) {
	t.Parallel()
	s := newShow(t, func(c *queue.Config) { c.LinesOpen = false })
	const n = 5000
	for i := range n {
		if _, err := s.Arrive(at(i), queue.Arrival{CallID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := s.Hangup(at(n), "0", 16)
	wantErr(t, err, queue.ErrNotFound) // forgotten
	_, _, err = s.Hangup(at(n), fmt.Sprint(n-1), 16)
	wantErr(t, err, queue.ErrGone)
}

func TestErrorsWrap(t *testing.T) {
	t.Parallel()
	for _, e := range []error{queue.ErrBusy, queue.ErrLocked, queue.ErrOnAirFull} {
		if !errors.Is(e, queue.ErrConflict) {
			t.Errorf("%v does not wrap ErrConflict", e)
		}
	}
	s := newShow(t)
	_, _, err := s.Hangup(at(0), "zz", 0)
	if got, want := err.Error(), `queue: hangup "zz": no such call: not found`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
