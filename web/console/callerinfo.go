package console

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
)

// callerInfoLimit is how many callers' profiles and notes a show caches
// before the cache is cleared.
const callerInfoLimit = 20_000

// callerInfo is what a show's consoles know of the callers they list: each
// number's history profile and its caller notes, fetched once, one number
// at a time, as views ask for them. It is safe for concurrent use.
type callerInfo struct {
	history core.History     // nil: no profiles
	notes   core.CallerNotes // nil: no caller notes
	show    string
	log     *slog.Logger

	want chan string // caller IDs to fetch

	mu       sync.Mutex
	profiles map[string]*queue.Profile     // by caller ID; nil value: fetch in progress
	notesBy  map[string]*queue.CallerNotes // by normalised number
	again    map[string]bool               // caller IDs changed while their fetch was out: fetch again
}

func newCallerInfo(history core.History, notes core.CallerNotes, show string, log *slog.Logger) *callerInfo {
	return &callerInfo{history: history, notes: notes, show: show, log: log, want: make(chan string, 1024),
		profiles: map[string]*queue.Profile{}, notesBy: map[string]*queue.CallerNotes{}, again: map[string]bool{}}
}

// on reports whether there is anything to fetch at all.
func (ci *callerInfo) on() bool { return ci.history != nil || ci.notes != nil }

// fill puts what is known of calls' callers into v, and asks for the
// rest (fetched in the background: run).
func (ci *callerInfo) fill(v *showView, groups ...[]queue.Call) {
	if !ci.on() {
		return
	}
	ci.mu.Lock()
	defer ci.mu.Unlock()
	if len(ci.profiles) > callerInfoLimit {
		clear(ci.profiles)
		clear(ci.notesBy)
		clear(ci.again)
	}
	for _, calls := range groups {
		for _, c := range calls {
			p, seen := ci.profiles[c.Number]
			switch {
			case p != nil:
				if ci.history != nil {
					v.Profiles[c.Number] = *p
				}
				if n := ci.notesBy[queue.NormalizeNumber(c.Number)]; n != nil && !n.Empty() {
					v.Notes[c.Number] = *n
				}
			case !seen:
				select {
				case ci.want <- c.Number:
					ci.profiles[c.Number] = nil
				default: // asked again at the next render
				}
			}
		}
	}
}

// run fetches what fill asks for, one caller at a time, and calls fetched
// after each, until ctx ends.
func (ci *callerInfo) run(ctx context.Context, fetched func()) {
	for {
		var number string
		select {
		case <-ctx.Done():
			return
		case number = <-ci.want:
		}
		// A slow database must not hold the others back for long; a
		// failed fetch is retried at a later render.
		fctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		p, n, err := ci.fetch(fctx, number)
		cancel()
		ci.mu.Lock()
		if err != nil {
			delete(ci.profiles, number)
		} else {
			ci.profiles[number] = &p
			if n.Number != "" {
				ci.notesBy[n.Number] = &n
			}
		}
		if ci.again[number] { // it changed while this fetch was out
			delete(ci.again, number)
			ci.refetch(number)
		}
		ci.mu.Unlock()
		if err != nil {
			ci.log.Warn("web: caller profile", "show", ci.show, "err", err)
			continue
		}
		fetched()
	}
}

// fetch reads one caller's profile and notes.
func (ci *callerInfo) fetch(ctx context.Context, number string) (queue.Profile, queue.CallerNotes, error) {
	var p queue.Profile
	var n queue.CallerNotes
	var err error
	if ci.history != nil {
		if p, err = ci.history.CallerProfile(ctx, number); err != nil {
			return p, n, err
		}
	}
	if key := queue.NormalizeNumber(number); ci.notes != nil && key != "" {
		n, err = ci.notes.CallerNotes(ctx, key)
	}
	return p, n, err
}

// forget has what is cached of a number fetched again (after a block, an
// unblock or new notes): every caller ID that normalises to it. Until the
// new one is in, the rows show what was known, so that nothing on the page
// shrinks and grows back under a producer's pointer.
func (ci *callerInfo) forget(number string) {
	key := queue.NormalizeNumber(number)
	ci.mu.Lock()
	defer ci.mu.Unlock()
	for k, p := range ci.profiles {
		switch {
		case k != number && queue.NormalizeNumber(k) != key:
		case p == nil: // its fetch is out, and may have read the old profile
			ci.again[k] = true
		default:
			ci.refetch(k)
		}
	}
}

// refetch asks for a caller ID to be fetched again, keeping what is known
// meanwhile; with the queue full it is forgotten instead (fetched at a
// later render). Callers hold ci.mu.
func (ci *callerInfo) refetch(callerID string) {
	select {
	case ci.want <- callerID: // what is known stays, shown until the new one is in
	default:
		delete(ci.profiles, callerID)
		delete(ci.notesBy, queue.NormalizeNumber(callerID))
	}
}
