package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLoginLimiter(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

	t.Run("NameBucket", func(t *testing.T) {
		l := newLoginLimiter()
		for i := range nameBurst {
			if _, ok := l.take(fmt.Sprint("ip", i), "alice", t0); !ok {
				t.Fatalf("attempt %d refused, want %d allowed", i+1, nameBurst)
			}
		}
		retry, ok := l.take("ip-new", "alice", t0)
		if ok || retry != nameEvery {
			t.Fatalf("attempt %d: got ok=%v retry=%s, want refused, retry %s", nameBurst+1, ok, retry, nameEvery)
		}
		if _, ok := l.take("ip-new", "alice", t0.Add(nameEvery-time.Millisecond)); ok {
			t.Error("just before the refill: allowed")
		}
		if _, ok := l.take("ip-new", "alice", t0.Add(nameEvery)); !ok {
			t.Error("after one refill period: refused")
		}
		if _, ok := l.take("ip-new", "bob", t0); !ok {
			t.Error("another name: refused")
		}
	})

	t.Run("IPBucket", func(t *testing.T) {
		l := newLoginLimiter()
		for i := range ipBurst {
			if _, ok := l.take("10.0.0.1", fmt.Sprint("user", i), t0); !ok {
				t.Fatalf("attempt %d refused, want %d allowed", i+1, ipBurst)
			}
		}
		if retry, ok := l.take("10.0.0.1", "another", t0); ok || retry != ipEvery {
			t.Errorf("over the IP burst: got ok=%v retry=%s, want refused, retry %s", ok, retry, ipEvery)
		}
		if _, ok := l.take("10.0.0.2", "another", t0); !ok {
			t.Error("another IP: refused")
		}
	})

	t.Run("RefundedSuccessesDoNotCount", func(t *testing.T) {
		l := newLoginLimiter()
		for i := range 3 * nameBurst {
			if _, ok := l.take("10.0.0.1", "alice", t0); !ok {
				t.Fatalf("attempt %d refused though every attempt succeeded", i+1)
			}
			l.refund("10.0.0.1", "alice", t0)
		}
	})

	t.Run("Bounded", func(t *testing.T) {
		l := newLoginLimiter()
		for i := range limiterSize + 500 {
			// A microsecond apart: no bucket refills meanwhile.
			l.take(fmt.Sprint("ip", i), fmt.Sprint("name", i), t0.Add(time.Duration(i)*time.Microsecond))
		}
		if len(l.ip.m) != limiterSize || len(l.name.m) != limiterSize {
			t.Errorf("got %d IP and %d name buckets, want %d", len(l.ip.m), len(l.name.m), limiterSize)
		}
		// The stalest went first: the last key is kept, the first is not.
		if _, ok := l.ip.m["ip0"]; ok {
			t.Error("ip0, the stalest, was kept")
		}
		if _, ok := l.ip.m[fmt.Sprint("ip", limiterSize+499)]; !ok {
			t.Error("the newest bucket was evicted")
		}
		// An hour later all buckets have refilled: one new key sweeps them.
		l.take("late", "late", t0.Add(time.Hour))
		if len(l.ip.m) != 1 || len(l.name.m) != 1 {
			t.Errorf("after refill: got %d IP and %d name buckets, want 1 each", len(l.ip.m), len(l.name.m))
		}
	})
}
