package broadcast

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/callin-radio/callin/ari"
)

// waitKey names what a waiter waits for: an event type and the channel,
// playback or recording id it is about.
type waitKey struct {
	typ string
	id  string
}

// waiter is one registered interest. Its channel has room for the one
// result it will ever get, so delivering never blocks.
type waiter struct {
	key    waitKey
	chanID string // the channel whose leaving Stasis ends the wait; "" for none
	match  func(ari.Event) bool
	done   chan waitResult

	// For expectFunc: fn gets the result instead of a goroutine blocked
	// on done; timer ends the wait. live says it is still registered.
	// Guarded by the registry's mu.
	fn    func(ari.Event, error)
	timer *time.Timer
	live  bool
}

type waitResult struct {
	ev  ari.Event
	err error
}

// goneMemory is how many channels that left Stasis the registry remembers,
// so a waiter registered just after the fact fails at once.
const goneMemory = 4096

// Channel fates remembered by the registry.
const (
	leftStasis = 1
	destroyed  = 2
)

// registry is a node's waiter registry: "subscribe first, then act".
type registry struct {
	mu     sync.Mutex
	byKey  map[waitKey][]*waiter
	byChan map[string][]*waiter
	down   error // set while the node is disconnected: new waiters fail at once

	gone    map[string]int // channel id -> leftStasis or destroyed
	goneQ   []string
	goneIdx int

	fired []*waiter // expectFunc waiters resolved under mu, whose fn runs after it
}

func newRegistry() *registry {
	return &registry{byKey: map[waitKey][]*waiter{}, byChan: map[string][]*waiter{}, gone: map[string]int{}}
}

// expect registers interest in the next event of type typ about id that
// match accepts (nil: any). With chanID set, the channel leaving Stasis (or,
// for ChannelDestroyed waiters, being destroyed) ends the wait. Call it
// before sending the request, and cancel the waiter when done.
func (r *registry) expect(typ, id, chanID string, match func(ari.Event) bool) *waiter {
	w := &waiter{key: waitKey{typ, id}, chanID: chanID, match: match, done: make(chan waitResult, 1)}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(w)
	return w
}

// expectFunc is expect for a wait nobody blocks on (so no worker is held
// while Asterisk's event is on its way): fn gets the event, or the error
// that ended the wait (the channel gone, the node down, ErrTimeout after
// timeout), exactly once, unless cancel removes the waiter first. fn runs
// with no lock held, on the event reader (or a timer, or at once when the
// wait is over before it began): it must not block.
func (r *registry) expectFunc(typ, id, chanID string, match func(ari.Event) bool, timeout time.Duration,
	fn func(ari.Event, error)) *waiter {
	w := &waiter{key: waitKey{typ, id}, chanID: chanID, match: match, done: make(chan waitResult, 1), fn: fn}
	r.mu.Lock()
	if r.add(w) {
		w.timer = time.AfterFunc(timeout, func() {
			r.mu.Lock()
			if w.live {
				r.resolve(w, waitResult{err: fmt.Errorf("%w: no %s for %s after %v", ErrTimeout, typ, id, timeout)})
			}
			r.unlockAndFire()
		})
	} else {
		r.fired = append(r.fired, w)
	}
	r.unlockAndFire()
	return w
}

// unlockAndFire releases mu and runs the fn of the expectFunc waiters
// resolved meanwhile, outside the lock (the lock order puts the registry's
// last: fn may take a show's lock).
func (r *registry) unlockAndFire() {
	fired := r.fired
	r.fired = nil
	r.mu.Unlock()
	for _, w := range fired {
		res := <-w.done
		w.fn(res.ev, res.err)
	}
}

// add registers w, unless its wait is over already (the node down, the
// channel gone): then w has its result and add returns false. Callers hold
// r.mu.
func (r *registry) add(w *waiter) bool {
	if r.down != nil {
		w.done <- waitResult{err: r.down}
		return false
	}
	if fate := r.gone[w.chanID]; w.chanID != "" && fate != 0 {
		switch {
		case w.key.typ != ari.TypeChannelDestroyed:
			w.done <- waitResult{err: errGone}
			return false
		case fate == destroyed:
			w.done <- waitResult{} // already destroyed
			return false
		}
	}
	w.live = true
	r.byKey[w.key] = append(r.byKey[w.key], w)
	if w.chanID != "" {
		r.byChan[w.chanID] = append(r.byChan[w.chanID], w)
	}
	return true
}

