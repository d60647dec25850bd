package rest

import (
	"net/http"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// whoIs is what role p may do, with the caller actions of acts.
func whoIs(p auth.Principal, acts []action.Action) api.Me {
	out := api.Me{Name: p.Name, Kind: string(p.Kind), Role: string(p.Role), Permissions: []string{}, CallerActions: []api.PermittedAction{}}
	for _, a := range auth.Actions() {
		if auth.Can(p.Role, a) {
			out.Permissions = append(out.Permissions, string(a))
		}
	}
	for _, a := range acts {
		onAir := auth.Can(p.Role, a.PermFor(queue.Call{State: queue.StateOnAir}))
		off := auth.Can(p.Role, a.PermFor(queue.Call{State: queue.StateWaiting}))
		callers := "all"
		switch {
		case !onAir && !off:
			continue
		case !onAir:
			callers = "not_on_air"
		case !off:
			callers = "on_air"
		}
		out.CallerActions = append(out.CallerActions, api.PermittedAction{Action: a.Name, Path: a.Path, Operation: a.Op.ID, Callers: callers})
	}
	return out
}

// apiMe serves GET /me.
func (s *API) apiMe(w http.ResponseWriter, r *http.Request) {
	p, _ := shared.Principal(r)
	s.reply(w, r, whoIs(p, s.Cfg.Actions), nil)
}
