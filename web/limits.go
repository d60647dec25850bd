package web

import (
	"log"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Limits bound what one client can hold of the service: time, memory,
// connections and event streams. This is the one place the numbers are
// stated (the README's "Limits and timeouts" lists them); serve uses
// DefaultLimits. Zero fields take the defaults.
//
// Two kinds of route stream and are bounded differently: the console's
// GET /shows/{show}/live and the API's GET /api/v1/shows/{show}/events.
// They lift WriteTimeout, and instead every write must finish within
// StreamWriteTimeout (a client that stops reading is cut off), a
// heartbeat goes out every Config.Heartbeat, the credentials are checked
// again every StreamRecheck, and a logout ends the session's streams at
// once. Every other route is an ordinary request bounded by the timeouts.
// (ReadTimeout bounds reading a request only: net/http lifts it once the
// body is read, so a long action keeps its context.)
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included: a body
	// trickled a byte at a time is cut off.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its response: it must outlast the slowest action (a drop after a
	// goodbye prompt waits up to broadcast's 30 s PlaybackTimeout).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends no request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request's body (forms and JSON); a longer one
	// is refused with 413 before it is read, or cut off when it exceeds
	// the bound. Multipart bodies are refused (415): nothing takes uploads.
	MaxBodyBytes int64
	// MaxConns bounds the open connections; beyond it new connections
	// wait in the kernel's backlog until one closes.
	MaxConns int
	// MaxStreams bounds the open event streams of the whole service (503
	// beyond it); StreamsPerCredential those of one session or token (429
	// beyond it).
	MaxStreams           int
	StreamsPerCredential int
	// StreamWriteTimeout bounds each write (and flush) of an event stream.
	StreamWriteTimeout time.Duration
	// StreamRecheck is how often an event stream checks its session or
	// token again: a revoked token or an ended session loses its streams
	// within this time.
	StreamRecheck time.Duration
}

// DefaultLimits returns the limits serve runs with.
func DefaultLimits() Limits {
	return Limits{
		ReadHeaderTimeout:    5 * time.Second,
		ReadTimeout:          15 * time.Second,
		WriteTimeout:         60 * time.Second,
		IdleTimeout:          60 * time.Second,
		MaxHeaderBytes:       16 << 10,
		MaxBodyBytes:         64 << 10,
		MaxConns:             4096,
		MaxStreams:           2000,
		StreamsPerCredential: 8,
		StreamWriteTimeout:   15 * time.Second,
		StreamRecheck:        10 * time.Second,
	}
}

// orDefault fills the zero fields of l from DefaultLimits.
func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	dur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	num := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	dur(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	dur(&l.ReadTimeout, d.ReadTimeout)
	dur(&l.WriteTimeout, d.WriteTimeout)
	dur(&l.IdleTimeout, d.IdleTimeout)
	dur(&l.StreamWriteTimeout, d.StreamWriteTimeout)
	dur(&l.StreamRecheck, d.StreamRecheck)
	num(&l.MaxHeaderBytes, d.MaxHeaderBytes)
	num(&l.MaxConns, d.MaxConns)
	num(&l.MaxStreams, d.MaxStreams)
	num(&l.StreamsPerCredential, d.StreamsPerCredential)
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	return l
}

// HTTPServer returns an http.Server for h with l's timeouts and header
// bound. Serve it on l.Listener.
func (l Limits) HTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	l = l.orDefault()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          errorLog,
	}
}

// Listener returns ln holding at most l.MaxConns connections open at once.
func (l Limits) Listener(ln net.Listener) net.Listener {
	l = l.orDefault()
	return &limitListener{Listener: ln, slots: make(chan struct{}, l.MaxConns), done: make(chan struct{})}
}

// limitListener accepts a connection only when a slot is free; closing the
// connection frees it.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
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
				s.apiFail(w, r, &inputError{http.StatusUnsupportedMediaType, "body", "multipart bodies are not accepted; send application/x-www-form-urlencoded or JSON"})
				return
			}
		}
		if r.ContentLength > s.limits.MaxBodyBytes {
			w.Header().Set("Connection", "close")
			s.apiFail(w, r, tooLarge(s.limits.MaxBodyBytes))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.limits.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// tooLarge is the error for a body over the limit.
func tooLarge(limit int64) error {
	return &inputError{http.StatusRequestEntityTooLarge, "body", "must be at most " + byteCount(limit)}
}

func byteCount(n int64) string {
	if n%1024 == 0 {
		return itoa(int(n/1024)) + " KiB"
	}
	return itoa(int(n)) + " bytes"
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
