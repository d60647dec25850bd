package broadcast_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/prompts"
	"github.com/callin-radio/callin/queue"
)

// wait bounds every wait for an event in these tests; it is far above what
// any step takes, so only a broken step reaches it.
const wait = 10 * time.Second

var producer = queue.Actor{Kind: queue.ActorUser, Name: "pat"}

// newFake starts a fake Asterisk that knows callin's prompts and runs
// media 100 times faster than real time.
func newFake(t testing.TB, opts aritest.Options) *aritest.Server {
	t.Helper()
	sounds := maps.Clone(aritest.DefaultSounds)
	for _, name := range prompts.Names() { // the prompts callin ships
		sounds[name] = 2 * time.Second
	}
	if opts.Sounds == nil {
		opts.Sounds = sounds
	}
	if opts.TimeScale == 0 {
		opts.TimeScale = 0.01
	}
	srv := aritest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t testing.TB, url, user, password string) *ari.Client {
	t.Helper()
	c, err := ari.NewClient(ari.Config{URL: url, Username: user, Password: password, App: "callin",
		Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fastEvents reconnects quickly, so reconnect tests take milliseconds.
var fastEvents = ari.EventOptions{MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}

// showCfg is a show with open lines on node n.
func showCfg(key, n string) broadcast.ShowConfig {
	return broadcast.ShowConfig{Config: queue.Config{Key: key, Title: key, Node: n, MOHClass: "default", LinesOpen: true}}
}

// env is an App under test with its fake node(s).
type env struct {
	t      testing.TB
	app    *broadcast.App
	srv    *aritest.Server
	sink   *sink
	done   chan struct{}
	cancel context.CancelFunc
	ws     map[string]*watcher // one per show, subscribed before Run
}

// w is the watcher of a show, subscribed before the App started.
func (e *env) w(show string) *watcher { return e.ws[show] }

// start builds and runs an App; cfg gets a node "n1" on srv when it has
// none, a show "show1" when it has none, and quick timeouts.
func start(t testing.TB, srv *aritest.Server, cfg broadcast.Config) *env {
	t.Helper()
	if len(cfg.Nodes) == 0 {
		cfg.Nodes = []broadcast.NodeConfig{{Name: "n1", ARI: newClient(t, srv.URL(), srv.User(), srv.Password()), Events: fastEvents}}
	}
	if len(cfg.Shows) == 0 {
		cfg.Shows = []broadcast.ShowConfig{showCfg("show1", "n1")}
	}
	s := &sink{}
	if cfg.Sink == nil {
		cfg.Sink = s
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	if cfg.EventTimeout == 0 {
		cfg.EventTimeout = 3 * time.Second
	}
	if cfg.PlaybackTimeout == 0 {
		cfg.PlaybackTimeout = 3 * time.Second
	}
	app, err := broadcast.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{t: t, app: app, srv: srv, sink: s, done: make(chan struct{}), cancel: cancel, ws: map[string]*watcher{}}
	for _, sc := range cfg.Shows {
		e.ws[sc.Key] = watch(t, app, sc.Key)
	}
	go func() {
		defer close(e.done)
		if err := app.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(e.stop)
	return e
}

// stop stops the App and waits for it.
func (e *env) stop() {
	e.cancel()
	<-e.done
}

// sink records transitions, as the history writer would.
type sink struct {
	mu sync.Mutex
	ts []queue.Transition
}

func (s *sink) Record(t queue.Transition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ts = append(s.ts, t)
}

func (s *sink) all() []queue.Transition {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]queue.Transition(nil), s.ts...)
}

// watcher reads a show's updates as a console would.
type watcher struct {
	t   testing.TB
	sub *broadcast.Subscription
}

func watch(t testing.TB, app *broadcast.App, show string) *watcher {
	t.Helper()
	sub, err := app.Subscribe(show)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return &watcher{t: t, sub: sub}
}

// next waits for the first update f accepts, skipping others.
func (w *watcher) next(what string, f func(broadcast.Update) bool) broadcast.Update {
	w.t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case u, ok := <-w.sub.C:
			if !ok {
				w.t.Fatalf("waiting for %s: subscription closed: %v", what, w.sub.Err())
			}
			if f(u) {
				return u
			}
		case <-timer.C:
			w.t.Fatalf("waiting for %s: timed out", what)
		}
	}
}

// transition waits for a transition of the channel with the given action.
func (w *watcher) transition(chanID, action string) queue.Transition {
	w.t.Helper()
	return w.next(chanID+" "+action, func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.ChannelID == chanID && u.Transition.Action == action
	}).Transition
}

