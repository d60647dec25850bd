package aritest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/callin-radio/callin/ari"
)

// callKind says which half of a Local pair (or which real-world caller) a
// Stasis channel models; the hangup event sequences differ between them.
type callKind int

const (
	// kindDialIn is a caller that dialled in and reached Stasis() in the
	// dialplan (the `;2` half in the traces, or a SIP caller).
	kindDialIn callKind = iota
	// kindOriginated is a channel the app originated straight into Stasis
	// (the `;1` half of POST /channels?app=...).
	kindOriginated
)

type channel struct {
	seq      int
	id       string
	name     string
	state    string
	caller   ari.CallerID
	dialplan ari.DialplanCEP
	created  time.Time
	kind     callKind
	// endpoint is the channel's endpoint for endpoint subscriptions, e.g.
	// "PJSIP/sipp"; "" for the halves of a Local pair.
	endpoint string
	// sip marks a PJSIP channel: RTPAUDIOQOS variables at hangup, a BYE
	// without cause, RTP statistics (traces 09, 13, 16).
	sip bool

	stasis bool // in a Stasis application (false for a visible phone half)
	app    string
	args   []string
	// half marks the visible non-Stasis half of a Local pair (a dial-in's
	// phone, an originated channel's far end); peer is then its Stasis side.
	half bool
	peer *channel // the other half of the Local pair, if visible
	call *Call    // the test handle, if any
	// dialing: an originated channel that has not answered yet (not in Stasis).
	dialing    bool
	dialString string // the resource part of the originate's endpoint, for Dial events
	// trunk links a leg of a call over the trunk to its other leg on
	// another node (see Trunk).
	trunk *trunkLink

	bridge *bridge
	role   string

	muteIn, muteOut bool
	hold, moh       bool
	ringing         bool
	talkDetect      bool
	talking         bool
	talkStart       time.Time
	heardMusic      bool // heard music at some point (RTPAUDIOQOS txcount)
	vars            map[string]string

	queue  []*playback // head is playing
	timers []*time.Timer
	gone   bool
	done   chan struct{}
}

func (c *channel) snapshot() ari.Channel {
	return ari.Channel{
		ID:           c.id,
		Name:         c.name,
		State:        c.state,
		Caller:       c.caller,
		Connected:    c.caller,
		Dialplan:     c.dialplan,
		CreationTime: ari.Time{Time: c.created},
		Language:     "en",
	}
}

func (c *channel) after(s *Server, d time.Duration, f func()) {
	if d == Never {
		return
	}
	t := time.AfterFunc(s.scale(d), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.gone || s.closed {
			return
		}
		f()
	})
	c.timers = append(c.timers, t)
}

func (c *channel) stopTimers() {
	for _, t := range c.timers {
		t.Stop()
	}
	c.timers = nil
}

type bridge struct {
	id, name, typ string
	created       time.Time
	members       []string
	index         map[string]int
	announcer     string // id of an announcer-role channel, if any
	mohPlaying    bool
	mohClass      string
	// mohChannel is the uniqueid of the music's own announcer channel
	// (Announcer/ARI_MOH), never in GET /channels; the last member's
	// ChannelLeftBridge sometimes lists it (trace 12b).
	mohChannel string
	// mohLeaving counts the announcer joins still to refuse after a
	// DELETE /moh (Options.AnnouncerRace, trace 19r).
	mohLeaving int
	queue      []*playback
	rec        *recording
}

func (b *bridge) technology() string {
	if b.typ == ari.BridgeHolding {
		return "holding_bridge"
	}
	return "simple_bridge"
}

func (b *bridge) snapshot() ari.Bridge {
	chans := b.members
	if chans == nil {
		chans = []string{}
	}
	return ari.Bridge{
		ID: b.id, Technology: b.technology(), BridgeType: b.typ, BridgeClass: "stasis",
		Creator: "Stasis", Name: b.name, Channels: chans, VideoMode: "talker",
		CreationTime: ari.Time{Time: b.created},
	}
}

// add and remove keep members in O(1); removal swaps the last member in.
func (b *bridge) add(id string) {
	b.index[id] = len(b.members)
	b.members = append(b.members, id)
}

