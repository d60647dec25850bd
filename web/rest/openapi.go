package rest

import (
	"net/http"
	"slices"

	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/api"
)

// The OpenAPI document of /api/v1 is package api's (api.Document): its
// fixed operations and schemas are there, made from the API's Go types;
// the caller actions' operations come from the table of caller actions.
// TestOpenAPIMatchesRoutes checks it against the router both ways, the
// API tests validate every request the service accepts and every answer
// it gives against it (webenv.ValidateAPI, in every test of a whole
// Server), and the committed copy apiclient/openapi.json, from which the
// Go client is generated, must equal it (TestOpenAPIFileCurrent).

// apiOps is every operation of /api/v1 with the table of caller actions.
var apiOps = apiOpsFor(action.Table)

// apiOpsFor is every operation of /api/v1 with the caller actions acts:
// api.FixedOps, then one operation per caller action.
func apiOpsFor(acts []action.Action) []api.Op {
	ops := slices.Clone(api.FixedOps)
	for _, a := range acts {
		ops = append(ops, api.CallerActionOp(a.Path, a.Name, a.Op.ID, a.Op.Who, a.Op.Desc, a.Body.Schema, a.Op.Accepted, a.Op.Telephony))
	}
	return ops
}

// docHost is the host the committed document's server names; the served
// document names the one the client used.
const docHost = api.DocHost

// OpenAPI builds the OpenAPI 3 document of /api/v1 for a client that
// reaches callin at host.
func OpenAPI(host string) map[string]any { return OpenAPIFor(host, action.Table) }

// OpenAPIFor is OpenAPI with the caller actions acts.
func OpenAPIFor(host string, acts []action.Action) map[string]any {
	return api.Document(host, apiOpsFor(acts))
}

// apiOpenAPI serves the document, naming the host the client used.
func (s *API) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if host == "" {
		host = docHost
	}
	s.WriteJSON(w, r, http.StatusOK, OpenAPIFor(host, s.Cfg.Actions))
}
