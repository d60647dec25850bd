// Package ratelimit is token buckets keyed by client address, bounded in
// memory: what web's listener uses to refuse an address opening
// connections faster than Limits allow, before any work is done for them.
package ratelimit

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// Limiter gives each key a bucket of Burst tokens refilled at Rate a
// second; a full bucket is as good as none and is forgotten first. It is
// safe for concurrent use and holds at most Size buckets.
type Limiter struct {
	rate  float64 // tokens a second
	burst float64
	size  int

	mu sync.Mutex
	m  map[netip.Addr]*bucket
}

type bucket struct {
	tokens  float64
	at      time.Time // when tokens was last brought up to date
	refused int       // refusals since the last token taken
}

// New returns a Limiter of perSecond tokens a second and burst tokens per
// key, holding at most size keys (a flood of new addresses evicts the
// ones whose buckets are full, then arbitrary ones: a key forgotten gets
// a full bucket again, so an address can gain at most a burst by it).
func New(perSecond float64, burst, size int) *Limiter {
	return &Limiter{rate: perSecond, burst: float64(max(1, burst)), size: max(1, size), m: map[netip.Addr]*bucket{}}
}

// Allow takes a token from key's bucket at now and reports true, or, when
// the bucket has none, takes nothing and returns how long until it has
// one and how many times in a row (this one included) key was refused.
func (l *Limiter) Allow(key netip.Addr, now time.Time) (retry time.Duration, refused int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, found := l.m[key]
	if !found {
		if len(l.m) >= l.size {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.m[key] = b
	} else {
		b.tokens, b.at = l.level(b, now), now
	}
	if b.tokens < 1 {
		b.refused++
		if l.rate <= 0 {
			return time.Duration(math.MaxInt64), b.refused, false
		}
		return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), b.refused, false
	}
	b.tokens--
	b.refused = 0
	return 0, 0, true
}

// level is b's tokens at now.
func (l *Limiter) level(b *bucket, now time.Time) float64 {
	if el := now.Sub(b.at); el > 0 {
		return min(l.burst, b.tokens+el.Seconds()*l.rate)
	}
	return b.tokens
}

// evict drops the full buckets and, if that frees nothing, a sixteenth of
// the others (the map's order: arbitrary). l.mu is held. It scans only
// when the map is full, and then frees room for many: a flood of new
// addresses costs a scan per sixteenth of the map, not per address.
func (l *Limiter) evict(now time.Time) {
	for k, b := range l.m {
		if l.level(b, now) >= l.burst {
			delete(l.m, k)
		}
	}
	drop := len(l.m) - l.size + max(1, l.size/16)
	for k := range l.m {
		if drop <= 0 {
			break
		}
		delete(l.m, k)
		drop--
	}
}

// Len is the number of keys held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
