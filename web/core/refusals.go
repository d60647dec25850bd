package core

import (
	"log/slog"
	"sync"
	"time"
)

// refusalEvery is the most often a kind of refusal is logged: a flood
// of refused streams or hosts fills no log, the count of those not
// logged is in the next line.
const refusalEvery = 10 * time.Second

// limitedLog logs a line per message at most every refusalEvery, at
// warning level, counting the ones it leaves out. It reads the wall
// clock, not Config.Now: it paces the log, which is in real time.
type limitedLog struct {
	mu   sync.Mutex
	last map[string]time.Time
	left map[string]int
}

func (l *limitedLog) Log(log *slog.Logger, msg string, args ...any) {
	now := time.Now()
	l.mu.Lock()
	if l.last == nil {
		l.last, l.left = map[string]time.Time{}, map[string]int{}
	}
	if now.Sub(l.last[msg]) < refusalEvery {
		l.left[msg]++
		l.mu.Unlock()
		return
	}
	left := l.left[msg]
	l.last[msg], l.left[msg] = now, 0
	l.mu.Unlock()
	if left > 0 {
		args = append(args, "not_logged_since_last", left)
	}
	log.Warn(msg, args...)
}
