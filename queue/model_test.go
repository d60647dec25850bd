package queue

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// mcall is the reference model's caller: plain fields, no indexes.
type mcall struct {
	id            string
	state         State
	arrived       time.Time
	serial        int
	top           int
	prio          int
	ticket        uint64 // reserved ticket id, 0 when none
	action        string
	muted, locked bool
	wasOnAir      bool
	announcing    bool
	picked        bool
	outcome       Outcome
	node          string // the node it is held on ("a" unless it arrived at "b")
}

// model is an O(n) reference of the show's rules: it recomputes the line by
// sorting every time.
type model struct {
	calls    map[string]*mcall
	serial   int
	topSeq   int
	maxOnAir int
}

func (m *model) pendingOnAir() int {
	n := 0
	for _, c := range m.calls {
		if c.ticket != 0 && (c.action == ActionPromote || c.action == ActionTakeNext) && live(c.state) {
			n++
		}
	}
	return n
}

func (m *model) count(st State) int {
	n := 0
	for _, c := range m.calls {
		if c.state == st {
			n++
		}
	}
	return n
}

// line returns the callers in line in take-next order.
func (m *model) line() []*mcall {
	var l []*mcall
	for _, c := range m.calls {
		if c.state == StateWaiting || c.state == StateReady {
			l = append(l, c)
		}
	}
	group := func(c *mcall) int {
		switch {
		case c.picked:
			return 0
		case c.top != 0:
			return 1
		case c.state == StateReady:
			return 2
		}
		return 3
	}
	slices.SortFunc(l, func(a, b *mcall) int {
		if c := cmp.Compare(group(a), group(b)); c != 0 {
			return c
		}
		switch group(a) {
		case 1:
			return cmp.Compare(a.top, b.top) // later move (more negative) first
		case 2:
			if c := cmp.Compare(b.prio, a.prio); c != 0 {
				return c
			}
		}
		if c := a.arrived.Compare(b.arrived); c != 0 {
			return c
		}
		return cmp.Compare(a.serial, b.serial)
	})
	return l
}

func (m *model) unpick() {
	for _, c := range m.calls {
		c.picked = false
	}
}

// lookup gives the error kind the show must return for a reservation.
func (m *model) lookup(id string) (*mcall, error) {
	c := m.calls[id]
	switch {
	case c == nil:
		return nil, ErrNotFound
	case c.state == StateEnded:
		return nil, ErrGone
	case c.ticket != 0:
		return nil, ErrBusy
	}
	return c, nil
}

func (m *model) setState(c *mcall, to State) {
	if c.state == to {
		return
	}
	if c.state == StateWaiting || c.state == StateReady {
		if to != StateWaiting && to != StateReady {
			c.picked = false
		}
	}
	if c.state == StateOnAir {
		c.muted, c.locked = false, false
	}
	if to == StateOnAir {
		c.wasOnAir = true
	}
	c.state = to
}

func (m *model) end(c *mcall, o Outcome) {
	m.setState(c, StateEnded)
	c.outcome, c.ticket, c.action, c.picked = o, 0, "", false
}

func TestModel(t *testing.T) {
	t.Parallel()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("Seed", seed), func(t *testing.T) {
			t.Parallel()
			steps := 6000
			if testing.Short() {
				steps = 1000
			}
			runModel(t, seed, steps)
		})
	}
}

