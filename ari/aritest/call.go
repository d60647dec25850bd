package aritest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callin-radio/callin/ari"
)

// ErrStasisFailed is returned by Call when no WebSocket has the app: the
// dialplan's Stasis() fails and the caller is hung up (traces 07, 11b), even
// while the application itself still exists because it holds
// subscriptions.
var ErrStasisFailed = errors.New("aritest: Stasis() failed: application not registered")

// ErrGone is returned by Call handle methods once the caller's channel is gone.
var ErrGone = errors.New("aritest: channel is gone")

// CallOptions describe a simulated inbound caller.
type CallOptions struct {
	App       string   // Stasis application; default "callin"
	Args      []string // Stasis arguments, e.g. the show key
	Number    string   // caller id number
	Name      string   // caller id name
	ChannelID string   // the Stasis channel's id; default an Asterisk-style id
	// PhoneID, when set, makes the caller's phone side a visible channel
	// with that id (not in Stasis), like the `;1` half in the traces: REST
	// DELETE on it hangs the caller up from the phone side.
	PhoneID string
	// Answered models Answer() before Stasis(): StasisStart has state Up.
	// Otherwise the channel arrives ringing (state Ring) until the app answers.
	Answered bool
	// StasisRetry models the dialplan retry loop on STASISSTATUS=FAILED: while
	// the app is unregistered, Stasis() is tried again every StasisRetry until
	// RetryFor has passed (or ctx ends). Zero means no retry: Call fails at once.
	StasisRetry time.Duration
	RetryFor    time.Duration
	// Exten and Context fill the channel's dialplan location (default 101@callin).
	Exten, Context string
	// SIP makes a SIP-style caller (a PJSIP channel of endpoint PJSIP/sipp,
	// as the sipp callers of traces 09-18) instead of a Local-style one:
	// its hangup sends five ChannelVarset RTPAUDIOQOS* first, a hang-up
	// from its side (a BYE) has no cause field, and
	// GET /channels/{id}/rtp_statistics answers 200. PhoneID is ignored.
	SIP bool

	phoneExten string // sim-caller behaviour of a REST-originated phone half
	// phoneApp, when set, puts the phone half into this Stasis app (with
	// phoneArgs) once the call is answered: a Local pair originated with
	// app= to an extension that runs Stasis() (see originateDialIn).
	phoneApp  string
	phoneArgs []string
	// endpoint replaces a SIP caller's PJSIP/sipp (a leg over the trunk
	// comes from PJSIP/node<NAME>).
	endpoint string
}

// Call is a handle on one simulated caller, driven from the phone side.
type Call struct {
	s          *Server
	ch         *channel
	phoneExten string
}

// Call places an inbound call into the app. It returns when the channel is
// in Stasis (StasisStart sent), or ErrStasisFailed when the app is not
// registered and retrying (if any) ran out.
func (s *Server) Call(ctx context.Context, o CallOptions) (*Call, error) {
	if o.App == "" {
		o.App = "callin"
	}
	var deadline <-chan time.Time
	if o.StasisRetry > 0 {
		t := time.NewTimer(o.RetryFor)
		defer t.Stop()
		deadline = t.C
	}
	for {
		s.mu.Lock()
		c, err := s.startCall(o)
		s.mu.Unlock()
		if err == nil {
			return c.call, nil
		}
		if !errors.Is(err, ErrStasisFailed) || o.StasisRetry <= 0 {
			return nil, err
		}
		// The dialplan pauses (MusicOnHold) for StasisRetry, then retries.
		pause := time.NewTimer(o.StasisRetry)
		select {
		case <-ctx.Done():
			pause.Stop()
			return nil, ctx.Err()
		case <-deadline:
			pause.Stop()
			return nil, err
		case <-pause.C:
		}
	}
}

// sipEndpoint is the endpoint of the fake's SIP callers, the lab's sipp.
const sipEndpoint = "PJSIP/sipp"