func (b *bridge) remove(id string) {
	i, ok := b.index[id]
	if !ok {
		return
	}
	last := len(b.members) - 1
	b.members[i] = b.members[last]
	b.index[b.members[i]] = i
	b.members = b.members[:last]
	delete(b.index, id)
}

func base(typ string) ari.EventBase { return ari.EventBase{Type: typ} }

func (s *Server) channelsInOrder() []*channel {
	out := make([]*channel, 0, len(s.channels))
	for _, c := range s.channels {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *channel) int { return a.seq - b.seq })
	return out
}

// Events the ari package does not model, shaped as Asterisk sends them.
type (
	channelCreated struct {
		ari.EventBase
		Channel ari.Channel `json:"channel"`
	}
	dialEvent struct {
		ari.EventBase
		DialStatus string      `json:"dialstatus"`
		Forward    string      `json:"forward"`
		DialString string      `json:"dialstring"`
		Peer       ari.Channel `json:"peer"`
	}
	// byeHangupRequest is a SIP BYE's ChannelHangupRequest: no cause field
	// at all (traces 09b, 13a, 18).
	byeHangupRequest struct {
		ari.EventBase
		Channel ari.Channel `json:"channel"`
	}
)

func (s *Server) created(c *channel) {
	s.onChannel(c, &channelCreated{EventBase: base("ChannelCreated"), Channel: c.snapshot()})
}

func (s *Server) stateChanged(c *channel) {
	s.onChannel(c, &ari.ChannelStateChange{EventBase: base(ari.TypeChannelStateChange), Channel: c.snapshot()})
}

func (s *Server) hangupRequest(c *channel, cause int, soft bool) {
	s.onChannel(c, &ari.ChannelHangupRequest{EventBase: base(ari.TypeChannelHangupRequest), Cause: cause, Soft: soft, Channel: c.snapshot()})
}

func (s *Server) varset(c *channel, name, value string) {
	snap := c.snapshot()
	s.onChannel(c, &ari.ChannelVarset{EventBase: base(ari.TypeChannelVarset), Variable: name, Value: value, Channel: &snap})
}

func (s *Server) dial(c *channel, status string) {
	s.onChannel(c, &dialEvent{EventBase: base("Dial"), DialStatus: status, DialString: c.dialString, Peer: c.snapshot()})
}

// destroyed sends ChannelDestroyed and forgets the channel.
func (s *Server) destroyed(c *channel, cause int) {
	if c.gone {
		return
	}
	s.onChannel(c, &ari.ChannelDestroyed{EventBase: base(ari.TypeChannelDestroyed), Cause: cause, CauseTxt: causeText(cause), Channel: c.snapshot()})
	s.trunkGone(c, cause)
	s.dropChannel(c)
}

// rtpQoS sends the five RTPAUDIOQOS variables a PJSIP channel sets just
// before its hangup request (trace 09b). txcount is 0 for a caller who never
// heard anything (09b1 after the bridge music had stopped). Which variables
// come, and when, is checked on the real Asterisk 22.10.1
// (TestDifferential/SIPCaller, /AsteriskRestart). Guess, cannot be checked
// by comparing events: the numbers (50 packets a second of the call; fixed
// jitter, loss, RTT, MES), which on a real node measure real RTP.
func (s *Server) rtpQoS(c *channel) {
	secs := time.Since(c.created).Seconds()
	rx := max(int(secs*50), 1)
	tx := 0
	if c.heardMusic || c.hearsMusic() {
		tx = rx
	}
	s.varset(c, "RTPAUDIOQOS", fmt.Sprintf("ssrc=%d;themssrc=3390111744;lp=0;rxjitter=0.000000;rxcount=%d;txjitter=0.000125;txcount=%d;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=88.087887", 1800000000+c.seq, rx, tx))
	s.varset(c, "RTPAUDIOQOSJITTER", "minrxjitter=000.000125;maxrxjitter=000.000500;avgrxjitter=000.000223;stdevrxjitter=000.000089;mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;stdevtxjitter=000.000000;")
	s.varset(c, "RTPAUDIOQOSLOSS", "  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  avgtxlost=000.000000;  stdevtxlost=000.000000;")
	s.varset(c, "RTPAUDIOQOSRTT", "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;")
	s.varset(c, "RTPAUDIOQOSMES", "   minrxmes=088.087887;   maxrxmes=088.087887;   avgrxmes=088.087887;   stdevrxmes=000.000000;   mintxmes=000.000000;   maxtxmes=000.000000;   avgtxmes=000.000000;   stdevtxmes=000.000000;")
}

