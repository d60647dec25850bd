package core

import (
	"container/list"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/ratelimit"
	"github.com/callin-radio/callin/web/shared"
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
	// MaxConns bounds the open connections. A new connection beyond it
	// ends the longest-idle keep-alive connection, or, when none is idle,
	// waits in the kernel's backlog until one closes or goes idle.
	MaxConns int
	// MaxConnsPerAddress bounds the open connections of one client
	// address (an IPv6 one by its /64): a new one beyond it ends that
	// address's longest-idle connection, or is answered 503 and closed.
	MaxConnsPerAddress int
	// ConnRatePerAddress bounds how fast one client address (as
	// MaxConnsPerAddress counts it) opens connections: a bucket of
	// ConnBurstPerAddress, refilled at ConnRatePerAddress a second. A
	// connection beyond it is answered 429 (Retry-After) and closed as it
	// is accepted: no goroutine, no request read, no log line; an address
	// that goes on regardless has its further connections reset unanswered
	// (see answeredRefusals).
	ConnRatePerAddress  float64
	ConnBurstPerAddress int
	// TrustedProxies are addresses (a TLS proxy in front of callin) whose
	// connections neither MaxConnsPerAddress nor ConnRatePerAddress caps:
	// they carry many clients. None by default. See connPool for why the
	// connecting address, not X-Forwarded-For, decides.
	TrustedProxies []netip.Prefix
	// MaxProbes bounds the requests to /healthz, /readyz and /metrics
	// running at once (503 beyond it); see Probes.
	MaxProbes int
	// MaxStreams bounds the open event streams of the whole service (503
	// beyond it). StreamsReserved of them are kept for admins and
	// producers (users and tokens): hosts and screeners together get 503
	// once MaxStreams-StreamsReserved are open. Zero takes a tenth of
	// MaxStreams; negative reserves none.
	MaxStreams      int
	StreamsReserved int
	// StreamsPerUser bounds the open event streams of one user, all their
	// sessions together, or of one API token (429 beyond it); StreamShare
	// is the most of MaxStreams (a fraction) one user or token may hold
	// whatever StreamsPerUser says: the smaller bound applies.
	StreamsPerUser int
	StreamShare    float64
	// SessionsPerUser bounds the console sessions of one user: a login
	// beyond it ends that user's sessions seen longest ago (serve gives
	// it to auth.Config.MaxSessions).
	SessionsPerUser int
	// LoginsPerUser bounds the successful logins of one user an hour,
	// a quarter of them at once (serve gives it to
	// auth.Config.LoginsPerUser).
	LoginsPerUser int
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
		ReadHeaderTimeout:  5 * time.Second,
		ReadTimeout:        15 * time.Second,
		WriteTimeout:       60 * time.Second,
		IdleTimeout:        60 * time.Second,
		MaxHeaderBytes:     16 << 10,
		MaxBodyBytes:       64 << 10,
		MaxConns:           4096,
		MaxConnsPerAddress: 128,
		MaxProbes:          16,
		MaxStreams:         2000,
		StreamsReserved:    0, // a tenth of MaxStreams: 200
		StreamsPerUser:     16,
		StreamShare:        0.05,
		SessionsPerUser:    auth.DefaultMaxSessions,
		StreamWriteTimeout: 15 * time.Second,
		StreamRecheck:      10 * time.Second,

		// A browser opens up to 6 connections at once and keeps them;
		// a script without keep-alive opens one a request.
		ConnRatePerAddress:  20,
		ConnBurstPerAddress: 100,
		LoginsPerUser:       auth.DefaultLoginsPerUser,
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
	num(&l.MaxConnsPerAddress, d.MaxConnsPerAddress)
	num(&l.ConnBurstPerAddress, d.ConnBurstPerAddress)
	if l.ConnRatePerAddress <= 0 {
		l.ConnRatePerAddress = d.ConnRatePerAddress
	}
	num(&l.MaxProbes, d.MaxProbes)
	num(&l.MaxStreams, d.MaxStreams)
	num(&l.StreamsPerUser, d.StreamsPerUser)
	num(&l.SessionsPerUser, d.SessionsPerUser)
	num(&l.LoginsPerUser, d.LoginsPerUser)
	if l.StreamsReserved < 0 {
		l.StreamsReserved = 0 // none; zero takes the default
	} else if l.StreamsReserved == 0 {
		l.StreamsReserved = l.MaxStreams / 10
	}
	l.StreamsReserved = min(l.StreamsReserved, l.MaxStreams-1)
	if l.StreamShare <= 0 || l.StreamShare > 1 {
		l.StreamShare = d.StreamShare
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	return l
}

// HTTPServer returns an http.Server for h with l's timeouts and header
// bound. Serve it on l.Listener: the server tells the listener which of
// its connections are idle (ConnState), so that a full pool drops those
// first.
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
		ConnState:         trackConnState,
	}
}

