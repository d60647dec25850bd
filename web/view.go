package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// showView is what the show page and its live fragments render.
type showView struct {
	Snap     broadcast.Snapshot
	Talking  map[string]bool             // call ids talking now
	Profiles map[string]postgres.Profile // by number; missing while loading
	Chat     []chatMsg
	AirLimit time.Duration
}

// upNext returns the callers in line ahead of the plain waiting ones (the
// pick, those moved to top and the ready ones), and then the rest, each in
// line order. Together they are the line: positions run on from one to the
// other.
func (v showView) line() (next, waiting []queue.Call) {
	all := slices.Concat(v.Snap.Lineup.Ready, v.Snap.Lineup.Waiting)
	slices.SortFunc(all, func(a, b queue.Call) int { return a.Position - b.Position })
	for _, c := range all {
		if c.State == queue.StateReady || c.Next || c.Top {
			next = append(next, c)
		} else {
			waiting = append(waiting, c)
		}
	}
	return next, waiting
}

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
		return lineFrag(v, p, next, "next")
	case "waiting":
		_, waiting := v.line()
		return lineFrag(v, p, waiting, "waiting")
	case "screening":
		return lineFrag(v, p, v.Snap.Lineup.Screening, "screening")
	case "chat":
		return chatFrag(v)
	}
	panic("web: unknown fragment " + name)
}

// renderFragments renders every live part once.
func renderFragments(ctx context.Context, v showView, p perms) map[string][]byte {
	out := make(map[string][]byte, len(fragmentNames))
	var b bytes.Buffer
	for _, name := range fragmentNames {
		b.Reset()
		if err := fragment(name, v, p).Render(ctx, &b); err != nil {
			fmt.Fprintf(&b, "<p>render failed</p>")
		}
		out[name] = bytes.Clone(b.Bytes())
	}
	return out
}

// pageInfo is what every page's layout needs.
type pageInfo struct {
	Title string
	User  string
	Role  auth.Role
	CSRF  string
	Shows []string
}

// page builds a pageInfo for r.
func (s *Server) page(r *http.Request, title string) pageInfo {
	p, _ := principal(r)
	return pageInfo{Title: title, User: p.Name, Role: p.Role, CSRF: s.cfg.Auth.CSRFToken(r), Shows: s.keys}
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
		return c.Notes.Name
	}
	return c.Name
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
