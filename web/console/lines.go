package console

import (
	"cmp"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// How the console shows a line: the state as a colour, an icon and a word;
// one primary action per state and the rest in a menu (and on the
// keyboard), the destructive ones set apart and confirmed.

// lineMark is how a caller's state is shown: Key picks the colours (class
// s-<Key>), Icon the shape, Label the word. Each state has an icon of its
// own, so the line reads without colour too.
type lineMark struct {
	Key, Label, Icon string
}

// markOf is the mark of a call.
func markOf(c queue.Call) lineMark {
	switch {
	case c.State == queue.StateOnAir:
		return lineMark{"onair", "On air", "mic"}
	case c.State == queue.StateCallback && c.Callback != nil && c.Callback.Calling:
		return lineMark{"callback", "Calling back", "callback"}
	case c.State == queue.StateCallback:
		return lineMark{"callback", "Call-back", "callback"}
	case c.State == queue.StateScreening:
		return lineMark{"screening", "Screening", "handset"}
	case c.Next:
		return lineMark{"next", "Next", "next"}
	case c.State == queue.StateReady:
		return lineMark{"ready", "Ready", "check"}
	}
	return lineMark{"hold", "On hold", "hold"}
}

// rowAct is one action button of a caller: a POST to URL (Dialog names
// the dialog that asks for more first: "ready" or "notes"), the key that
// presses it in the selected row, and the question asked before a
// destructive or risky one. A URL without a leading slash is relative to
// the row's data-base (callBase): a line of 500 rows says its show and
// call once a row, not once a button.
type rowAct struct {
	Action  string // queue action name, or "notes"
	Label   string
	Key     string
	URL     string
	Vals    string // JSON of extra form values
	Confirm string // asked first, when set
	OK      string // the confirm button's word
	Dialog  string // "ready" or "notes": opens that dialog instead
	Title   string // the ready dialog's heading and submit word, when it
	Submit  string // edits the notes rather than marking ready
	Danger  bool
	Pressed string // "true"/"false" for toggles (mute, lock); "" otherwise
	TestID  string
}

// actsOf is a caller's actions for a role: the primary one (Action ""
// when there is none), the others for the menu, and the destructive ones,
// each only when the role may do it, queue's rule allows it and the
// button's own rule shows it (the table's rows: action.Table).
func actsOf(v showView, pm perms, c queue.Call) (primary rowAct, menu, danger []rowAct) {
	all := v.buttons(pm, c, action.PlaceMenu) // in menu order; the primary is taken out
	if pm[auth.ActionNotes] && v.notesOn && queue.NormalizeNumber(c.Number) != "" {
		all = append(all, rowAct{Action: "notes", Label: "Caller notes…", Key: "e", URL: notesURL(v.Snap.Show, c), Dialog: "notes", TestID: "act-notes"})
	}
	if len(all) > 0 && c.State != queue.StateOnAir {
		primary, menu = all[0], all[1:]
	} else {
		menu = all
	}
	return primary, menu, v.buttons(pm, c, action.PlaceDanger)
}

// airActs are an on-air caller's toggles: mute and lock, for a role that
// may use them. Each names what pressing it does ("Unmute" on a muted
// caller, not the table's state word "Muted"), so it carries no
// aria-pressed: a label that changes with the state and a pressed state
// would say it twice, and contradict each other (issue 23).
func airActs(v showView, pm perms, c queue.Call) []rowAct {
	out := v.buttons(pm, c, action.PlaceToggle)
	for i := range out {
		out[i].Pressed = ""
		if l, ok := toggleWords[out[i].Action]; ok {
			out[i].Label = l
		}
	}
	return out
}

// toggleWords are the on-air toggles' labels: what pressing does.
var toggleWords = map[string]string{
	queue.ActionMute: "Mute", queue.ActionUnmute: "Unmute",
	queue.ActionLock: "Lock", queue.ActionUnlock: "Unlock",
}

// buttons are the buttons of the table's actions that go in place, for a
// role with permissions pm, on c: each row's neutral button (actionButton)
// made the console's, and asked about as its row says (asks).
func (v showView) buttons(pm perms, c queue.Call, place int) []rowAct {
	var out []rowAct
	for _, a := range v.acts() {
		b := a.Button
		if b.Place != place || !pm[a.PermFor(c)] || !a.Fits(c) || b.Show != nil && !b.Show(c) {
			continue
		}
		// The URL is relative to the row's data-base.
		ra := rowAct{Action: a.Name, Label: b.Label, Key: b.Key, URL: a.Path, TestID: "act-" + cmp.Or(b.TestID, a.Name),
			Dialog: b.Dialog, Title: b.Title, Submit: b.Submit, Pressed: b.Pressed}
		if ask := asks[b.Ask]; ask != nil {
			out = append(out, ask(ra, v, c)...)
			continue
		}
		out = append(out, ra)
	}
	return out
}

// asks are the console's questions asked before a button (actionButton's
// ask), each finishing the button or making several of it.
var asks = map[string]func(b rowAct, v showView, c queue.Call) []rowAct{
	action.AskDoNotAir: doNotAirQuestion,
	action.AskDrop:     dropButtons,
}

// doNotAirQuestion asks first before putting on air a caller marked do
// not air.
func doNotAirQuestion(b rowAct, v showView, c queue.Call) []rowAct {
	if v.callerNotes(c).DoNotAir {
		b.Confirm, b.OK = callerWho(c)+" is marked do not air. Put them on air anyway?", "Put on air"
	}
	return []rowAct{b}
}

// dropButtons are drop's: drop, and goodbye then drop; a call-back entry
// is removed from the line instead.
func dropButtons(b rowAct, _ showView, c queue.Call) []rowAct {
	who := callerWho(c)
	b.Danger, b.OK = true, "Drop"
	b.Confirm = "Drop " + who + "? The call ends at once."
	if c.State == queue.StateCallback {
		b.Label, b.OK, b.Confirm = "Remove from line", "Remove", "Remove "+who+"'s call-back from the line?"
		return []rowAct{b}
	}
	bye := b
	bye.Label, bye.Key, bye.Vals, bye.TestID, bye.OK = "Goodbye, then drop", "g", `{"goodbye":"1"}`, "act-drop-goodbye", "Play goodbye"
	bye.Confirm = "Play the goodbye to " + who + ", then hang up?"
	return []rowAct{b, bye}
}

// attrs are the button's data attributes: what pressing it does (a POST,
// or a dialog), with what values, after which question, and whether it is
// pressed.
func (a rowAct) attrs() templ.OrderedAttributes {
	var out templ.OrderedAttributes
	add := func(k, v string) { out = append(out, templ.KV[string, any](k, v)) }
	switch a.Dialog {
	case "ready":
		add("data-ready", a.URL)
		if a.Title != "" {
			add("data-dialog-title", a.Title)
			add("data-dialog-submit", a.Submit)
		}
	case "notes":
		add("data-notes", a.URL)
	default:
		add("data-post", a.URL)
	}
	if a.Vals != "" {
		add("data-vals", a.Vals)
	}
	if a.Confirm != "" {
		add("data-confirm", a.Confirm)
		add("data-confirm-word", a.OK)
	}
	if a.Pressed != "" {
		add("aria-pressed", a.Pressed)
	}
	return out
}

// callBase is the URL the actions of a caller's row are relative to.
func callBase(show, callID string) string { return "/shows/" + show + "/callers/" + callID + "/" }

// callerWho names a caller for a question or a dialog: name and number.
func callerWho(c queue.Call) string {
	name := displayName(c)
	if name == "" {
		return shared.Printable(c.Number)
	}
	return name + " (" + shared.Printable(c.Number) + ")"
}

// notesURL is the console's form of a caller's notes, for the notes
// dialog, or "" for a caller ID that is no phone number.
func notesURL(show string, c queue.Call) string {
	n := queue.NormalizeNumber(c.Number)
	if n == "" {
		return ""
	}
	q := url.Values{"show": {show}, "call": {c.ID}}
	return "/callers/" + url.PathEscape(n) + "/notes?" + q.Encode()
}

// callerNotes are the notes kept about c's number, if any are known: its
// caller notes, else the notes of its history profile (a console without
// a notes store).
func (v showView) callerNotes(c queue.Call) queue.CallerNotes {
	if n, ok := v.Notes[c.Number]; ok {
		return n
	}
	if p, ok := v.Profiles[c.Number]; ok && p.Notes != "" {
		return queue.CallerNotes{Number: p.Number, Notes: p.Notes}
	}
	return queue.CallerNotes{}
}

// nextUp is the caller Take next would put on air now, as queue.TakeNext
// chooses: the first in line who is not busy, blocked or a call-back
// entry. ok is false when there is none. It scans the line once and
// allocates nothing: every render of the on-air area asks.
func (v showView) nextUp() (c queue.Call, ok bool) {
	best := -1
	var at *queue.Call
	for _, calls := range [][]queue.Call{v.Snap.Lineup.Ready, v.Snap.Lineup.Waiting} {
		for i := range calls {
			c := &calls[i]
			if c.Pending == "" && !c.Blocked && c.State != queue.StateCallback && (best < 0 || c.Position < best) {
				best, at = c.Position, c
			}
		}
	}
	if at == nil {
		return queue.Call{}, false
	}
	return *at, true
}

// unlockedOnAir counts the callers on air hold all or drop all would clear.
func (v showView) unlockedOnAir() int {
	n := 0
	for _, c := range v.Snap.Lineup.OnAir {
		if !c.Locked {
			n++
		}
	}
	return n
}

// following is up to n callers in line after the next one, the way Take
// next would take them.
func (v showView) following(n int) []queue.Call {
	first, ok := v.nextUp()
	if !ok {
		return nil
	}
	next, waiting := v.line()
	var out []queue.Call
	for _, calls := range [][]queue.Call{next, waiting} {
		for _, c := range calls {
			if len(out) == n {
				return out
			}
			if c.ID != first.ID && !c.Blocked && c.State != queue.StateCallback {
				out = append(out, c)
			}
		}
	}
	return out
}

// stars shows a rating of 0..5 as stars.
func stars(n int) string {
	n = min(max(n, 0), queue.MaxRating)
	return strings.Repeat("★", n) + strings.Repeat("☆", queue.MaxRating-n)
}

// callbackInfo says where a call-back entry is: calling, or when the next
// attempt is due.
func callbackInfo(v showView, c queue.Call) string {
	cb := c.Callback
	if cb == nil {
		return ""
	}
	switch {
	case cb.Calling:
		return "calling " + shared.Printable(cb.Number) + ": attempt " + strconv.Itoa(cb.Attempt) + " of " + strconv.Itoa(cb.Attempts)
	case cb.Attempt > 0 && !cb.NextAt.IsZero():
		return strconv.Itoa(cb.Attempt) + " of " + strconv.Itoa(cb.Attempts) + " missed; next try " + cb.NextAt.In(v.loc()).Format("15:04")
	case cb.Now:
		return "calling soon"
	}
	return "hung up to be called back at " + shared.Printable(cb.Number)
}

// loc is where the console's clock times are shown: the snapshot's zone.
func (v showView) loc() *time.Location {
	if v.Snap.At.IsZero() {
		return time.Local
	}
	return v.Snap.At.Location()
}

// jsonVals is the JSON of form values for data-vals.
func jsonVals(m map[string]string) string {
	b, _ := json.Marshal(m)
	return string(b)
}

// qualityClass is the pill class of a line quality grade.
func qualityClass(grade string) string { return "pill q-" + grade }

// filledStars is n stars, for a rating's label.
func filledStars(n int) string { return strings.Repeat("★", n) }