// startCall puts a dial-in caller into Stasis. Callers hold s.mu.
func (s *Server) startCall(o CallOptions) (*channel, error) {
	if s.closed {
		return nil, errors.New("aritest: server closed")
	}
	if o.App == "" {
		o.App = "callin"
	}
	if !s.connected(o.App) {
		return nil, ErrStasisFailed
	}
	id := o.ChannelID
	if id == "" {
		id = s.newChannelID()
	}
	for _, x := range []string{id, o.PhoneID} {
		if x != "" && s.channels[x] != nil {
			return nil, fmt.Errorf("aritest: channel %q already exists", x)
		}
	}
	if o.Exten == "" {
		o.Exten = "101"
	}
	if o.Context == "" {
		o.Context = "callin"
		if o.SIP {
			o.Context = "from-sipp"
		}
	}
	args := o.Args
	if args == nil {
		args = []string{}
	}
	s.chanSeq++
	c := &channel{seq: s.chanSeq, id: id, state: ari.StateRing, caller: ari.CallerID{Name: o.Name, Number: o.Number},
		created: time.Now(), kind: kindDialIn, app: o.App, args: args, done: make(chan struct{})}
	switch {
	case o.SIP:
		c.sip, c.endpoint = true, sipEndpoint
		if o.endpoint != "" {
			c.endpoint = o.endpoint
		}
		c.name = fmt.Sprintf("%s-%08x", c.endpoint, c.seq)
	case o.PhoneID != "":
		c.name = fmt.Sprintf("Local/%s@%s-%08x;2", o.Exten, o.Context, c.seq)
	default:
		c.name = fmt.Sprintf("PJSIP/trunk-%08x", c.seq)
	}
	data := o.App
	for _, a := range args {
		data += "," + a
	}
	c.dialplan = ari.DialplanCEP{Context: o.Context, Exten: o.Exten, Priority: 1, AppName: "Stasis", AppData: data}
	c.call = &Call{s: s, ch: c, phoneExten: o.phoneExten}
	s.channels[id] = c
	var p *channel
	if o.PhoneID != "" && !o.SIP {
		p = s.phoneHalf(c, o)
	}
	s.created(c)
	if p != nil && p.app != "" {
		// As originateLocal: subscribed from just after creation (09 f1).
		s.subscribeChannel(p.app, p)
		s.subscribeChannel(p.app, c)
		// The originate dials the `;1` half: Dial with an empty status
		// first (trace 19b), before its Dial(ANSWER). Seen on the real
		// Asterisk 22.10.1 on callin's socket: TestDifferential/TalkbackRelay
		// (the fake had left it out).
		s.dial(p, "")
	}
	if o.Answered {
		// Answer() ran in the dialplan before Stasis(): only a socket
		// already subscribed (subscribeAll) sees it (trace 01, a2).
		c.state = ari.StateUp
		s.stateChanged(c)
		if p != nil {
			p.state = ari.StateUp
			s.stateChanged(p)
		}
	}
	s.enterStasis(c)
	if o.Answered {
		c.call.answered(s, c)
	}
	return c, nil
}

// phoneHalf makes the visible `;1` half of a dial-in caller c: its phone,
// or, with o.phoneApp, the half of a relay that enters that app once c
// is answered.
func (s *Server) phoneHalf(c *channel, o CallOptions) *channel {
	s.chanSeq++
	p := &channel{seq: s.chanSeq, id: o.PhoneID, name: c.name[:len(c.name)-1] + "1", state: ari.StateDown,
		caller: c.caller, created: c.created, kind: kindDialIn, half: true, peer: c, done: make(chan struct{})}
	p.dialplan = ari.DialplanCEP{Context: o.Context, Exten: o.Exten, Priority: 1, AppName: "AppDial2", AppData: "(Outgoing Line)"}
	c.peer = p
	s.channels[p.id] = p
	if o.phoneApp != "" {
		p.kind, p.half, p.dialing = kindOriginated, false, true
		p.app, p.args, p.dialString = o.phoneApp, o.phoneArgs, o.Exten+"@"+o.Context
	}
	s.created(p)
	return p
}

// answered runs the phone side's dialplan once the call is up: the
// [sim-caller] extensions "short" (hang up after 4 s) and "dtmf" (55# after 1 s).
func (cl *Call) answered(s *Server, c *channel) {
	if p := c.peer; p != nil && !p.gone && p.state != ari.StateUp {
		p.state = ari.StateUp
		s.stateChanged(p)
		if p.dialing && p.app != "" {
			s.dial(p, "ANSWER")
			s.enterStasis(p)
		}
	}
	switch cl.phoneExten {
	case "short":
		c.after(s, 4*time.Second, func() { s.hangup(c, hangPhone, 16) })
	case "dtmf":
		for i, d := range "55#" {
			c.after(s, time.Second+time.Duration(i)*400*time.Millisecond, func() { s.dtmf(c, string(d)) })
		}
	}
}

func (s *Server) dtmf(c *channel, digit string) {
	s.onChannel(c, &ari.ChannelDtmfReceived{EventBase: base(ari.TypeChannelDtmfReceived), Digit: digit, DurationMs: 150, Channel: c.snapshot()})
}

// Caller returns the handle of the dial-in caller whose Stasis channel is id,
// including callers originated through the fake's dialplan over REST, and
// of a channel originated to a PJSIP endpoint (a screener's phone, see
// Phone): its Hangup is then the phone's BYE.
func (s *Server) Caller(id string) (*Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil || c.call == nil {
		return nil, false
	}
	return c.call, true
}

// ID is the caller's Stasis channel id.
func (cl *Call) ID() string { return cl.ch.id }

// Done is closed when the caller's channel has been destroyed.
func (cl *Call) Done() <-chan struct{} { return cl.ch.done }

