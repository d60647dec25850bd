package auth

import (
	"sync"
	"time"
)

// DefaultOutageGrace is how long a credential checked against the database
// stays usable while the database cannot be reached.
const DefaultOutageGrace = 15 * time.Minute

// maxRemembered bounds the credentials remembered for an outage.
const maxRemembered = 4096

// outageCache remembers the principals of credentials the database
// recently confirmed, keyed by the credential's SHA-256, so that producers
// can go on running the show while PostgreSQL is down: calls never depend
// on the database, and neither should putting them on air. It is consulted
// only when the store fails (not when it says no), and only for credentials
// confirmed within the grace period; a logout, an expiry or a revocation the
// database reports removes the entry. Revocations made while the database
// is down cannot be made, so none are missed.
type outageCache struct {
	grace time.Duration
	mu    sync.Mutex
	m     map[[32]byte]remembered
}

type remembered struct {
	p  Principal
	at time.Time // when the database last confirmed it
}

func newOutageCache(grace time.Duration) *outageCache {
	return &outageCache{grace: grace, m: map[[32]byte]remembered{}}
}

// confirm remembers that the database accepted the credential at now.
func (c *outageCache) confirm(key []byte, p Principal, now time.Time) {
	if c.grace <= 0 {
		return
	}
	k := [32]byte(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= maxRemembered {
		// Full: forget the entry confirmed longest ago.
		var oldest [32]byte
		var at time.Time
		for key, r := range c.m {
			if at.IsZero() || r.at.Before(at) {
				oldest, at = key, r.at
			}
		}
		delete(c.m, oldest)
	}
	c.m[k] = remembered{p: p, at: now}
}

// forget drops a credential the database refused or that was logged out.
func (c *outageCache) forget(key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, [32]byte(key))
}

// recall returns the principal of a credential confirmed within the grace
// period before now.
func (c *outageCache) recall(key []byte, now time.Time) (Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[[32]byte(key)]
	if !ok || now.Sub(r.at) > c.grace {
		return Principal{}, false
	}
	return r.p, true
}
