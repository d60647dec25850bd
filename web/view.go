package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// showView is what the show page and its live fragments render.
type showView struct {
	Snap     broadcast.Snapshot
	Talking  map[string]bool          // call ids talking now
	Profiles map[string]queue.Profile // by number; missing while loading
	Chat     []chatMsg
	AirLimit time.Duration
	// Live leaves out what goes stale by itself (the timers' text, which
	// console.js fills in and ticks), so a row's HTML changes only when
	// the call does.
	Live bool
	// WaitingRows is the most plain waiting callers listed (0: all); the
	// rest are only counted (see waitingShown).
	WaitingRows int
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

// fragmentNames are the live parts of the show page, each an SSE event
// name and the id of the element it replaces the content of.
var fragmentNames = []string{"header", "stats", "onair", "next", "screening", "waiting", "chat"}

// lineGroups are the fragments that may be updated row by row: the rows
// event carries out-of-band swaps of single rows (see rowOps).
var lineGroups = []string{"next", "waiting"}

// fragment returns the component of one live part.
func fragment(name string, v showView, p perms) templ.Component {
	switch name {
	case "header":
		return headerFrag(v, p)
	case "stats":
		return statsFrag(v)
	case "onair":
		return onAirFrag(v, p)
	case "next":
		next, _ := v.line()
		return lineFrag(v, p, next, "next", 0)
	case "waiting":
		_, waiting := v.line()
		waiting, more := v.waitingShown(waiting)
		return lineFrag(v, p, waiting, "waiting", more)
	case "screening":
		return lineFrag(v, p, v.Snap.Lineup.Screening, "screening", 0)
	case "chat":
		return chatFrag(v)
	}
	panic("web: unknown fragment " + name)
}

// rendered is one role's render of a show's live parts.
type rendered struct {
	frags map[string][]byte    // every fragment but the line groups, whole
	rows  map[string]groupRows // the rows of each of lineGroups
}

// whole returns fragment name whole; a line group is assembled from its
// rows.
func (r rendered) whole(ctx context.Context, name string) []byte {
	g, ok := r.rows[name]
	if !ok {
		return r.frags[name]
	}
	rows := make([]templ.Component, len(g.calls))
	for i, c := range g.calls {
		rows[i] = rawHTML(g.html[c.ID])
	}
	return renderBytes(ctx, lineOf(name, rows, g.more))
}

// groupRows is one line group's rows, in order, and the number of callers
// of the group beyond them (counted, not listed).
type groupRows struct {
	calls []queue.Call
	html  map[string][]byte // by call id
	more  int
}

// same reports whether g and o are the same rows with the same HTML, in
// the same order.
func (g groupRows) same(o groupRows) bool {
	if len(g.calls) != len(o.calls) || g.more != o.more {
		return false
	}
	for i, c := range g.calls {
		if o.calls[i].ID != c.ID || !bytes.Equal(g.html[c.ID], o.html[c.ID]) {
			return false
		}
	}
	return true
}

// rowKey is everything a line row (callRow in a live fragment) shows of
// its call: the fields the template reads, whether it has a place in line
// (places are CSS counters, so the number itself is not in the HTML), and
// the caller's profile. Equal keys render equal HTML for one role of one
// show; TestRowKeyCoversRow checks that every field of queue.Call that
// changes the row is here.
type rowKey struct {
	id, number, name  string
	screener, pending string
	state             queue.State
	arrived           time.Time
	notes             queue.Notes
	inLine, next      bool
	muted, locked     bool // not shown in line rows today; cheap to keep
	blocked           bool
	blockNote         string
	profile           queue.Profile
	hasProfile        bool
}

// keyOf is the rowKey of c in v.
func keyOf(v showView, c queue.Call) rowKey {
	p, ok := v.Profiles[c.Number]
	return rowKey{id: c.ID, number: c.Number, name: c.Name, screener: c.Screener, pending: c.Pending,
		state: c.State, arrived: c.ArrivedAt, notes: c.Notes, inLine: c.Position > 0, next: c.Next,
		muted: c.Muted, locked: c.Locked, blocked: c.Blocked, blockNote: c.BlockNote, profile: p, hasProfile: ok}
}

// rowCache keeps one role's rendered line rows by call id, so a render
// re-renders only the rows whose rowKey changed. It is for live views of
// one show (v.Live, one v.Snap.Show) and is not safe for concurrent use:
// the hub's goroutine owns it.
type rowCache struct {
	perms   perms
	rows    map[string]*cachedRow
	gen     uint64 // the current render
	renders int    // rows rendered rather than reused, for tests
}

// cachedRow is one call's row HTML and the key it was rendered for.
type cachedRow struct {
	key  rowKey
	html []byte
	gen  uint64 // the last render that used it
}

// newRowCache returns an empty cache for a role with permissions p.
func newRowCache(p perms) *rowCache { return &rowCache{perms: p, rows: map[string]*cachedRow{}} }

// row returns c's row HTML, rendering it only when its key changed.
func (rc *rowCache) row(ctx context.Context, v showView, c queue.Call) []byte {
	k := keyOf(v, c)
	r := rc.rows[c.ID]
	if r == nil {
		r = &cachedRow{}
		rc.rows[c.ID] = r
	}
	if r.html == nil || r.key != k {
		r.key, r.html = k, renderBytes(ctx, callRow(v, rc.perms, c, ""))
		rc.renders++
	}
	r.gen = rc.gen
	return r.html
}

// sweep evicts the rows of calls the current render did not show (calls
// that left the line) and starts the next render.
func (rc *rowCache) sweep() {
	for id, r := range rc.rows {
		if r.gen != rc.gen {
			delete(rc.rows, id)
		}
	}
	rc.gen++
}

// renderFragments renders every live part once for rc's role: the line
// groups as rows, from rc where their calls have not changed (see
// rendered.whole for the groups whole).
func renderFragments(ctx context.Context, v showView, rc *rowCache) rendered {
	out := rendered{frags: make(map[string][]byte, len(fragmentNames)), rows: make(map[string]groupRows, len(lineGroups))}
	next, waiting := v.line()
	waiting, more := v.waitingShown(waiting)
	for _, name := range fragmentNames {
		var calls []queue.Call
		n := 0
		switch name {
		case "next":
			calls = next
		case "waiting":
			calls, n = waiting, more
		default:
			out.frags[name] = renderBytes(ctx, fragment(name, v, rc.perms))
			continue
		}
		g := groupRows{calls: calls, html: make(map[string][]byte, len(calls)), more: n}
		for _, c := range calls {
			g.html[c.ID] = rc.row(ctx, v, c)
		}
		out.rows[name] = g
	}
	rc.sweep()
	return out
}

// renderBytes renders c; a failure shows in place of the part.
func renderBytes(ctx context.Context, c templ.Component) []byte {
	var b bytes.Buffer
	if err := c.Render(ctx, &b); err != nil {
		return []byte("<p>render failed</p>")
	}
	return b.Bytes()
}

// rawHTML is HTML that templ has already rendered (and so escaped).
func rawHTML(b []byte) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// rowsOf renders calls as rows.
func rowsOf(v showView, p perms, calls []queue.Call) []templ.Component {
	out := make([]templ.Component, len(calls))
	for i, c := range calls {
		out[i] = callRow(v, p, c, "")
	}
	return out
}

// rowOps returns the htmx out-of-band swaps that turn a line group's rows
// in the browser from old into new: deletes, replaced rows, and inserts
// after the row before them. It returns false when the whole fragment is
// the simpler message: a group emptied or filled (the "nobody" line), a
// reorder among the rows that stay, a call id unfit for a selector, or more
// than half the rows to send anyway, or the count of callers beyond the
// rows appearing or going. A changed count is a swap of the "more" line.
// The rows are only the listed ones, so a caller beyond them is never
// sent, and one moving up into them is an insert like an arrival. row
// renders a call as an oob swap.
func rowOps(group string, old, new groupRows, row func(c queue.Call, oob string) []byte) ([]byte, bool) {
	if len(old.calls) == 0 || len(new.calls) == 0 || (old.more == 0) != (new.more == 0) {
		return nil, false
	}
	var kept []string // old ids still here, in old order
	for _, c := range old.calls {
		if !selectorSafe(c.ID) {
			return nil, false
		}
		if _, ok := new.html[c.ID]; ok {
			kept = append(kept, c.ID)
		}
	}
	i, changed := 0, 0
	for _, c := range new.calls {
		if !selectorSafe(c.ID) {
			return nil, false
		}
		if _, ok := old.html[c.ID]; ok {
			if kept[i] != c.ID {
				return nil, false // reordered
			}
			i++
			if !bytes.Equal(old.html[c.ID], new.html[c.ID]) {
				changed++
			}
		} else {
			changed++
		}
	}
	changed += len(old.calls) - len(kept)
	if 2*changed > len(new.calls)+1 {
		return nil, false
	}
	list := "#" + group + " > ol"
	at := func(id string) string { return list + ` > li[data-call="` + id + `"]` }
	var b bytes.Buffer
	for _, c := range old.calls {
		if _, ok := new.html[c.ID]; !ok {
			fmt.Fprintf(&b, `<div hx-swap-oob="delete:%s"></div>`, html.EscapeString(at(c.ID)))
		}
	}
	for n, c := range new.calls {
		oldHTML, had := old.html[c.ID]
		switch {
		case !had && n == 0:
			fmt.Fprintf(&b, `<div hx-swap-oob="afterbegin:%s">%s</div>`, html.EscapeString(list), new.html[c.ID])
		case !had:
			fmt.Fprintf(&b, `<div hx-swap-oob="afterend:%s">%s</div>`, html.EscapeString(at(new.calls[n-1].ID)), new.html[c.ID])
		case !bytes.Equal(oldHTML, new.html[c.ID]):
			b.Write(row(c, "outerHTML:"+at(c.ID)))
		}
	}
	if new.more != old.more {
		b.Write(renderBytes(context.Background(), moreRow(group, new.more, "outerHTML:#"+group+"-more")))
	}
	return b.Bytes(), true
}

// selectorSafe reports whether a call id can go into a CSS attribute
// selector and an hx-swap-oob value as it is.
func selectorSafe(id string) bool {
	if id == "" {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
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
func (s *Server) page(r *http.Request, title string) pageInfo {
	p, _ := principal(r)
	return pageInfo{Title: title, User: p.Name, Role: p.Role, CSRF: s.cfg.Auth.CSRFToken(r), Shows: s.keys,
		Search: s.cfg.History != nil}
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

// callURL is the console's URL of an action on a call.
func callURL(show, callID, action string) string {
	return "/shows/" + show + "/callers/" + callID + "/" + actionPath(action)
}

// dropPerm is the permission dropping c needs.
func dropPerm(c queue.Call) auth.Action {
	if c.State == queue.StateOnAir {
		return auth.ActionDropOnAir
	}
	return auth.ActionDropWaiting
}

// displayName is the best name to show for a call: the screener's, else
// caller ID.
func displayName(c queue.Call) string {
	if c.Notes.Name != "" {
		return printable(c.Notes.Name)
	}
	return printable(c.Name)
}

// printable returns s fit to show as text: control characters (NUL, ESC
// and the rest of C0, DEL, C1), line and paragraph separators, the
// bidirectional controls that reorder what follows them, a byte-order mark
// and bytes that are not UTF-8 each become U+FFFD. templ escapes HTML;
// this keeps the rest of a hostile caller ID's tricks off the page.
func printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unprintable(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unprintable reports whether r must not reach a page as it is.
func unprintable(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029, r == 0xfeff:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
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

// permOf is the permission a caller action needs (drop: see dropPerm).
func permOf(action string) auth.Action {
	for _, a := range callerActions {
		if a.name == action {
			return a.perm
		}
	}
	return auth.Action(action)
}
