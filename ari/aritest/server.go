// Package aritest is an in-memory Asterisk 22 that speaks the ARI HTTP and
// WebSocket API (with basic auth) on a loopback httptest server, so tests and
// `callin demo` need no PBX.
//
// The fake follows the recorded traces in shared/ari-traces (copied to
// testdata/ and replayed by the conformance test): the same status codes
// and error bodies, and the same events in the same order for what the
// callin service acts on (Stasis start and end, bridge entry and exit,
// hangup requests and destruction with their soft flags and causes, state
// changes, Dial, playbacks, recordings, talk detection, DTMF, the
// RTPAUDIOQOS and STASISSTATUS variables). It does not emit dialplan,
// device-state, caller-id or endpoint-state noise.
//
// Events reach a socket by subscription, as on Asterisk (see app.go): an
// application connected without subscribeAll sees a dialplan caller from
// StasisStart to StasisEnd and nothing after it, unless it subscribed to
// the channel (POST /applications/{app}/subscription); it sees bridge
// events of the bridges its channels were added to or it subscribed to.
// A subscribeAll socket sees everything.
//
// A caller is modelled as ONE Stasis channel. Its phone side is internal; it
// can be driven from a test through a *Call handle (hang up, press DTMF,
// talk) or, when the caller was originated the way the traces do it
// (POST /channels?endpoint=Local/101@callin&channelId=X-phone&otherChannelId=X-in),
// through REST: the phone half is then a visible, non-Stasis channel whose
// DELETE hangs up the caller from the phone side. Callers are Local-style
// by default, SIP-style with CallOptions.SIP.
//
// Everything is guarded by one mutex per Server; events are marshalled under
// that mutex and queued per WebSocket (bounded; a socket whose queue overflows
// is dropped, like Asterisk's websocket_write_timeout), so HTTP handlers never
// block on a slow client. Several Servers can run at once; Servers sharing a
// Trunk (Options.Trunk, Options.Node) are nodes joined by a SIP trunk, as on
// a real pair (see Trunk).
package aritest

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
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
// When the originate names an app too, the `;1` half enters that app once
// the `;2` half is answered (a relay: both halves in Stasis).
type Extension struct {
	// App and Args are Stasis()'s application and arguments; "${NAME}" is
	// replaced by the channel variable NAME from the originate's variables
	// (with or without its leading underscores), as
	// Stasis(callin,${CALLIN_SHOW}) does.
	App    string
	Args   []string
	Answer bool // Answer() before Stasis(): StasisStart arrives with state Up
	// Retry is the dialplan's retry loop on STASISSTATUS=FAILED
	// ([callin-stasis]: MusicOnHold for Retry, then Stasis() again) until
	// RetryFor has passed. Zero: a failed Stasis() hangs up at once. While
	// retrying, the caller's channels are not listed (a simplification).
	Retry, RetryFor time.Duration
}

