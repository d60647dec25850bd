package web

import (
	"context"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/callin-radio/callin/web/api"
	"github.com/go-chi/chi/v5"
)

// Front is the middleware for what the service serves beside the console
// and the API (/healthz, /readyz, /metrics): the security headers every
// answer carries and the allowed-hosts check (Config.AllowedHosts).
// cmd/callin puts it in front of its whole mux.
func (s *Server) Front(next http.Handler) http.Handler {
	return s.secure(s.hosts(next))
}

// hostAllowed reports whether a request's Host header names this
// service. An IP literal always passes: DNS rebinding, the attack this
// check stops, works only through a name (the browser sends the
// attacker's name as Host), and probes and proxies often use the
// address. A name passes if it is localhost or listed in
// Config.AllowedHosts ("*" lets any through).
func (s *Server) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return false
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return true
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, a := range s.cfg.AllowedHosts {
		if a == "*" || strings.TrimSuffix(strings.ToLower(a), ".") == host {
			return true
		}
	}
	return false
}

// hosts is middleware that refuses (421 Misdirected Request) a request
// whose Host header names no allowed host: a page on an attacker's name
// that resolves to callin's address (DNS rebinding) reaches nothing, not
// /login nor /metrics.
func (s *Server) hosts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			s.refusals.log(s.log, "web: request for a host not allowed", "host", r.Host, "path", r.URL.Path)
			s.writeJSON(w, r, http.StatusMisdirectedRequest, api.Error{Error: api.ErrorBody{Code: api.CodeBadRequest,
				Message: "this server does not answer for that host name (see --allowed-hosts)", Field: "Host"}})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// getHead lets HEAD through every GET route (chi answers it 405
// otherwise); net/http sends no body for it. An event stream answered to
// HEAD ends at its first flush, once the headers are out: it has nothing
// more to send.
func getHead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			r = r.WithContext(ctx)
			w = &headWriter{ResponseWriter: w, cancel: cancel}
			rctx := chi.RouteContext(r.Context())
			path := rctx.RoutePath
			if path == "" {
				path = r.URL.RawPath
				if path == "" {
					path = r.URL.Path
				}
			}
			if !rctx.Routes.Match(chi.NewRouteContext(), http.MethodHead, path) {
				rctx.RouteMethod = http.MethodGet
				rctx.RoutePath = path
			}
		}
		next.ServeHTTP(w, r)
	})
}

// headWriter ends a HEAD request's context at its first flush.
type headWriter struct {
	http.ResponseWriter
	cancel func()
}

func (h *headWriter) Flush() {
	_ = http.NewResponseController(h.ResponseWriter).Flush()
	h.cancel()
}

func (h *headWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

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

// refusalEvery is the most often a kind of refusal is logged: a flood
// of refused streams or hosts fills no log, the count of those not
// logged is in the next line.
const refusalEvery = 10 * time.Second

// limitedLog logs a line per message at most every refusalEvery, at
// warning level, counting the ones it leaves out. It reads the wall
// clock, not Config.Now: it paces the log, which is in real time.
type limitedLog struct {
	mu   sync.Mutex
	last map[string]time.Time
	left map[string]int
}

func (l *limitedLog) log(log *slog.Logger, msg string, args ...any) {
	now := time.Now()
	l.mu.Lock()
	if l.last == nil {
		l.last, l.left = map[string]time.Time{}, map[string]int{}
	}
	if now.Sub(l.last[msg]) < refusalEvery {
		l.left[msg]++
		l.mu.Unlock()
		return
	}
	left := l.left[msg]
	l.last[msg], l.left[msg] = now, 0
	l.mu.Unlock()
	if left > 0 {
		args = append(args, "not_logged_since_last", left)
	}
	log.Warn(msg, args...)
}
