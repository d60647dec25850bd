package rest

import (
	"net/http"
	"sync"

	"github.com/callin-radio/callin/web/control"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
	"github.com/go-chi/chi/v5"
)

// API serves the automation API: JSON under /api/v1.
type API struct {
	*core.Core
	// events are each show's event stream, by key.
	events map[string]*events
	// settingsMu serialises PATCH settings: If-Match and the change.
	settingsMu sync.Mutex
}

// New is the API over c, with its event stream of each of c's
// shows.
func New(c *core.Core) *API {
	a := &API{Core: c, events: map[string]*events{}}
	for _, k := range c.Keys {
		a.events[k] = newEvents(&c.Cfg, c.Log, k, c.Hubs[k].AirLimitNow)
	}
	return a
}

// Side is the API's side of show key (its event stream), for its hub to
// follow.
func (s *API) Side(key string) core.Side { return s.events[key] }

// Routes are the automation API's: JSON with bearer tokens.
func (s *API) Routes(r chi.Router) {
	r.Get("/openapi.json", s.apiOpenAPI)
	r.Group(func(r chi.Router) {
		r.Use(s.Cfg.Auth.RequireBearer)
		r.Use(s.idempotent) // POSTs with an Idempotency-Key: done once
		r.Get("/shows", s.apiShows)
		r.Get("/shows/{show}", s.apiShow)
		r.Get("/shows/{show}/settings", s.apiSettings)
		r.Patch("/shows/{show}/settings", s.apiChangeSettings)
		r.Get("/shows/{show}/callers", s.apiCallers)
		r.Get("/shows/{show}/callers/{call}", s.apiCaller)
		r.Get("/shows/{show}/callers/{call}/line-quality", s.apiLineQuality)
		r.Get("/me", s.apiMe)
		for _, a := range s.Cfg.Actions {
			r.Post("/shows/{show}/callers/{call}/"+a.Path, s.apiAct(a))
		}
		for _, c := range control.Table {
			if c.Path != "" {
				r.Method(c.Method, "/shows/{show}"+c.Path, s.apiControl(c))
			}
		}
		r.Post("/shows/{show}/take-next", s.apiTakeNext)
		r.Get("/shows/{show}/on-air", s.apiOnAir)
		r.Get("/shows/{show}/recordings", s.apiRecordings)
		r.Get("/shows/{show}/recordings/{recording}/file", s.apiRecordingFile)
		r.Get("/shows/{show}/chat", s.apiChat)
		r.Post("/shows/{show}/chat", s.apiPostChat)
		r.Get("/shows/{show}/calls", s.apiShowCalls)
		r.Get("/shows/{show}/transitions", s.apiShowTransitions)
		r.Get("/shows/{show}/events", s.apiEvents)
		r.Get("/callers", s.apiSearch)
		r.Get("/callers/{number}", s.apiHistory)
		r.Get("/callers/{number}/calls", s.apiCallerCalls)
		r.Get("/callers/{number}/notes", s.apiGetNotes)
		r.Put("/callers/{number}/notes", s.apiPutNotes)
		r.Patch("/callers/{number}/notes", s.apiPatchNotes)
		r.Put("/callers/{number}/block", s.apiBlock)
		r.Delete("/callers/{number}/block", s.apiUnblock)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.APIFail(w, r, shared.InvalidRoute(r))
	})
	r.MethodNotAllowed(s.methodNotAllowed(r))
}
