package core

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/a-h/templ"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/shared"
)

// writeJSON writes v with status; an encoding failure is logged.
func (s *core) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Warn("web: write json", "path", r.URL.Path, "err", err)
	}
}

// apiFail writes err as a JSON error and logs it: server faults at error
// level, refusals at debug.
func (s *core) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := shared.Classify(err)
	s.logFail(r, status, err)
	s.writeJSON(w, r, status, api.Error{Error: body})
}

func (s *core) logFail(r *http.Request, status int, err error) {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		// A refusal for want of room (streams, a node down), not a fault:
		// a flood of them must not fill the log.
		s.refusals.log(s.log, "web: request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		return
	}
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "web: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
}

// render writes a templ component as HTML; a failure is logged (the
// response may be partly written by then).
func (s *consoleUI) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		s.log.Warn("web: render", "path", r.URL.Path, "err", err)
	}
}

// pageFail renders err as an HTML error page.
func (s *consoleUI) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := shared.Classify(err)
	s.logFail(r, status, err)
	s.render(w, r, status, errorPage(s.page(r, "Error"), status, body.Message))
}

// recoverer turns a panic into a logged stack and a JSON 500 without
// details. http.ErrAbortHandler is re-panicked, as net/http expects.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("web: panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			s.writeJSON(w, r, http.StatusInternalServerError,
				api.Error{Error: api.ErrorBody{Code: api.CodeInternal, Message: "internal error"}})
		}()
		next.ServeHTTP(w, r)
	})
}