// enterStasis hands c to its application: STASISSTATUS is cleared (seen
// only by those already subscribed: an originating app, subscribeAll, an
// endpoint subscription), Stasis subscribes the app, StasisStart follows.
func (s *Server) enterStasis(c *channel) {
	c.stasis, c.dialing = true, false
	if c.dialplan.AppName != "Stasis" {
		// An originated channel runs Stasis(app,args) once answered, as
		// GET /channels and its StasisStart show (trace 13: app_data
		// "callin,morning,screener,CALL123").
		c.dialplan.AppName, c.dialplan.AppData = "Stasis", strings.Join(append([]string{c.app}, c.args...), ",")
		c.dialplan.Exten, c.dialplan.Priority = "s", 1
	}
	s.varset(c, "STASISSTATUS", "")
	s.subscribeChannel(c.app, c)
	s.toApp(c.app, &ari.StasisStart{EventBase: base(ari.TypeStasisStart), Args: c.args, Channel: c.snapshot()})
}

// stasisEnd takes c out of Stasis: StasisEnd to its app, Stasis's own
// subscription released, STASISSTATUS=SUCCESS to whoever is still
// subscribed (traces 10a, 11c, 17).
func (s *Server) stasisEnd(c *channel) {
	c.stasis = false
	s.toApp(c.app, &ari.StasisEnd{EventBase: base(ari.TypeStasisEnd), Channel: c.snapshot()})
	s.unsubscribeChannel(c.app, c)
	s.varset(c, "STASISSTATUS", "SUCCESS")
}

// enterBridge puts c into b, moving it out of its current bridge first
// (addChannel on a second bridge moves the channel, trace 02). The
// channel's application subscribes to the bridge (trace 10d).
func (s *Server) enterBridge(b *bridge, c *channel, role string) {
	if c.bridge != nil {
		s.leaveBridge(c, false)
	}
	if role == "" {
		role = ari.RoleParticipant
	}
	c.bridge, c.role = b, role
	b.add(c.id)
	s.subscribeBridge(c.app, b)
	s.onBridge(b, &ari.ChannelEnteredBridge{EventBase: base(ari.TypeChannelEnteredBridge), Bridge: b.snapshot(), Channel: c.snapshot()}, 1)
	if role == ari.RoleAnnouncer && b.typ == ari.BridgeHolding {
		if b.mohPlaying || b.mohLeaving > 0 || (b.announcer != "" && b.announcer != c.id) {
			// "tried to be an announcer. Bridge already has one." (trace
			// 01; with the music's announcer still leaving, trace 19r)
			b.mohLeaving = max(b.mohLeaving-1, 0)
			s.leaveBridge(c, false)
			return
		}
		b.announcer = c.id
	}
	if c.hearsMusic() {
		c.heardMusic = true
	}
}

// Guess, not modelled, cannot be checked: in trace 17 a non-last member's
// ChannelLeftBridge at shutdown also listed the music's channel; only the
// last member's does here (leaveBridge). These lists are a race in
// Asterisk (12b); TestDifferential does not compare them.

// leaveBridge takes c out of its bridge with ChannelLeftBridge. A channel
// that leaves while staying in Stasis (a move, removeChannel, the bridge's
// deletion) releases its app's subscription to the bridge; one that hangs
// up does not (hangup true; traces 10e, 14c against 09-12). Bridge music
// stops for good when a holding bridge loses its last channel (trace 12c).
func (s *Server) leaveBridge(c *channel, hangup bool) {
	b := c.bridge
	if b == nil {
		return
	}
	b.remove(c.id)
	if b.announcer == c.id {
		b.announcer = ""
	}
	c.bridge, c.role = nil, ""
	snap := b.snapshot()
	if len(b.members) == 0 && b.typ == ari.BridgeHolding && b.mohPlaying && s.leakAnnouncer() {
		snap.Channels = []string{b.mohChannel}
	}
	s.onBridge(b, &ari.ChannelLeftBridge{EventBase: base(ari.TypeChannelLeftBridge), Bridge: snap, Channel: c.snapshot()}, 1)
	if !hangup {
		s.unsubscribeBridge(c.app, b)
	}
	if len(b.members) == 0 {
		// "Later finding" and trace 12c: Asterisk removes the music's
		// announcer with the last participant, whichever way it left. A
		// mixing bridge loses its music the same way: DELETE /moh 200 ms
		// after its last member's ChannelLeftBridge answered 409 "Bridge
		// isn't playing music" on the real Asterisk 22.10.1, 3 runs of 3
		// (TestDifferential/BridgeMusicAndPlayback; the fake had kept the
		// music). Sent at once after the Left it once answered 204: the
		// removal is asynchronous, as the stop in trace 19r.
		b.mohPlaying = false
	}
}

