package web

import (
	"net/http"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// apiWho is GET /me's answer (schema Me): who the token is, its role's
// permissions (auth.Can) and the caller actions it may take, from the
// table of caller actions.
type apiWho struct {
	Name          string          `json:"name"`
	Kind          string          `json:"kind" api:"meKind"`
	Role          string          `json:"role" api:"role"`
	Permissions   []string        `json:"permissions" doc:"What the role may do (view, screen, promote, …)."`
	CallerActions []apiMayCallers `json:"caller_actions"`
}

// apiMayCallers is one caller action a role may take (schema
// PermittedAction): its name, URL segment and operation, and on which
// callers the role's permission lets it (all, on_air or not_on_air; the
// call's state decides the rest).
type apiMayCallers struct {
	Action    string `json:"action" doc:"The action, as transitions name it."`
	Path      string `json:"path" doc:"Its segment under /shows/{show}/callers/{call}/."`
	Operation string `json:"operation" doc:"Its operationId."`
	Callers   string `json:"callers" api:"callers"`
}

// whoIs is what role p may do, with the caller actions of acts.
func whoIs(p auth.Principal, acts []callerAction) apiWho {
	out := apiWho{Name: p.Name, Kind: string(p.Kind), Role: string(p.Role), Permissions: []string{}, CallerActions: []apiMayCallers{}}
	for _, a := range auth.Actions() {
		if auth.Can(p.Role, a) {
			out.Permissions = append(out.Permissions, string(a))
		}
	}
	for _, a := range acts {
		onAir := auth.Can(p.Role, a.permFor(queue.Call{State: queue.StateOnAir}))
		off := auth.Can(p.Role, a.permFor(queue.Call{State: queue.StateWaiting}))
		callers := "all"
		switch {
		case !onAir && !off:
			continue
		case !onAir:
			callers = "not_on_air"
		case !off:
			callers = "on_air"
		}
		out.CallerActions = append(out.CallerActions, apiMayCallers{Action: a.name, Path: a.path, Operation: a.op.id, Callers: callers})
	}
	return out
}

// apiMe serves GET /me.
func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r)
	s.reply(w, r, whoIs(p, s.cfg.actions), nil)
}
