package ratelimit_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/callin-radio/callin/web/ratelimit"
)

func TestAllow(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(2, 3, 100)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	now := time.Unix(1000, 0)
	for i := range 3 {
		if _, _, ok := l.Allow(a, now); !ok {
			t.Fatalf("take %d of a burst of 3 refused", i+1)
		}
	}
	retry, refused, ok := l.Allow(a, now)
	if ok || retry != 500*time.Millisecond || refused != 1 {
		t.Errorf("a fourth at once: %v %v %d, want refused (the first time), retry 500ms", ok, retry, refused)
	}
	if _, refused, _ := l.Allow(a, now); refused != 2 {
		t.Errorf("a fifth at once: refused %d in a row, want 2", refused)
	}
	if _, _, ok := l.Allow(b, now); !ok {
		t.Error("another address refused")
	}
	if _, _, ok := l.Allow(a, now.Add(500*time.Millisecond)); !ok {
		t.Error("refused after the refill of one token")
	}
	if _, refused, ok := l.Allow(a, now.Add(500*time.Millisecond)); ok || refused != 1 {
		t.Errorf("a second token after the refill of one: %v, refused %d in a row, want refused, 1", ok, refused)
	}
}

// TestBounded: a flood of new addresses holds at most size buckets.
func TestBounded(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(1, 2, 64)
	now := time.Unix(1000, 0)
	for i := range 10000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.Allow(a, now)
		if n := l.Len(); n > 64 {
			t.Fatalf("%d buckets after %d addresses, want at most 64", n, i+1)
		}
	}
}