// leakAnnouncer decides whether the last member's ChannelLeftBridge lists
// the music's announcer channel (a race in Asterisk, trace 12b).
func (s *Server) leakAnnouncer() bool {
	switch s.opts.AnnouncerLeak {
	case AnnouncerLeakAlways:
		return true
	case AnnouncerLeakNever:
		return false
	}
	// Guess, cannot be checked by one differential run (a race's
	// frequency): about one time in four, as in traces 10-12 (5 of about
	// 20 last departures from a bridge with music).
	return s.rng.IntN(4) == 0
}

// destroyBridge removes every member (ChannelLeftBridge each, last joined
// first as in trace 02), fails the bridge's playbacks, ends its recording and
// sends BridgeDestroyed. The members stay in Stasis; their leaving releases
// their app's subscription, so an app subscribed only through them gets
// neither RecordingFinished nor BridgeDestroyed (trace 14c).
func (s *Server) destroyBridge(b *bridge) {
	for len(b.members) > 0 {
		c := s.channels[b.members[len(b.members)-1]]
		if c == nil {
			b.remove(b.members[len(b.members)-1])
			continue
		}
		s.leaveBridge(c, false)
	}
	s.failQueue(&b.queue)
	if b.rec != nil {
		s.finishRecording(b.rec, "done")
	}
	delete(s.bridges, b.id)
	s.onBridge(b, &ari.BridgeDestroyed{EventBase: base(ari.TypeBridgeDestroyed), Bridge: b.snapshot()}, 1)
	s.forgetBridge(b)
}

// hangKind is who or what ends a call; each gives real Asterisk's sequence.
type hangKind int

const (
	hangApp      hangKind = iota // DELETE /channels/{id}
	hangPhone                    // the caller's side ends by itself: Call.Hangup, a SIP BYE, a [sim-caller] dialplan that ends
	hangHalf                     // DELETE of the visible phone or far half of a Local pair
	hangShutdown                 // Asterisk stops (see Restart)
	hangContinue                 // POST /continue: the dialplan resumes, then Hangup()
	hangTrunk                    // the other leg of a call over the trunk ended: a BYE (or CANCEL) from the other node
)

// hangup ends c with the event order recorded in traces 03, 04, 09, 10 and
// 13. cause is the Q.850 cause (ChannelDestroyed's, and the non-soft
// request's when the other side hangs up). Which of these events a socket
// gets is the delivery's business (app.go): an app without subscribeAll
// sees a dialplan caller only up to StasisEnd unless it subscribed.
func (s *Server) hangup(c *channel, how hangKind, cause int) {
	if c.gone {
		return
	}
	if !c.stasis {
		if c.half && c.peer != nil && !c.peer.gone && c.peer.stasis {
			if how == hangApp {
				how = hangHalf
			}
			s.hangup(c.peer, how, cause)
			return
		}
		s.hangupOutside(c, how, cause)
		return
	}
	p := c.peer
	if p != nil && p.gone {
		p = nil
	}
	if c.sip && (c.trunk == nil || c.state == ari.StateUp) {
		// A leg over the trunk that was never answered had no RTP: no
		// RTPAUDIOQOS (testdata/pbx-TrunkNotAnswered.jsonl).
		s.rtpQoS(c)
	}
	s.hangupRequests(c, p, how, cause)
	if p != nil && !p.stasis && (how == hangHalf || how == hangPhone) {
		s.destroyed(p, cause)
	}
	s.leaveStasis(c, how)
	if d := s.opts.DestroyDelay; d > 0 && c.kind == kindDialIn && how != hangShutdown && how != hangContinue {
		time.AfterFunc(d, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.hangupRequest(c, 16, true)
			s.destroyed(c, cause)
			if p != nil && !p.gone {
				s.peerGone(p, how, cause)
			}
		})
		return
	}
	switch {
	case how == hangShutdown && c.kind == kindOriginated:
		s.hangupRequest(c, 0, false)
		cause = 0
	case how == hangShutdown:
		cause = 16
	case c.kind == kindDialIn && how != hangContinue:
		s.hangupRequest(c, 16, true)
		// An originated channel has no such request after StasisEnd when
		// its far side or its phone hangs up (09 f1, 13a), nor when the app
		// deletes it: seen on the real Asterisk 22.10.1 for a Local pair's
		// `;1` half and a PJSIP phone, TestDifferential/OriginatedIntoApp
		// and TestDifferential/OriginatePhones.
	}
	s.destroyed(c, cause)
	if p != nil && !p.gone {
		s.peerGone(p, how, cause)
	}
}

