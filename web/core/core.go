package core

import (
	"log/slog"
	"net/http"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/control"
	"github.com/callin-radio/callin/web/shared"
	"github.com/callin-radio/callin/web/stream"
	"github.com/go-chi/chi/v5"
)

// core is what the console and the API share: the configuration, the
// shows' hubs, the event streams and their bounds, and the requests both
// make: a show (hub, showReq), a caller action (callerAct, takeNext), a
// show control through the audit (controls, show), a block and caller
// notes (core_callers.go) and recordings (core_recordings.go).
type core struct {
	cfg     Config
	log     *slog.Logger
	limits  Limits
	streams *stream.Server
	hubs    map[string]*hub
	keys    []string
	// refusals rate-limits the log lines of refused requests.
	refusals limitedLog
}

// hub finds a show's hub, or queue.ErrNotFound.
func (s *core) hub(r *http.Request) (*hub, error) {
	key := chi.URLParam(r, "show")
	h := s.hubs[key]
	if h == nil {
		return nil, shared.NotFound("show", key)
	}
	return h, nil
}

// callerAct does action a on the request's {call} in its {show}, reading
// the action's input with read: the show, then the role's permission,
// then the input, then the action; the first error ends it. The API
// (jsonInput) and the console (formInput) share it.
func (s *core) callerAct(r *http.Request, a action.Action, read func(*http.Request) (action.Input, error)) (queue.Call, error) {
	h, err := s.hub(r)
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
	return a.Do(r.Context(), s.cfg.Callers, h.key, callID, actor, in)
}

// takeNext puts the request's show's next caller on air.
func (s *core) takeNext(r *http.Request) (queue.Call, error) {
	if err := shared.Allow(r, auth.ActionTakeNext); err != nil {
		return queue.Call{}, err
	}
	h, err := s.hub(r)
	if err != nil {
		return queue.Call{}, err
	}
	_, actor := shared.Principal(r)
	return s.cfg.Callers.TakeNext(r.Context(), h.key, actor)
}

// controls returns the show controls for r's principal, audited: every
// change is logged with who made it (control.Audit).
func (s *core) controls(r *http.Request) control.Audited {
	return control.Audit(s.cfg.Controls, s.log, r)
}

// show is h's show as a control acts on it.
func (s *core) show(h *hub) control.Show {
	return control.Show{Key: h.key, Talkback: s.cfg.Talkback[h.key], SetAirLimit: h.setAirLimit,
		Snapshot: func() (broadcast.Snapshot, error) { return s.cfg.Shows.Snapshot(h.key) }}
}

// showReq checks the role may do action and returns the request's
// show hub.
func (s *core) showReq(r *http.Request, action auth.Action) (*hub, error) {
	if err := shared.Allow(r, action); err != nil {
		return nil, err
	}
	return s.hub(r)
}

// permFor is the permission doing a to a call needs (callerAction's
// permFor): dropping an on-air caller needs more than dropping a waiting
// one. The state is read before the action, so a caller promoted in
// between would be dropped on the waiting permission; callerAct closes
// that gap with DropOptions.NotOnAir.
func (s *core) permFor(a action.Action, h *hub, callID string) auth.Action {
	if a.PermOnAir == "" {
		return a.Perm
	}
	if c, err := s.cfg.Shows.Call(h.key, callID); err == nil {
		return a.PermFor(c)
	}
	return a.Perm
}
