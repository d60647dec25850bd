package ari

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// Synthetic event types: the client puts these on the event stream itself;
// Asterisk never sends them.
const (
	TypeConnected    = "Connected"
	TypeDisconnected = "Disconnected"
)

// Connected is put on the event stream when the WebSocket connects. Every
// event after it comes from this connection. Events between the previous
// connection and this one are lost (Asterisk does not replay them), so
// reconcile here: list bridges and channels and rebuild.
type Connected struct {
	EventBase
}

// Disconnected is put on the event stream after the last event of a
// connection, and after each failed dial. Err says why (ErrConsumerTooSlow,
// ErrPingTimeout, ErrApplicationReplaced, an *Error for a refused handshake,
// or a network error). Unless Final, the client dials again after RetryIn.
type Disconnected struct {
	EventBase
	Err     error
	RetryIn time.Duration
	// Final is true when no reconnect follows: the stream ends after this
	// event (after ApplicationReplaced).
	Final bool
}

// Errors carried by Disconnected events.
var (
	// ErrConsumerTooSlow: the event buffer stayed full, so the client
	// dropped the connection rather than grow memory or lose events
	// silently. Events from the dropped event on were lost; reconcile.
	ErrConsumerTooSlow = errors.New("ari: event consumer too slow, connection dropped")
	// ErrPingTimeout: Asterisk did not answer a WebSocket ping in time.
	ErrPingTimeout = errors.New("ari: no pong from Asterisk")
	// ErrApplicationReplaced: another WebSocket took our application name on
	// this node; the Conn stops and does not fight for the name.
	ErrApplicationReplaced = errors.New("ari: application replaced by another connection")
)

// ConnState is the state of a Conn's WebSocket, as its reader sees it (it may
// run ahead of the events the consumer has read).
type ConnState int32

// Conn states.
const (
	ConnConnecting   ConnState = iota // dialing
	ConnConnected                     // reading events
	ConnDisconnected                  // waiting to dial again
	ConnReplaced                      // stopped after ApplicationReplaced: unhealthy until reconnected by hand
	ConnClosed                        // stopped by Close or its context
)

// String names s.
func (s ConnState) String() string {
	switch s {
	case ConnConnecting:
		return "connecting"
	case ConnConnected:
		return "connected"
	case ConnDisconnected:
		return "disconnected"
	case ConnReplaced:
		return "replaced"
	case ConnClosed:
		return "closed"
	}
	return fmt.Sprintf("ConnState(%d)", int32(s))
}

// EventOptions tune Connect. Zero fields take the defaults shown.
type EventOptions struct {
	// SubscribeAll asks for every event on the node, not only those of our
	// channels and bridges (default false).
	SubscribeAll bool
	// Buffer is how many events wait between the reader and the consumer
	// (default 1024).
	Buffer int
	// SlowConsumerTimeout is how long the reader waits for room in a full
	// buffer before it drops the connection with ErrConsumerTooSlow
	// (default 1 s). Keep it below PingTimeout: while it waits, pongs are
	// not read.
	SlowConsumerTimeout time.Duration
	// PingInterval and PingTimeout: a ping every PingInterval (default 2 s)
	// that gets no pong within PingTimeout (default 3 s) drops the
	// connection. A restarting Asterisk held a socket open 17 s with no
	// close frame; this notices a dead node within about 5 s.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// MinBackoff and MaxBackoff bound the delay between dials (defaults
	// 250 ms and 15 s): doubling from MinBackoff, with jitter, reset after a
	// successful connection. A refused handshake (401, 400) waits
	// MaxBackoff; a restarting Asterisk's reset dial and 503 "Asterisk not
	// booted" (trace 17) take the normal doubling and are logged at info
	// level for their first minute.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// DialTimeout bounds one WebSocket handshake (default 10 s).
	DialTimeout time.Duration
	// ReadLimit is the largest event accepted, in bytes (default 4 MiB).
	ReadLimit int64
}

func (o *EventOptions) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
	def(&o.SlowConsumerTimeout, time.Second)
	def(&o.PingInterval, 2*time.Second)
	def(&o.PingTimeout, 3*time.Second)
	def(&o.MinBackoff, 250*time.Millisecond)
	def(&o.MaxBackoff, 15*time.Second)
	def(&o.DialTimeout, 10*time.Second)
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 4 << 20
	}
}

