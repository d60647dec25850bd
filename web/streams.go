package web

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Errors of the stream registry; errorTable maps them to 429 and 503.
var (
	errTooManyStreams = errors.New("too many event streams")
	errStreamsFull    = errors.New("the service has all the event streams it takes")
	// errLoggedOut ends the streams of a session that logged out.
	errLoggedOut = errors.New("the session logged out")
	// errCredentialsGone ends a stream whose session or token is no
	// longer valid (revoked, expired, ended elsewhere, role changed).
	errCredentialsGone = errors.New("the session or token is no longer valid")
)

// streamSet counts the open event streams, in all and per credential
// (auth.Principal.Key), and can end every stream of one credential.
type streamSet struct {
	max, perKey int

	mu    sync.Mutex
	total int
	byKey map[string]map[*stream]struct{}
}

// stream is one open event stream: cancel ends its context with a cause.
type stream struct {
	cancel context.CancelCauseFunc
}

func newStreamSet(l Limits) *streamSet {
	return &streamSet{max: l.MaxStreams, perKey: l.StreamsPerCredential, byKey: map[string]map[*stream]struct{}{}}
}

// open registers a stream of credential key whose context cancel ends;
// release unregisters it. Errors wrap errTooManyStreams (the credential
// has its share) or errStreamsFull (the service has).
func (ss *streamSet) open(key string, cancel context.CancelCauseFunc) (release func(), err error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	mine := ss.byKey[key]
	if len(mine) >= ss.perKey {
		return nil, fmt.Errorf("web: %d event streams already open with these credentials: %w", len(mine), errTooManyStreams)
	}
	if ss.total >= ss.max {
		return nil, fmt.Errorf("web: %d event streams open: %w", ss.total, errStreamsFull)
	}
	if mine == nil {
		mine = map[*stream]struct{}{}
		ss.byKey[key] = mine
	}
	st := &stream{cancel: cancel}
	mine[st] = struct{}{}
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

// count returns the open streams, in all and of key.
func (ss *streamSet) count(key string) (total, mine int) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.total, len(ss.byKey[key])
}
