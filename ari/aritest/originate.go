package aritest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callin-radio/callin/ari"
)

// Phone is how an originated PJSIP endpoint answers
// (POST /channels?endpoint=PJSIP/screener1&app=callin), as the sipp UAS of
// trace 13 did. The zero Phone answers at once and never hangs up. The
// originating application gets the channel's events from its creation on
// (Dial, state changes, and ChannelDestroyed after StasisEnd).
type Phone struct {
	// Ring is how long the phone rings (Dial RINGING, ChannelStateChange
	// Ringing) before it answers or rejects; 0 answers without ringing.
	Ring time.Duration
	// Reject, when not 0, is the SIP status the phone answers with after
	// ringing: 486 gives ChannelHangupRequest(17), Dial BUSY,
	// ChannelDestroyed(17); 480 gives 19 and NOANSWER (trace 13c). Other
	// statuses give cause 21 and CHANUNAVAIL (guess: pbxtest's phones
	// answer only 486 and 480, so no other status is checked). A phone
	// that rejects without ringing first sends no Dial(RINGING)
	// (TestDifferential/OriginatePhones).
	Reject int
	// NoAnswer: the phone rings until the originate's timeout (30 s unless
	// the request says timeout=), then ChannelDestroyed(19) with no
	// hangup request (trace 13d).
	NoAnswer bool
	// Unreachable: nobody listens. Dial with an empty status, nothing until
	// the timeout, then ChannelDestroyed(19) in state Down (trace 13b).
	Unreachable bool
	// HangupAfter, when not 0, makes the phone hang up (a BYE) that long
	// after it answered: RTPAUDIOQOS variables, ChannelHangupRequest
	// without cause, ChannelLeftBridge, StasisEnd, ChannelDestroyed(16)
	// (trace 13a).
	HangupAfter time.Duration
}

// SetPhone sets how the PJSIP endpoint (e.g. "PJSIP/screener1") answers the
// next channels originated to it.
func (s *Server) SetPhone(endpoint string, p Phone) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phones[endpoint] = p
}

