package web

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/clientaddr"
	"github.com/callin-radio/callin/web/control"
	"github.com/callin-radio/callin/web/shared"
	"github.com/callin-radio/callin/web/stream"
	"github.com/go-chi/chi/v5"
)

//go:embed static
var staticFS embed.FS

// Config configures a Server. Shows, Feed, Callers, Controls and Auth are
// required; History may be nil (no caller pages, search, reports or
// badges), and so may Chat (the chat is then kept in memory only and lost
// on restart).
type Config struct {
	Shows    Shows
	Feed     Feed
	Callers  Callers
	Controls Controls
	History  History
	Chat     Chat
	Auth     Auth
	Logger   *slog.Logger
	Now      func() time.Time

	// RenderEvery is the most often a show's console fragments are
	// re-rendered: updates within it are coalesced (default 25 ms).
	RenderEvery time.Duration
	// Heartbeat is the SSE comment interval that keeps proxies from
	// closing idle streams (default 15 s).
	Heartbeat time.Duration
	// Ring is how many transitions per show the event stream keeps for
	// Last-Event-ID resumption (default 4096).
	Ring int
	// ClientBuffer is each SSE client's buffer in messages; a client that
	// falls this far behind is disconnected (default 256).
	ClientBuffer int
	// WaitingRows is the most plain waiting callers a console lists; the
	// rest are counted in a last row, "… and N more waiting" (default
	// 500). The counts at the top stay exact.
	WaitingRows int
	// Limits bound request bodies and event streams (zero fields: the
	// defaults of DefaultLimits). The server's timeouts and connection
	// bound are Limits.HTTPServer's and Limits.Listener's.
	Limits Limits
	// Talkback says, per show key, which phones and media a talkback may
	// use; a show without an entry may ring only the user's own phone and
	// play only plain sound: prompts (see TalkbackRules).
	Talkback map[string]TalkbackRules
	// Blocks, when set, is told of every block and unblock so callers
	// already in line are flagged (*broadcast.App satisfies it).
	Blocks Blocks
	// Recordings, when set, lists the shows' recordings and serves their
	// files; nil: the recordings routes answer 404.
	Recordings Recordings
	// Pages, when set, reads the API's lists a page at a time (?limit,
	// ?cursor; *postgres.Store adapted by cmd/callin) and streams the CSV
	// exports; nil: each list answers in one page.
	Pages Pages
	// Idempotency, when set, keeps the API's Idempotency-Key answers
	// (*postgres.Store adapted by cmd/callin); nil: the header is ignored.
	Idempotency Idempotency
	// Phones, when set, keeps people's phones; the settings page sets
	// one's own. nil: no phones here.
	Phones Phones
	// PhoneRule is what a person's phone may be here (serve's
	// --phones-allowed): the settings page says it and refuses any other.
	// The zero rule is queue.DefaultPhonesAllowed.
	PhoneRule queue.PhoneRule
	// Notes, when set, keeps the caller notes producers write on a row
	// and a caller's page (*postgres.Store satisfies it); nil: no notes.
	Notes CallerNotes
	// AllowedHosts are the host names (no port) requests may name in
	// their Host header, besides localhost and IP literals, which always
	// pass; "*" allows any. Others are refused with 421, so that a name
	// rebound to callin's address (DNS rebinding) reaches nothing.
	AllowedHosts []string
	// Proxies are the trusted proxies whose forwarding header names the
	// client (see ClientAddr); nil: none.
	Proxies *clientaddr.Proxies

	// actions is the table of caller actions (default action.Table): a
	// test adds one.
	actions []action.Action

	retry time.Duration // wait before retrying a failed subscribe or chat load (tests shorten it)
	// rendered is told how many line rows each render of a role rendered
	// rather than took from the cache (a test signal).
	rendered testsignal.Signal[renderedRows]
}

// Server serves the producer console and the REST API. Run must be running
// for live updates. It wires the two audiences: each has a type of its
// own (consoleUI, restAPI) over what they share (core); Server keeps the
// front (front.go), the bounds (limits.go) and the routes.
type Server struct {
	*core
	console *consoleUI
	api     *restAPI
}

// consoleUI serves the console: HTML pages and fragments for a browser
// session, and its static files.
type consoleUI struct {
	*core
	static http.Handler
	// shows are the console's side of each show, by key.
	shows map[string]*consoleShow
	// exports are the report's CSV downloads by name (calls,
	// transitions): the API's exports, wired by New.
	exports map[string]http.HandlerFunc
}

