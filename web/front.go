package web

import (
	"context"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"

	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/shared"
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
	for _, a := range s.Cfg.AllowedHosts {
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
			s.Refusals.Log(s.Log, "web: request for a host not allowed", "host", r.Host, "path", r.URL.Path)
			p := api.NewProblem(http.StatusMisdirectedRequest, api.CodeBadRequest, "this server does not answer for that host name (see --allowed-hosts)")
			p.Field = "Host"
			s.WriteProblem(w, r, p)
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
			s.Log.Error("web: panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()),
				"request_id", shared.RequestIDOf(r))
			s.WriteProblem(w, r, api.NewProblem(http.StatusInternalServerError, api.CodeInternal, "internal error"))
		}()
		next.ServeHTTP(w, r)
	})
}

// bound is middleware that holds every request body to MaxBodyBytes and
// refuses multipart bodies, before any handler parses a form: Go's
// defaults would keep 32 MB of a multipart form in memory, before the
// login even looks at it.
func (s *Server) bound(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			if mt, _, _ := mime.ParseMediaType(ct); mt == "multipart/form-data" {
				w.Header().Set("Connection", "close")
				s.APIFail(w, r, &shared.InputError{Status: http.StatusUnsupportedMediaType, Field: "body", Message: "multipart bodies are not accepted; send application/x-www-form-urlencoded or JSON"})
				return
			}
		}
		if r.ContentLength > s.Limits.MaxBodyBytes {
			w.Header().Set("Connection", "close")
			s.APIFail(w, r, shared.TooLarge(s.Limits.MaxBodyBytes))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.Limits.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// Security headers of every answer. The console loads scripts and styles
// from /static only, so the policy allows nothing inline (htmx runs with
// allowEval off, see layout.templ); no page may be framed; a link out of
// the console carries no referrer (pages have phone numbers in their
// paths).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure is middleware that sets the security headers, and forbids caching
// of everything but /static: pages and API answers carry phone numbers.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !isStatic(r.URL.Path) {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func isStatic(path string) bool { return strings.HasPrefix(path, "/static/") }
