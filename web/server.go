package web

import (
	"context"
	"net/http"
	"net/netip"
	"sync"

	"github.com/callin-radio/callin/web/console"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/rest"
	"github.com/callin-radio/callin/web/shared"
	"github.com/go-chi/chi/v5"
)

// Server serves the producer console and the REST API. Run must be running
// for live updates. It wires the two audiences: the console (package
// web/console) and the API (package web/rest), each over what they share
// (package web/core); Server keeps the front (front.go) and the route
// table.
type Server struct {
	*core.Core
	console *console.Console
	api     *rest.API
}

// New builds a Server for the shows cfg.Shows lists at this moment: the
// core they share, then each audience over it, each show's hub following
// both sides of the show.
func New(cfg Config) *Server {
	c := core.New(cfg)
	a := rest.New(c)
	ui := console.New(c)
	for _, k := range c.Keys {
		c.Hubs[k].Follow(a.Side(k), ui.Side(k))
	}
	return &Server{Core: c, console: ui, api: a}
}

// CallerChanged says that a caller's profile (a block, caller notes)
// changed elsewhere, through another callin instance: every console fetches
// what it shows of the number again at its next render.
func (s *Server) CallerChanged(number string) {
	for _, h := range s.Hubs {
		h.Forget(number)
	}
}

// Run keeps every show's live feed until ctx ends. Call it once.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, h := range s.Hubs {
		wg.Go(func() { h.Run(ctx) })
	}
	wg.Wait()
	return nil
}

// Handler returns the HTTP handler: the route table.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(shared.RequestID, s.recoverer, s.secure, s.hosts, getHead, s.bound)

	s.console.Public(r)
	r.Group(s.console.Routes)
	r.Route("/api/v1", s.api.Routes)
	return r
}

// ClientAddr returns r's client address: the connection's or, from a
// trusted proxy (Config.Proxies), the one the proxy names. Limits keyed on
// clients use it.
func (s *Server) ClientAddr(r *http.Request) netip.Addr { return s.Cfg.Proxies.Addr(r) }
