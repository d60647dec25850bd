package console

import (
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// Line is the line a console shows of snap, listing at most rows waiting
// callers (0: all): up next, the waiting listed and how many more, for the
// browser tests of package console_test.
func Line(snap broadcast.Snapshot, rows int) (next, waiting []queue.Call, more int) {
	v := showView{Snap: snap, WaitingRows: rows}
	next, waiting = v.line()
	waiting, more = v.waitingShown(waiting)
	return next, waiting, more
}
