package console

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"time"

	"github.com/a-h/templ"
	"github.com/callin-radio/callin/queue"
)

// The console's live parts as rendered HTML: each fragment whole, and the
// line groups row by row from a per-role cache, with the out-of-band swaps
// that turn one render of a group into the next.

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
	case "hosthead":
		return hostHeadFrag(v, p)
	case "hostair":
		return hostAirFrag(v, p)
	case "hostnext":
		return hostNextFrag(v, p)
	}
	panic("web: unknown fragment " + name)
}

// hostFragmentNames are the live parts of the host view; all are sent
// whole (they are small).
var hostFragmentNames = []string{"hosthead", "hostair", "hostnext", "chat"}

// renderHost renders every live part of the host view once for a role.
func renderHost(ctx context.Context, v showView, p perms) rendered {
	out := rendered{frags: make(map[string][]byte, len(hostFragmentNames))}
	for _, name := range hostFragmentNames {
		out.frags[name] = renderBytes(ctx, fragment(name, v, p))
	}
	return out
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
// (places are CSS counters, so the number itself is not in the HTML), the
// caller's profile and notes, and the line's quality. Equal keys render
// equal HTML for one role of one show; TestRowKeyCoversRow checks that
// every field of queue.Call that changes the row is here.
type rowKey struct {
	id, node, number, name string
	screener, pending      string
	state                  queue.State
	arrived                time.Time
	notes                  queue.Notes
	inLine, next, top      bool
	muted, locked          bool // not shown in line rows today; cheap to keep
	blocked                bool
	blockNote              string
	confirmed              bool
	callback               queue.Callback
	hasCallback            bool
	profile                queue.Profile
	hasProfile             bool
	callerNotes            queue.CallerNotes
	quality                string
	pendingText            string // pendingOf: whose phone rings
	screeningNote          string // screeningNote: the last screening that did not happen
}

// keyOf is the rowKey of c in v.
func keyOf(v showView, c queue.Call) rowKey {
	p, ok := v.Profiles[c.Number]
	k := rowKey{id: c.ID, node: c.Node, number: c.Number, name: c.Name, screener: c.Screener, pending: c.Pending,
		state: c.State, arrived: c.ArrivedAt, notes: c.Notes, inLine: c.Position > 0, next: c.Next, top: c.Top,
		muted: c.Muted, locked: c.Locked, blocked: c.Blocked, blockNote: c.BlockNote, confirmed: c.Confirmed,
		profile: p, hasProfile: ok, callerNotes: v.callerNotes(c), quality: v.Snap.Quality[c.ID].Grade,
		pendingText: pendingOf(v, c), screeningNote: screeningNote(v, c)}
	if c.Callback != nil {
		k.callback, k.hasCallback = *c.Callback, true
	}
	return k
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
			b.Write(row(c, "morph:"+at(c.ID))) // in place: focus, menus and selection stay
		}
	}
	if new.more != old.more {
		b.Write(renderBytes(context.Background(), moreRow(group, new.more, "morph:#"+group+"-more")))
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
