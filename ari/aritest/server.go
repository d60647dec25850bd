// Package aritest is an in-memory Asterisk 22 that speaks the ARI HTTP and
// WebSocket API (with basic auth) on a loopback httptest server, so tests and
// `callin demo` need no PBX.
//
// The fake follows the recorded traces in shared/ari-traces: the same status
// codes and error bodies, and the same events in the same order for what the
// callin service acts on (Stasis start and end, bridge entry and exit, hangup
// requests and destruction with their soft flags and causes, state changes,
// playbacks, recordings, talk detection and DTMF). It does not emit dialplan,
// device-state or caller-id noise.
//
// A caller is modelled as ONE Stasis channel. Its phone side is internal; it
// can be driven from a test through a *Call handle (hang up, press DTMF,
// talk) or, when the caller was originated the way the traces do it
// (POST /channels?endpoint=Local/101@callin&channelId=X-phone&otherChannelId=X-in),
// through REST: the phone half is then a visible, non-Stasis channel whose
// DELETE hangs up the caller from the phone side.
//
// Everything is guarded by one mutex per Server; events are marshalled under
// that mutex and queued per WebSocket (bounded; a socket whose queue overflows
// is dropped, like Asterisk's websocket_write_timeout), so HTTP handlers never
// block on a slow client. Several Servers can run at once.
package aritest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Never is a media duration meaning "this playback never finishes".
const Never time.Duration = -1

// DefaultSounds are the sound files a new Server knows, with their lengths.
// A `sound:` URI naming any other file fails at once (PlaybackFinished
// state "failed"), as on a real Asterisk without that file.
var DefaultSounds = map[string]time.Duration{
	"hello-world":        1420 * time.Millisecond,
	"beep":               440 * time.Millisecond,
	"silence/1":          time.Second,
	"silence/10":         10 * time.Second,
	"vm-goodbye":         900 * time.Millisecond,
	"queue-thankyou":     1800 * time.Millisecond,
	"queue-youarenext":   1500 * time.Millisecond,
	"queue-thereare":     900 * time.Millisecond,
	"queue-callswaiting": 1200 * time.Millisecond,
	"pls-hold-while-try": 1700 * time.Millisecond,
	"tt-monkeys":         8 * time.Second,
	"conf-onlyperson":    2 * time.Second,
}

// Extension is one dialplan extension of the fake: a Local channel
// originated to it (POST /channels?endpoint=Local/EXTEN@CONTEXT) becomes a
// dial-in caller whose `;2` half (otherChannelId) enters Stasis(App, Args).
type Extension struct {
	App    string
	Args   []string
	Answer bool // Answer() before Stasis(): StasisStart arrives with state Up
}

// DefaultDialplan mirrors [callin] of the lab Asterisk the traces were
// recorded on: 100 answers first, 101 and 102 leave answering to the app.
func DefaultDialplan() map[string]Extension {
	return map[string]Extension{
		"100@callin": {App: "callin", Args: []string{"show1"}, Answer: true},
		"101@callin": {App: "callin", Args: []string{"show1"}},
		"102@callin": {App: "callin", Args: []string{"show1"}},
	}
}

// Options configure a fake node. The zero value is usable.
type Options struct {
	User     string // default "callin"
	Password string // default "callin"
	// AsteriskID is the node's entity id, sent as asterisk_id on every event.
	AsteriskID string
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
	// Sounds replaces DefaultSounds (names without the "sound:" prefix).
	Sounds map[string]time.Duration
	// Media overrides the duration of exact media URIs ("sound:hello-world",
	// "number:5"); Never makes that playback never finish.
	Media map[string]time.Duration
	// TimeScale multiplies every simulated duration (playbacks, talking,
	// dialplan waits); 0 means 1. Use e.g. 0.01 to make tests fast.
	TimeScale float64
	// Dialplan replaces DefaultDialplan for Local-channel origination.
	Dialplan map[string]Extension
	// EventQueue bounds each WebSocket's queue of unsent events; when it
	// overflows the socket is dropped. Default 65536.
	EventQueue int
	// WriteTimeout bounds one WebSocket write. Default 5 s.
	WriteTimeout time.Duration
}

// Server is one running fake Asterisk node.
type Server struct {
	opts Options
	ts   *httptest.Server
	log  *slog.Logger

	mu        sync.Mutex
	startup   time.Time
	chanSeq   int
	channels  map[string]*channel
	bridges   map[string]*bridge
	playbacks map[string]*playback
	recs      map[string]*recording
	apps      map[string]*socket // app name -> the socket that has it
	sockets   map[*socket]struct{}
	appsCh    chan struct{} // closed and replaced when s.apps changes
	history   []PlaybackRecord
	closed    bool
}

