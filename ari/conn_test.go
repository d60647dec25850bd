package ari_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/coder/websocket"
)

// wsServer is a stand-in for Asterisk's /ari/events: it checks auth and
// app, then hands each accepted WebSocket to the test on conns. reject, when
// set, may answer a dial instead (return true when it did).
type wsServer struct {
	*httptest.Server
	conns    chan *websocket.Conn
	pings    chan struct{} // one per ping received (dropped when full)
	dials    atomic.Int32  // handshake requests seen
	tcpConns atomic.Int32  // TCP connections accepted
	reject   func(n int32, w http.ResponseWriter, r *http.Request) bool
	lastURL  atomic.Pointer[string]
}

func newWSServer(t *testing.T, reject func(n int32, w http.ResponseWriter, r *http.Request) bool) *wsServer {
	s := &wsServer{conns: make(chan *websocket.Conn, 16), pings: make(chan struct{}, 1), reject: reject}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.tcpConns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *wsServer) serve(w http.ResponseWriter, r *http.Request) {
	n := s.dials.Add(1)
	u := r.URL.String()
	s.lastURL.Store(&u)
	if s.reject != nil && s.reject(n, w, r) {
		return
	}
	if user, pass, _ := r.BasicAuth(); user != "callin" || pass != "secret" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Authentication required"}`)
		return
	}
	if r.URL.Path != "/ari/events" || r.URL.Query().Get("app") == "" {
		http.Error(w, "no app", http.StatusBadRequest)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OnPingReceived: func(context.Context, []byte) bool {
		select {
		case s.pings <- struct{}{}:
		default:
		}
		return true
	}})
	if err != nil {
		return
	}
	s.conns <- ws
}

// accept waits for the next accepted WebSocket.
func (s *wsServer) accept(t *testing.T) *websocket.Conn {
	t.Helper()
	select {
	case ws := <-s.conns:
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	case <-time.After(5 * time.Second):
		t.Fatal("no WebSocket connection")
		return nil
	}
}

// send writes events to ws.
func send(t *testing.T, ws *websocket.Conn, events ...string) {
	t.Helper()
	for _, e := range events {
		if err := ws.Write(context.Background(), websocket.MessageText, []byte(e)); err != nil {
			t.Fatalf("server write: %v", err)
		}
	}
}

// next reads the next event from cn, failing the test after 5 s.
func next(t *testing.T, cn *ari.Conn) ari.Event {
	t.Helper()
	select {
	case ev, ok := <-cn.Events():
		if !ok {
			t.Fatal("events channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return nil
	}
}

func nextType[E ari.Event](t *testing.T, cn *ari.Conn) E {
	t.Helper()
	ev := next(t, cn)
	e, ok := ev.(E)
	if !ok {
		var want E
		t.Fatalf("got %T %+v, want %T", ev, ev, want)
	}
	return e
}

// fastOptions make reconnects and pings quick for tests.
func fastOptions() ari.EventOptions {
	return ari.EventOptions{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, PingInterval: time.Hour}
}

func connect(t *testing.T, url string, opts ari.EventOptions) *ari.Conn {
	t.Helper()
	cn := newClient(t, url).Connect(context.Background(), opts)
	t.Cleanup(cn.Close)
	return cn
}

func stasisEnd(id string) string {
	return `{"type":"StasisEnd","application":"callin","timestamp":"2026-11-26T06:09:05.410+0000","channel":{"id":"` + id + `"}}`
}

func channelOf(t *testing.T, ev ari.Event) string {
	t.Helper()
	if _, ok := ev.(*ari.StasisEnd); !ok {
		t.Fatalf("got %T %+v, want *ari.StasisEnd", ev, ev)
	}
	return ari.ChannelID(ev)
}

func TestConnectDeliversEvents(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, nil)
	cn := connect(t, srv.URL, fastOptions())
	ws := srv.accept(t)
	if got, want := *srv.lastURL.Load(), "/ari/events?app=callin"; got != want {
		t.Errorf("dial URL = %s, want %s", got, want)
	}
	nextType[*ari.Connected](t, cn)
	if cn.State() != ari.ConnConnected {
		t.Errorf("State = %v, want connected", cn.State())
	}
	events := traceEvents(t, traceFiles[0])[:20]
	for _, e := range events {
		send(t, ws, string(e))
	}
	for i, data := range events {
		want, _ := ari.DecodeEvent(data)
		got := next(t, cn)
		if got.EventType() != want.EventType() || ari.ChannelID(got) != ari.ChannelID(want) || !got.Base().Timestamp.Equal(want.Base().Timestamp.Time) {
			t.Fatalf("event %d = %T %s, want %T %s", i, got, ari.ChannelID(got), want, ari.ChannelID(want))
		}
	}
}

func TestConnectSubscribeAll(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, nil)
	opts := fastOptions()
	opts.SubscribeAll = true
	cn := connect(t, srv.URL, opts)
	srv.accept(t)
	nextType[*ari.Connected](t, cn)
	if got, want := *srv.lastURL.Load(), "/ari/events?app=callin&subscribeAll=true"; got != want {
		t.Errorf("dial URL = %s, want %s", got, want)
	}
}

