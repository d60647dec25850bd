package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLoginLimiter(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

	t.Run("PairBacksOffExponentially", func(t *testing.T) {
		l := newLoginLimiter(DefaultLoginsPerUser)
		now := t0
		for i := range pairFree {
			if _, ok := l.take("10.0.0.9", "alice", "", now); !ok {
				t.Fatalf("failure %d refused, want %d free", i+1, pairFree)
			}
		}
		// Each further failure doubles the wait, up to pairMax.
		for n, want := 0, pairBase; n < 14; n, want = n+1, min(pairMax, want*2) {
			retry, ok := l.take("10.0.0.9", "alice", "", now)
			if ok || retry != want {
				t.Fatalf("after %d failures: got ok=%v retry=%s, want refused, retry %s", pairFree+n, ok, retry, want)
			}
			if _, ok := l.take("10.0.0.9", "alice", "", now.Add(want-time.Millisecond)); ok {
				t.Fatalf("after %d failures: allowed before %s", pairFree+n, want)
			}
			now = now.Add(want)
			if _, ok := l.take("10.0.0.9", "alice", "", now); !ok {
				t.Fatalf("after %d failures: refused once %s passed", pairFree+n, want)
			}
		}
	})

	t.Run("StrangerCannotLockOthersOut", func(t *testing.T) {
		l := newLoginLimiter(DefaultLoginsPerUser)
		// One wrong try every 12 s for an hour, from one address.
		for i := range 300 {
			l.take("203.0.113.7", "alice", "", t0.Add(time.Duration(i)*12*time.Second))
		}
		later := t0.Add(time.Hour)
		if _, ok := l.take("203.0.113.7", "alice", "", later); ok {
			t.Error("the guessing address is not locked")
		}
		// Alice from her own address is slowed, for at most userMax; from
		// her known device she passes at once.
		if _, ok := l.take("10.0.0.5", "alice", "dev1", later); !ok {
			t.Error("alice from her known device: locked out by a stranger")
		}
		l.success("10.0.0.5", "alice", "dev1", later)
		// Many addresses guessing at alice lock none but themselves, and
		// slow the name.
		for i := range 100 {
			for range pairFree + 1 {
				l.take(fmt.Sprint("198.51.100.", i), "alice", "", later)
			}
		}
		retry, ok := l.take("10.0.0.6", "alice", "", later)
		if ok || retry > userMax {
			t.Errorf("alice from a fresh address after a spread attack: %v %v, want slowed by at most %v", ok, retry, userMax)
		}
		if _, ok := l.take("10.0.0.6", "alice", "", later.Add(userMax)); !ok {
			t.Error("alice from a fresh address: still refused after userMax")
		}
		if _, ok := l.take("10.0.0.5", "alice", "dev1", later); !ok {
			t.Error("alice from her known device after a spread attack: refused")
		}
	})

	t.Run("IPBucket", func(t *testing.T) {
		l := newLoginLimiter(DefaultLoginsPerUser)
		for i := range ipBurst {
			if _, ok := l.take("10.0.0.1", fmt.Sprint("user", i), "", t0); !ok {
				t.Fatalf("attempt %d refused, want %d allowed", i+1, ipBurst)
			}
		}
		if retry, ok := l.take("10.0.0.1", "another", "", t0); ok || retry != ipEvery {
			t.Errorf("over the IP burst: got ok=%v retry=%s, want refused, retry %s", ok, retry, ipEvery)
		}
		if _, ok := l.take("10.0.0.2", "another", "", t0); !ok {
			t.Error("another IP: refused")
		}
	})

	t.Run("SuccessClearsThePair", func(t *testing.T) {
		l := newLoginLimiter(DefaultLoginsPerUser)
		for range pairFree - 1 {
			l.take("10.0.0.1", "alice", "", t0)
		}
		l.take("10.0.0.1", "alice", "", t0)
		l.success("10.0.0.1", "alice", "", t0)
		for i := range pairFree {
			if _, ok := l.take("10.0.0.1", "alice", "", t0); !ok {
				t.Fatalf("failure %d after a success refused: the success did not clear the pair", i+1)
			}
		}
	})

	t.Run("SuccessesDoNotCount", func(t *testing.T) {
		// Toward the address's allowance: each user's own logins are
		// bounded (LoginsPerUser).
		l := newLoginLimiter(DefaultLoginsPerUser)
		for i := range 3 * ipBurst {
			name := fmt.Sprintf("user%d", i)
			if _, ok := l.take("10.0.0.1", name, "", t0); !ok {
				t.Fatalf("attempt %d refused though every attempt succeeded", i+1)
			}
			l.success("10.0.0.1", name, "", t0)
		}
	})

	t.Run("LoginsPerUser", func(t *testing.T) {
		l := newLoginLimiter(12) // one every 5 min, 3 at once
		for i := range 3 {
			if _, ok := l.take(fmt.Sprintf("10.0.0.%d", i), "alice", "", t0); !ok {
				t.Fatalf("login %d of 3 at once refused", i+1)
			}
			l.success(fmt.Sprintf("10.0.0.%d", i), "alice", "", t0)
		}
		retry, ok := l.take("10.0.0.9", "alice", "a-known-device", t0)
		if ok || retry != 5*time.Minute {
			t.Errorf("a 4th login at once, from a known device: %v, retry %s; want refused, 5m0s", ok, retry)
		}
		if _, ok := l.take("10.0.0.9", "bob", "", t0); !ok {
			t.Error("another user refused")
		}
		if _, ok := l.take("10.0.0.9", "alice", "", t0.Add(5*time.Minute)); !ok {
			t.Error("refused 5 minutes later")
		}
	})

	t.Run("Forgotten", func(t *testing.T) {
		l := newLoginLimiter(DefaultLoginsPerUser)
		for range pairFree + 3 {
			l.take("10.0.0.1", "alice", "", t0)
		}
		if _, ok := l.take("10.0.0.1", "alice", "", t0.Add(pairForget+time.Second)); !ok {
			t.Error("a day later the pair is still locked")
		}
	})

	t.Run("Bounded", func(t *testing.T) {
		l := newLoginLimiter(DefaultLoginsPerUser)
		for i := range pairsSize + 500 {
			// A microsecond apart: no bucket refills meanwhile.
			l.take(fmt.Sprint("ip", i%(limiterSize+500)), fmt.Sprint("name", i), "", t0.Add(time.Duration(i)*time.Microsecond))
		}
		// Full, a sixteenth of the stalest go at once to make room.
		if n := len(l.ip.m); n > limiterSize || n < limiterSize-limiterSize/evictBatch {
			t.Errorf("got %d IP buckets, want at most %d and no fewer than %d", n, limiterSize, limiterSize-limiterSize/evictBatch)
		}
		if n := len(l.pairs); n > pairsSize || n < pairsSize-pairsSize/evictBatch {
			t.Errorf("got %d pairs, want at most %d and no fewer than %d", n, pairsSize, pairsSize-pairsSize/evictBatch)
		}
		// The stalest went first: the last key is kept, the first is not.
		if _, ok := l.pairs[pairKey{"ip0", "name0"}]; ok {
			t.Error("the stalest pair was kept")
		}
		last := pairsSize + 499
		if _, ok := l.pairs[pairKey{fmt.Sprint("ip", last%(limiterSize+500)), fmt.Sprint("name", last)}]; !ok {
			t.Error("the newest pair was evicted")
		}
		// Full again, and a day later all pairs are stale: one new key
		// sweeps them.
		for i := 0; len(l.pairs) < pairsSize; i++ {
			l.take(fmt.Sprint("refill", i), fmt.Sprint("refill", i), "", t0)
		}
		l.take("late", "late", "", t0.Add(pairForget+time.Hour))
		if len(l.pairs) != 1 {
			t.Errorf("after a day: %d pairs, want the stale ones swept", len(l.pairs))
		}
	})
}
