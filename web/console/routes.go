package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/stream"
	"github.com/go-chi/chi/v5"
)

//go:embed static
var staticFS embed.FS

// Console serves the console: HTML pages and fragments for a browser
// session, and its static files.
type Console struct {
	*core.Core
	static http.Handler
	// shows are the console's side of each show, by key.
	shows map[string]*consoleShow
}

// New is the console over c, with its side of each of c's shows.
func New(c *core.Core) *Console {
	sub, _ := fs.Sub(staticFS, "static")
	ui := &Console{Core: c, static: http.StripPrefix("/static/", staticFiles(sub)), shows: map[string]*consoleShow{}}
	for _, k := range c.Keys {
		ui.shows[k] = newConsoleShow(c.Hubs[k])
	}
	return ui
}

// Side is the console's side of show key, for its hub to follow.
func (s *Console) Side(key string) core.Side { return s.shows[key] }

// Public are the console's routes outside the session check: its static
// files, the login page and the logout.
func (s *Console) Public(r chi.Router) {
	r.Handle("/static/*", s.static)
	r.Get("/login", s.loginPage)
	r.Method(http.MethodPost, "/login", s.Cfg.Auth.LoginHandler(s.loginFail))
	// Outside the session check: logging out of a session that has
	// already ended still clears the cookie and goes to the login page.
	r.Post("/logout", s.logout)
}

// Routes are the console's: HTML pages and fragments for a browser
// session.
func (s *Console) Routes(r chi.Router) {
	r.Use(s.Cfg.Auth.RequireSession)
	r.Get("/", s.home)
	r.Get("/shows/{show}", s.showPage)
	r.Get("/shows/{show}/live", s.showLive)
	r.Post("/shows/{show}/callers/{call}/{action}", s.consoleAct)
	r.Post("/shows/{show}/take-next", s.consoleTakeNext)
	r.Post("/shows/{show}/controls/{control}", s.consoleControl)
	r.Post("/shows/{show}/chat", s.consoleChat)
	r.Get("/shows/{show}/report", s.reportPage)
	r.Get("/shows/{show}/report/{export}.csv", s.reportCSV)
	r.Get("/shows/{show}/host", s.hostPage)
	r.Get("/callers", s.searchPage)
	r.Get("/settings", s.settingsPage)
	r.Get("/shows/{show}/recordings", s.recordingsPage)
	r.Get("/shows/{show}/recordings/{recording}/file", s.consoleRecordingFile)
	r.Post("/settings/phone", s.settingsPhone)
	r.Get("/callers/{number}", s.callerPage)
	r.Get("/callers/{number}/notes", s.notesDialog)
	r.Post("/callers/{number}/notes", s.consoleNotes)
	r.Post("/callers/{number}/block", s.consoleBlock)
	r.Post("/callers/{number}/unblock", s.consoleUnblock)
}

// logout ends the session with auth's LogoutHandler (CSRF-checked; the
// cookie is cleared and the browser sent to the login page, also when the
// session had already ended) and, when it ended a live session, that
// session's open event streams at once.
func (s *Console) logout(w http.ResponseWriter, r *http.Request) {
	p, err := s.Cfg.Auth.Authenticate(r)
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.Cfg.Auth.LogoutHandler().ServeHTTP(sw, r)
	if err == nil && p.Kind == auth.KindUser && sw.status < http.StatusBadRequest {
		s.Streams.End(p.Key, stream.ErrLoggedOut)
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

// staticFiles serves the files of fsys and nothing else: a folder (a path
// ending in / or naming a directory) is 404, not a listing.
func staticFiles(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" || strings.HasSuffix(name, "/") {
			http.NotFound(w, r)
			return
		}
		if st, err := fs.Stat(fsys, name); err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}
