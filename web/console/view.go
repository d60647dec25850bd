package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
)

// showView is what the show page and its live fragments render.
type showView struct {
	Snap     broadcast.Snapshot
	Talking  map[string]bool          // call ids talking now
	Profiles map[string]queue.Profile // by caller ID number; missing while loading
	// Notes are the caller notes known so far, by caller ID number, as
	// Profiles (callerNotes); only callers with notes are here.
	Notes    map[string]queue.CallerNotes
	Chat     []core.ChatMsg
	AirLimit time.Duration
	// Live leaves out what goes stale by itself (the timers' text, which
	// console.js fills in and ticks), so a row's HTML changes only when
	// the call does.
	Live bool
	// WaitingRows is the most plain waiting callers listed (0: all); the
	// rest are only counted (see waitingShown).
	WaitingRows int
	// notesOn: there is a caller notes store, so notes can be edited.
	notesOn bool
	// recordingsOn: recordings are kept, so the console lists them.
	recordingsOn bool
	// talkback is what the show's talkback may use, for its menu.
	talkback core.TalkbackRules
	// actions are the caller actions, the table (nil: action.Table).
	actions []action.Action
}

// upNext returns the callers in line ahead of the plain waiting ones (the
// pick, those moved to top and the ready ones), and then the rest, each in
// line order. Together they are the line: positions run on from one to the
// other.
func (v showView) line() (next, waiting []queue.Call) {
	// Sort pointers, not calls: at 10,000 callers moving whole calls
	// around costs more than the rest of a render.
	all := make([]*queue.Call, 0, len(v.Snap.Lineup.Ready)+len(v.Snap.Lineup.Waiting))
	for _, calls := range [][]queue.Call{v.Snap.Lineup.Ready, v.Snap.Lineup.Waiting} {
		for i := range calls {
			all = append(all, &calls[i])
		}
	}
	slices.SortStableFunc(all, func(a, b *queue.Call) int { return a.Position - b.Position })
	n := 0
	for _, c := range all {
		if upNext(*c) {
			n++
		}
	}
	next, waiting = make([]queue.Call, 0, n), make([]queue.Call, 0, len(all)-n)
	for _, c := range all {
		if upNext(*c) {
			next = append(next, *c)
		} else {
			waiting = append(waiting, *c)
		}
	}
	return next, waiting
}

// waitingShown is the part of the line's plain waiting callers (the
// second result of line) that is listed, the first v.WaitingRows, and how
// many more there are.
func (v showView) waitingShown(waiting []queue.Call) (shown []queue.Call, more int) {
	if v.WaitingRows > 0 && len(waiting) > v.WaitingRows {
		return waiting[:v.WaitingRows], len(waiting) - v.WaitingRows
	}
	return waiting, 0
}

// upNext reports whether c is in the first part of the line.
func upNext(c queue.Call) bool { return c.State == queue.StateReady || c.Next || c.Top }

// perms is what one role may do, for hiding buttons.
type perms map[auth.Action]bool

// permsOf lists the actions role may perform.
func permsOf(role auth.Role) perms {
	p := perms{}
	for _, a := range auth.Actions() {
		p[a] = auth.Can(role, a)
	}
	return p
}

// pageInfo is what every page's layout needs.
type pageInfo struct {
	Title string
	User  string
	Role  auth.Role
	CSRF  string
	Shows []string
	// Search links the caller search (there is a History to search).
	Search bool
}

// page builds a pageInfo for r.
func (s *Console) page(r *http.Request, title string) pageInfo {
	p, _ := shared.Principal(r)
	return pageInfo{Title: title, User: p.Name, Role: p.Role, CSRF: s.Cfg.Auth.CSRFToken(r), Shows: s.Keys,
		Search: s.Cfg.History != nil}
}

// csrfHeaders is the hx-headers value that makes every htmx request carry
// the CSRF token.
func csrfHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

// stamp formats a time for data-since: what console.js counts from.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// clock formats a duration as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, sec := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

// day formats a date, empty for the zero time.
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

// when formats a time of day with the date, empty for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04:05")
}

// itoa is strconv.Itoa for templates.
func itoa(n int) string { return strconv.Itoa(n) }

// elapsed is the text of a timer counting from t: empty in live
// fragments, where console.js fills it in.
func elapsed(v showView, t time.Time) string {
	if v.Live {
		return ""
	}
	return clock(v.Snap.At.Sub(t))
}