func (w *watcher) nodeUp() {
	w.t.Helper()
	w.next("node up", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateNode && u.Node.OK() })
}

func (w *watcher) music(on bool) {
	w.t.Helper()
	w.next("music change", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateMedia && u.Media.Music == on && !u.Media.Talkback
	})
}

// dial places a caller into show and waits until it is waiting in the
// holding bridge; it returns the handle and the call id.
func dial(t testing.TB, srv *aritest.Server, w *watcher, show, number string) (*aritest.Call, string) {
	t.Helper()
	c, err := srv.Call(context.Background(), aritest.CallOptions{Args: []string{show}, Number: number})
	if err != nil {
		t.Fatal(err)
	}
	tr := w.transition(c.ID(), queue.ActionJoin)
	return c, tr.CallID
}

func waitDone(t testing.TB, c *aritest.Call) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(wait):
		t.Fatalf("caller %s still up", c.ID())
	}
}

func holdID(show string) string { return "callin-" + show + "-hold" }
func airID(show string) string  { return "callin-" + show + "-air" }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hooked wraps a node's Telephony to act in the middle of an action (a
// caller hanging up just before a request, say).
type hooked struct {
	broadcast.Telephony
	mu          sync.Mutex
	beforeAdd   func(bridgeID string, chans []string)
	beforePlay  func(chanID string, media []string)
	beforeStart func(bridgeID string) // CreateBridge
	// addErr, when it returns an error, is AddChannel's answer instead of
	// Asterisk's.
	addErr func(bridgeID string, chans []string) error
}

func (h *hooked) AddChannel(ctx context.Context, bridgeID string, p ari.AddChannelParams) error {
	h.mu.Lock()
	f, fail := h.beforeAdd, h.addErr
	h.mu.Unlock()
	if f != nil {
		f(bridgeID, p.Channels)
	}
	if fail != nil {
		if err := fail(bridgeID, p.Channels); err != nil {
			return err
		}
	}
	return h.Telephony.AddChannel(ctx, bridgeID, p)
}

func (h *hooked) PlayChannel(ctx context.Context, chanID, pb string, media ...string) (*ari.Playback, error) {
	h.mu.Lock()
	f := h.beforePlay
	h.mu.Unlock()
	if f != nil {
		f(chanID, media)
	}
	return h.Telephony.PlayChannel(ctx, chanID, pb, media...)
}

func (h *hooked) CreateBridge(ctx context.Context, id, typ, name string) (*ari.Bridge, error) {
	h.mu.Lock()
	f := h.beforeStart
	h.mu.Unlock()
	if f != nil {
		f(id)
	}
	return h.Telephony.CreateBridge(ctx, id, typ, name)
}

func (h *hooked) set(f func(h *hooked)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h)
}

// proxy is a loopback TCP proxy in front of a fake node, to cut the
// WebSocket (and every other connection) without restarting the node.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]bool
	paused bool
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.paused {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

// cut closes every connection through the proxy; pause also refuses new
// ones until resume.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *proxy) pause(on bool) {
	p.mu.Lock()
	p.paused = on
	p.mu.Unlock()
}

func isGone(err error) bool { return errors.Is(err, queue.ErrGone) }

// waitMusic waits until a caller hears music on hold. Bridge music has no
// ARI event (trace 01), so this polls the fake's state, for at most 2 s.
func waitMusic(t testing.TB, c *aritest.Call) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, ok := c.State()
		if ok && st.HearsMusic {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("caller %s (in %q) hears no music", c.ID(), st.Bridge)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// subWatch wraps a Telephony to tell a test when callin's subscription to
// a channel has been answered (the subscription has no event).
type subWatch struct {
	broadcast.Telephony
	mu   sync.Mutex
	done map[string]bool
	wake chan struct{}
}

func watchSubs(t broadcast.Telephony) *subWatch {
	return &subWatch{Telephony: t, done: map[string]bool{}, wake: make(chan struct{}, 1)}
}

func (w *subWatch) Subscribe(ctx context.Context, sources ...string) error {
	err := w.Telephony.Subscribe(ctx, sources...)
	if err == nil {
		w.mu.Lock()
		for _, src := range sources {
			w.done[strings.TrimPrefix(src, "channel:")] = true
		}
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return err
}

// wait waits until callin's subscription to a channel was answered, so
// that its hang-up brings ChannelDestroyed with the cause (trace 10a).
func (w *subWatch) wait(t testing.TB, chanID string) {
	t.Helper()
	timeout := time.After(wait)
	for {
		w.mu.Lock()
		ok := w.done[chanID]
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-w.wake:
		case <-timeout:
			t.Fatalf("channel %s never subscribed", chanID)
		}
	}
}
