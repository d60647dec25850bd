package console

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/shared"
	"github.com/go-chi/chi/v5"
)

// goneLog keeps the last transition of the show's recently ended calls, as
// the console's feed saw them, so the loser of a race is told what
// happened and who did it ("Sam dropped James a moment ago") rather than
// "the caller has hung up" (issue 23, point 2).
type goneLog struct {
	mu    sync.Mutex
	last  map[string]queue.Transition // by call id
	order []string                    // oldest first, at most goneKept
	seen  chan struct{}               // closed and replaced at each record
}

// goneKept is how many ended calls the log remembers.
const goneKept = 256

func newGoneLog() *goneLog {
	return &goneLog{last: map[string]queue.Transition{}, seen: make(chan struct{})}
}

// record keeps the ends among ts.
func (g *goneLog) record(ts []queue.Transition) {
	if len(ts) == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range ts {
		if t.To != queue.StateEnded || t.Action == queue.ActionCause {
			continue
		}
		if _, ok := g.last[t.CallID]; !ok {
			g.order = append(g.order, t.CallID)
		}
		g.last[t.CallID] = t
		if len(g.order) > goneKept {
			delete(g.last, g.order[0])
			g.order = g.order[1:]
		}
	}
	close(g.seen)
	g.seen = make(chan struct{})
}

// end returns a call's end, waiting up to wait for the feed to bring it
// (the action that lost the race may answer before the winner's update
// reaches this console).
func (g *goneLog) end(ctx context.Context, callID string, wait time.Duration) (queue.Transition, bool) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		g.mu.Lock()
		t, ok := g.last[callID]
		seen := g.seen
		g.mu.Unlock()
		if ok {
			return t, true
		}
		select {
		case <-seen:
		case <-timer.C:
			return queue.Transition{}, false
		case <-ctx.Done():
			return queue.Transition{}, false
		}
	}
}

// endVerbs are the words of the actions that end a call by a person.
var endVerbs = map[string]string{
	queue.ActionDrop: "dropped",
}

// goneWords says how a call ended and who ended it, in words, at now:
// "Sam dropped James a moment ago", "James hung up a moment ago".
func goneWords(t queue.Transition, now time.Time) string {
	who := shared.Printable(t.Name)
	if t.Notes != nil && t.Notes.Name != "" {
		who = shared.Printable(t.Notes.Name)
	}
	if who == "" {
		who = shared.Printable(t.Number)
	}
	when := "a moment ago"
	if d := now.Sub(t.At); d >= time.Minute {
		when = "at " + t.At.Local().Format("15:04")
	}
	if verb, ok := endVerbs[t.Action]; ok && t.Actor.Name != "" {
		return shared.Printable(t.Actor.Name) + " " + verb + " " + who + " " + when
	}
	switch t.Action {
	case queue.ActionHangup, queue.ActionCallbackRequest:
		return who + " hung up " + when
	}
	return who + "'s call ended " + when
}

// goneWait is how long a lost race waits for the winner's update.
const goneWait = 500 * time.Millisecond

// explainGone turns "the caller is gone" into how they went and who did
// it, when this console's feed saw the end; other errors pass as they are.
func (s *Console) explainGone(r *http.Request, err error) error {
	if !errors.Is(err, queue.ErrGone) && !errors.Is(err, queue.ErrNotFound) {
		return err
	}
	h, herr := s.Hub(r)
	if herr != nil || s.shows[h.Key] == nil {
		return err
	}
	t, ok := s.shows[h.Key].gone.end(r.Context(), chi.URLParam(r, "call"), goneWait)
	if !ok {
		return err
	}
	return &shared.Explained{Why: goneWords(t, s.Cfg.Now()), Err: err}
}
