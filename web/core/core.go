package core

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/control"
	"github.com/callin-radio/callin/web/shared"
	"github.com/callin-radio/callin/web/stream"
	"github.com/go-chi/chi/v5"
)

// Core is what the console and the API share: the configuration, the
// shows' hubs, the event streams and their bounds, and the requests both
// make: a show (hub, showReq), a caller action (callerAct, takeNext), a
// show control through the audit (controls, show), a block and caller
// notes (callers.go) and recordings (recordings.go).
type Core struct {
	Cfg     Config
	Log     *slog.Logger
	Limits  Limits
	Streams *stream.Server
	Hubs    map[string]*Hub
	Keys    []string
	// Refusals rate-limits the log lines of refused requests.
	Refusals limitedLog
}

// Hub finds a show's hub, or queue.ErrNotFound.
func (s *Core) Hub(r *http.Request) (*Hub, error) {
	key := chi.URLParam(r, "show")
	h := s.Hubs[key]
	if h == nil {
		return nil, shared.NotFound("show", key)
	}
	return h, nil
}

// CallerAct does action a on the request's {call} in its {show}, reading
// the action's input with read: the show, then the role's permission,
// then the input, then the action; the first error ends it. The API
// (jsonInput) and the console (formInput) share it.
func (s *Core) CallerAct(r *http.Request, a action.Action, read func(*http.Request) (action.Input, error)) (queue.Call, error) {
	h, err := s.Hub(r)
	if err != nil {
		return queue.Call{}, err
	}
	callID := chi.URLParam(r, "call")
	if err := shared.Allow(r, s.permFor(a, h, callID)); err != nil {
		return queue.Call{}, err
	}
	in, err := read(r)
	if err != nil {
		return queue.Call{}, err
	}
	p, actor := shared.Principal(r)
	if a.Name == queue.ActionScreen {
		if err := action.ScreenerFor(p, &in); err != nil {
			return queue.Call{}, err
		}
	}
	in.NotOnAir = !auth.Can(p.Role, auth.ActionDropOnAir)
	return a.Do(r.Context(), s.Cfg.Callers, h.Key, callID, actor, in)
}

// TakeNext puts the request's show's next caller on air.
func (s *Core) TakeNext(r *http.Request) (queue.Call, error) {
	if err := shared.Allow(r, auth.ActionTakeNext); err != nil {
		return queue.Call{}, err
	}
	h, err := s.Hub(r)
	if err != nil {
		return queue.Call{}, err
	}
	_, actor := shared.Principal(r)
	return s.Cfg.Callers.TakeNext(r.Context(), h.Key, actor)
}

// Controls returns the show controls for r's principal, audited: every
// change is logged with who made it (control.Audit).
func (s *Core) Controls(r *http.Request) control.Audited {
	return control.Audit(s.Cfg.Controls, s.Log, r)
}

// Show is h's show as a control acts on it.
func (s *Core) Show(h *Hub) control.Show {
	return control.Show{Key: h.Key, Talkback: s.Cfg.Talkback[h.Key], SetAirLimit: h.setAirLimit,
		Snapshot: func() (broadcast.Snapshot, error) { return s.Cfg.Shows.Snapshot(h.Key) }}
}

// ShowReq checks the role may do action and returns the request's
// show hub.
func (s *Core) ShowReq(r *http.Request, action auth.Action) (*Hub, error) {
	if err := shared.Allow(r, action); err != nil {
		return nil, err
	}
	return s.Hub(r)
}

// permFor is the permission doing a to a call needs (callerAction's
// permFor): dropping an on-air caller needs more than dropping a waiting
// one. The state is read before the action, so a caller promoted in
// between would be dropped on the waiting permission; callerAct closes
// that gap with DropOptions.NotOnAir.
func (s *Core) permFor(a action.Action, h *Hub, callID string) auth.Action {
	if a.PermOnAir == "" {
		return a.Perm
	}
	if c, err := s.Cfg.Shows.Call(h.Key, callID); err == nil {
		return a.PermFor(c)
	}
	return a.Perm
}

// Number reads the {number} parameter, percent-decoded (chi routes an
// escaped path as sent: "%2B1212..." is "+1212..."), and returns it as
// callers are keyed, or a 422 naming the rule.
func Number(r *http.Request) (string, error) {
	raw := chi.URLParam(r, "number")
	if r.URL.RawPath != "" {
		v, err := url.PathUnescape(raw)
		if err != nil {
			return "", shared.BadRequest("number", "malformed percent-encoding")
		}
		raw = v
	}
	n := queue.NormalizeNumber(raw)
	if n == "" {
		return "", shared.Invalid("number", "must be a phone number: up to 20 digits, an optional leading +, and spaces, dashes, dots, slashes or brackets between them")
	}
	return n, nil
}