// DefaultDialplan mirrors the lab Asterisk the traces were recorded on:
// in [callin], 100 answers first, 101 and 102 leave answering to the app;
// s@callin-stasis is callin's retry loop (trace 11b), its show taken from
// the variable CALLIN_SHOW, retried every 3 s for a minute; s@callin-talkback
// is callin's talkback relay (dialplan/extensions.conf).
func DefaultDialplan() map[string]Extension {
	return map[string]Extension{
		"100@callin":        {App: "callin", Args: []string{"show1"}, Answer: true},
		"101@callin":        {App: "callin", Args: []string{"show1"}},
		"102@callin":        {App: "callin", Args: []string{"show1"}},
		"s@callin-stasis":   {App: "callin", Args: []string{"${CALLIN_SHOW}"}, Retry: 3 * time.Second, RetryFor: time.Minute},
		"s@callin-talkback": {App: "${CALLIN_APP}", Args: []string{"${CALLIN_SHOW}", "relay"}},
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
	// Phones says how originated PJSIP endpoints answer
	// (POST /channels?endpoint=PJSIP/screener1&app=...), keyed by endpoint
	// ("PJSIP/screener1"). An endpoint not listed answers at once. See
	// Phone and Server.SetPhone.
	Phones map[string]Phone
	// AnnouncerLeak says when the last member's ChannelLeftBridge of a
	// holding bridge with music lists the music's announcer channel id, a
	// race in Asterisk (trace 12b). The default is AnnouncerLeakSometimes.
	AnnouncerLeak AnnouncerLeak
	// Seed seeds the fake's random choices (AnnouncerLeakSometimes); 0
	// picks a random seed.
	Seed uint64
	// AnnouncerRace models trace 19r: DELETE /bridges/{id}/moh answers
	// before the music's announcer has left, and that many announcer joins
	// into the bridge after it are refused (ChannelEnteredBridge then
	// ChannelLeftBridge at once, the addChannel answered 204). 0, the
	// default, refuses none (the music leaves at once).
	AnnouncerRace int
	// DestroyDelay delays what follows a dial-in caller's StasisEnd when it
	// hangs up or is hung up (ChannelHangupRequest(16, soft) and
	// ChannelDestroyed, seen by sockets subscribed to the channel) by this
	// long, not scaled by TimeScale. Zero sends them at once, as an idle
	// Asterisk does (trace 10a); with 600 callers hanging up within 7 s a
	// real one sent ChannelDestroyed 0.8-1.5 s after the caller had left
	// its bridge (issue 25).
	DestroyDelay time.Duration
	// Trunk joins this node to the other nodes on the same Trunk, by the
	// name Node ("A", "B", …): see Trunk.
	Trunk *Trunk
	Node  string
}

// AnnouncerLeak is when a holding bridge's last ChannelLeftBridge names
// the bridge music's own channel (e.g. "1796011677.8", never in
// GET /channels) in bridge.channels.
type AnnouncerLeak int

const (
	// AnnouncerLeakSometimes leaks at random (Options.Seed), about one time
	// in four, as the traces did; the default.
	AnnouncerLeakSometimes AnnouncerLeak = iota
	// AnnouncerLeakNever: the last Left always has an empty channel list.
	AnnouncerLeakNever
	// AnnouncerLeakAlways: the last Left of a bridge whose music plays
	// always lists the music's channel.
	AnnouncerLeakAlways
)

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
	stored    map[string]*storedRecording // survive a restart, as files do
	apps      map[string]*application
	globals   map[string]string // dialplan globals set through ARI (globals.go)
	sockets   map[*socket]struct{}
	appsCh    chan struct{} // closed and replaced when a socket takes or leaves an app
	history   []PlaybackRecord
	phones    map[string]Phone
	rng       *rand.Rand
	refuse    refusals // WebSocket dials refused while "booting" after Restart
	gen       int      // incremented by Restart; server-level timers check it
	closed    bool
	listener  func(chanID, media string) // SetPlayListener
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
		_, _ = crand.Read(b)
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
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &Server{opts: opts, log: log, sockets: map[*socket]struct{}{}, appsCh: make(chan struct{}),
		stored: map[string]*storedRecording{}, phones: map[string]Phone{}, rng: rand.New(rand.NewPCG(seed, seed^0x5bd1e995))}
	for k, v := range opts.Phones {
		s.phones[k] = v
	}
	s.reset()
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	if opts.Trunk != nil {
		opts.Trunk.join(opts.Node, s)
	}
	return s
}