// TestReconnectOrdering: the events of the first connection, then
// Disconnected, then Connected, then the second connection's events.
func TestReconnectOrdering(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, nil)
	cn := connect(t, srv.URL, fastOptions())
	ws1 := srv.accept(t)
	send(t, ws1, stasisEnd("a"), stasisEnd("b"))
	ws1.Close(websocket.StatusGoingAway, "restart")
	ws2 := srv.accept(t)
	send(t, ws2, stasisEnd("c"))

	nextType[*ari.Connected](t, cn)
	for _, want := range []string{"a", "b"} {
		if got := channelOf(t, next(t, cn)); got != want {
			t.Fatalf("got channel %s, want %s", got, want)
		}
	}
	d := nextType[*ari.Disconnected](t, cn)
	if d.Err == nil || d.Final || websocket.CloseStatus(d.Err) != websocket.StatusGoingAway {
		t.Errorf("Disconnected = %+v, want the close status 1001, not final", d)
	}
	nextType[*ari.Connected](t, cn)
	if got := channelOf(t, next(t, cn)); got != "c" {
		t.Fatalf("got channel %s, want c", got)
	}
}

// TestDeadPeerPingTimeout: a peer that stops answering (no close frame, as
// a restarting Asterisk did) is dropped after a failed ping.
func TestDeadPeerPingTimeout(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, nil)
	opts := fastOptions()
	opts.PingInterval = 20 * time.Millisecond
	opts.PingTimeout = 250 * time.Millisecond
	cn := connect(t, srv.URL, opts)
	srv.accept(t) // never read: pings go unanswered
	nextType[*ari.Connected](t, cn)
	d := nextType[*ari.Disconnected](t, cn)
	if !errors.Is(d.Err, ari.ErrPingTimeout) {
		t.Errorf("Disconnected.Err = %v, want ErrPingTimeout", d.Err)
	}
	ws2 := srv.accept(t)
	ws2.CloseRead(context.Background()) // answers pings
	nextType[*ari.Connected](t, cn)
	send(t, ws2, stasisEnd("after"))
	if got := channelOf(t, next(t, cn)); got != "after" {
		t.Errorf("got channel %s, want after", got)
	}
}

// TestLivePeerKeepsConnection: a peer that answers pings is not dropped.
func TestLivePeerKeepsConnection(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, nil)
	opts := fastOptions()
	opts.PingInterval = 5 * time.Millisecond
	opts.PingTimeout = time.Second
	cn := connect(t, srv.URL, opts)
	ws := srv.accept(t)
	ws.CloseRead(context.Background())
	nextType[*ari.Connected](t, cn)
	// Events keep flowing while many pings are answered.
	for i := range 20 {
		select {
		case <-srv.pings:
		case <-time.After(5 * time.Second):
			t.Fatal("no ping")
		}
		send(t, ws, stasisEnd(fmt.Sprint(i)))
		if got := channelOf(t, next(t, cn)); got != fmt.Sprint(i) {
			t.Fatalf("got channel %s, want %d", got, i)
		}
	}
	if n := srv.dials.Load(); n != 1 {
		t.Errorf("dials = %d, want 1", n)
	}
}

// TestSlowConsumer: when the buffer overflows, the buffered events are
// delivered, then Disconnected(ErrConsumerTooSlow), then a new connection.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, nil)
	opts := fastOptions()
	opts.Buffer = 8
	opts.SlowConsumerTimeout = 20 * time.Millisecond
	cn := connect(t, srv.URL, opts)
	ws := srv.accept(t)
	closed := ws.CloseRead(context.Background())
	const sent = 50
	go func() {
		for i := range sent {
			if ws.Write(context.Background(), websocket.MessageText, []byte(stasisEnd(fmt.Sprint(i)))) != nil {
				return
			}
		}
	}()
	// Read nothing until the client has dropped the connection.
	select {
	case <-closed.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not drop the connection")
	}
	nextType[*ari.Connected](t, cn)
	n := 0
	for {
		ev := next(t, cn)
		if d, ok := ev.(*ari.Disconnected); ok {
			if !errors.Is(d.Err, ari.ErrConsumerTooSlow) {
				t.Errorf("Disconnected.Err = %v, want ErrConsumerTooSlow", d.Err)
			}
			break
		}
		if got := channelOf(t, ev); got != fmt.Sprint(n) {
			t.Fatalf("event %d is channel %s: events were skipped", n, got)
		}
		n++
	}
	if n != opts.Buffer-1 { // Connected took one slot
		t.Errorf("delivered %d events before Disconnected, want %d", n, opts.Buffer-1)
	}
	srv.accept(t)
	nextType[*ari.Connected](t, cn)
}

