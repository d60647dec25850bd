package core

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/shared"
)

// WriteJSON writes v with status; an encoding failure is logged.
func (s *Core) WriteJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.Log.Warn("web: write json", "path", r.URL.Path, "err", err)
	}
}

// APIFail writes err as a problem (RFC 9457) and logs it: server faults
// at error level, refusals at debug.
func (s *Core) APIFail(w http.ResponseWriter, r *http.Request, err error) {
	status, p := shared.Classify(err)
	s.LogFail(r, status, err)
	s.WriteProblem(w, r, p)
}

// WriteProblem writes p; an encoding failure is logged.
func (s *Core) WriteProblem(w http.ResponseWriter, r *http.Request, p api.Problem) {
	if err := shared.WriteProblem(w, p); err != nil {
		s.Log.Warn("web: write problem", "path", r.URL.Path, "err", err)
	}
}

func (s *Core) LogFail(r *http.Request, status int, err error) {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		// A refusal for want of room (streams, a node down), not a fault:
		// a flood of them must not fill the log.
		s.Refusals.Log(s.Log, "web: request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err,
			"request_id", shared.RequestIDOf(r))
		return
	}
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	s.Log.Log(r.Context(), level, "web: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err,
		"request_id", shared.RequestIDOf(r))
}