// NewServer starts a fake node on 127.0.0.1.
func NewServer(opts Options) *Server {
	if opts.User == "" {
		opts.User = "callin"
	}
	if opts.Password == "" {
		opts.Password = "callin"
	}
	if opts.AsteriskID == "" {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		opts.AsteriskID = fmt.Sprintf("02:fc:00:%02x:%02x:%02x", b[0], b[1], b[2])
	}
	if opts.Sounds == nil {
		opts.Sounds = DefaultSounds
	}
	if opts.Dialplan == nil {
		opts.Dialplan = DefaultDialplan()
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = 1
	}
	if opts.EventQueue <= 0 {
		opts.EventQueue = 65536
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: log, sockets: map[*socket]struct{}{}, apps: map[string]*socket{}, appsCh: make(chan struct{})}
	s.reset()
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

func (s *Server) reset() {
	s.startup = time.Now()
	s.channels = map[string]*channel{}
	s.bridges = map[string]*bridge{}
	s.playbacks = map[string]*playback{}
	s.recs = map[string]*recording{}
}

// URL is the node's base URL, e.g. "http://127.0.0.1:41234" (ARI lives under /ari).
func (s *Server) URL() string { return s.ts.URL }

// WebSocketURL is the events URL for app, e.g. "ws://127.0.0.1:41234/ari/events?app=callin".
func (s *Server) WebSocketURL(app string) string {
	return "ws" + strings.TrimPrefix(s.ts.URL, "http") + "/ari/events?app=" + app
}

// User is the ARI user name the node accepts.
func (s *Server) User() string { return s.opts.User }

// Password is the ARI password the node accepts.
func (s *Server) Password() string { return s.opts.Password }

// AsteriskID is the node's entity id (asterisk_id on events).
func (s *Server) AsteriskID() string { return s.opts.AsteriskID }

// Close drops every WebSocket, stops all timers and shuts the HTTP server down.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for _, p := range s.playbacks {
		p.stopTimer()
	}
	for _, c := range s.channels {
		c.stopTimers()
	}
	for sk := range s.sockets {
		sk.kill()
	}
	s.mu.Unlock()
	s.ts.Close()
}

// RestartOption changes how Restart drops the WebSockets.
type RestartOption func(*restartConfig)

type restartConfig struct{ hold time.Duration }

// HoldSockets keeps the old WebSockets open but silent for d after the
// shutdown events before dropping them without a close frame, as a real
// Asterisk did for ~16.7 s in trace 07. A held socket reads nothing, so it
// answers no WebSocket ping: a client notices only by a ping deadline.
func HoldSockets(d time.Duration) RestartOption {
	return func(c *restartConfig) { c.hold = d }
}

// Restart behaves like `core stop now` followed by a start: every Stasis
// channel gets ChannelHangupRequest (soft, cause 4), leaves its bridge, gets
// StasisEnd and ChannelDestroyed; then every WebSocket is dropped without a
// close frame (at once, or after HoldSockets) and all channels, bridges,
// playbacks and recordings are gone. The URL stays and new connections are
// accepted immediately.
func (s *Server) Restart(opts ...RestartOption) {
	var cfg restartConfig
	for _, o := range opts {
		o(&cfg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.channelsInOrder() {
		if c.stasis && !c.gone {
			s.hangup(c, hangShutdown, 16)
		}
	}
	for _, c := range s.channels {
		c.stopTimers()
	}
	for _, p := range s.playbacks {
		p.stopTimer()
	}
	for _, b := range s.bridges {
		for _, p := range b.queue {
			p.stopTimer()
		}
	}
	old := make([]*socket, 0, len(s.sockets))
	for sk := range s.sockets {
		old = append(old, sk)
		s.unregister(sk)
	}
	s.reset()
	if cfg.hold <= 0 {
		for _, sk := range old {
			sk.drop()
		}
		return
	}
	for _, sk := range old {
		sk.freeze()
	}
	time.AfterFunc(cfg.hold, func() {
		for _, sk := range old {
			sk.drop()
		}
	})
}

func (s *Server) scale(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return time.Duration(float64(d) * s.opts.TimeScale)
}

func (s *Server) newChannelID() string {
	s.chanSeq++
	return fmt.Sprintf("%d.%d", s.startup.Unix(), s.chanSeq)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
