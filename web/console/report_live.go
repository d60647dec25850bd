package console

import (
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
)

// liveReport is what a show's report takes from the show now: its title
// (else its key) and the calls in line now (waiting, screening or ready),
// by id, whose wait so far the report counts as the console does (issue
// 23, point 9: the report's longest wait left them out).
func liveReport(shows core.Shows, key string) (string, map[string]bool) {
	snap, err := shows.Snapshot(key)
	if err != nil {
		return key, nil
	}
	live := map[string]bool{}
	for _, group := range [][]queue.Call{snap.Lineup.Waiting, snap.Lineup.Screening, snap.Lineup.Ready} {
		for _, c := range group {
			live[c.ID] = true
		}
	}
	title := snap.Settings.Title
	if title == "" {
		title = key
	}
	return title, live
}
