package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// Errors that end event streams (shared.ErrTooManyStreams and
// shared.ErrStreamsFull refuse them).
var (
	// ErrLoggedOut ends the streams of a session that logged out.
	ErrLoggedOut = errors.New("the session logged out")
	// errCredentialsGone ends a stream whose session or token is no
	// longer valid (revoked, expired, ended elsewhere, role changed).
	errCredentialsGone = errors.New("the session or token is no longer valid")
)

// streamSet counts the open event streams, in all and per holder (a user,
// all their sessions together, or an API token: holderOf), and can end
// every stream of one credential (auth.Principal.Key: a session, a token).
//
// A holder gets at most perHolder streams (429 beyond); the service at
// most max (503 beyond), of which the last reserved are only for admins
// and producers: 252 sessions of one host hold no more than one host's
// share, and the producer's console and the automation's stream find
// room when hosts and screeners have taken all theirs.
type streamSet struct {
	max, reserved, perHolder int

	mu       sync.Mutex
	total    int
	byHolder map[string]int
	byKey    map[string]map[*stream]struct{}
}

// stream is one open event stream: cancel ends its context with a cause.
type stream struct {
	cancel context.CancelCauseFunc
}

func newStreamSet(l Limits) *streamSet {
	per := min(l.PerUser, max(1, int(l.Share*float64(l.Max))))
	return &streamSet{max: l.Max, reserved: l.Reserved, perHolder: per,
		byHolder: map[string]int{}, byKey: map[string]map[*stream]struct{}{}}
}

// holderOf is who a stream's count goes to: the user (by name: names are
// unique, and a session's principal names its user) or the token.
func holderOf(p auth.Principal) string { return string(p.Kind) + ":" + p.Name }

// privileged reports whether p's streams may use the reserved slots.
func privileged(p auth.Principal) bool {
	return p.Role == auth.RoleAdmin || p.Role == auth.RoleProducer
}

// open registers a stream of p whose context cancel ends; release
// unregisters it. Errors wrap errTooManyStreams (the holder has its
// share) or errStreamsFull (the service has, or all but the reserve).
func (ss *streamSet) open(p auth.Principal, cancel context.CancelCauseFunc) (release func(), err error) {
	holder, key := holderOf(p), p.Key
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if n := ss.byHolder[holder]; n >= ss.perHolder {
		return nil, fmt.Errorf("web: %d event streams already open for %s: %w", n, p.Name, shared.ErrTooManyStreams)
	}
	if ss.total >= ss.max || (!privileged(p) && ss.total >= ss.max-ss.reserved) {
		return nil, fmt.Errorf("web: %d event streams open: %w", ss.total, shared.ErrStreamsFull)
	}
	mine := ss.byKey[key]
	if mine == nil {
		mine = map[*stream]struct{}{}
		ss.byKey[key] = mine
	}
	st := &stream{cancel: cancel}
	mine[st] = struct{}{}
	ss.byHolder[holder]++
	ss.total++
	var once sync.Once
	return func() {
		once.Do(func() {
			ss.mu.Lock()
			defer ss.mu.Unlock()
			delete(mine, st)
			if len(mine) == 0 && ss.byKey[key] != nil && len(ss.byKey[key]) == 0 {
				delete(ss.byKey, key)
			}
			if ss.byHolder[holder]--; ss.byHolder[holder] <= 0 {
				delete(ss.byHolder, holder)
			}
			ss.total--
		})
	}, nil
}

// end ends every stream of credential key with why.
func (ss *streamSet) end(key string, why error) int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for st := range ss.byKey[key] {
		st.cancel(why)
	}
	return len(ss.byKey[key])
}

// count returns the open streams, in all and of holder (holderOf).
func (ss *streamSet) count(holder string) (total, theirs int) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.total, ss.byHolder[holder]
}