// restAPI serves the automation API: JSON under /api/v1.
type restAPI struct {
	*core
	// events are each show's event stream, by key.
	events map[string]*events
}

// New builds a Server for the shows cfg.Shows lists at this moment.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RenderEvery <= 0 {
		cfg.RenderEvery = 25 * time.Millisecond
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.Ring <= 0 {
		cfg.Ring = 4096
	}
	if cfg.ClientBuffer <= 0 {
		cfg.ClientBuffer = 256
	}
	if cfg.WaitingRows <= 0 {
		cfg.WaitingRows = 500
	}
	if cfg.actions == nil {
		cfg.actions = action.Table
	}
	if cfg.retry <= 0 {
		cfg.retry = time.Second
	}
	cfg.Limits = cfg.Limits.orDefault()
	c := &core{cfg: cfg, log: cfg.Logger, limits: cfg.Limits, hubs: map[string]*hub{}}
	c.streams = c.newStreams()
	c.keys = slices.Sorted(slices.Values(cfg.Shows.Shows()))
	sub, _ := fs.Sub(staticFS, "static")
	a := &restAPI{core: c, events: map[string]*events{}}
	ui := &consoleUI{core: c, static: http.StripPrefix("/static/", staticFiles(sub)), shows: map[string]*consoleShow{},
		exports: map[string]http.HandlerFunc{"calls": a.apiShowCalls, "transitions": a.apiShowTransitions}}
	for _, k := range c.keys {
		h := newHub(&c.cfg, c.log, k)
		a.events[k] = newEvents(&c.cfg, c.log, k, h.airLimitNow)
		ui.shows[k] = newConsoleShow(h)
		h.follow(a.events[k], ui.shows[k])
		c.hubs[k] = h
	}
	return &Server{core: c, console: ui, api: a}
}

// newStreams is the server's event streams, bounded by its Limits.
func (s *core) newStreams() *stream.Server {
	l := s.limits
	return stream.NewServer(stream.Config{
		Limits: stream.Limits{Max: l.MaxStreams, Reserved: l.StreamsReserved, PerUser: l.StreamsPerUser, Share: l.StreamShare,
			WriteTimeout: l.StreamWriteTimeout, Recheck: l.StreamRecheck},
		Heartbeat:    s.cfg.Heartbeat,
		Authenticate: func(r *http.Request) (auth.Principal, error) { return s.cfg.Auth.Authenticate(r) },
		Fail:         s.apiFail,
		Log:          s.log,
	})
}

// Run keeps every show's live feed until ctx ends. Call it once.
// CallerChanged says that a caller's profile (a block, caller notes)
// changed elsewhere, through another callin instance: every console fetches
// what it shows of the number again at its next render.
func (s *Server) CallerChanged(number string) {
	for _, h := range s.hubs {
		h.forget(number)
	}
}

func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, h := range s.hubs {
		wg.Go(func() { h.run(ctx) })
	}
	wg.Wait()
	return nil
}

// Handler returns the HTTP handler: the route table.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.secure, s.hosts, getHead, s.bound)

	r.Handle("/static/*", s.console.static)
	r.Get("/login", s.console.loginPage)
	r.Method(http.MethodPost, "/login", s.cfg.Auth.LoginHandler(s.console.loginFail))
	// Outside the session check: logging out of a session that has
	// already ended still clears the cookie and goes to the login page.
	r.Post("/logout", s.logout)

	r.Group(s.consoleRoutes)
	r.Route("/api/v1", s.apiRoutes)
	return r
}