// hangupRequests sends the ChannelHangupRequests that open a hang-up, by
// who hangs up (traces 04, 09, 17); p is the other half of a Local pair.
func (s *Server) hangupRequests(c, p *channel, how hangKind, cause int) {
	switch how {
	case hangApp:
		s.hangupRequest(c, 32, true) // AST_SOFTHANGUP_EXPLICIT
	case hangHalf:
		s.hangupRequest(p, 32, true)
		s.hangupRequest(p, 16, true)
		s.hangupRequest(c, cause, false)
	case hangPhone:
		switch {
		case p != nil: // the phone's dialplan ended (trace 04 d2, 09 f2)
			s.hangupRequest(p, 16, true)
			s.hangupRequest(c, cause, false)
		case c.sip:
			s.onChannel(c, &byeHangupRequest{EventBase: base(ari.TypeChannelHangupRequest), Channel: c.snapshot()})
		default:
			s.hangupRequest(c, cause, false)
		}
	case hangShutdown:
		s.hangupRequest(c, 4, true) // AST_SOFTHANGUP_SHUTDOWN
	case hangTrunk:
		// Asterisk's BYE carries the cause (a Reason header): unlike a
		// phone's BYE, the request has it (testdata/pbx-Trunk*.jsonl).
		s.hangupRequest(c, cause, false)
	}
}

// peerGone ends the other half of a Local pair after its Stasis half.
func (s *Server) peerGone(p *channel, how hangKind, cause int) {
	if p.stasis && how != hangShutdown {
		// Both halves of a pair in Stasis (a talkback relay): the other
		// half is hung up with the cause, as a caller whose phone hangs up.
		// Trace 19c, and seen on the real Asterisk 22.10.1 on callin's
		// socket: TestDifferential/TalkbackRelay.
		s.hangup(p, hangPhone, cause)
		return
	}
	switch how {
	case hangApp:
		// Trace 04 d3 (subscribeAll): HangupRequest(phone, cause), then
		// HangupRequest(phone, 16, soft), then ChannelDestroyed(phone,
		// cause). Seen on the real Asterisk 22.10.1 for an originated
		// caller's far half on callin's socket too, the soft request
		// included (the fake had left it out): TestDifferential/OriginatedIntoApp.
		s.hangupRequest(p, cause, false)
		s.hangupRequest(p, 16, true)
		s.destroyed(p, cause)
	case hangShutdown:
		s.destroyed(p, 0) // trace 17, the all socket
	default:
		// After POST /continue: a guess that cannot be checked on callin's
		// socket: the phone half of a dial-in is not subscribed, so nothing
		// of its end reaches the app (TestDifferential/Continue saw
		// nothing of it); only a subscribeAll socket would see it.
		s.destroyed(p, cause)
	}
}

// leaveStasis is the middle of a Stasis channel's hangup: a playing
// playback fails (before ChannelLeftBridge, trace 09 d2), the channel
// leaves its bridge, its recordings end, and StasisEnd is sent.
func (s *Server) leaveStasis(c *channel, how hangKind) {
	s.endTalking(c, false)
	s.failQueue(&c.queue)
	// POST /continue leaves the bridge as a hang-up does: the app stays
	// subscribed to the bridge (it gets the bridge's BridgeDestroyed). Seen
	// on the real Asterisk 22.10.1: TestDifferential/Continue (the fake had
	// released the subscription).
	s.leaveBridge(c, true)
	if how == hangShutdown && c.kind == kindDialIn {
		s.hangupRequest(c, 0, false)
	}
	for _, r := range s.recs {
		if r.ch == c {
			s.finishRecording(r, "done")
		}
	}
	s.stasisEnd(c)
}