// TestFreshConnectionPerDial: refused handshakes surface as *ari.Error in
// Disconnected, are retried, and each dial uses a new TCP connection (a
// refused upgrade can leave a stale response on a kept-alive socket).
func TestFreshConnectionPerDial(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, func(n int32, w http.ResponseWriter, r *http.Request) bool {
		switch n {
		case 1:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Authentication required"}`)
			return true
		case 2:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "<html><head>\r\n<title>400 Bad Request</title>\r\n</head><body>\r\n<h1>Bad Request</h1>\r\n<p>HTTP request is missing param: [app]</p>\r\n</body></html>\r\n")
			return true
		}
		return false
	})
	cn := connect(t, srv.URL, fastOptions())
	d1 := nextType[*ari.Disconnected](t, cn)
	var ae *ari.Error
	if !errors.As(d1.Err, &ae) || ae.Status != 401 || ae.Message != "Authentication required" || !errors.Is(d1.Err, ari.ErrUnauthorized) {
		t.Errorf("first Disconnected.Err = %#v, want 401 Authentication required", d1.Err)
	}
	d2 := nextType[*ari.Disconnected](t, cn)
	if !errors.As(d2.Err, &ae) || ae.Status != 400 || ae.Message != "HTTP request is missing param: [app]" {
		t.Errorf("second Disconnected.Err = %#v, want 400 with the HTML's message", d2.Err)
	}
	srv.accept(t)
	nextType[*ari.Connected](t, cn)
	if dials, tcp := srv.dials.Load(), srv.tcpConns.Load(); dials != 3 || tcp != 3 {
		t.Errorf("%d dials on %d TCP connections, want 3 on 3", dials, tcp)
	}
}

// TestWrongPassword: 401 keeps being retried with backoff and reported.
func TestWrongPassword(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, nil)
	c, err := ari.NewClient(ari.Config{URL: srv.URL, Username: "callin", Password: "wrong", App: "callin", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	cn := c.Connect(context.Background(), fastOptions())
	t.Cleanup(cn.Close)
	for range 3 {
		d := nextType[*ari.Disconnected](t, cn)
		if !errors.Is(d.Err, ari.ErrUnauthorized) || d.Final || d.RetryIn <= 0 {
			t.Fatalf("Disconnected = %+v, want a retried ErrUnauthorized", d)
		}
	}
}

// TestApplicationReplaced: the event is delivered, then a final
// Disconnected; the Conn stops and does not dial again.
func TestApplicationReplaced(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, nil)
	cn := connect(t, srv.URL, fastOptions())
	ws := srv.accept(t)
	send(t, ws, stasisEnd("x"), `{"type":"ApplicationReplaced","application":"callin","timestamp":"2026-11-26T06:09:05.410+0000"}`)
	nextType[*ari.Connected](t, cn)
	channelOf(t, next(t, cn))
	nextType[*ari.ApplicationReplaced](t, cn)
	d := nextType[*ari.Disconnected](t, cn)
	if !d.Final || !errors.Is(d.Err, ari.ErrApplicationReplaced) {
		t.Errorf("Disconnected = %+v, want final ErrApplicationReplaced", d)
	}
	if ev, ok := <-cn.Events(); ok {
		t.Errorf("got %T after the final Disconnected, want a closed channel", ev)
	}
	<-cn.Done()
	if cn.State() != ari.ConnReplaced || !errors.Is(cn.Err(), ari.ErrApplicationReplaced) {
		t.Errorf("State, Err = %v, %v; want replaced, ErrApplicationReplaced", cn.State(), cn.Err())
	}
	if n := srv.dials.Load(); n != 1 {
		t.Errorf("dials = %d, want 1", n)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, nil)
	cn := newClient(t, srv.URL).Connect(context.Background(), fastOptions())
	ws := srv.accept(t)
	closed := ws.CloseRead(context.Background())
	nextType[*ari.Connected](t, cn)
	cn.Close()
	if _, ok := <-cn.Events(); ok {
		t.Error("events channel open after Close")
	}
	if cn.State() != ari.ConnClosed || !errors.Is(cn.Err(), context.Canceled) {
		t.Errorf("State, Err = %v, %v; want closed, context.Canceled", cn.State(), cn.Err())
	}
	select {
	case <-closed.Done():
	case <-time.After(5 * time.Second):
		t.Error("server connection still open after Close")
	}
}

