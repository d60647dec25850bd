package broadcast

import "github.com/callin-radio/callin/queue"

// SetBlocked flags (or, with blocked false, unflags) the live callers of
// every show whose number is number's, compared as queue.NormalizeNumber
// keys them: a flagged caller stays where it is, the console shows it
// blocked, and TakeNext passes it by (a producer may still promote it by
// name). Each change is a transition (queue.ActionBlock or ActionUnblock)
// by actor, recorded and published like any other. Callers who arrive
// later are turned away by Config.Blocklist, which whoever blocks keeps
// up to date. It returns how many callers it changed.
func (a *App) SetBlocked(number string, blocked bool, note string, actor queue.Actor) int {
	changed := 0
	for _, s := range a.shows {
		s.mu.Lock()
		calls, ts := s.q.SetBlocked(a.cfg.Now(), actor, number, blocked, note)
		s.publish(ts)
		s.mu.Unlock()
		changed += len(calls)
	}
	return changed
}