// Conn is the event stream of one node's WebSocket. It dials, reads, pings
// and reconnects by itself, and delivers events and connection changes in
// order on one channel (see Events).
type Conn struct {
	client *Client
	opts   EventOptions
	url    string
	header http.Header
	dialer *http.Client

	events chan Event
	state  atomic.Int32
	cancel context.CancelFunc
	done   chan struct{}

	// What the reader received, over every connection (see Stats).
	messages, bytes, decoded atomic.Uint64

	mu  sync.Mutex
	err error
}

// Connect starts the event stream of the node: it dials
// GET /ari/events?app=<app> on a fresh TCP connection and keeps it up until
// ctx ends, Close is called, or ApplicationReplaced arrives. It returns at
// once; connection outcomes arrive on Events as *Connected and
// *Disconnected. Subscribe (read Events) before acting on anything whose
// result arrives as an event.
func (c *Client) Connect(ctx context.Context, opts EventOptions) *Conn {
	opts.setDefaults()
	q := url.Values{"app": {c.app}}
	if opts.SubscribeAll {
		q.Set("subscribeAll", "true")
	}
	wsURL := c.base + "/ari/events?" + q.Encode()
	wsURL = "ws" + strings.TrimPrefix(wsURL, "http")
	header := http.Header{}
	header.Set("Authorization", "Basic "+basicAuth(c.user, c.password))

	ctx, cancel := context.WithCancel(ctx)
	cn := &Conn{
		client: c,
		opts:   opts,
		url:    wsURL,
		header: header,
		dialer: wsHTTPClient(c.http),
		events: make(chan Event, opts.Buffer),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go cn.run(ctx)
	return cn
}

// wsHTTPClient returns the client for WebSocket dials: a transport of its
// own that never reuses a connection. A refused upgrade from Asterisk
// leaves a second, stale HTTP response on the socket (trace 05); a kept-alive
// connection would hand it to the next request.
func wsHTTPClient(rest *http.Client) *http.Client {
	var tr *http.Transport
	if t, ok := rest.Transport.(*http.Transport); ok {
		tr = t.Clone()
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	tr.DisableKeepAlives = true
	// The upgrade needs HTTP/1.1.
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	return &http.Client{Transport: tr}
}

// Events returns the ordered event stream: Asterisk's events as typed
// structs (or *RawEvent), with a *Connected before the first event of each
// connection and a *Disconnected after its last. The channel is closed when
// the Conn stops: after a Final Disconnected, or without a Disconnected when
// Close is called or its context ends. Events already buffered can still be
// read after it is closed.
func (cn *Conn) Events() <-chan Event { return cn.events }

// EventStream is what a consumer reads of an event connection; *Conn is
// one. Consumers that take an interface (broadcast.Telephony) use it.
type EventStream interface {
	Events() <-chan Event
	State() ConnState
	Err() error
}

// Stream is Connect behind the EventStream interface.
func (c *Client) Stream(ctx context.Context, opts EventOptions) EventStream {
	return c.Connect(ctx, opts)
}

// State returns the connection's current state.
func (cn *Conn) State() ConnState { return ConnState(cn.state.Load()) }

// Done is closed when the Conn has stopped.
func (cn *Conn) Done() <-chan struct{} { return cn.done }

// Err returns why the Conn stopped: ErrApplicationReplaced, or the context's
// error (context.Canceled after Close). It is nil while the Conn runs.
func (cn *Conn) Err() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err
}

// ConnStats counts what a Conn has received since Connect, over all its
// WebSocket connections.
type ConnStats struct {
	// Messages is the WebSocket data messages read whole.
	Messages uint64
	// Bytes is the payload bytes of those messages: the event JSON, without
	// WebSocket framing or the HTTP handshake.
	Bytes uint64
	// Events is the messages decoded into an event (typed or *RawEvent),
	// delivered or not; Messages minus Events were not JSON events. The
	// synthetic Connected and Disconnected are not counted.
	Events uint64
}

// Stats returns what the Conn has received so far. It is cheap (three
// atomic loads) and safe to call at any time, also after the Conn stopped.
// The three counts are read one after the other, so while events arrive
// they may be one message apart.
func (cn *Conn) Stats() ConnStats {
	return ConnStats{Messages: cn.messages.Load(), Bytes: cn.bytes.Load(), Events: cn.decoded.Load()}
}

// Close stops the Conn and waits until its goroutines have ended. The events
// channel is then closed.
func (cn *Conn) Close() {
	cn.cancel()
	<-cn.done
}

func (cn *Conn) run(ctx context.Context) {
	log := cn.client.log
	var stopErr error
	defer func() {
		cn.mu.Lock()
		cn.err = stopErr
		cn.mu.Unlock()
		if !errors.Is(stopErr, ErrApplicationReplaced) {
			cn.state.Store(int32(ConnClosed))
		}
		close(cn.events)
		close(cn.done)
		cn.cancel()
	}()
	attempt := 0
	var downSince time.Time // first failed dial in a row
	for {
		cn.state.Store(int32(ConnConnecting))
		connected, err := cn.session(ctx)
		if ctx.Err() != nil {
			stopErr = ctx.Err()
			log.Info("ari events stopped", "err", err)
			return
		}
		if errors.Is(err, ErrApplicationReplaced) {
			stopErr = err
			cn.state.Store(int32(ConnReplaced))
			log.Error("ari application replaced by another connection; not reconnecting")
			cn.deliver(ctx, &Disconnected{EventBase: cn.base(TypeDisconnected), Err: err, Final: true})
			return
		}
		if connected {
			attempt, downSince = 0, time.Time{}
		}
		delay := cn.backoff(attempt, err)
		attempt++
		cn.state.Store(int32(ConnDisconnected))
		switch {
		case connected:
			log.Warn("ari events disconnected", "err", err, "retry_in", delay)
		case booting(err) && (downSince.IsZero() || time.Since(downSince) < bootGrace):
			// A restarting Asterisk resets the dial, then answers 503
			// "Asterisk not booted" (trace 17): expected, not an alarm.
			log.Info("ari events: Asterisk not up yet; retrying", "err", err, "retry_in", delay)
		default:
			log.Warn("ari events: dial failed", "err", err, "retry_in", delay)
		}
		if !connected && downSince.IsZero() {
			downSince = time.Now()
		}
		if !cn.deliver(ctx, &Disconnected{EventBase: cn.base(TypeDisconnected), Err: err, RetryIn: delay}) {
			stopErr = ctx.Err()
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			stopErr = ctx.Err()
			return
		case <-t.C:
		}
	}
}

// backoff returns the delay before dial number attempt+1: exponential from
// MinBackoff, capped at MaxBackoff, jittered to between half and all of it.
// A refused handshake (an *Error: bad credentials, no app) waits the cap,
// except what a booting Asterisk answers (404, then 503), which a restart
// ends within seconds.
func (cn *Conn) backoff(attempt int, err error) time.Duration {
	d := cn.opts.MaxBackoff
	var ae *Error
	if (!errors.As(err, &ae) || booting(err)) && attempt < 30 {
		d = min(cn.opts.MinBackoff<<attempt, cn.opts.MaxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// bootGrace is how long failed dials that look like a restarting Asterisk
// are logged at info level before they are worth a warning. A restart took
// 2.2 s in trace 17 and 18.6 s in trace 07.
const bootGrace = time.Minute

// booting says whether a failed dial is what a restarting Asterisk gives:
// the TCP connection refused or reset (the process is gone), EOF,
// 404 "The requested URL was not found on this server." while its HTTP
// server is up before ARI's routes are (about 0.1 s; seen on the real
// Asterisk 22.10.1 by the contract suite and cmd/callin's TestRealPBXShow,
// not in a trace), or 503 {"message":"Asterisk not booted"} (trace 17). A
// wrong URL also answers 404: it is retried with the doubling backoff up to
// the cap, and warned about after bootGrace.
func booting(err error) bool {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Status == http.StatusServiceUnavailable || ae.Status == http.StatusNotFound
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func (cn *Conn) base(typ string) EventBase {
	return EventBase{Type: typ, Application: cn.client.app, Timestamp: Time{time.Now()}}
}

// deliver puts ev on the stream, waiting for room; false if ctx ended first.
func (cn *Conn) deliver(ctx context.Context, ev Event) bool {
	select {
	case cn.events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// session runs one WebSocket connection until it fails. connected reports
// whether the handshake succeeded.
func (cn *Conn) session(ctx context.Context) (connected bool, err error) {
	log := cn.client.log
	ws, err := cn.dial(ctx)
	if err != nil {
		return false, err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(cn.opts.ReadLimit)
	cn.state.Store(int32(ConnConnected))
	log.Info("ari events connected", "url", cn.url)
	if !cn.deliver(ctx, &Connected{EventBase: cn.base(TypeConnected)}) {
		return true, ctx.Err()
	}

	sctx, scancel := context.WithCancel(ctx)
	var pingErr atomic.Pointer[error]
	pingDone := make(chan struct{})
	go func() {
		defer close(pingDone)
		cn.pinger(sctx, ws, &pingErr)
	}()
	defer func() {
		scancel()
		<-pingDone
	}()

	var buf bytes.Buffer
	var wait *time.Timer
	for {
		_, r, err := ws.Reader(sctx)
		var n int64
		if err == nil {
			buf.Reset()
			n, err = buf.ReadFrom(r)
		}
		if err != nil {
			// A failed ping closes the socket, and the read then fails; a
			// close frame from Asterisk is the better reason if one came.
			if p := pingErr.Load(); p != nil && websocket.CloseStatus(err) == -1 {
				return true, *p
			}
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			return true, fmt.Errorf("ari: read events: %w", err)
		}
		cn.messages.Add(1)
		cn.bytes.Add(uint64(n))
		ev, err := DecodeEvent(buf.Bytes())
		if err != nil {
			// Not a JSON object with a type: nothing to deliver, but say so.
			log.Error("ari: undecodable event", "err", err, "data", truncate(buf.Bytes(), 300))
			continue
		}
		cn.decoded.Add(1)
		if raw, ok := ev.(*RawEvent); ok && raw.Err != nil {
			log.Error("ari: event kept raw", "type", raw.Type, "err", raw.Err)
		}
		if _, ok := ev.(*ApplicationReplaced); ok {
			cn.deliver(ctx, ev)
			return true, ErrApplicationReplaced
		}
		if err := cn.push(sctx, ev, &wait); err != nil {
			ws.CloseNow()
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			return true, err
		}
	}
}

// dial opens the events WebSocket; an HTTP answer other than the upgrade
// is an *Error with Asterisk's status and message.
func (cn *Conn) dial(ctx context.Context) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, cn.opts.DialTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, cn.url, &websocket.DialOptions{
		HTTPClient:      cn.dialer,
		HTTPHeader:      cn.header,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err == nil {
		return ws, nil
	}
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		var body []byte
		if resp.Body != nil {
			body, _ = io.ReadAll(resp.Body)
		}
		return nil, &Error{Method: http.MethodGet, Path: "/ari/events", Status: resp.StatusCode, Message: errorMessage(resp.StatusCode, body)}
	}
	return nil, fmt.Errorf("ari: dial events: %w", err)
}

// push hands ev to the consumer. When the buffer is full it gives the
// consumer SlowConsumerTimeout (on *wait, made once per session), then
// returns ErrConsumerTooSlow: the caller drops the connection rather than
// hold more or lose events silently. It returns ctx's error if ctx ends
// first.
func (cn *Conn) push(ctx context.Context, ev Event, wait **time.Timer) error {
	select {
	case cn.events <- ev:
		return nil
	default:
	}
	if *wait == nil {
		*wait = time.NewTimer(cn.opts.SlowConsumerTimeout)
	} else {
		(*wait).Reset(cn.opts.SlowConsumerTimeout)
	}
	select {
	case cn.events <- ev:
		(*wait).Stop()
		return nil
	case <-ctx.Done():
		(*wait).Stop()
		return ctx.Err()
	case <-(*wait).C:
	}
	cn.client.log.Error("ari: event consumer too slow; dropping the connection",
		"buffer", cn.opts.Buffer, "waited", cn.opts.SlowConsumerTimeout, "lost_type", ev.EventType())
	return fmt.Errorf("%w (buffer of %d full for %v)", ErrConsumerTooSlow, cn.opts.Buffer, cn.opts.SlowConsumerTimeout)
}

// pinger pings every PingInterval; a ping without a pong in PingTimeout
// records ErrPingTimeout and closes ws, which ends the reader.
func (cn *Conn) pinger(ctx context.Context, ws *websocket.Conn, perr *atomic.Pointer[error]) {
	t := time.NewTicker(cn.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, cn.opts.PingTimeout)
		err := ws.Ping(pctx)
		cancel()
		if err == nil {
			continue
		}
		if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
			return // closed for another reason; the reader reports it
		}
		e := fmt.Errorf("%w within %v: %v", ErrPingTimeout, cn.opts.PingTimeout, err)
		perr.Store(&e)
		ws.CloseNow()
		return
	}
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