func (s *Server) reset() {
	s.startup = time.Now()
	s.channels = map[string]*channel{}
	s.bridges = map[string]*bridge{}
	s.playbacks = map[string]*playback{}
	s.recs = map[string]*recording{}
	s.apps = map[string]*application{}
	s.globals = map[string]string{}
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
	if tr := s.opts.Trunk; tr != nil {
		tr.leave(s.opts.Node, s)
	}
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

type restartConfig struct {
	hold   time.Duration
	refuse refusals
}

// refusals counts the WebSocket dials a booting node still refuses.
type refusals struct{ resets, notBooted int }

// HoldSockets keeps the old WebSockets open but silent for d after the
// shutdown events before dropping them without a close frame, as a real
// Asterisk did for ~16.7 s in trace 07. A held socket reads nothing, so it
// answers no WebSocket ping: a client notices only by a ping deadline.
func HoldSockets(d time.Duration) RestartOption {
	return func(c *restartConfig) { c.hold = d }
}

// RefuseDials makes the restarted node refuse its next WebSocket dials as
// trace 17's did: the next resets dials meet a TCP reset (the process is
// gone), the notBooted after them get 503 {"message":"Asterisk not
// booted"}, and later dials succeed. RefuseDials(1, 1) is trace 17.
// Only /ari/events dials are refused; REST requests are served at once
// (guess, not checked: a real node refuses those too while it is down;
// pbxtest's Restart returns only once ARI answers again, so a request
// while the node is down cannot be lined up with the fake's).
func RefuseDials(resets, notBooted int) RestartOption {
	return func(c *restartConfig) { c.refuse = refusals{resets: max(resets, 0), notBooted: max(notBooted, 0)} }
}

// Restart behaves like `core stop now` followed by a start (traces 07 and
// 17). Every channel in Stasis gets, phase by phase as in trace 17,
// ChannelHangupRequest(4, soft), leaves its bridge, a dial-in caller gets
// ChannelHangupRequest(0), then StasisEnd; after that only sockets
// subscribed to the channel (an explicit subscription, a channel the app
// originated, subscribeAll) get ChannelHangupRequest(16, soft) and
// ChannelDestroyed(16) for a dial-in caller, ChannelHangupRequest(0) and
// ChannelDestroyed(0) for an originated one. Then every WebSocket is
// dropped without a close frame (at once, or after HoldSockets), and all
// channels, bridges, playbacks, live recordings, applications and
// subscriptions are gone; stored recordings stay. The URL stays; new
// connections are accepted at once unless RefuseDials says otherwise.
func (s *Server) Restart(opts ...RestartOption) {
	var cfg restartConfig
	for _, o := range opts {
		o(&cfg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdownChannels()
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
	for _, r := range s.recs {
		if r.maxDur != nil {
			r.maxDur.Stop()
		}
	}
	old := make([]*socket, 0, len(s.sockets))
	for sk := range s.sockets {
		old = append(old, sk)
		s.unregister(sk)
	}
	s.reset()
	s.gen++
	s.refuse = cfg.refuse
	s.appsChanged()
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

// shutdownChannels ends every channel as `core stop now` did in trace 17:
// each phase for all channels before the next, newest channel first.
//
// The visible non-Stasis half of a Local pair (a dial-in's phone, an
// originated caller's far half) gets ChannelHangupRequest(4, soft), then
// (16, soft), then ChannelDestroyed(0) (trace 17, the all socket); the
// Stasis half of an originated Local pair gets ChannelHangupRequest(0)
// before its StasisEnd and ChannelDestroyed(16) after it, as callin's
// socket got them on the real Asterisk 22.10.1:
// TestDifferential/AsteriskRestart (the fake had sent the far half only its
// ChannelDestroyed, and the Stasis half a HangupRequest(0) after StasisEnd
// and ChannelDestroyed(0)).
func (s *Server) shutdownChannels() {
	all := s.channelsInOrder()
	slices.Reverse(all)
	var in []*channel
	for _, c := range all {
		if c.stasis {
			in = append(in, c)
		}
	}
	// half is c's visible other half outside Stasis, or nil.
	half := func(c *channel) *channel {
		if p := c.peer; p != nil && !p.gone && !p.stasis {
			return p
		}
		return nil
	}
	for _, c := range in {
		// No RTPAUDIOQOS before it, not even for a PJSIP channel (an
		// originated one sets them after its StasisEnd, below). Seen on the
		// real Asterisk 22.10.1: TestDifferential/AsteriskRestart.
		s.hangupRequest(c, 4, true) // AST_SOFTHANGUP_SHUTDOWN
		if p := half(c); p != nil {
			s.hangupRequest(p, 4, true)
		}
	}
	for _, c := range in {
		s.endTalking(c, false)
		s.failQueue(&c.queue)
		s.leaveBridge(c, true)
	}
	for _, c := range in {
		if p := half(c); p != nil {
			s.hangupRequest(p, 16, true)
			s.hangupRequest(c, 0, false)
			s.destroyed(p, 0)
			continue
		}
		if c.kind == kindDialIn && c.trunk == nil {
			// Not for a leg over the trunk: recorded on the real pair,
			// testdata/pbx-TrunkNodeStopped.jsonl.
			s.hangupRequest(c, 0, false)
		}
	}
	for _, c := range in {
		for _, r := range s.recs {
			if r.ch == c {
				s.finishRecording(r, "done")
			}
		}
		s.stasisEnd(c)
	}
	for _, c := range in {
		switch {
		case c.kind == kindOriginated && c.peer != nil:
			s.destroyed(c, 16) // a Local pair's `;1` half
		case c.kind == kindOriginated && c.sip:
			// An answered phone the app originated: its RTPAUDIOQOS, then
			// ChannelDestroyed(16), as on the real Asterisk 22.10.1
			// (TestDifferential/AsteriskRestart; the fake had sent
			// HangupRequest(0) and ChannelDestroyed(0)).
			s.rtpQoS(c)
			s.destroyed(c, 16)
		case c.kind == kindOriginated:
			// Guess: another originated channel (no trace or differential
			// scenario has one at a restart; callin originates only Local
			// relays and PJSIP phones).
			s.hangupRequest(c, 0, false)
			s.destroyed(c, 0)
		default:
			s.hangupRequest(c, 16, true)
			s.destroyed(c, 16)
		}
	}
	for _, c := range s.channelsInOrder() {
		s.destroyed(c, 0) // channels still dialing, anything left
	}
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
	_, _ = crand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
