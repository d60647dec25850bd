package core

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/web/shared"
)

// ScreenerWho is how a screener is named in these words: their user name,
// its first letter up ("sam" → "Sam").
func ScreenerWho(name string) string {
	name = shared.Printable(name)
	r, n := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "The screener"
	}
	return string(unicode.ToUpper(r)) + name[n:]
}

// ScreenedWho is how the caller is named: their name when rung, else
// their number.
func ScreenedWho(sc broadcast.Screening) string {
	if sc.Caller != "" {
		return shared.Printable(sc.Caller)
	}
	if sc.Number != "" {
		return shared.Printable(sc.Number)
	}
	return "The caller"
}

// RingFor says a ring's length in whole seconds, at least 1.
func RingFor(d time.Duration) string {
	return fmt.Sprintf("%d s", max(int64((d+time.Second/2)/time.Second), 1))
}

// ScreeningWords says where a screening on a phone is, as news for the
// producer: "Sam's phone is busy — James is still on hold".
func ScreeningWords(sc broadcast.Screening) string {
	phone, who := ScreenerWho(sc.Screener)+"'s phone", ScreenedWho(sc)
	still := " — " + who + " is still on hold"
	switch sc.State {
	case broadcast.ScreenRinging:
		return "Ringing " + phone + " for " + who + " — " + who + " stays on hold until it is answered"
	case broadcast.ScreenAnswered:
		return ScreenerWho(sc.Screener) + " answered and is screening " + who
	case broadcast.ScreenBusy:
		return phone + " is busy" + still
	case broadcast.ScreenUnavailable:
		return phone + " is unavailable" + still
	case broadcast.ScreenNoAnswer:
		return "No answer from " + phone + " after " + RingFor(sc.Rang) + still
	case broadcast.ScreenUnreachable:
		return phone + " cannot be reached" + still
	case broadcast.ScreenRefused:
		return phone + " turned the call down" + still
	case broadcast.ScreenCallerGone:
		return who + " hung up while " + phone + " was ringing"
	}
	return "Could not put " + who + " through to " + phone + still
}