// hangupOutside ends a channel that is not in Stasis: an originated
// channel still dialing (trace 13e: HangupRequest(32, soft),
// Dial(NOANSWER), ChannelDestroyed) or anything else left over.
func (s *Server) hangupOutside(c *channel, how hangKind, cause int) {
	switch {
	case how == hangShutdown:
		s.destroyed(c, 0)
	case c.dialing && how == hangApp:
		s.hangupRequest(c, 32, true)
		s.dial(c, "NOANSWER")
		s.destroyed(c, cause)
	default:
		s.hangupRequest(c, cause, false)
		s.destroyed(c, cause)
	}
	switch p := c.peer; {
	case p == nil || p.gone:
	case !p.stasis:
		s.destroyed(p, cause)
	case how != hangShutdown:
		// A relay's `;1` half hung up while dialing: its `;2` half, in
		// Stasis from the dialplan, goes with it as a caller whose phone
		// hangs up. Seen on the real Asterisk 22.10.1:
		// TestDifferential/RelayHungUpWhileDialing.
		s.hangup(p, hangPhone, cause)
	}
}

func (s *Server) dropChannel(c *channel) {
	if c.gone {
		return
	}
	c.gone = true
	c.stopTimers()
	if c.bridge != nil {
		c.bridge.remove(c.id)
		c.bridge = nil
	}
	delete(s.channels, c.id)
	s.forgetChannel(c)
	close(c.done)
}

// Hangup reasons accepted by DELETE /channels/{id}?reason=, with their causes.
var hangupReasons = map[string]int{
	"normal": 16, "busy": 17, "congestion": 34, "no_answer": 19, "timeout": 18,
	"rejected": 21, "unallocated": 1, "normal_unspecified": 31, "number_incomplete": 28,
	"codec_mismatch": 58, "interworking": 127, "failure": 38, "answered_elsewhere": 26,
}

func causeText(cause int) string {
	switch cause {
	case 0:
		return "Unknown"
	case 1:
		return "Unallocated (unassigned) number"
	case 16:
		return "Normal Clearing"
	case 17:
		return "User busy"
	case 18:
		return "No user responding"
	case 19:
		return "User alerting, no answer"
	case 21:
		return "Call Rejected"
	case 26:
		return "Non-selected user clearing"
	case 28:
		return "Invalid number format (incomplete number)"
	case 31:
		return "Normal, unspecified"
	case 34:
		return "Circuit/channel congestion"
	case 38:
		return "Network out of order"
	case 41:
		return "Temporary failure"
	case 58:
		return "Bearer capability not available"
	case 127:
		return "Interworking, unspecified"
	}
	return "Unknown"
}

// hearsMusic says whether c is hearing music on hold right now.
func (c *channel) hearsMusic() bool {
	if c.moh {
		return true
	}
	b := c.bridge
	return b != nil && b.mohPlaying && c.role != ari.RoleAnnouncer
}

// hearsLine follows what c hears as a participant of a holding bridge: the
// bridge's announcer channel (participants hear the announcer, traces 01
// and 15), or, when that is a half of a Local pair whose other half is a
// participant of another holding bridge, what that half hears: a `/n`
// Local pair passes the audio it gets on, measured by sound in trace 19
// (19b: every caller of both bridges heard the producer). "" when no
// channel announces.
func (s *Server) hearsLine(c *channel) string {
	for range 8 { // a relay of relays at most this deep
		b := c.bridge
		if b == nil || b.typ != ari.BridgeHolding || c.role == ari.RoleAnnouncer || b.announcer == "" {
			return ""
		}
		a := s.channels[b.announcer]
		if a == nil {
			return ""
		}
		p := a.peer
		if p == nil || p.gone || p.bridge == nil || p.bridge.typ != ari.BridgeHolding || p.role == ari.RoleAnnouncer {
			return a.id
		}
		c = p
	}
	return ""
}

func splitArgs(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
