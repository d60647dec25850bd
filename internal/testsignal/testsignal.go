// Package testsignal is the one shape of callin's test hooks: production
// code raises a Signal at a point a test wants to see (a batch committed,
// a reload done, a render's row count); the zero Signal does nothing, so
// the hook costs a nil check outside tests. A test calls Init before the
// code under test starts, then Wait for each value in turn.
//
// The idea is riverqueue/river's testsignal; this one does not import
// testing, so product binaries may hold it.
package testsignal

import "time"

// Buffer is how many values a Signal holds for its test; more are dropped
// rather than block the code under test.
const Buffer = 1024

// Signal carries values of T from the code under test to its test.
type Signal[T any] struct{ ch chan T }

// Init makes s deliver values. Call it before the code that raises s
// starts.
func (s *Signal[T]) Init() { s.ch = make(chan T, Buffer) }

// Signal hands v to the test, if there is one and it has room.
func (s *Signal[T]) Signal(v T) {
	if s.ch == nil {
		return
	}
	select {
	case s.ch <- v:
	default:
	}
}

// C is the channel of values, for a test that selects on other things
// too; nil before Init.
func (s *Signal[T]) C() <-chan T { return s.ch }

// Wait returns the next value, or false after timeout.
func (s *Signal[T]) Wait(timeout time.Duration) (T, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case v := <-s.ch:
		return v, true
	case <-t.C:
		var zero T
		return zero, false
	}
}

// Drain returns the values waiting now, without waiting for more.
func (s *Signal[T]) Drain() []T {
	var out []T
	for {
		select {
		case v := <-s.ch:
			out = append(out, v)
		default:
			return out
		}
	}
}