// Listener returns ln holding at most l.MaxConns connections open at once,
// and at most l.MaxConnsPerAddress of one client address, opened no
// faster than l.ConnRatePerAddress (see connPool).
func (l Limits) Listener(ln net.Listener) net.Listener {
	l = l.orDefault()
	pool := newConnPool(l.MaxConns, l.MaxConnsPerAddress, l.TrustedProxies)
	pool.rate = ratelimit.New(l.ConnRatePerAddress, l.ConnBurstPerAddress, connRateKeys)
	return &limitListener{Listener: ln, pool: pool, done: make(chan struct{}), raw: rawSocket(ln)}
}

// connRateKeys is the most addresses whose connection rate is tracked
// (ratelimit.Limiter's size): a flood from more forgets full buckets
// first.
const connRateKeys = 16384

// limitListener admits each connection it accepts into its pool, or
// refuses it (see connPool.admit).
type limitListener struct {
	net.Listener
	pool      *connPool
	done      chan struct{}
	closeOnce sync.Once
	raw       syscall.RawConn // the TCP listener's socket, if it is one (rawaccept.go)
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		// next closes unanswered the connections of an address past
		// its answered refusals; refused is the rate's answer to others.
		c, key, refused, err := l.next()
		if err != nil {
			return nil, err
		}
		var lc *limitConn
		if err = refused; err == nil {
			lc, err = l.pool.admit(c, key, l.done)
		}
		if errors.Is(err, net.ErrClosed) {
			_ = c.Close()
			return nil, err
		}
		var tooFast *connRateError
		switch {
		case errors.As(err, &tooFast):
			refuse(c, tooFast.answer())
			continue
		case err != nil:
			refuse(c, refusal)
			continue
		}
		return lc, nil
	}
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// refusal is what a connection over its address's cap reads before it is
// closed: a whole HTTP answer, so that a client sees why.
var refusal = func() string {
	body := `{"type":"urn:callin:problem:unavailable","title":"Unavailable","status":503,` +
		`"detail":"too many connections from your address; try again later","code":"unavailable"}` + "\n"
	return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n" +
		"Retry-After: 5\r\nConnection: close\r\nCache-Control: no-store\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
}()

// refuse answers c with answer and closes it. A new connection's send
// buffer is empty, so the write does not block; the deadline is a guard.
func refuse(c net.Conn, answer string) {
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = io.WriteString(c, answer)
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	_ = c.Close()
}

// errAddressFull refuses a connection whose address has its share of the
// pool, none of them idle.
var errAddressFull = errors.New("web: too many connections from one address")

// connPool counts the open connections, in all and per client address,
// and knows which are idle keep-alive connections (between requests, told
// by the http.Server's ConnState; see trackConnState).
//
// A new connection from an address that holds MaxConnsPerAddress ends that
// address's longest-idle connection to make room, or is refused (503) when
// none is idle. A new connection when the pool holds MaxConns ends the
// longest-idle connection of the whole pool, or waits (in Accept; the
// kernel's backlog holds the rest) until a connection closes or goes idle.
// So connections held open doing nothing never keep out a client that has
// a request to make, and one address cannot hold more than its share.
//
// The address is the connecting one (RemoteAddr; an IPv6 address by its
// /64, which one host usually has whole). Behind a proxy every client
// comes from the proxy's address: addresses in TrustedProxies are not
// capped per address (only by MaxConns), the proxy being the one to bound
// its clients. X-Forwarded-For cannot decide here: a connection is
// admitted before any request is read. serve sets Limits.TrustedProxies
// from --trusted-proxies, the list the login limits read X-Forwarded-For
// from (per request).
type connPool struct {
	max, perAddr int
	proxies      []netip.Prefix
	rate         *ratelimit.Limiter // new connections per address; nil: none

	mu      sync.Mutex
	total   int
	byAddr  map[netip.Addr]int
	idle    list.List     // of *limitConn, longest idle first
	changed chan struct{} // a connection closed or went idle
}

func newConnPool(max, perAddr int, proxies []netip.Prefix) *connPool {
	return &connPool{max: max, perAddr: perAddr, proxies: proxies, byAddr: map[netip.Addr]int{},
		changed: make(chan struct{}, 1)}
}