// secs is a duration in whole seconds, for data attributes.
func secs(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// displayName is the best name to show for a call: the screener's, else
// caller ID.
func displayName(c queue.Call) string {
	if c.Notes.Name != "" {
		return shared.Printable(c.Notes.Name)
	}
	return shared.Printable(c.Name)
}

// callerHref is the page of a caller's number, or "" when the caller ID
// is no phone number (it is then shown, not linked).
func callerHref(number string) string {
	n := queue.NormalizeNumber(number)
	if n == "" {
		return ""
	}
	return "/callers/" + url.PathEscape(n)
}

// upNextOf is the first part of the line (see line).
func upNextOf(v showView) []queue.Call { n, _ := v.line(); return n }

// waitingOf is the rest of the line (see line).
func waitingOf(v showView) []queue.Call { _, w := v.line(); return w }

// Waits escalate on every console: a wait this long is marked (colour and
// a warning sign), and a longer one more so.
const (
	waitWarn  = 5 * time.Minute
	waitAlert = 10 * time.Minute
)

// plural is one or other by n.
// standby says that another callin instance drives the show's node: this
// one's console shows what it knew, and acts on nothing.
func (v showView) standby() bool { return v.Snap.Node.State == broadcast.NodeStandby }

// mediaLabel names a talkback message for a menu: its name without the
// scheme and folders ("sound:callin/back-after-news": back-after-news).
func mediaLabel(m string) string {
	_, name, _ := strings.Cut(m, ":")
	return path.Base(name)
}

// talkbackLabel says what a talkback is doing: ringing the producer's
// phone, or speaking, and to how many of the holding bridges when the pool
// has more than one (a bridge whose relay failed keeps its music).
func talkbackLabel(m broadcast.MediaState) string {
	what := "talkback message"
	switch {
	case m.TalkbackLine != "":
		what = "talkback live"
	case m.TalkbackBridges == 0:
		what = "talkback: ringing the phone"
		if m.TalkbackBy != "" {
			what += " · for " + m.TalkbackBy
		}
		return what
	}
	if m.HoldBridges > 1 {
		what += " · " + itoa(m.TalkbackBridges) + " of " + itoa(m.HoldBridges) + " bridges"
	}
	if m.TalkbackBy != "" && m.TalkbackLine != "" {
		what += " · " + m.TalkbackBy + " speaking"
	} else if m.TalkbackBy != "" {
		what += " · by " + m.TalkbackBy
	}
	return what
}

func plural(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}

// itoa64 is strconv.FormatInt for templates.
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// nameOrNumber is a caller's best name, else the number.
func nameOrNumber(c queue.Call) string {
	if n := displayName(c); n != "" {
		return n
	}
	return shared.Printable(c.Number)
}

// topicOf is what a caller is about: the screener's topic for this call,
// else the topic kept in the caller's notes.
func topicOf(v showView, c queue.Call) string {
	if c.Notes.Topic != "" {
		return c.Notes.Topic
	}
	return v.callerNotes(c).Topic
}

// pendingText says in words which action is under way on a caller: the
// table's words for a caller action, "going on air" for a take next.
func (v showView) pendingText(name string) string {
	if name == queue.ActionTakeNext {
		name = queue.ActionPromote
	}
	if a, ok := action.Named(v.acts(), name); ok && a.Doing != "" {
		return a.Doing
	}
	return strings.ReplaceAll(name, "_", " ")
}

// acts is the table of caller actions the view offers (Config.actions).
func (v showView) acts() []action.Action {
	if v.actions == nil {
		return action.Table
	}
	return v.actions
}

// emptyText is what an empty group of the line says.
func emptyText(group string) string {
	switch group {
	case "next":
		return "Nobody is ready or picked yet."
	case "screening":
		return "Nobody is being screened."
	}
	return "Nobody is waiting."
}

// iconPath is the SVG path (16×16) of a named icon. Every line state has a
// shape of its own: hold two bars, screening a handset, ready a check,
// next a check in a ring, on air a microphone, a call-back a returning
// arrow.
func iconPath(name string) string {
	switch name {
	case "hold":
		return "M4 3h3v10H4zM9 3h3v10H9z"
	case "handset", "phone":
		return "M3.6 1.5l2.3 2.3-1.2 2a8 8 0 0 0 5.5 5.5l2-1.2 2.3 2.3-1.6 2.1C6.8 14 2 9.2 1.5 3.1z"
	case "check":
		return "M2 8.5l1.8-1.8 2.7 2.7 5.7-5.7L14 5.5l-7.5 7.5z"
	case "next":
		return "M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1zm-1.3 10.2L3.8 8.3l1.3-1.3 1.6 1.6 4.2-4.2 1.3 1.3z"
	case "mic":
		return "M8 1a2.5 2.5 0 0 0-2.5 2.5v4a2.5 2.5 0 0 0 5 0v-4A2.5 2.5 0 0 0 8 1zM3.5 7h1.2a3.3 3.3 0 0 0 6.6 0h1.2a4.5 4.5 0 0 1-3.9 4.4V14h-1.2v-2.6A4.5 4.5 0 0 1 3.5 7z"
	case "lock":
		return "M5 7V5a3 3 0 0 1 6 0v2h1v7H4V7zm1.5 0h3V5a1.5 1.5 0 0 0-3 0z"
	case "callback":
		return "M6 2L1.5 6 6 10V7.5h3.5a2.5 2.5 0 0 1 0 5H7V14h2.5a4 4 0 0 0 0-8H6z"
	case "blocked":
		return "M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1zm0 1.5a5.5 5.5 0 0 1 4.3 8.9L4.6 3.7A5.5 5.5 0 0 1 8 2.5zm0 11a5.5 5.5 0 0 1-4.3-8.9l7.7 7.7A5.5 5.5 0 0 1 8 13.5z"
	case "muted":
		return "M2 6h3l4-3v10l-4-3H2zm9.2-.7l1.3 1.3 1.3-1.3.9.9-1.3 1.3 1.3 1.3-.9.9-1.3-1.3-1.3 1.3-.9-.9 1.3-1.3-1.3-1.3z"
	case "talk":
		return "M2 6h3l4-3v10l-4-3H2zm9-1.5a5 5 0 0 1 0 7l-.9-.9a3.7 3.7 0 0 0 0-5.2z"
	case "star":
		return "M8 1.2l2 4.3 4.7.6-3.4 3.2.9 4.6L8 11.6l-4.2 2.3.9-4.6L1.3 6.1 6 5.5z"
	case "warn":
		return "M8 1l7 13H1zm-.8 4.5v4h1.6v-4zm0 5.3v1.6h1.6v-1.6z"
	}
	return ""
}
