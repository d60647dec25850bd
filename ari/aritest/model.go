package aritest

import (
	"encoding/json"
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

	stasis bool // in a Stasis application (false for a visible phone half)
	app    string
	args   []string
	peer   *channel // the other half of the Local pair, if visible
	call   *Call    // the test handle, if any

	bridge *bridge
	role   string

	muteIn, muteOut bool
	hold, moh       bool
	ringing         bool
	talkDetect      bool
	talking         bool
	talkStart       time.Time
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
	id, name, typ, app string
	created            time.Time
	members            []string
	index              map[string]int
	announcer          string // id of the announcer channel, if any
	mohPlaying         bool
	mohClass           string
	queue              []*playback
	rec                *recording
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

// emit sends one event to the socket that has app (if any). Callers hold s.mu.
func (s *Server) emit(app string, ev ari.Event) {
	s.emitN(app, ev, 1)
}

// A bridge's events (app "") go to every registered app: ARI has no owner
// for a bridge, and callin runs one app per node.
// emitN with dupAll 0 sends only to a subscribeAll socket (an event about a
// channel before it is in the app); with 2 a subscribeAll socket gets it twice.
func (s *Server) emitN(app string, ev ari.Event, dupAll int) {
	if app == "" {
		for name := range s.apps {
			s.emitN(name, ev, dupAll)
		}
		return
	}
	sk := s.apps[app]
	if sk == nil {
		return // no WebSocket has the app: the event is lost, as on Asterisk
	}
	if dupAll == 0 && !sk.subscribeAll {
		return
	}
	base := ev.Base()
	base.Application = app
	base.Timestamp = ari.Time{Time: time.Now()}
	base.AsteriskID = s.opts.AsteriskID
	b, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("aritest: marshal event", "type", base.Type, "err", err)
		return
	}
	n := 1
	if sk.subscribeAll && dupAll > 1 {
		n = dupAll
	}
	for range n {
		sk.send(b)
	}
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

// enterBridge puts c into b, moving it out of its current bridge first
// (addChannel on a second bridge moves the channel, trace 02).
func (s *Server) enterBridge(b *bridge, c *channel, role string) {
	if c.bridge != nil {
		s.leaveBridge(c)
	}
	if role == "" {
		role = ari.RoleParticipant
	}
	c.bridge, c.role = b, role
	b.add(c.id)
	s.emit(c.app, &ari.ChannelEnteredBridge{EventBase: base(ari.TypeChannelEnteredBridge), Bridge: b.snapshot(), Channel: c.snapshot()})
	if role == ari.RoleAnnouncer && b.typ == ari.BridgeHolding {
		if b.mohPlaying || (b.announcer != "" && b.announcer != c.id) {
			// "tried to be an announcer. Bridge already has one." (trace 01)
			s.leaveBridge(c)
			return
		}
		b.announcer = c.id
	}
}

// leaveBridge takes c out of its bridge with ChannelLeftBridge. Bridge music
// stops for good when a holding bridge loses its last channel.
func (s *Server) leaveBridge(c *channel) {
	b := c.bridge
	if b == nil {
		return
	}
	b.remove(c.id)
	if b.announcer == c.id {
		b.announcer = ""
	}
	c.bridge, c.role = nil, ""
	s.emit(c.app, &ari.ChannelLeftBridge{EventBase: base(ari.TypeChannelLeftBridge), Bridge: b.snapshot(), Channel: c.snapshot()})
	if len(b.members) == 0 && b.typ == ari.BridgeHolding {
		b.mohPlaying = false // "Later finding": the music channel goes with the last caller
	}
}

// destroyBridge removes every member (ChannelLeftBridge each, last joined
// first as in trace 02), fails the bridge's playbacks, ends its recording and
// sends BridgeDestroyed. The members stay in Stasis.
func (s *Server) destroyBridge(b *bridge) {
	for len(b.members) > 0 {
		c := s.channels[b.members[len(b.members)-1]]
		if c == nil {
			b.remove(b.members[len(b.members)-1])
			continue
		}
		s.leaveBridge(c)
	}
	s.failQueue(&b.queue)
	if b.rec != nil {
		s.finishRecording(b.rec, "done")
	}
	delete(s.bridges, b.id)
	s.emit(b.app, &ari.BridgeDestroyed{EventBase: base(ari.TypeBridgeDestroyed), Bridge: b.snapshot()})
}

// hangKind is who or what ends a call; each gives real Asterisk's sequence.
type hangKind int

const (
	hangApp      hangKind = iota // DELETE /channels/{stasis channel}
	hangPhone                    // the caller's side hangs up
	hangShutdown                 // Asterisk stops
	hangContinue                 // POST /continue: dialplan resumes, then Hangup()
)

// hangup ends the Stasis channel c with the event order recorded in traces
// 03, 04, 05, 07 and 08. cause is the Q.850 cause for ChannelDestroyed.
func (s *Server) hangup(c *channel, how hangKind, cause int) {
	if c.gone {
		return
	}
	if !c.stasis {
		// A visible phone half: hang it up, which hangs up its caller.
		if c.peer != nil && !c.peer.gone {
			s.hangup(c.peer, hangPhone, cause)
		}
		s.dropChannel(c)
		return
	}
	ev := func(e ari.Event) { s.emit(c.app, e) }
	hr := func(cause int, soft bool) {
		ev(&ari.ChannelHangupRequest{EventBase: base(ari.TypeChannelHangupRequest), Cause: cause, Soft: soft, Channel: c.snapshot()})
	}
	switch how {
	case hangApp:
		hr(32, true) // AST_SOFTHANGUP_EXPLICIT
	case hangPhone:
		hr(cause, false)
	case hangShutdown:
		hr(4, true) // AST_SOFTHANGUP_SHUTDOWN
	}
	s.leaveBridge(c)
	if how == hangShutdown && c.kind == kindDialIn {
		hr(0, false)
	}
	s.endTalking(c, false)
	s.failQueue(&c.queue)
	for _, r := range s.recs {
		if r.ch == c {
			s.finishRecording(r, "done")
		}
	}
	c.stasis = false
	ev(&ari.StasisEnd{EventBase: base(ari.TypeStasisEnd), Channel: c.snapshot()})
	switch {
	case how == hangShutdown && c.kind == kindOriginated:
		hr(0, false)
		cause = 0
	case c.kind == kindDialIn && how != hangContinue:
		hr(16, true)
	}
	ev(&ari.ChannelDestroyed{EventBase: base(ari.TypeChannelDestroyed), Cause: cause, CauseTxt: causeText(cause), Channel: c.snapshot()})
	if c.peer != nil {
		s.dropChannel(c.peer)
	}
	s.dropChannel(c)
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

func splitArgs(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
