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
	if r.down != nil {
		w.done <- waitResult{err: r.down}
		return w
	}
	if fate := r.gone[chanID]; chanID != "" && fate != 0 {
		switch {
		case typ != ari.TypeChannelDestroyed:
			w.done <- waitResult{err: errGone}
			return w
		case fate == destroyed:
			w.done <- waitResult{} // already destroyed
			return w
		}
	}
	r.byKey[w.key] = append(r.byKey[w.key], w)
	if chanID != "" {
		r.byChan[chanID] = append(r.byChan[chanID], w)
	}
	return w
}

// cancel removes w if it is still registered.
func (r *registry) cancel(w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.remove(w)
}

func (r *registry) remove(w *waiter) {
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

// resolve hands w its result and unregisters it.
func (r *registry) resolve(w *waiter, res waitResult) {
	r.remove(w)
	w.done <- res
}

// deliver wakes the waiters ev satisfies, and the waiters of a channel that
// left Stasis or was destroyed.
func (r *registry) deliver(ev ari.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
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
	defer r.mu.Unlock()
	r.down = err
	for _, ws := range r.byKey {
		for _, w := range ws {
			w.done <- waitResult{err: err}
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
