package console

import (
	"net/http"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
	"github.com/go-chi/chi/v5"
)

// A screening on a screener's phone, in a producer's words: Screen answers
// while the phone rings (202 on the API), and the console's row and the
// API's `screening` event say how it went. The words are made here alone.

// screeningNote is the same news on the caller's own row, which shows
// them on hold already: past tense, as it stays until the caller moves on.
// "" when there is none.
func screeningNote(v showView, c queue.Call) string {
	sc, ok := v.Snap.Screenings[c.ID]
	if !ok || !sc.OnHold() {
		return ""
	}
	phone := core.ScreenerWho(sc.Screener) + "'s phone"
	switch sc.State {
	case broadcast.ScreenBusy:
		return phone + " was busy"
	case broadcast.ScreenUnavailable:
		return phone + " was unavailable"
	case broadcast.ScreenNoAnswer:
		return "No answer from " + phone + " (" + core.RingFor(sc.Rang) + ")"
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
		return "ringing " + core.ScreenerWho(sc.Screener) + "'s phone"
	}
	return v.pendingText(c.Pending)
}

// screeningOf is the screening on a phone that a console's Screen just
// started for c: the show's, or as the request named it when the show has
// moved on already.
func (s *Console) screeningOf(r *http.Request, c queue.Call) broadcast.Screening {
	if snap, err := s.Cfg.Shows.Snapshot(chi.URLParam(r, "show")); err == nil {
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
