package console

import (
	"bytes"
	"context"
	"log/slog"
	"sync"

	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/stream"
)

// The pages a live client may show: the console, and the host's view.
const (
	pageConsole = "console"
	pageHost    = "host"
)

// audience is who one render is for: the clients of one role on one page
// see the same HTML.
type audience struct {
	role auth.Role
	page string
}

// names are the audience's live parts, in the order they are sent.
func (a audience) names() []string {
	if a.page == pageHost {
		return hostFragmentNames
	}
	return fragmentNames
}

// consoles is a show's live browser clients (consoles and host views) and
// what was last sent to them: the hub renders once per audience and sends
// every client only what changed. Its lock guards the clients and the last
// renders; the row caches belong to the one goroutine that renders.
type consoles struct {
	show     string
	log      *slog.Logger
	rendered testsignal.Signal[core.RenderedRows] // rows rendered per render of a console role (a test signal)

	mu   sync.Mutex
	set  stream.Set
	last map[audience]rendered // last render sent, per audience

	rows map[audience]*rowCache // line rows per console audience; render's alone, no lock
}

func newConsoles(show string, log *slog.Logger, counted testsignal.Signal[core.RenderedRows]) *consoles {
	return &consoles{show: show, log: log, rendered: counted, set: map[*stream.Client]struct{}{},
		last: map[audience]rendered{}, rows: map[audience]*rowCache{}}
}

// attach registers a client; the next render sends it every part whole.
func (cs *consoles) attach(c *stream.Client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.set[c] = struct{}{}
}

// detach removes a client.
func (cs *consoles) detach(c *stream.Client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.set, c)
}

// closeAll kicks every client.
func (cs *consoles) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.set.KickAll()
}

// audiences returns who the clients are now.
func (cs *consoles) audiences() map[audience]bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := map[audience]bool{}
	for c := range cs.set {
		out[audience{c.Role, c.Page}] = true
	}
	return out
}

// render renders v for every audience in auds and sends what changed: a
// line group's changed rows alone (one "rows" event of out-of-band swaps)
// when rowOps can, else the changed parts whole. New clients get every
// part whole. Console rows come from each audience's rowCache, so a render
// costs the rows that changed, not the whole line; a group is assembled
// whole only when a client needs it whole.
func (cs *consoles) render(ctx context.Context, v showView, auds map[audience]bool) {
	now := cs.renderAudiences(ctx, v, auds)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	parts := &wholeParts{ctx: ctx, now: now, m: map[wholePart][]byte{}}
	msgs := cs.changes(ctx, v, now, parts)
	for a := range cs.last {
		if !auds[a] {
			delete(cs.last, a)
		}
	}
	cs.deliver(now, msgs, parts)
}

// renderAudiences renders v for every audience in auds, each console
// through its rowCache (made here for a new audience, freed for one gone).
func (cs *consoles) renderAudiences(ctx context.Context, v showView, auds map[audience]bool) map[audience]rendered {
	for a := range cs.rows { // no client of the audience left: free its rows
		if !auds[a] {
			delete(cs.rows, a)
		}
	}
	now := map[audience]rendered{}
	for a := range auds {
		if a.page == pageHost {
			now[a] = renderHost(ctx, v, permsOf(a.role))
			continue
		}
		rc := cs.rows[a]
		if rc == nil {
			rc = newRowCache(permsOf(a.role))
			cs.rows[a] = rc
		}
		before := rc.renders
		now[a] = renderFragments(ctx, v, rc)
		cs.rendered.Signal(core.RenderedRows{Role: a.role, Rows: rc.renders - before})
	}
	return now
}

// wholePart names one part of one audience's page.
type wholePart struct {
	a    audience
	name string
}

// wholeParts assembles parts whole, each once per render.
type wholeParts struct {
	ctx context.Context
	now map[audience]rendered
	m   map[wholePart][]byte
}

func (w *wholeParts) get(a audience, name string) []byte {
	b, ok := w.m[wholePart{a, name}]
	if !ok {
		b = w.now[a].whole(w.ctx, name)
		w.m[wholePart{a, name}] = b
	}
	return b
}

// changes returns, per audience, the events that bring its clients from
// the last render to now (every part, for an audience not rendered
// before), and keeps now as the last render. cs.mu is held.
func (cs *consoles) changes(ctx context.Context, v showView, now map[audience]rendered, parts *wholeParts) map[audience][][]byte {
	msgs := map[audience][][]byte{}
	for a, r := range now {
		old, had := cs.last[a]
		var rows []byte
		for _, name := range a.names() {
			g, line := r.rows[name]
			switch {
			case !had:
			case !line:
				if bytes.Equal(old.frags[name], r.frags[name]) {
					continue
				}
			default:
				pm := cs.rows[a].perms
				ops, ok := rowOps(name, old.rows[name], g, func(c queue.Call, oob string) []byte {
					return renderBytes(ctx, callRow(v, pm, c, oob))
				})
				if ok {
					rows = append(rows, ops...)
					continue
				}
				if g.same(old.rows[name]) { // both empty, say
					continue
				}
			}
			msgs[a] = append(msgs[a], stream.Encode(0, name, parts.get(a, name)))
		}
		if len(rows) > 0 {
			msgs[a] = append(msgs[a], stream.Encode(0, "rows", rows))
		}
		cs.last[a] = r
	}
	return msgs
}

// deliver sends each client its audience's changes, or every part whole
// to a client that needs them; a client too slow to take them is
// disconnected. cs.mu is held.
func (cs *consoles) deliver(now map[audience]rendered, msgs map[audience][][]byte, parts *wholeParts) {
	full := map[audience][][]byte{} // every part whole, made when needed
	for c := range cs.set {
		a := audience{c.Role, c.Page}
		send := msgs[a]
		if c.NeedFull {
			if _, ok := now[a]; !ok {
				continue // attached after the audiences were counted: the next render
			}
			f, ok := full[a]
			if !ok {
				for _, name := range a.names() {
					f = append(f, stream.Encode(0, name, parts.get(a, name)))
				}
				full[a] = f
			}
			send, c.NeedFull = f, false
		}
		for _, m := range send {
			if !c.Send(m) {
				delete(cs.set, c)
				cs.log.Warn("web: console too slow, disconnected", "show", cs.show)
				break
			}
		}
	}
}
