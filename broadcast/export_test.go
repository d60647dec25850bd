package broadcast

// LiveCalls counts the per-call records a show keeps (calls.go), for the
// tests that check nothing is left behind.
func LiveCalls(a *App, show string) int {
	s := a.shows[show]
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// NextFull is nextFull (room.go), for its table test.
var NextFull = nextFull
