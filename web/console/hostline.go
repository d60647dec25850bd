package console

import "github.com/callin-radio/callin/broadcast"

// hostTimerTitle says what a host line's timer counts.
func hostTimerTitle(h broadcast.HostLine) string {
	if h.State == broadcast.HostRinging {
		return "ringing since"
	}
	return "time on air"
}

// hostLines reports whether the show has a host line, ringing or on air
// (a failed one is no line: Call host comes back beside it).
func (v showView) hostLines() bool {
	for _, h := range v.Snap.Media.HostLines {
		if h.State != broadcast.HostFailed {
			return true
		}
	}
	return len(v.Snap.Media.Hosts) > 0
}