func runModel(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	s, err := NewShow(Config{Key: "k", Node: "a", LinesOpen: true, MaxOnAir: 3, Capacity: 150})
	if err != nil {
		t.Fatal(err)
	}
	m := &model{calls: map[string]*mcall{}, maxOnAir: 3}
	var tickets []Ticket
	now := base
	actor := Actor{Kind: ActorUser, Name: "p"}
	nextID := 0

	pick := func() string {
		if nextID == 0 || rng.IntN(20) == 0 {
			return "unknown"
		}
		return fmt.Sprint("c", rng.IntN(nextID))
	}
	same := func(op string, got, want error) {
		t.Helper()
		if (got == nil) != (want == nil) || (want != nil && !errors.Is(got, want)) {
			t.Fatalf("%s: got error %v, want %v", op, got, want)
		}
	}
	reserve := func(op string, tk Ticket, err error, want error) {
		t.Helper()
		same(op, err, want)
		if err == nil {
			c := m.calls[tk.Call.ID]
			c.ticket, c.action = tk.id, tk.Action
			tickets = append(tickets, tk)
		}
	}
	onAirFull := func() bool { return m.count(StateOnAir)+m.pendingOnAir() >= m.maxOnAir }
	// may checks May against what the method did to the caller as it was
	// before (pre), when no other action was pending on it.
	var pre Call
	var preErr error
	may := func(action string, err error) {
		t.Helper()
		if preErr != nil || pre.Pending != "" || !live(pre.State) {
			return
		}
		if want := err == nil || errors.Is(err, ErrOnAirFull); May(pre, action) != want {
			t.Fatalf("May(%s, %s) = %t, but the method answered %v", pre.State, action, !want, err)
		}
	}

	airLost := 0
	defer func() {
		if steps >= 1000 && airLost == 0 {
			t.Errorf("no caller's air was lost in %d steps: the model did not check AirLost", steps)
		}
	}()
	for step := range steps {
		now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		id := pick()
		pre, preErr = s.Get(id)
		op := rng.IntN(19)
		if rng.IntN(400) == 0 {
			op = 19 // a node lost: rare, as it ends half the line
		} else if rng.IntN(40) == 0 {
			op = 20
		}
		switch op {
		case 0, 1, 2: // arrive and join
			cid := fmt.Sprint("c", nextID)
			nextID++
			arrived := time.Time{}
			if rng.IntN(4) == 0 { // reconcile-like arrival in the past
				arrived = now.Add(-time.Duration(rng.IntN(600)) * time.Second)
			}
			node := []string{"a", "b"}[rng.IntN(2)]
			adm, err := s.Arrive(now, Arrival{CallID: cid, ArrivedAt: arrived, Node: node})
			same("arrive", err, nil)
			m.serial++
			mc := &mcall{id: cid, state: StateArriving, arrived: adm.Call.ArrivedAt, serial: m.serial, node: node}
			m.calls[cid] = mc
			queued := m.count(StateArriving) + m.count(StateWaiting) + m.count(StateScreening) + m.count(StateReady)
			if wantAdmit := queued <= 150; adm.Admitted() != wantAdmit {
				t.Fatalf("step %d: admitted %t, want %t", step, adm.Admitted(), wantAdmit)
			}
			if !adm.Admitted() {
				mc.state, mc.outcome = StateEnded, OutcomeRejected
				continue
			}
			if rng.IntN(5) > 0 {
				_, _, err := s.Joined(now, cid)
				same("join", err, nil)
				mc.state = StateWaiting
			}
		case 3: // screen
			tk, err := s.Screen(actor, id, "scr")
			c, want := m.lookup(id)
			if want == nil && c.state == StateScreening {
				want = ErrConflict
			} else if want == nil && c.state != StateWaiting && c.state != StateReady {
				want = ErrInvalid
			}
			reserve("screen", tk, err, want)
			may(ActionScreen, err)
		case 4: // ready
			tk, err := s.Ready(actor, id, Notes{Priority: rng.IntN(4)})
			c, want := m.lookup(id)
			if want == nil && c.state == StateReady {
				want = ErrConflict
			} else if want == nil && c.state != StateWaiting && c.state != StateScreening {
				want = ErrInvalid
			}
			reserve("ready", tk, err, want)
			may(ActionReady, err)
		case 5: // promote
			tk, err := s.Promote(actor, id)
			c, want := m.lookup(id)
			switch {
			case want != nil:
			case c.state == StateOnAir:
				want = ErrConflict
			case c.state != StateWaiting && c.state != StateReady:
				want = ErrInvalid
			case onAirFull():
				want = ErrOnAirFull
			}
			reserve("promote", tk, err, want)
			may(ActionPromote, err)
		case 6: // take next
			tk, err := s.TakeNext(actor)
			var want error
			var wantID string
			if onAirFull() {
				want = ErrOnAirFull
			} else {
				for _, c := range m.line() {
					if c.ticket == 0 {
						wantID = c.id
						break
					}
				}
				if wantID == "" {
					want = ErrNotFound
				}
			}
			same("take next", err, want)
			if err == nil {
				if tk.Call.ID != wantID {
					t.Fatalf("step %d: take next got %s, want %s", step, tk.Call.ID, wantID)
				}
				reserve("take next", tk, nil, nil)
			}
		case 7: // hold
			tk, err := s.Hold(actor, id)
			c, want := m.lookup(id)
			switch {
			case want != nil:
			case c.locked:
				want = ErrLocked
			case c.state == StateWaiting:
				want = ErrConflict
			case c.state == StateArriving:
				want = ErrInvalid
			}
			reserve("hold", tk, err, want)
			may(ActionHold, err)
		case 8: // drop
			tk, err := s.Drop(actor, id, "")
			c, want := m.lookup(id)
			if want == nil && c.locked {
				want = ErrLocked
			}
			reserve("drop", tk, err, want)
			may(ActionDrop, err)
		case 9: // mute or unmute
			muted := rng.IntN(2) == 0
			var tk Ticket
			var err error
			if muted {
				tk, err = s.Mute(actor, id)
			} else {
				tk, err = s.Unmute(actor, id)
			}
			c, want := m.lookup(id)
			if want == nil && c.state != StateOnAir {
				want = ErrInvalid
			} else if want == nil && c.muted == muted {
				want = ErrConflict
			}
			reserve("mute", tk, err, want)
			may(map[bool]string{true: ActionMute, false: ActionUnmute}[muted], err)
		case 10: // lock or unlock
			locked := rng.IntN(2) == 0
			var err error
			if locked {
				_, _, err = s.Lock(now, actor, id)
			} else {
				_, _, err = s.Unlock(now, actor, id)
			}
			c, want := m.lookup(id)
			if want == nil && c.state != StateOnAir {
				want = ErrInvalid
			} else if want == nil && c.locked == locked {
				want = ErrConflict
			}
			same("lock", err, want)
			may(map[bool]string{true: ActionLock, false: ActionUnlock}[locked], err)
			if err == nil {
				c.locked = locked
			}
		case 11: // move to top
			_, _, err := s.MoveToTop(now, actor, id)
			c, want := m.lookup(id)
			if want == nil && c.state != StateWaiting && c.state != StateReady {
				want = ErrInvalid
			}
			same("move to top", err, want)
			may(ActionMoveToTop, err)
			if err == nil {
				m.topSeq--
				c.top = m.topSeq
			}
		case 12: // pick next
			_, _, err := s.PickNext(now, actor, id)
			c, want := m.lookup(id)
			if want == nil && c.picked {
				want = ErrConflict
			} else if want == nil && c.state != StateWaiting && c.state != StateReady {
				want = ErrInvalid
			}
			same("pick next", err, want)
			may(ActionPickNext, err)
			if err == nil {
				m.unpick()
				c.picked = true
			}
		case 13: // notes
			prio := rng.IntN(4)
			_, _, err := s.UpdateNotes(now, actor, id, Notes{Priority: prio})
			c, want := m.lookup(id)
			if want == nil && c.state == StateArriving {
				want = ErrInvalid
			}
			same("notes", err, want)
			may(ActionNotes, err)
			if err == nil {
				c.prio = prio
			}
		case 14: // hang up
			_, _, err := s.Hangup(now, id, 16)
			c := m.calls[id]
			var want error
			switch {
			case c == nil:
				want = ErrNotFound
			case c.state == StateEnded:
				want = ErrGone
			}
			same("hangup", err, want)
			if err == nil {
				o := OutcomeAbandoned
				if c.wasOnAir || c.state == StateOnAir {
					o = OutcomeAired
				} else if c.action == ActionDrop {
					o = OutcomeDropped
				}
				m.end(c, o)
				got, _ := s.Get(id)
				if got.Outcome != o {
					t.Fatalf("step %d: hangup outcome %s, want %s", step, got.Outcome, o)
				}
			}
		case 15, 16, 17: // commit or abort an outstanding ticket
			if len(tickets) == 0 {
				continue
			}
			i := rng.IntN(len(tickets))
			tk := tickets[i]
			tickets = slices.Delete(tickets, i, i+1)
			c := m.calls[tk.Call.ID]
			var want error
			switch {
			case c.state == StateEnded:
				want = ErrGone
			case c.ticket != tk.id:
				want = ErrConflict
			}
			if op == 17 {
				same("abort", s.Abort(tk), want)
				if want == nil {
					c.ticket, c.action = 0, ""
				}
				continue
			}
			_, _, err := s.Commit(now, tk)
			same("commit "+tk.Action, err, want)
			if err != nil {
				continue
			}
			c.ticket, c.action = 0, ""
			switch tk.Action {
			case ActionDrop:
				o := OutcomeDropped
				if c.wasOnAir || c.state == StateOnAir {
					o = OutcomeAired
				}
				m.end(c, o)
			case ActionMute, ActionUnmute:
				c.muted = tk.Action == ActionMute
			case ActionReady:
				c.prio = tk.Notes.Priority
				m.setState(c, tk.To)
			default:
				m.setState(c, tk.To)
			}
		case 18: // readmit with the state Asterisk reports
			c := m.calls[id]
			st := []State{StateWaiting, StateReady, StateOnAir, StateScreening}[rng.IntN(4)]
			_, _, err := s.Readmit(now, Readmission{Arrival: Arrival{CallID: id}, State: st})
			var want error
			switch {
			case id == "unknown" && c == nil:
			case c.state == StateEnded:
				want = ErrGone
			}
			same("readmit", err, want)
			if err == nil {
				if c == nil {
					m.serial++
					c = &mcall{id: id, state: st, arrived: now, serial: m.serial, node: "a"}
					m.calls[id] = c
					if st == StateOnAir {
						c.wasOnAir = true
					}
				} else {
					c.ticket, c.action = 0, ""
					m.setState(c, st)
				}
			}
		case 20: // a caller's line to the air lost: back in line, waiting
			for cid, c := range m.calls { // mostly a caller on air, if any
				if c.state == StateOnAir && rng.IntN(4) > 0 {
					id = cid
					break
				}
			}
			_, ts, err := s.AirLost(now, id, "trunk leg lost")
			c := m.calls[id]
			var want error
			switch {
			case c == nil:
				want = ErrNotFound
			case c.state == StateEnded:
				want = ErrGone
			case c.state != StateOnAir:
				want = ErrInvalid
			}
			same("air lost", err, want)
			if err == nil {
				if len(ts) != 1 || ts[0].Action != ActionAirLost || ts[0].To != StateWaiting {
					t.Fatalf("step %d: air lost %+v", step, ts)
				}
				c.ticket, c.action, c.muted, c.locked = 0, "", false, false
				m.setState(c, StateWaiting)
				airLost++
			}
		case 19: // a node lost: every live call held there ends node_lost
			node := []string{"a", "b"}[rng.IntN(2)]
			calls, ts := s.NodeLost(now, node)
			var want []string
			for _, c := range m.calls {
				if c.node == node && c.state != StateEnded {
					want = append(want, c.id)
					if c.picked {
						m.unpick()
					}
					m.end(c, OutcomeNodeLost)
				}
			}
			got := make([]string, len(calls))
			for i, c := range calls {
				got[i] = c.ID
				if c.Outcome != OutcomeNodeLost || ts[i].Action != ActionNodeLost || ts[i].To != StateEnded || c.Node != node {
					t.Fatalf("step %d: node lost ended %+v with %+v", step, c, ts[i])
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: node %s lost ended %v, want %v", step, node, got, want)
			}
		}
		compare(t, step, s, m)
	}
}

// compare checks the show against the model: invariants, the line,
// positions and counts.
func compare(t *testing.T, step int, s *Show, m *model) {
	t.Helper()
	if err := s.check(); err != nil {
		t.Fatalf("step %d: %v", step, err)
	}
	want := m.line()
	l := s.List()
	got := make([]string, len(l.Ready)+len(l.Waiting))
	for _, c := range append(l.Ready, l.Waiting...) {
		got[c.Position-1] = c.ID
	}
	for i, c := range want {
		if got[i] != c.id {
			t.Fatalf("step %d: line differs at %d: got %v, want %s", step, i, got, c.id)
		}
	}
	if len(want) > 0 {
		i := step % len(want)
		if p, err := s.Position(want[i].id); err != nil || p != i+1 {
			t.Fatalf("step %d: Position(%s) = %d, %v; want %d", step, want[i].id, p, err, i+1)
		}
	}
	st := s.Stats(base)
	if st.Waiting != m.count(StateWaiting) || st.Ready != m.count(StateReady) || st.OnAir != m.count(StateOnAir) ||
		st.Screening != m.count(StateScreening) || st.Arriving != m.count(StateArriving) || st.PendingOnAir != m.pendingOnAir() {
		t.Fatalf("step %d: got stats %+v", step, st)
	}
}
