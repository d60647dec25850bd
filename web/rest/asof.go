package rest

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/callin-radio/callin/broadcast"
)

// Tying the API's lists to its event stream (issue 22, point 6): a
// snapshot of a show shows every broadcast update up to its Seq; the
// show's events mark, for each update they handle, the newest event id
// once it is handled, so a list can name the event it is as of (CallList's
// event_id) and "list, then stream from that id" misses nothing and gets
// nothing twice. The same marks let a PATCH of settings send one settings
// event however many settings it changed (holdSettings).

// settleWait bounds how long a list waits for the feed to bring the
// updates its snapshot already shows (normally microseconds).
const settleWait = 2 * time.Second

// marks is how many updates' marks are kept.
const marks = 256

// mark is the newest event id once update seq was handled.
type mark struct {
	seq uint64
	id  int64
}

// appliedLocked records that the updates up to seq are handled (the
// newest event id now is theirs) and wakes whoever waits; h.mu held.
func (h *events) appliedLocked(seq uint64) {
	if seq <= h.applied && h.nmarks > 0 {
		return // an update the snapshot at subscribing showed already
	}
	h.applied = seq
	h.marks[h.nmarks%marks] = mark{seq: seq, id: h.next - 1}
	h.nmarks++
	if h.moved != nil {
		close(h.moved)
		h.moved = nil
	}
}

// markFor is the newest event id once every update up to seq was
// handled; false when seq is older than the marks kept. h.mu held, and
// h.applied >= seq.
func (h *events) markFor(seq uint64) (int64, bool) {
	for i := h.nmarks - 1; i >= 0 && i >= h.nmarks-marks; i-- {
		if m := h.marks[i%marks]; m.seq <= seq {
			return m.id, true
		}
	}
	return 0, false
}

// asOf is the event id of a snapshot with Seq seq: the newest event of
// the updates it shows. It waits (settleWait at most) for the feed to
// bring them; false when it cannot tell (the feed is resubscribing, or seq
// is too old).
func (h *events) asOf(ctx context.Context, seq uint64) (int64, bool) {
	timeout := time.NewTimer(settleWait)
	defer timeout.Stop()
	for {
		h.mu.Lock()
		if h.applied >= seq {
			id, ok := h.markFor(seq)
			h.mu.Unlock()
			return id, ok
		}
		if h.moved == nil {
			h.moved = make(chan struct{})
		}
		moved := h.moved
		h.mu.Unlock()
		select {
		case <-moved:
		case <-ctx.Done():
			return 0, false
		case <-timeout.C:
			return 0, false
		}
	}
}

// eventID is the event id a snapshot of show key is as of, for a list's
// event_id: "" when it cannot be told (a resync under way, the feed
// resubscribing).
func (s *API) eventID(r *http.Request, key string, snap broadcast.Snapshot) string {
	ev := s.events[key]
	if ev == nil || snap.Resyncing {
		return ""
	}
	id, ok := ev.asOf(r.Context(), snap.Seq)
	if !ok {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// holdSettings holds the show's settings events back while a PATCH of
// settings changes them: releaseSettings sends one for all its changes.
func (h *events) holdSettings() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holding++
}

// releaseSettings ends holdSettings once the feed has brought the
// updates up to seq (the show's Seq after the changes), sending one
// settings event if the settings changed.
func (h *events) releaseSettings(ctx context.Context, seq uint64) {
	h.asOf(ctx, seq)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holding--
	if h.holding == 0 && h.owed {
		h.owed = false
		h.publishSettingsLocked()
	}
}
