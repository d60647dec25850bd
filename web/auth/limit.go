package auth

import (
	"slices"
	"sync"
	"time"
)

// Login limits. Each attempt without a known device takes a token from
// its client address's bucket (20 quick tries, then one every 3 s: what
// one address may spend of the server's password hashing, whatever names
// it tries). Failures then lock the pair of user name and client address,
// never the name alone: after pairFree failures from one address for one
// name, that address waits pairBase before its next try for that name,
// twice as long after each further failure, up to pairMax. The client
// address is clientaddr's: behind a trusted proxy, the one it reports.
//
// Failures for a name from anywhere also slow that name: after userFree
// of them, each further try waits userBase, doubling, up to userMax (the
// answer to guessing spread over many addresses). A stranger can slow a
// user but not lock them out: a login from a known device (the device
// cookie a successful login leaves, see device.go) takes no address token
// and is not slowed by the name's failures; its own failures lock that
// device's pair like an address's. A success clears its pair and the
// name's count.
//
// Successful logins of one user are limited too (Config.LoginsPerUser an
// hour, a quarter of them at once): a login beyond them is
// refused before its password is hashed, so that whoever holds a password
// cannot spend the server's hashing (and, through sessions, its event
// streams) by logging in again and again.
const (
	ipBurst     = 20
	ipEvery     = 3 * time.Second
	pairFree    = 5                // failures before a pair waits
	pairBase    = time.Second      // the first wait
	pairMax     = 15 * time.Minute // the longest wait
	userFree    = 10               // failures of a name, from anywhere, before it is slowed
	userBase    = time.Second      // the first wait of a slowed name
	userMax     = time.Minute      // the longest wait of a slowed name
	pairForget  = 24 * time.Hour   // a pair with no failure this long is forgotten
	limiterSize = 4096             // IP buckets kept; beyond it full then stalest ones go
	pairsSize   = 16384            // pairs (and names) kept; beyond it unlocked then stalest ones go
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

// until returns when p may try again, after free failures waiting base,
// doubling, up to most.
func (p *pair) until(free int, base, most time.Duration) time.Time {
	if p.fails < free {
		return time.Time{}
	}
	wait := most
	if n := p.fails - free; n < 20 {
		wait = min(most, base<<n)
	}
	return p.last.Add(wait)
}

// loginLimiter limits login attempts per client address, locks a user
// name only for the address (or device) it failed from, and slows a name
// failing from everywhere. It is safe for concurrent use and holds at
// most limiterSize buckets and pairsSize pairs and names.
type loginLimiter struct {
	mu     sync.Mutex
	ip     buckets
	logins buckets // successful logins, by user name
	pairs  map[pairKey]*pair
	users  map[string]*pair
}

// newLoginLimiter returns a loginLimiter letting each user log in
// perHour times an hour, a quarter of them (at least one) at once: with
// the default, 5 at once (a producer's every device as a show starts),
// then one every 3 minutes.
func newLoginLimiter(perHour int) *loginLimiter {
	return &loginLimiter{ip: newBuckets(ipBurst, ipEvery), logins: newBuckets(max(1, perHour/4), time.Hour/time.Duration(perHour)),
		pairs: map[pairKey]*pair{}, users: map[string]*pair{}}
}

// key is the pair of an attempt: the device's when it comes from a known
// one, else the address's.
func key(ip, name, device string) pairKey {
	if device != "" {
		return pairKey{"device " + device, name}
	}
	return pairKey{ip, name}
}

// take lets an attempt for name from ip (and device, the id of a known
// device, or "") go ahead, counting it as a failure until success says
// otherwise; or, if the address has spent its bucket, the pair is locked
// or the name slowed, takes nothing and returns how long to wait.
func (l *loginLimiter) take(ip, name, device string, now time.Time) (retry time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := key(ip, name, device)
	var wait time.Duration
	p := l.pairs[k]
	if p != nil {
		if now.Sub(p.last) > pairForget {
			p.fails = 0
		}
		wait = max(wait, p.until(pairFree, pairBase, pairMax).Sub(now))
	}
	u := l.users[name]
	if u != nil && now.Sub(u.last) > pairForget {
		u.fails = 0
	}
	var bi *bucket
	if device == "" {
		bi = l.ip.get(ip, now)
		wait = max(wait, l.ip.wait(bi))
		if u != nil {
			wait = max(wait, u.until(userFree, userBase, userMax).Sub(now))
		}
	}
	if b, ok := l.logins.m[name]; ok {
		l.logins.get(name, now)
		wait = max(wait, l.logins.wait(b))
	}
	if wait > 0 {
		return wait, false
	}
	if bi != nil {
		bi.tokens--
	}
	if p == nil {
		if len(l.pairs) >= pairsSize {
			evictPairs(l.pairs, now)
		}
		p = &pair{}
		l.pairs[k] = p
	}
	p.fails++
	p.last = now
	if u == nil {
		if len(l.users) >= pairsSize {
			evictPairs(l.users, now)
		}
		u = &pair{}
		l.users[name] = u
	}
	u.fails++
	u.last = now
	return 0, true
}

// success clears the pair of a successful login and the name's count,
// and gives the address its token back: only failures count.
func (l *loginLimiter) success(ip, name, device string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pairs, key(ip, name, device))
	delete(l.users, name)
	l.logins.get(name, now).tokens--
	if device == "" {
		b := l.ip.get(ip, now)
		b.tokens = min(l.ip.burst, b.tokens+1)
	}
}

// evictPairs drops the entries that are not locked and were not touched
// in pairForget and, if that frees nothing, the sixteenth whose last
// failure is oldest (as buckets.evict).
func evictPairs[K comparable](m map[K]*pair, now time.Time) {
	for k, p := range m {
		if now.Sub(p.last) > pairForget || (p.fails < pairFree && now.Sub(p.last) > pairMax) {
			delete(m, k)
		}
	}
	if len(m) >= pairsSize {
		dropStalest(m, func(p *pair) time.Time { return p.last })
	}
}
