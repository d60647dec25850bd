package rest

import (
	"net/http"
	"strings"

	"github.com/callin-radio/callin/web/api"
	"github.com/go-chi/chi/v5"
)

// methods are the methods a route of the API may have, in Allow's order.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// methodNotAllowed answers a method a path of routes does not have: a 405
// problem with Allow naming the methods it has (RFC 9110 requires it;
// chi's own 405 says it, a handler of ours must too). HEAD is allowed
// wherever GET is (getHead).
func (s *API) methodNotAllowed(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		path = strings.TrimPrefix(path, "/api/v1")
		var allow []string
		for _, m := range methods {
			probe := m
			if m == http.MethodHead {
				probe = http.MethodGet
			}
			if routes.Match(chi.NewRouteContext(), probe, path) {
				allow = append(allow, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.WriteProblem(w, r, api.NewProblem(http.StatusMethodNotAllowed, api.CodeMethod,
			r.Method+" is not allowed here; this path allows "+strings.Join(allow, ", ")))
	}
}