// cancel removes w if it is still registered, and says whether it was: an
// expectFunc waiter cancelled in time never calls its fn.
func (r *registry) cancel(w *waiter) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	live := w.live
	r.remove(w)
	return live
}

func (r *registry) remove(w *waiter) {
	w.live = false
	if w.timer != nil {
		w.timer.Stop()
	}
	r.byKey[w.key] = without(r.byKey[w.key], w)
	if len(r.byKey[w.key]) == 0 {
		delete(r.byKey, w.key)
	}
	if w.chanID != "" {
		r.byChan[w.chanID] = without(r.byChan[w.chanID], w)
		if len(r.byChan[w.chanID]) == 0 {
			delete(r.byChan, w.chanID)
		}
	}
}

func without(ws []*waiter, w *waiter) []*waiter {
	for i, x := range ws {
		if x == w {
			return append(ws[:i:i], ws[i+1:]...)
		}
	}
	return ws
}

// resolve hands w its result and unregisters it. Callers hold r.mu and
// release it with unlockAndFire.
func (r *registry) resolve(w *waiter, res waitResult) {
	r.remove(w)
	w.done <- res
	if w.fn != nil {
		r.fired = append(r.fired, w)
	}
}

// deliver wakes the waiters ev satisfies, and the waiters of a channel that
// left Stasis or was destroyed.
func (r *registry) deliver(ev ari.Event) {
	r.mu.Lock()
	defer r.unlockAndFire()
	typ := ev.EventType()
	for _, id := range eventIDs(ev) {
		if id == "" {
			continue
		}
		for _, w := range r.byKey[waitKey{typ, id}] {
			if w.match == nil || w.match(ev) {
				r.resolve(w, waitResult{ev: ev})
			}
		}
	}
	switch e := ev.(type) {
	case *ari.StasisEnd:
		r.markGone(e.Channel.ID, leftStasis)
	case *ari.ChannelDestroyed:
		r.markGone(e.Channel.ID, destroyed)
	}
}

func eventIDs(ev ari.Event) [2]string {
	switch e := ev.(type) {
	case *ari.PlaybackStarted, *ari.PlaybackFinished:
		return [2]string{ari.PlaybackID(e)}
	case *ari.RecordingStarted:
		return [2]string{e.Recording.Name}
	case *ari.RecordingFinished:
		return [2]string{e.Recording.Name}
	case *ari.RecordingFailed:
		return [2]string{e.Recording.Name}
	}
	return [2]string{ari.ChannelID(ev)}
}

// markGone records a channel's fate and fails the waiters it ends. Callers
// hold r.mu.
func (r *registry) markGone(chanID string, fate int) {
	if r.gone[chanID] == 0 {
		if len(r.goneQ) < goneMemory {
			r.goneQ = append(r.goneQ, chanID)
		} else {
			delete(r.gone, r.goneQ[r.goneIdx])
			r.goneQ[r.goneIdx] = chanID
			r.goneIdx = (r.goneIdx + 1) % goneMemory
		}
	}
	r.gone[chanID] = max(r.gone[chanID], fate)
	for _, w := range append([]*waiter(nil), r.byChan[chanID]...) {
		switch {
		case w.key.typ != ari.TypeChannelDestroyed:
			r.resolve(w, waitResult{err: errGone})
		case fate == destroyed:
			r.resolve(w, waitResult{}) // the destroyed event itself was delivered above
		}
	}
}

// setDown fails every waiter with err and makes new ones fail at once, until
// setUp: events sent while disconnected are lost, so nobody would wake them.
func (r *registry) setDown(err error) {
	r.mu.Lock()
	defer r.unlockAndFire()
	r.down = err
	for _, ws := range r.byKey {
		for _, w := range ws {
			w.live = false
			if w.timer != nil {
				w.timer.Stop()
			}
			w.done <- waitResult{err: err}
			if w.fn != nil {
				r.fired = append(r.fired, w)
			}
		}
	}
	r.byKey = map[waitKey][]*waiter{}
	r.byChan = map[string][]*waiter{}
}

func (r *registry) setUp() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = nil
}

// wait waits for w's event, ctx or timeout, and unregisters w.
func (r *registry) wait(ctx context.Context, w *waiter, timeout time.Duration) (ari.Event, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case res := <-w.done:
		return res.ev, res.err
	case <-ctx.Done():
		r.cancel(w)
		return nil, ctx.Err()
	case <-t.C:
		r.cancel(w)
		return nil, fmt.Errorf("%w: no %s for %s after %v", ErrTimeout, w.key.typ, w.key.id, timeout)
	}
}
