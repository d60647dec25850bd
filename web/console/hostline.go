package console

import "github.com/callin-radio/callin/broadcast"

// hostTimerTitle says what a host line's timer counts.
func hostTimerTitle(h broadcast.HostLine) string {
	if h.State == broadcast.HostRinging {
		return "ringing since"
	}
	return "time on air"
}

// hostLines reports whether the show has a host line, ringing or on air.
func (v showView) hostLines() bool {
	return len(v.Snap.Media.HostLines) > 0 || len(v.Snap.Media.Hosts) > 0
}
