package auth

import (
	"sync"
	"time"
)

// Login rate limits: token buckets per client IP and per user name. Every
// login attempt takes a token from both; a successful one gives them back,
// so only failures (and attempts in flight) count. With the numbers below a
// client gets 20 quick tries, then one every 3 s; a user name 10 quick
// tries, then one every 12 s (300 guesses an hour, whoever asks). An
// office of producers behind one NAT address stays well under the IP limit.
const (
	ipBurst     = 20
	ipEvery     = 3 * time.Second
	nameBurst   = 10
	nameEvery   = 12 * time.Second
	limiterSize = 4096 // buckets kept per kind; beyond it full then stalest ones go
)

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// buckets is one kind of token bucket, keyed by IP or by name.
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
// that frees nothing, the one touched longest ago. It scans the map, which
// happens only when it is full: cheap next to one password hash.
func (bs *buckets) evict(now time.Time) {
	var stalest string
	var stalestAt time.Time
	found := false
	for k, b := range bs.m {
		if bs.level(b, now) >= bs.burst {
			delete(bs.m, k)
			continue
		}
		if !found || b.at.Before(stalestAt) {
			stalest, stalestAt, found = k, b.at, true
		}
	}
	if len(bs.m) >= limiterSize && found {
		delete(bs.m, stalest)
	}
}

// wait returns how long b needs to get a whole token.
func (bs *buckets) wait(b *bucket) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(bs.every))
}

// loginLimiter limits login attempts per IP and per user name. It is safe
// for concurrent use and holds at most limiterSize buckets of each kind.
type loginLimiter struct {
	mu   sync.Mutex
	ip   buckets
	name buckets
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{ip: newBuckets(ipBurst, ipEvery), name: newBuckets(nameBurst, nameEvery)}
}

// take takes a token from ip's and name's buckets, or, if either is empty,
// takes none and returns how long to wait.
func (l *loginLimiter) take(ip, name string, now time.Time) (retry time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	bi, bn := l.ip.get(ip, now), l.name.get(name, now)
	if bi.tokens < 1 || bn.tokens < 1 {
		return max(l.ip.wait(bi), l.name.wait(bn)), false
	}
	bi.tokens--
	bn.tokens--
	return 0, true
}

// refund gives back the tokens a successful attempt took.
func (l *loginLimiter) refund(ip, name string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range []struct {
		bs  *buckets
		key string
	}{{&l.ip, ip}, {&l.name, name}} {
		b := x.bs.get(x.key, now)
		b.tokens = min(x.bs.burst, b.tokens+1)
	}
}