// idInUse says whether a channel id asked for is taken. Asterisk looks a
// unique id up by prefix, case-insensitively: an id that is the start of a
// live channel's id ("qq" while "qq2" lives, or "QQ2"), or an otherChannelId
// that starts the channelId of the same originate ("q1" with "q1-phone"),
// is refused with 409 "Channel with given unique ID already exists". Seen
// on the real Asterisk 22.10.1: TestDifferential/ChannelIDPrefix (the fake
// had refused only equal ids).
func (s *Server) idInUse(id string) bool {
	if id == "" {
		return false
	}
	if s.channels[id] != nil {
		return true
	}
	for live := range s.channels {
		if hasPrefixFold(live, id) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// rejectCause maps a SIP final response to its Q.850 cause and Dial status.
func rejectCause(sip int) (int, string) {
	switch sip {
	case 486:
		return 17, "BUSY"
	case 480:
		return 19, "NOANSWER"
	}
	return 21, "CHANUNAVAIL" // guess: no trace or pbxtest phone has another status
}

// originate is POST /channels and POST /channels/{id}.
func (s *Server) originate(q *req) {
	id := q.get("channelId")
	if len(q.path) == 1 {
		id = q.path[0]
	}
	endpoint := q.get("endpoint")
	app, exten := q.get("app"), q.get("extension")
	if endpoint == "" {
		writeMsg(q.w, http.StatusBadRequest, "Endpoint must be specified")
		return
	}
	if app == "" && exten == "" {
		writeMsg(q.w, http.StatusBadRequest, "Application or extension must be specified")
		return
	}
	tech, resource, _ := strings.Cut(endpoint, "/")
	switch strings.ToUpper(tech) {
	case "LOCAL", "PJSIP", "SIP", "IAX2", "DAHDI":
	default:
		writeJSON(q.w, http.StatusInternalServerError, map[string]string{"error": "Allocation failed"})
		return
	}
	other := q.get("otherChannelId")
	if s.idInUse(id) || s.idInUse(other) || other != "" && id != "" && hasPrefixFold(id, other) {
		writeMsg(q.w, http.StatusConflict, "Channel with given unique ID already exists")
		return
	}
	if id == "" {
		id = s.newChannelID()
	}
	caller := parseCallerID(q.get("callerId"))
	timeout := 30 * time.Second
	if t, err := strconv.Atoi(q.get("timeout")); err == nil && t > 0 {
		timeout = time.Duration(t) * time.Second
	}

	local := strings.EqualFold(tech, "Local")
	if local {
		dest, context, _ := strings.Cut(resource, "@")
		// Options such as /n (no optimisation) are accepted and ignored:
		// they change no event callin sees, as a /n relay showed on the real
		// Asterisk 22.10.1 (trace 19, TestDifferential/TalkbackRelay).
		context, _, _ = strings.Cut(context, "/")
		if e, ok := s.opts.Dialplan[dest+"@"+context]; ok {
			s.originateDialIn(q, e, id, other, caller, dest, context, exten)
			return
		}
		if app != "" && context != "" && context != "sim-caller" && context != "default" {
			s.originateNowhere(q, endpoint, id, other, caller, app)
			return
		}
	}
	if app == "" {
		writeMsg(q.w, http.StatusBadRequest, "Application or extension must be specified")
		return
	}
	s.chanSeq++
	c := &channel{seq: s.chanSeq, id: id, state: ari.StateDown, caller: caller, created: time.Now(), kind: kindOriginated,
		app: app, args: splitArgs(q.get("appArgs")), dialing: true, dialString: resource, done: make(chan struct{})}
	c.name = fmt.Sprintf("%s-%08x", endpoint, c.seq)
	c.dialplan = ari.DialplanCEP{Context: "default", Exten: "s", Priority: 1, AppName: "AppDial2", AppData: "(Outgoing Line)"}
	c.vars = q.vars
	s.channels[id] = c
	if to, name, token, ok := s.trunkTarget(resource); ok && strings.EqualFold(tech, "PJSIP") {
		s.originateTrunk(q, c, to, name, token, timeout)
		return
	}
	if !local {
		c.endpoint = endpoint
		c.sip = strings.EqualFold(tech, "PJSIP")
		c.call = &Call{s: s, ch: c} // Caller(id).Hangup is the phone's BYE
		s.created(c)
		s.subscribeChannel(app, c) // subscribed from creation (trace 13)
		writeJSON(q.w, http.StatusOK, c.snapshot())
		s.dial(c, "")
		s.ringPhone(c, s.phones[endpoint], timeout)
		return
	}
	s.originateLocal(q, c, other, resource)
}

// originateLocal originates c into the app through a Local pair (traces
// 04 d4, 08, 09 f): the far `;2` half runs [sim-caller], the `;1` half
// enters Stasis Up. other, if set, is the far half's id.
func (s *Server) originateLocal(q *req, c *channel, other, resource string) {
	app, caller := c.app, c.caller
	c.name += ";1"
	farID := other
	if farID == "" {
		farID = c.id + ";2"
	}
	s.chanSeq++
	far := &channel{seq: s.chanSeq, id: farID, name: strings.TrimSuffix(c.name, ";1") + ";2", state: ari.StateRing, caller: caller,
		created: c.created, kind: kindOriginated, half: true, peer: c, done: make(chan struct{})}
	far.dialplan = ari.DialplanCEP{Context: "sim-caller", Exten: "s", Priority: 1}
	c.peer = far
	s.channels[farID] = far
	s.created(c)
	s.created(far)
	// Trace 09 f1: the app gets both halves' events from their creation on.
	s.subscribeChannel(app, c)
	s.subscribeChannel(app, far)
	writeJSON(q.w, http.StatusOK, c.snapshot())
	far.state = ari.StateUp
	s.stateChanged(far)
	s.dial(c, "")
	c.state = ari.StateUp
	s.stateChanged(c)
	s.dial(c, "ANSWER")
	s.enterStasis(c)
	if dest, _, _ := strings.Cut(resource, "@"); dest == "short" {
		// [sim-caller] short: 4 s of music, then Hangup() (trace 09 f2).
		far.after(s, 4*time.Second, func() { s.hangup(far, hangPhone, 16) })
	}
}

// ringPhone runs an originated PJSIP channel's call setup (trace 13).
func (s *Server) ringPhone(c *channel, ph Phone, timeout time.Duration) {
	giveUp := func() { s.destroyed(c, 19) } // no HangupRequest, no Dial status
	if ph.Unreachable {
		c.after(s, timeout, giveUp)
		return
	}
	if ph.Ring <= 0 && !ph.NoAnswer && ph.Reject == 0 {
		s.answerPhone(c, ph)
		return
	}
	if ph.Ring <= 0 && !ph.NoAnswer {
		// A phone that rejects without ringing (486 or 480 right after
		// 100 Trying): no Dial(RINGING), no Ringing state. Seen on the real
		// Asterisk 22.10.1: TestDifferential/OriginatePhones.
		s.rejectPhone(c, ph.Reject)
		return
	}
	s.dial(c, "RINGING")
	c.state = "Ringing"
	s.stateChanged(c)
	if ph.NoAnswer || ph.Ring >= timeout {
		c.after(s, timeout, giveUp)
		return
	}
	c.after(s, ph.Ring, func() {
		if ph.Reject != 0 {
			s.rejectPhone(c, ph.Reject)
			return
		}
		s.answerPhone(c, ph)
	})
}

// rejectPhone ends c as a phone answering sip (486, 480…) does (trace 13c).
func (s *Server) rejectPhone(c *channel, sip int) {
	cause, status := rejectCause(sip)
	s.hangupRequest(c, cause, false)
	s.dial(c, status)
	s.destroyed(c, cause)
}

func (s *Server) answerPhone(c *channel, ph Phone) {
	c.state = ari.StateUp
	s.stateChanged(c)
	s.dial(c, "ANSWER")
	s.enterStasis(c)
	if ph.HangupAfter > 0 {
		c.after(s, ph.HangupAfter, func() { s.hangup(c, hangPhone, 16) })
	}
}

// originateDialIn simulates a dial-in caller with a Local pair (traces
// 01-18): the `;2` half (otherChannelId) enters Stasis, the `;1` half is
// its phone and runs [sim-caller] exten. With app= as well, the `;1` half
// enters that app once the `;2` half is answered, as any channel
// originated into an app does when answered (trace 13); the originating
// app gets both halves' events from their creation on (trace 09 f1). Both
// halves of a pair in Stasis: trace 19b, and TestDifferential/TalkbackRelay
// on the real Asterisk 22.10.1.
func (s *Server) originateDialIn(q *req, e Extension, id, other string, caller ari.CallerID, dest, context, exten string) {
	in := other
	if in == "" {
		in = id + ";2"
	}
	args := make([]string, len(e.Args))
	for i, a := range e.Args {
		args[i] = expandVar(a, q.vars)
	}
	co := CallOptions{App: expandVar(e.App, q.vars), Args: args, Answered: e.Answer, Number: caller.Number, Name: caller.Name,
		ChannelID: in, PhoneID: id, Exten: dest, Context: context, phoneExten: exten}
	if app := q.get("app"); app != "" {
		co.phoneApp, co.phoneArgs = app, splitArgs(q.get("appArgs"))
	}
	c, err := s.startCall(co)
	if err == nil {
		writeJSON(q.w, http.StatusOK, c.peer.snapshot())
		return
	}
	// Stasis() failed: the caller is hung up at once (traces 07 g4, 11b),
	// or the dialplan's retry loop tries again (11b, [callin-stasis]). Not
	// modelled: what a subscribeAll socket sees of it (11b: HangupRequest,
	// ChannelDestroyed, STASISSTATUS=FAILED); no app socket sees anything.
	writeJSON(q.w, http.StatusOK, ari.Channel{ID: id, Name: fmt.Sprintf("Local/%s@%s-%08x;1", dest, context, s.chanSeq+1), State: ari.StateDown,
		Caller: caller, Connected: caller, CreationTime: ari.Time{Time: time.Now()}, Language: "en"})
	if e.Retry > 0 && errors.Is(err, ErrStasisFailed) {
		s.retryStasis(co, e.Retry, time.Now().Add(s.scale(e.RetryFor)))
	}
}

// expandVar replaces an argument "${NAME}" by the channel variable NAME
// (set with or without inheritance underscores); "" when it is not set.
func expandVar(arg string, vars map[string]string) string {
	name, ok := strings.CutPrefix(arg, "${")
	if name, ok2 := strings.CutSuffix(name, "}"); ok && ok2 {
		for _, k := range []string{name, "_" + name, "__" + name} {
			if v, ok := vars[k]; ok {
				return v
			}
		}
		return ""
	}
	return arg
}

// retryStasis tries Stasis() again after pause, until deadline.
func (s *Server) retryStasis(co CallOptions, pause time.Duration, deadline time.Time) {
	gen := s.gen
	time.AfterFunc(s.scale(pause), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || s.gen != gen {
			return
		}
		_, err := s.startCall(co)
		if errors.Is(err, ErrStasisFailed) && time.Now().Before(deadline) {
			s.retryStasis(co, pause, deadline)
		}
	})
}

// originateNowhere: a Local channel to an extension that does not exist
// answers 200, then both halves are destroyed with cause 0 (trace 05, e6).
func (s *Server) originateNowhere(q *req, endpoint, id, other string, caller ari.CallerID, app string) {
	farID := other
	if farID == "" {
		farID = id + ";2"
	}
	c := &channel{id: id, name: endpoint + "-00000000;1", state: ari.StateDown, caller: caller, created: time.Now(), done: make(chan struct{})}
	far := &channel{id: farID, name: endpoint + "-00000000;2", state: ari.StateRing, caller: caller, created: c.created, done: make(chan struct{})}
	for _, x := range []*channel{c, far} {
		s.created(x)
		s.subscribeChannel(app, x)
	}
	writeJSON(q.w, http.StatusOK, c.snapshot())
	s.destroyed(far, 0)
	s.destroyed(c, 0)
}
