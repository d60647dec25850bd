package shared

import (
	"net/http"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// Principal returns the request's principal (put there by auth's
// middlewares) and its queue.Actor.
func Principal(r *http.Request) (auth.Principal, queue.Actor) {
	p, _ := auth.PrincipalFrom(r.Context())
	kind := queue.ActorUser
	if p.Kind == auth.KindToken {
		kind = queue.ActorToken
	}
	return p, queue.Actor{Kind: kind, Name: p.Name}
}

// Allow returns an error wrapping ErrForbidden unless the request's role
// may do action.
func Allow(r *http.Request, action auth.Action) error {
	p, _ := Principal(r)
	if !auth.Can(p.Role, action) {
		return Forbidden(string(p.Role), string(action))
	}
	return nil
}