// consoleRoutes are the console's: HTML pages and fragments for a browser
// session.
func (s *Server) consoleRoutes(r chi.Router) {
	r.Use(s.cfg.Auth.RequireSession)
	r.Get("/", s.console.home)
	r.Get("/shows/{show}", s.console.showPage)
	r.Get("/shows/{show}/live", s.console.showLive)
	r.Post("/shows/{show}/callers/{call}/{action}", s.console.consoleAct)
	r.Post("/shows/{show}/take-next", s.console.consoleTakeNext)
	r.Post("/shows/{show}/controls/{control}", s.console.consoleControl)
	r.Post("/shows/{show}/chat", s.console.consoleChat)
	r.Get("/shows/{show}/report", s.console.reportPage)
	r.Get("/shows/{show}/report/{export}.csv", s.console.reportCSV)
	r.Get("/shows/{show}/host", s.console.hostPage)
	r.Get("/callers", s.console.searchPage)
	r.Get("/settings", s.console.settingsPage)
	r.Get("/shows/{show}/recordings", s.console.recordingsPage)
	r.Get("/shows/{show}/recordings/{recording}/file", s.console.consoleRecordingFile)
	r.Post("/settings/phone", s.console.settingsPhone)
	r.Get("/callers/{number}", s.console.callerPage)
	r.Get("/callers/{number}/notes", s.console.notesDialog)
	r.Post("/callers/{number}/notes", s.console.consoleNotes)
	r.Post("/callers/{number}/block", s.console.consoleBlock)
	r.Post("/callers/{number}/unblock", s.console.consoleUnblock)
}

// apiRoutes are the automation API's: JSON with bearer tokens.
func (s *Server) apiRoutes(r chi.Router) {
	r.Get("/openapi.json", s.api.apiOpenAPI)
	r.Group(func(r chi.Router) {
		r.Use(s.cfg.Auth.RequireBearer)
		r.Use(s.api.idempotent) // POSTs with an Idempotency-Key: done once
		r.Get("/shows", s.api.apiShows)
		r.Get("/shows/{show}", s.api.apiShow)
		r.Get("/shows/{show}/settings", s.api.apiSettings)
		r.Patch("/shows/{show}/settings", s.api.apiChangeSettings)
		r.Get("/shows/{show}/callers", s.api.apiCallers)
		r.Get("/shows/{show}/callers/{call}", s.api.apiCaller)
		r.Get("/shows/{show}/callers/{call}/line-quality", s.api.apiLineQuality)
		r.Get("/me", s.api.apiMe)
		for _, a := range s.cfg.actions {
			r.Post("/shows/{show}/callers/{call}/"+a.Path, s.api.apiAct(a))
		}
		for _, c := range control.Table {
			if c.Path != "" {
				r.Method(c.Method, "/shows/{show}"+c.Path, s.api.apiControl(c))
			}
		}
		r.Post("/shows/{show}/take-next", s.api.apiTakeNext)
		r.Get("/shows/{show}/on-air", s.api.apiOnAir)
		r.Get("/shows/{show}/recordings", s.api.apiRecordings)
		r.Get("/shows/{show}/recordings/{recording}/file", s.api.apiRecordingFile)
		r.Get("/shows/{show}/chat", s.api.apiChat)
		r.Post("/shows/{show}/chat", s.api.apiPostChat)
		r.Get("/shows/{show}/calls", s.api.apiShowCalls)
		r.Get("/shows/{show}/transitions", s.api.apiShowTransitions)
		r.Get("/shows/{show}/events", s.api.apiEvents)
		r.Get("/callers", s.api.apiSearch)
		r.Get("/callers/{number}", s.api.apiHistory)
		r.Get("/callers/{number}/calls", s.api.apiCallerCalls)
		r.Get("/callers/{number}/notes", s.api.apiGetNotes)
		r.Put("/callers/{number}/notes", s.api.apiPutNotes)
		r.Put("/callers/{number}/block", s.api.apiBlock)
		r.Delete("/callers/{number}/block", s.api.apiUnblock)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.apiFail(w, r, shared.InvalidRoute(r))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, r, http.StatusMethodNotAllowed, api.Error{Error: api.ErrorBody{Code: "method_not_allowed", Message: r.Method + " not allowed on " + r.URL.Path}})
	})
}

// ClientAddr returns r's client address: the connection's or, from a
// trusted proxy (Config.Proxies), the one the proxy names. Limits keyed on
// clients use it.
func (s *Server) ClientAddr(r *http.Request) netip.Addr { return s.cfg.Proxies.Addr(r) }

// logout ends the session with auth's LogoutHandler (CSRF-checked; the
// cookie is cleared and the browser sent to the login page, also when the
// session had already ended) and, when it ended a live session, that
// session's open event streams at once.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	p, err := s.cfg.Auth.Authenticate(r)
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.cfg.Auth.LogoutHandler().ServeHTTP(sw, r)
	if err == nil && p.Kind == auth.KindUser && sw.status < http.StatusBadRequest {
		s.streams.End(p.Key, stream.ErrLoggedOut)
	}
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