func TestCloseWhileDown(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	opts := fastOptions()
	opts.MinBackoff, opts.MaxBackoff = time.Hour, time.Hour
	cn := newClient(t, url).Connect(context.Background(), opts)
	d := nextType[*ari.Disconnected](t, cn)
	if d.Err == nil || d.RetryIn < 30*time.Minute {
		t.Errorf("Disconnected = %+v, want a dial error and a long retry", d)
	}
	cn.Close() // must not wait for the backoff
	if cn.State() != ari.ConnClosed {
		t.Errorf("State = %v, want closed", cn.State())
	}
}

// logRecorder keeps every log record's level and message.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Clone())
	return nil
}

func (l *logRecorder) records() []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]slog.Record{}, l.recs...)
}

// TestReconnectThroughBoot: after an Asterisk restart the next dial meets
// a TCP reset and the one after 503 "Asterisk not booted" (trace 17). The
// client retries through both with its normal backoff, logs them at info
// level, never leaves the reconnecting states, and connects.
func TestReconnectThroughBoot(t *testing.T) {
	t.Parallel()
	srv := aritest.NewServer(aritest.Options{})
	t.Cleanup(srv.Close)
	logs := &logRecorder{}
	c, err := ari.NewClient(ari.Config{URL: srv.URL(), Username: srv.User(), Password: srv.Password(), App: "callin", Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	opts := fastOptions()
	opts.MaxBackoff = 50 * time.Millisecond // a 503 handled as a refused handshake would wait this whole cap
	cn := c.Connect(context.Background(), opts)
	t.Cleanup(cn.Close)
	nextType[*ari.Connected](t, cn)

	srv.Restart(aritest.RefuseDials(1, 1))
	drop := nextType[*ari.Disconnected](t, cn)
	if drop.Final || drop.Err == nil {
		t.Fatalf("drop = %+v, want a retried error", drop)
	}
	reset := nextType[*ari.Disconnected](t, cn)
	var ae *ari.Error
	if errors.As(reset.Err, &ae) || !errors.Is(reset.Err, syscall.ECONNRESET) {
		t.Errorf("first dial: %v, want a connection reset", reset.Err)
	}
	if st := cn.State(); st != ari.ConnDisconnected && st != ari.ConnConnecting {
		t.Errorf("state after the reset %v, want disconnected or connecting", st)
	}
	booting := nextType[*ari.Disconnected](t, cn)
	if !errors.As(booting.Err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.Message != "Asterisk not booted" {
		t.Errorf("second dial: %v, want 503 Asterisk not booted", booting.Err)
	}
	// The doubling backoff, not the cap (25-50 ms here): the third wait
	// after the drop is between 2 and 4 times MinBackoff.
	if booting.Final || booting.RetryIn > 4*opts.MinBackoff {
		t.Errorf("after 503: RetryIn %v final %v, want at most %v", booting.RetryIn, booting.Final, 4*opts.MinBackoff)
	}
	nextType[*ari.Connected](t, cn)
	if st := cn.State(); st != ari.ConnConnected {
		t.Errorf("state %v, want connected", st)
	}

	quiet := 0
	for _, r := range logs.records() {
		if r.Level >= slog.LevelError {
			t.Errorf("error-level log: %s", r.Message)
		}
		if strings.Contains(r.Message, "not up yet") {
			quiet++
			if r.Level > slog.LevelInfo {
				t.Errorf("%s logged at %v, want info", r.Message, r.Level)
			}
		}
	}
	if quiet != 2 {
		t.Errorf("%d info logs for the refused dials, want 2", quiet)
	}
}

// TestReconnectThroughBootNotFound: a booting Asterisk's HTTP server answers
// the events dial 404 for a moment before ARI's routes exist (seen on the
// real Asterisk 22.10.1 after a restart). The client retries with its
// doubling backoff, not the cap it keeps for a refused handshake: callin
// waited up to 12.8 s after a restart before (TestRealPBXShow).
func TestReconnectThroughBootNotFound(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>")
	}))
	t.Cleanup(srv.Close)
	c, err := ari.NewClient(ari.Config{URL: srv.URL, Username: "u", Password: "p", App: "callin"})
	if err != nil {
		t.Fatal(err)
	}
	opts := fastOptions()
	opts.MaxBackoff = time.Hour // a 404 handled as a refused handshake would wait this whole cap
	cn := c.Connect(context.Background(), opts)
	t.Cleanup(cn.Close)
	for range 3 {
		d := nextType[*ari.Disconnected](t, cn)
		var ae *ari.Error
		if !errors.As(d.Err, &ae) || ae.Status != http.StatusNotFound {
			t.Fatalf("dial: %v, want 404", d.Err)
		}
		if d.Final || d.RetryIn > 4*opts.MinBackoff {
			t.Fatalf("after 404: RetryIn %v final %v, want at most %v", d.RetryIn, d.Final, 4*opts.MinBackoff)
		}
	}
}
