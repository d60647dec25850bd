package auth

import (
	"slices"
	"sync"
	"time"
)

// Login limits. Each attempt takes a token from its client address's
// bucket (20 quick tries, then one every 3 s: what one address may spend
// of the server's password hashing, whatever names it tries). Failures
// then lock the pair of user name and client address, never the name
// alone: after pairFree failures from one address for one name, that
// address waits pairBase before its next try for that name, twice as long
// after each further failure, up to pairMax. A stranger who guesses at a
// producer's name locks out only their own address; the producer logs in
// from theirs. A success clears its pair. Guessing spread over many
// addresses is bounded per address (about 20 tries the first hour, then
// 4 an hour per name) and by argon2id's cost.
const (
	ipBurst     = 20
	ipEvery     = 3 * time.Second
	pairFree    = 5                // failures before a pair waits
	pairBase    = time.Second      // the first wait
	pairMax     = 15 * time.Minute // the longest wait
	pairForget  = 24 * time.Hour   // a pair with no failure this long is forgotten
	limiterSize = 4096             // IP buckets kept; beyond it full then stalest ones go
	pairsSize   = 16384            // pairs kept; beyond it unlocked then stalest ones go
)

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// buckets is a set of token buckets, keyed by IP.
type buckets struct {
	burst float64
	every time.Duration
	m     map[string]*bucket
}

func newBuckets(burst int, every time.Duration) buckets {
	return buckets{burst: float64(burst), every: every, m: make(map[string]*bucket)}
}

// level returns b's tokens at now.
func (bs *buckets) level(b *bucket, now time.Time) float64 {
	if el := now.Sub(b.at); el > 0 {
		return min(bs.burst, b.tokens+float64(el)/float64(bs.every))
	}
	return b.tokens
}

// get returns key's bucket brought up to now, adding a full one if absent.
func (bs *buckets) get(key string, now time.Time) *bucket {
	b, ok := bs.m[key]
	if !ok {
		if len(bs.m) >= limiterSize {
			bs.evict(now)
		}
		b = &bucket{tokens: bs.burst, at: now}
		bs.m[key] = b
		return b
	}
	b.tokens, b.at = bs.level(b, now), now
	return b
}

// evict drops the full buckets (a full bucket is as good as none) and, if
// that frees nothing, the sixteenth touched longest ago. It scans the map
// only when it is full, and then frees room for many more: a flood of new
// addresses costs a scan per sixteenth of the map, not per address.
func (bs *buckets) evict(now time.Time) {
	for k, b := range bs.m {
		if bs.level(b, now) >= bs.burst {
			delete(bs.m, k)
		}
	}
	if len(bs.m) >= limiterSize {
		dropStalest(bs.m, func(b *bucket) time.Time { return b.at })
	}
}

// evictBatch is the share of a full map dropped at once, stalest first.
const evictBatch = 16

// dropStalest deletes the len(m)/evictBatch entries (at least one) whose
// at is oldest.
func dropStalest[K comparable, V any](m map[K]V, at func(V) time.Time) {
	type entry struct {
		k  K
		at time.Time
	}
	all := make([]entry, 0, len(m))
	for k, v := range m {
		all = append(all, entry{k, at(v)})
	}
	slices.SortFunc(all, func(a, b entry) int { return a.at.Compare(b.at) })
	for _, e := range all[:max(1, len(all)/evictBatch)] {
		delete(m, e.k)
	}
}

// wait returns how long b needs to get a whole token.
func (bs *buckets) wait(b *bucket) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(bs.every))
}

// pairKey is a user name as tried from one client address.
type pairKey struct{ ip, name string }

// pair is the failures of one pairKey.
type pair struct {
	fails int       // failures (and attempts in flight) since the last success
	last  time.Time // the last failure
}

// until returns when p may try again.
func (p *pair) until() time.Time {
	if p.fails < pairFree {
		return time.Time{}
	}
	wait := pairMax
	if n := p.fails - pairFree; n < 20 {
		wait = min(pairMax, pairBase<<n)
	}
	return p.last.Add(wait)
}

// loginLimiter limits login attempts per client address, and locks a
// user name only for the address it failed from. It is safe for
// concurrent use and holds at most limiterSize buckets and pairsSize
// pairs.
type loginLimiter struct {
	mu    sync.Mutex
	ip    buckets
	pairs map[pairKey]*pair
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{ip: newBuckets(ipBurst, ipEvery), pairs: map[pairKey]*pair{}}
}

// take lets an attempt for name from ip go ahead, counting it as a
// failure until success says otherwise; or, if the address has
// spent its bucket or the pair is locked, takes nothing and returns how
// long to wait.
func (l *loginLimiter) take(ip, name string, now time.Time) (retry time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	bi := l.ip.get(ip, now)
	k := pairKey{ip, name}
	p := l.pairs[k]
	var locked time.Duration
	if p != nil {
		if now.Sub(p.last) > pairForget {
			p.fails = 0
		}
		locked = max(0, p.until().Sub(now))
	}
	if bi.tokens < 1 || locked > 0 {
		return max(l.ip.wait(bi), locked), false
	}
	bi.tokens--
	if p == nil {
		if len(l.pairs) >= pairsSize {
			l.evictPairs(now)
		}
		p = &pair{}
		l.pairs[k] = p
	}
	p.fails++
	p.last = now
	return 0, true
}

// success clears the pair of a successful login and gives the address
// its token back: only failures count.
func (l *loginLimiter) success(ip, name string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pairs, pairKey{ip, name})
	b := l.ip.get(ip, now)
	b.tokens = min(l.ip.burst, b.tokens+1)
}

// evictPairs drops the pairs that are not locked and were not touched in
// pairForget and, if that frees nothing, the sixteenth whose last failure
// is oldest (as buckets.evict).
func (l *loginLimiter) evictPairs(now time.Time) {
	for k, p := range l.pairs {
		if now.Sub(p.last) > pairForget || (p.fails < pairFree && now.Sub(p.last) > pairMax) {
			delete(l.pairs, k)
		}
	}
	if len(l.pairs) >= pairsSize {
		dropStalest(l.pairs, func(p *pair) time.Time { return p.last })
	}
}
