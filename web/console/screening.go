package console

import (
	"fmt"
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/api/from"
	"github.com/callin-radio/callin/web/shared"
	"github.com/go-chi/chi/v5"
)

// A screening on a screener's phone, in a producer's words: Screen answers
// while the phone rings (202 on the API), and the console's row and the
// API's `screening` event say how it went. The words are made here alone.

// screenerWho is how a screener is named in these words: their user name,
// its first letter up ("sam" → "Sam").
func screenerWho(name string) string {
	name = shared.Printable(name)
	r, n := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "The screener"
	}
	return string(unicode.ToUpper(r)) + name[n:]
}

// screenedWho is how the caller is named: their name when rung, else
// their number.
func screenedWho(sc broadcast.Screening) string {
	if sc.Caller != "" {
		return shared.Printable(sc.Caller)
	}
	if sc.Number != "" {
		return shared.Printable(sc.Number)
	}
	return "The caller"
}

// ringFor says a ring's length in whole seconds, at least 1.
func ringFor(d time.Duration) string {
	return fmt.Sprintf("%d s", max(int64((d+time.Second/2)/time.Second), 1))
}

// screeningWords says where a screening on a phone is, as news for the
// producer: "Sam's phone is busy — James is still on hold".
func screeningWords(sc broadcast.Screening) string {
	phone, who := screenerWho(sc.Screener)+"'s phone", screenedWho(sc)
	still := " — " + who + " is still on hold"
	switch sc.State {
	case broadcast.ScreenRinging:
		return "Ringing " + phone + " for " + who + " — " + who + " stays on hold until it is answered"
	case broadcast.ScreenAnswered:
		return screenerWho(sc.Screener) + " answered and is screening " + who
	case broadcast.ScreenBusy:
		return phone + " is busy" + still
	case broadcast.ScreenUnavailable:
		return phone + " is unavailable" + still
	case broadcast.ScreenNoAnswer:
		return "No answer from " + phone + " after " + ringFor(sc.Rang) + still
	case broadcast.ScreenUnreachable:
		return phone + " cannot be reached" + still
	case broadcast.ScreenRefused:
		return phone + " turned the call down" + still
	case broadcast.ScreenCallerGone:
		return who + " hung up while " + phone + " was ringing"
	}
	return "Could not put " + who + " through to " + phone + still
}

// screeningNote is the same news on the caller's own row, which shows
// them on hold already: past tense, as it stays until the caller moves on.
// "" when there is none.
func screeningNote(v showView, c queue.Call) string {
	sc, ok := v.Snap.Screenings[c.ID]
	if !ok || !sc.OnHold() {
		return ""
	}
	phone := screenerWho(sc.Screener) + "'s phone"
	switch sc.State {
	case broadcast.ScreenBusy:
		return phone + " was busy"
	case broadcast.ScreenUnavailable:
		return phone + " was unavailable"
	case broadcast.ScreenNoAnswer:
		return "No answer from " + phone + " (" + ringFor(sc.Rang) + ")"
	case broadcast.ScreenUnreachable:
		return phone + " could not be reached"
	case broadcast.ScreenRefused:
		return phone + " turned the call down"
	}
	return "Could not ring " + phone
}

// pendingOf says which action is under way on a caller: for a screening,
// whose phone rings.
func pendingOf(v showView, c queue.Call) string {
	if sc, ok := v.Snap.Screenings[c.ID]; ok && c.Pending == queue.ActionScreen && sc.State == broadcast.ScreenRinging {
		return "ringing " + screenerWho(sc.Screener) + "'s phone"
	}
	return v.pendingText(c.Pending)
}

func screeningEventOf(sc broadcast.Screening) api.ScreeningEvent {
	e := api.ScreeningEvent{CallID: sc.CallID, Screener: sc.Screener, Phone: sc.Phone, State: string(sc.State),
		Message: screeningWords(sc), Cause: sc.Cause, Started: sc.Started}
	if sc.State != broadcast.ScreenRinging {
		r, end := from.Seconds(sc.Rang), sc.Ended
		e.Rang, e.Ended = &r, &end
	}
	return e
}

// screeningOf is the screening on a phone that a console's Screen just
// started for c: the show's, or as the request named it when the show has
// moved on already.
func (s *consoleUI) screeningOf(r *http.Request, c queue.Call) broadcast.Screening {
	if snap, err := s.cfg.Shows.Snapshot(chi.URLParam(r, "show")); err == nil {
		if sc, ok := snap.Screenings[c.ID]; ok {
			return sc
		}
	}
	sc := broadcast.Screening{CallID: c.ID, Screener: r.PostFormValue("screener"), Caller: displayName(c), Number: c.Number,
		State: broadcast.ScreenRinging}
	if sc.Screener == "" {
		p, _ := shared.Principal(r)
		sc.Screener = p.Name
	}
	return sc
}