// addrKey is the key of a connection's client address: the address, an
// IPv6 one cut to its /64.
func addrKey(a net.Addr) netip.Addr {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// admit counts c, from key, in the pool, making room as connPool says; it
// returns errAddressFull when c must be refused, and net.ErrClosed when
// done closed while it waited.
func (p *connPool) admit(c net.Conn, key netip.Addr, done <-chan struct{}) (*limitConn, error) {
	capped := p.capped(key)
	for {
		p.mu.Lock()
		var victim *limitConn
		switch {
		case capped && p.byAddr[key] >= p.perAddr:
			victim = p.longestIdle(func(lc *limitConn) bool { return lc.key == key })
			if victim == nil {
				p.mu.Unlock()
				return nil, errAddressFull
			}
		case p.total >= p.max:
			victim = p.longestIdle(nil)
		default:
			p.total++
			p.byAddr[key]++
			p.mu.Unlock()
			if tc, ok := c.(*net.TCPConn); ok {
				// What net.Listen sets on every connection it
				// accepts (15 s), here on the admitted ones only.
				_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true})
			}
			lc := &limitConn{Conn: c, pool: p, key: key}
			return lc, nil
		}
		p.mu.Unlock()
		if victim != nil {
			victim.evict() // its Close frees its slot; then try again
			continue
		}
		select {
		case <-p.changed:
		case <-done:
			return nil, net.ErrClosed
		}
	}
}

// capped reports whether connections from key are capped per address.
func (p *connPool) capped(key netip.Addr) bool {
	for _, pr := range p.proxies {
		if pr.Contains(key) {
			return false
		}
	}
	return true
}

// longestIdle takes out of the idle list and returns its first connection
// that ok accepts (all when ok is nil), or nil. p.mu is held.
func (p *connPool) longestIdle(ok func(*limitConn) bool) *limitConn {
	for e := p.idle.Front(); e != nil; e = e.Next() {
		lc := e.Value.(*limitConn)
		if ok == nil || ok(lc) {
			p.idle.Remove(e)
			lc.idleAt = nil
			lc.evicted = true
			return lc
		}
	}
	return nil
}

// signal wakes an admit waiting for room.
func (p *connPool) signal() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// limitConn is a connection of a connPool: closing it frees its slot.
type limitConn struct {
	net.Conn
	pool *connPool
	key  netip.Addr

	// Under pool.mu:
	idleAt  *list.Element // in pool.idle while the connection is idle
	evicted bool          // ended to make room
	closed  bool
}

// setIdle puts lc in or out of its pool's idle list.
func (lc *limitConn) setIdle(idle bool) {
	p := lc.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if lc.closed || lc.evicted {
		return
	}
	switch {
	case idle && lc.idleAt == nil:
		lc.idleAt = p.idle.PushBack(lc)
		p.signal()
	case !idle && lc.idleAt != nil:
		p.idle.Remove(lc.idleAt)
		lc.idleAt = nil
	}
}

// evict ends an idle connection to make room: the server, waiting for its
// next request, sees it closed.
func (lc *limitConn) evict() { _ = lc.Close() }

func (lc *limitConn) Close() error {
	err := lc.Conn.Close()
	p := lc.pool
	p.mu.Lock()
	if !lc.closed {
		lc.closed = true
		if lc.idleAt != nil {
			p.idle.Remove(lc.idleAt)
			lc.idleAt = nil
		}
		p.total--
		if p.byAddr[lc.key]--; p.byAddr[lc.key] <= 0 {
			delete(p.byAddr, lc.key)
		}
		p.signal()
	}
	p.mu.Unlock()
	return err
}

// trackConnState is the http.Server's ConnState: it tells a limitListener's
// connections when they are idle (a keep-alive connection between
// requests) and when they are not.
func trackConnState(c net.Conn, st http.ConnState) {
	lc, ok := c.(*limitConn)
	if !ok {
		return
	}
	switch st {
	case http.StateIdle:
		lc.setIdle(true)
	case http.StateActive, http.StateHijacked:
		lc.setIdle(false)
	}
}

// Probes returns middleware for the unauthenticated probe endpoints
// (/healthz, /readyz, /metrics): at most Limits.MaxProbes of their requests
// run at once, all of them together (beyond it 503 at once), and each
// answer closes its connection, so that a probe flood neither takes the CPU
// the consoles and the API need nor holds keep-alive connections (a
// monitoring system's probe opens a connection per probe anyway).
func (l Limits) Probes() func(http.Handler) http.Handler {
	l = l.orDefault()
	slots := make(chan struct{}, l.MaxProbes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			select {
			case slots <- struct{}{}:
			default:
				w.Header().Set("Retry-After", "1")
				_ = shared.WriteProblem(w, api.NewProblem(http.StatusServiceUnavailable, api.CodeUnavailable, "too many probes at once"))
				return
			}
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		})
	}
}
