package aritest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/callin-radio/callin/ari"
)

// socket is one events WebSocket. Events are queued on q and written by one
// goroutine, so emitting never blocks the HTTP handlers.
type socket struct {
	s            *Server
	conn         atomic.Pointer[websocket.Conn]
	app          string
	subscribeAll bool
	q            chan []byte
	done         chan struct{}
	once         sync.Once
	flush        chan struct{} // closed by drop: write what is queued, then kill
	flushOnce    sync.Once
	frozen       chan struct{} // closed by freeze: the peer stops reading
	freezeOnce   sync.Once
}

// freeze makes the socket a hung peer: it stops reading, so it answers no
// ping and sends nothing, until it is dropped.
func (sk *socket) freeze() {
	sk.freezeOnce.Do(func() { close(sk.frozen) })
}

// hijackWrapper hands websocket.Accept a connection that freeze can stall.
type hijackWrapper struct {
	http.ResponseWriter
	sk *socket
}

func (h hijackWrapper) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("aritest: response writer cannot hijack")
	}
	c, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &freezableConn{Conn: c, frozen: h.sk.frozen, closed: make(chan struct{})}, brw, nil
}

// freezableConn stops delivering what it reads once frozen is closed, and
// blocks its reader until the connection is closed.
type freezableConn struct {
	net.Conn
	frozen    <-chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func (c *freezableConn) Read(p []byte) (int, error) {
	select {
	case <-c.frozen:
		<-c.closed
		return 0, net.ErrClosed
	default:
	}
	n, err := c.Conn.Read(p)
	select {
	case <-c.frozen:
		<-c.closed
		return 0, net.ErrClosed
	default:
	}
	return n, err
}

func (c *freezableConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// drop writes the events already queued and then drops the connection
// without a close frame, like an Asterisk process that exits.
func (sk *socket) drop() {
	sk.flushOnce.Do(func() { close(sk.flush) })
}

// send queues b. A full queue means the client is not reading: drop the
// socket as Asterisk does when websocket_write_timeout expires. Callers hold s.mu.
func (sk *socket) send(b []byte) {
	select {
	case <-sk.done:
	case sk.q <- b:
	default:
		sk.s.log.Warn("aritest: event queue full, dropping websocket", "app", sk.app)
		sk.s.unregister(sk)
		sk.kill()
	}
}

// kill drops the connection without a close frame.
func (sk *socket) kill() {
	sk.once.Do(func() {
		close(sk.done)
		if c := sk.conn.Load(); c != nil {
			go c.CloseNow() // may wait for the writer; never under s.mu
		}
	})
}

func (sk *socket) writer(timeout context.Context) {
	for {
		select {
		case <-sk.done:
			return
		case <-sk.flush:
			for {
				select {
				case b := <-sk.q:
					ctx, cancel := context.WithTimeout(timeout, sk.s.opts.WriteTimeout)
					err := sk.conn.Load().Write(ctx, websocket.MessageText, b)
					cancel()
					if err == nil {
						continue
					}
				default:
				}
				sk.kill()
				return
			}
		case b := <-sk.q:
			ctx, cancel := context.WithTimeout(timeout, sk.s.opts.WriteTimeout)
			err := sk.conn.Load().Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				sk.s.mu.Lock()
				sk.s.unregister(sk)
				sk.s.mu.Unlock()
				sk.kill()
				return
			}
		}
	}
}

// unregister detaches sk; its app loses its WebSocket if sk had it. The
// app object stays while it holds subscriptions (trace 11), except for a
// subscribeAll socket's, which goes at once (trace 07's 404, with channels
// in Stasis; inferred: such an app holds no per-channel forwards). Callers
// hold s.mu.
func (s *Server) unregister(sk *socket) {
	delete(s.sockets, sk)
	a := s.apps[sk.app]
	if a == nil || a.sock != sk {
		return
	}
	a.sock = nil
	if sk.subscribeAll {
		delete(s.apps, a.name)
	} else {
		s.gcApp(a)
	}
	s.appsChanged()
}

// connected says whether a WebSocket has app, so that Stasis() works.
func (s *Server) connected(app string) bool {
	a := s.apps[app]
	return a != nil && a.sock != nil
}

// appsChanged wakes WaitApp callers. Callers hold s.mu.
func (s *Server) appsChanged() {
	close(s.appsCh)
	s.appsCh = make(chan struct{})
}

// WaitApp waits until a WebSocket has app (registered true) or none has
// (false), or ctx ends. Registration has no ARI event, so tests use this
// after connecting or closing a WebSocket. "Registered" here means that
// Stasis() works: without a WebSocket the application may still exist
// for GET /applications while it holds subscriptions (trace 11).
func (s *Server) WaitApp(ctx context.Context, app string, registered bool) error {
	for {
		s.mu.Lock()
		ok := s.connected(app) == registered
		ch := s.appsCh
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	app := r.URL.Query().Get("app")
	if app == "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("<html><body><h1>Bad Request</h1><p>HTTP request is missing param: [app]</p></body></html>\r\n"))
		return
	}
	sk := &socket{s: s, q: make(chan []byte, s.opts.EventQueue), done: make(chan struct{}), flush: make(chan struct{}), frozen: make(chan struct{})}
	sk.subscribeAll = r.URL.Query().Get("subscribeAll") == "true"
	// One socket may name several apps (app=a,b); the first is the one it
	// registers here, which is all callin uses.
	sk.app, _, _ = strings.Cut(app, ",")

	// Register before the handshake response goes out, so that a client
	// that has finished dialling can rely on the app being registered.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	a := s.app(sk.app)
	if a.sock != nil {
		// goes to the old socket, which has the app until now
		s.toApp(a.name, &ari.ApplicationReplaced{EventBase: base(ari.TypeApplicationReplaced)})
	}
	a.sock = sk
	s.sockets[sk] = struct{}{}
	s.appsChanged()
	s.mu.Unlock()

	conn, err := websocket.Accept(hijackWrapper{ResponseWriter: w, sk: sk}, r, &websocket.AcceptOptions{Subprotocols: []string{"ari"}, InsecureSkipVerify: true})
	if err != nil {
		s.mu.Lock()
		s.unregister(sk)
		s.mu.Unlock()
		return
	}
	conn.SetReadLimit(1 << 20)
	sk.conn.Store(conn)
	select {
	case <-sk.done: // dropped (Restart, Close, overflow) during the handshake
		conn.CloseNow()
		return
	default:
	}
	s.log.Debug("aritest: websocket connected", "app", sk.app)

	ctx := conn.CloseRead(context.Background())
	go sk.writer(context.Background())
	select {
	case <-ctx.Done():
	case <-sk.done:
	}
	s.mu.Lock()
	s.unregister(sk)
	s.mu.Unlock()
	sk.kill()
	s.log.Debug("aritest: websocket gone", "app", sk.app)
}

// AppRegistered reports whether a WebSocket currently has app (so that
// Stasis() works). GET /applications/{app} may still answer 200 without
// one while the application holds subscriptions; see Subscriptions.
func (s *Server) AppRegistered(app string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected(app)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeMsg(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}
