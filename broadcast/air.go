package broadcast

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/callin-radio/callin/queue"
)

// Show-wide actions on the on-air bridge, as broadcast phone systems have
// them: hold all, drop all, and a Take next that first clears the air.
// Locked callers stay on air through all of them (CONSOLE.md: "Hold and
// Drop never touch a locked line").

// Ways to clear the air (ShowConfig.NextClears, ClearAir).
const (
	ClearHold = queue.ActionHold // back on hold, at their place in line
	ClearDrop = queue.ActionDrop // hung up
)

// AirCleared says what clearing the air did.
type AirCleared struct {
	Cleared []queue.Call // held or dropped, as they were just before
	Locked  []queue.Call // locked: still on air
}

// ClearAir puts every unlocked caller on air back on hold (how ClearHold)
// or drops them (ClearDrop, with opts), all at once. A caller who leaves
// meanwhile is neither cleared nor an error; one locked meanwhile stays on
// air. Errors: queue.ErrNotFound (no such show), queue.ErrInvalid (how);
// ErrNodeDown; the errors of Hold and Drop for callers that could not be
// cleared (the others are cleared all the same, and reported).
func (a *App) ClearAir(ctx context.Context, showKey string, actor queue.Actor, how string, opts DropOptions) (AirCleared, error) {
	s, err := a.show(showKey)
	if err != nil {
		return AirCleared{}, err
	}
	if how != ClearHold && how != ClearDrop {
		return AirCleared{}, fmt.Errorf("broadcast: clear the air by %q: want hold or drop: %w", how, queue.ErrInvalid)
	}
	if err := s.studio().ready(); err != nil {
		return AirCleared{}, err
	}
	s.mu.Lock()
	onAir := s.q.List().OnAir
	s.mu.Unlock()
	var (
		out  AirCleared
		errs []error
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	for _, c := range onAir {
		if c.Locked {
			out.Locked = append(out.Locked, c)
			continue
		}
		wg.Go(func() {
			var err error
			if how == ClearHold {
				_, err = a.Hold(ctx, showKey, c.ID, actor)
			} else {
				_, err = a.Drop(ctx, showKey, c.ID, actor, opts)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				out.Cleared = append(out.Cleared, c)
			case errors.Is(err, queue.ErrLocked):
				out.Locked = append(out.Locked, c)
			case errors.Is(err, queue.ErrGone), errors.Is(err, queue.ErrNotFound), errors.Is(err, queue.ErrConflict) && !errors.Is(err, queue.ErrBusy):
				// Left, or no longer on air: not ours to clear.
			default:
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// takeNextClearing is TakeNext for a show whose Take next clears the air
// first (ShowConfig.NextClears): when somebody is in line to take, the
// unlocked callers on air are held or dropped, then the one who was next
// is put on air (not a held caller, who is back at the front of the line).
// With nobody to take, nothing changes (queue.ErrNotFound).
func (a *App) takeNextClearing(ctx context.Context, s *show, actor queue.Actor) (queue.Call, error) {
	s.mu.Lock()
	next, ok := s.q.Next()
	s.mu.Unlock()
	if !ok {
		return queue.Call{}, fmt.Errorf("broadcast: take next: nobody free and unblocked in line: %w", queue.ErrNotFound)
	}
	if _, err := a.ClearAir(ctx, s.key, actor, s.cfg.NextClears, DropOptions{Reason: "take next"}); err != nil {
		s.studio().log.Warn("broadcast: take next could not clear the air", "show", s.key, "err", err)
	}
	return a.act(ctx, s.key, func(q *queue.Show) (queue.Ticket, error) { return q.TakeNextOf(actor, next.ID) }, (*show).onAir)
}
