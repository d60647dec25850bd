package queue

import (
	"fmt"
	"time"
)

// check verifies every index of the show against its calls.
func (s *Show) check() error {
	// The treap: sizes, heap order, in-order strictly increasing.
	var walk func(t *call) (int, error)
	walk = func(t *call) (int, error) {
		if t == nil {
			return 0, nil
		}
		for _, ch := range []*call{t.left, t.right} {
			if ch != nil && ch.heap > t.heap {
				return 0, fmt.Errorf("treap heap order broken at %s", t.id)
			}
		}
		l, err := walk(t.left)
		if err != nil {
			return 0, err
		}
		r, err := walk(t.right)
		if err != nil {
			return 0, err
		}
		if int(t.size) != l+r+1 {
			return 0, fmt.Errorf("size of %s is %d, want %d", t.id, t.size, l+r+1)
		}
		return l + r + 1, nil
	}
	n, err := walk(s.line.root)
	if err != nil {
		return err
	}
	var prev *call
	inTree := map[*call]bool{}
	var orderErr error
	s.line.ascend(func(c *call) bool {
		if prev != nil && !s.line.less(prev, c) {
			orderErr = fmt.Errorf("line out of order: %s before %s", prev.id, c.id)
			return false
		}
		inTree[c] = true
		prev = c
		return true
	})
	if orderErr != nil {
		return orderErr
	}
	counts := map[State]int{}
	var sec, nsec int64
	pendingOnAir, holdingN, annN := 0, 0, 0
	for id, c := range s.calls {
		if id != c.id || !live(c.state) {
			return fmt.Errorf("bad live call %s in state %s", id, c.state)
		}
		if s.ended[id] != nil {
			return fmt.Errorf("%s both live and ended", id)
		}
		counts[c.state]++
		if inLine(c.state) != inTree[c] {
			return fmt.Errorf("%s (%s) in tree: %t", id, c.state, inTree[c])
		}
		wantAnn := inLine(c.state) && !c.announcing
		if (c.annIdx >= 0) != wantAnn || (c.annIdx >= 0 && s.ann.calls[c.annIdx] != c) {
			return fmt.Errorf("%s announcement heap index %d, want in heap %t", id, c.annIdx, wantAnn)
		}
		if wantAnn {
			annN++
		}
		if (c.waitIdx >= 0) != holding(c.state) || (c.waitIdx >= 0 && s.waits.calls[c.waitIdx] != c) {
			return fmt.Errorf("%s wait heap index %d in state %s", id, c.waitIdx, c.state)
		}
		if holding(c.state) {
			holdingN++
			sec += c.arrived.Unix()
			nsec += int64(c.arrived.Nanosecond())
		}
		if c.pending != 0 && promotes(c.pendingAction) {
			pendingOnAir++
		}
		if (c.pending == 0) != (c.pendingAction == "") {
			return fmt.Errorf("%s pending %d action %q", id, c.pending, c.pendingAction)
		}
		if c.state != StateOnAir && (c.muted || c.locked) {
			return fmt.Errorf("%s muted/locked while %s", id, c.state)
		}
	}
	if n != len(inTree) || n != counts[StateWaiting]+counts[StateReady] {
		return fmt.Errorf("tree has %d, walked %d, want %d", n, len(inTree), counts[StateWaiting]+counts[StateReady])
	}
	for _, st := range []State{StateArriving, StateWaiting, StateScreening, StateReady, StateOnAir} {
		if s.counts[st] != counts[st] {
			return fmt.Errorf("count of %s is %d, want %d", st, s.counts[st], counts[st])
		}
	}
	if s.ann.Len() != annN || s.waits.Len() != holdingN {
		return fmt.Errorf("heaps hold %d and %d, want %d and %d", s.ann.Len(), s.waits.Len(), annN, holdingN)
	}
	if sec != s.waitSec || nsec != s.waitNsec {
		return fmt.Errorf("wait sums %d/%d, want %d/%d", s.waitSec, s.waitNsec, sec, nsec)
	}
	if pendingOnAir != s.pendingOnAir {
		return fmt.Errorf("pending on air %d, want %d", s.pendingOnAir, pendingOnAir)
	}
	if s.picked != nil && (!inLine(s.picked.state) || s.calls[s.picked.id] != s.picked) {
		return fmt.Errorf("picked %s is %s", s.picked.id, s.picked.state)
	}
	for i, c := range s.ann.calls {
		if i > 0 && s.ann.less(c, s.ann.calls[(i-1)/2]) {
			return fmt.Errorf("announcement heap order broken at %d", i)
		}
	}
	for i, c := range s.waits.calls {
		if i > 0 && s.waits.less(c, s.waits.calls[(i-1)/2]) {
			return fmt.Errorf("wait heap order broken at %d", i)
		}
	}
	return nil
}

// base is where the internal tests start their clock.
var base = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
