package testsignal_test

import (
	"slices"
	"testing"
	"time"

	"github.com/callin-radio/callin/internal/testsignal"
)

func TestSignal(t *testing.T) {
	var off testsignal.Signal[int]
	off.Signal(1) // the zero Signal does nothing, and does not block
	if off.C() != nil {
		t.Fatal("a Signal without Init has a channel")
	}

	var s testsignal.Signal[string]
	s.Init()
	s.Signal("a")
	s.Signal("b")
	if v, ok := s.Wait(time.Second); !ok || v != "a" {
		t.Fatalf("Wait: %q %v, want a", v, ok)
	}
	if got := s.Drain(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("Drain: %q, want [b]", got)
	}
	if v, ok := s.Wait(time.Millisecond); ok {
		t.Fatalf("Wait with nothing raised: %q", v)
	}
	for i := range testsignal.Buffer + 10 { // a full buffer drops, never blocks
		s.Signal(string(rune('a' + i%26)))
	}
	if n := len(s.Drain()); n != testsignal.Buffer {
		t.Fatalf("held %d, want %d", n, testsignal.Buffer)
	}
}