// Hangup hangs up from the phone side with the Q.850 cause (0 means 16,
// normal clearing).
//
// A socket without subscribeAll (how callin connects) gets, for a
// Local-style caller (traces 04 d1, 09 a/c/d, 10a):
//
//	ChannelHangupRequest(cause, not soft)
//	PlaybackFinished(failed)   if a channel playback was playing
//	ChannelLeftBridge          if the caller was in a bridge
//	StasisEnd
//
// and for a SIP caller (CallOptions.SIP, a BYE; trace 09b): five
// ChannelVarset RTPAUDIOQOS* first, and a ChannelHangupRequest with no
// cause field. Nothing follows StasisEnd unless the application is
// subscribed to the channel (POST /applications/{app}/subscription?
// eventSource=channel:ID, trace 10a): then ChannelVarset STASISSTATUS,
// ChannelHangupRequest(16, soft) and ChannelDestroyed(cause) follow. A
// subscribeAll socket gets all of it. A caller with a visible phone half
// (PhoneID) also has that half's ChannelHangupRequest(16, soft) and
// ChannelDestroyed, seen only by sockets subscribed to it.
func (cl *Call) Hangup(cause int) error {
	if cause == 0 {
		cause = 16
	}
	s := cl.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if cl.ch.gone {
		return ErrGone
	}
	s.hangup(cl.ch, hangPhone, cause)
	return nil
}

// DTMF presses digits on the phone: one ChannelDtmfReceived per digit, sent at once.
func (cl *Call) DTMF(digits string) error {
	s := cl.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if cl.ch.gone {
		return ErrGone
	}
	for _, d := range digits {
		s.dtmf(cl.ch, string(d))
	}
	return nil
}

// Talk makes the caller speak for d: when TALK_DETECT(set) is on the channel
// and it is not muted in, ChannelTalkingStarted now and ChannelTalkingFinished
// (duration in ms) after d (scaled by Options.TimeScale). Otherwise no event.
func (cl *Call) Talk(d time.Duration) error {
	s := cl.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c := cl.ch
	if c.gone {
		return ErrGone
	}
	if !c.talkDetect || c.muteIn || c.talking {
		return nil
	}
	c.talking = true
	c.talkStart = time.Now()
	s.onChannel(c, &ari.ChannelTalkingStarted{EventBase: base(ari.TypeChannelTalkingStarted), Channel: c.snapshot()})
	start := c.talkStart
	c.after(s, d, func() {
		if c.talking && c.talkStart == start {
			s.endTalking(c, true)
		}
	})
	return nil
}

// ChannelState is what a test can see of one channel.
type ChannelState struct {
	ID         string
	State      string // Ring, Up
	InStasis   bool
	Bridge     string // id of the bridge it is in, or ""
	Role       string
	HearsMusic bool // bridge music that really plays, or channel MOH
	// HearsLine is the channel a holding bridge's participant hears: the
	// bridge's announcer channel, followed through Local pairs whose
	// other half listens in another holding bridge (callin's talkback
	// relays). "" when no channel announces.
	HearsLine  string
	MutedIn    bool
	MutedOut   bool
	OnHold     bool
	Playing    string // media URI playing on the channel now, or ""
	TalkDetect bool
	SIP        bool // a PJSIP channel (CallOptions.SIP, an originated PJSIP endpoint)
}

// State reports the caller's channel; ok is false once it is gone.
func (cl *Call) State() (ChannelState, bool) { return cl.s.Channel(cl.ch.id) }

// HearsMusic says whether the caller hears music on hold now: bridge music
// that really plays in its bridge (see Server.BridgeMusicPlaying), or
// channel MOH. False once the caller is gone.
func (cl *Call) HearsMusic() bool {
	cl.s.mu.Lock()
	defer cl.s.mu.Unlock()
	return !cl.ch.gone && cl.ch.hearsMusic()
}

// Channel reports a channel by id; ok is false when there is none.
func (s *Server) Channel(id string) (ChannelState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil {
		return ChannelState{}, false
	}
	st := ChannelState{ID: c.id, State: c.state, InStasis: c.stasis, Role: c.role, HearsMusic: c.hearsMusic(),
		MutedIn: c.muteIn, MutedOut: c.muteOut, OnHold: c.hold, TalkDetect: c.talkDetect, SIP: c.sip, HearsLine: s.hearsLine(c)}
	if c.bridge != nil {
		st.Bridge = c.bridge.id
	}
	if len(c.queue) > 0 && c.queue[0].state == ari.PlaybackPlaying {
		st.Playing = c.queue[0].media[c.queue[0].idx]
	}
	return st, true
}

// ChannelCount is the number of channels (Stasis and visible phone halves).
func (s *Server) ChannelCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.channels)
}

// BridgeChannels lists the channels in a bridge (nil, false if it does not exist).
func (s *Server) BridgeChannels(id string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridges[id]
	if b == nil {
		return nil, false
	}
	return append([]string{}, b.members...), true
}

// BridgeMusicPlaying reports whether a bridge's music on hold is really
// playing (false after it silently stopped, or never started).
func (s *Server) BridgeMusicPlaying(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridges[id]
	return b != nil && b.mohPlaying
}

// Playbacks is the history of every playback since the server started.
func (s *Server) Playbacks() []PlaybackRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PlaybackRecord{}, s.history...)
}
