package aritest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/callin-radio/callin/ari"
)

// Trunk joins fake nodes as the SIP trunk of pbxtest.NewCluster joins real
// Asterisks (issue 24): give every node's Options the same Trunk and its
// own Node name ("A", "B", …). An originate on one node to
// ari.TrunkDial(name, token) (PJSIP/<token>@node<name>) then reaches the
// named node's [callin-trunk]: a SIP channel PJSIP/node<from>-… enters
// Stasis(callin,trunk,<token>) there, ringing, and the two legs follow
// each other as the real pair does. Media-less, as the rest of the fake;
// the event order on each node's socket is the one recorded on two real
// Asterisk 22.10.1 joined by a trunk (testdata/pbx-Trunk*.jsonl, checked
// side by side by TestDifferentialTrunk):
//
//   - The near leg (the originated one) gets Dial(""); once the far node's
//     app answers the far leg (ChannelStateChange Up there), the near leg
//     gets ChannelStateChange(Up), Dial(ANSWER), STASISSTATUS="" and
//     StasisStart(Up), as an answering phone (trace 13a).
//   - A leg hung up on its node (by its app, its node's clean stop) sends a
//     BYE: an answered leg on the other node gets the five RTPAUDIOQOS
//     variables, ChannelHangupRequest with the cause (16; not the cause-less
//     request of a phone's BYE), ChannelLeftBridge, StasisEnd, and, for the
//     near leg (subscribed since the originate), STASISSTATUS=SUCCESS and
//     ChannelDestroyed(16). A far leg still ringing gets
//     ChannelHangupRequest(16) and StasisEnd, without the RTP variables
//     (the real one's request had cause 127 in about one run of six).
//   - The far leg hung up while ringing (its app refuses it): the near leg
//     gets ChannelHangupRequest, Dial and ChannelDestroyed as a phone's
//     refusal, the cause through its SIP status: 16 gives 21 and NOANSWER
//     (SIP 603), 17 gives 17 and BUSY (see trunkRefusal). Stasis() failing
//     there (no socket has the app; [callin-trunk] hangs up with 34, SIP
//     503): cause 34 and Dial(CONGESTION).
//   - The cause of a hang-up after the answer crosses as it is (17 gave
//     17 both ways; the BYE's Reason header).
//   - A node killed (Server.Kill) sends nothing: the other node's legs stay
//     Up in their bridges until their app hangs them up (as on the real
//     pair, where no RTP timeout is set on the trunk; the killed node's
//     socket ends at once, the only sign).
//
// The node to which a leg is sent must be on the Trunk when the originate
// is made; a leg to a node not on it (killed, stopped, never there) is
// sent into nothing: Dial(""), then ChannelDestroyed(19) at the
// originate's timeout (guess: a real INVITE to a dead node was not
// recorded; trace 13b's phone nobody listens for behaves so).
type Trunk struct {
	mu    sync.Mutex
	nodes map[string]*Server
	queue []func()
	busy  bool
}

// NewTrunk makes a trunk for fake nodes (see Trunk).
func NewTrunk() *Trunk { return &Trunk{nodes: map[string]*Server{}} }

func (tr *Trunk) join(name string, s *Server) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.nodes[name] = s
}

func (tr *Trunk) leave(name string, s *Server) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.nodes[name] == s {
		delete(tr.nodes, name)
	}
}

func (tr *Trunk) node(name string) *Server {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.nodes[name]
}

// send runs f on node s, under its lock, after whatever was sent before:
// what crosses the trunk is delivered in order, never under the sending
// node's lock.
func (tr *Trunk) send(s *Server, f func()) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.queue = append(tr.queue, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			f()
		}
	})
	if !tr.busy {
		tr.busy = true
		go tr.drain()
	}
}

func (tr *Trunk) drain() {
	for {
		tr.mu.Lock()
		if len(tr.queue) == 0 {
			tr.busy = false
			tr.mu.Unlock()
			return
		}
		f := tr.queue[0]
		tr.queue = tr.queue[1:]
		tr.mu.Unlock()
		f()
	}
}

// trunkLink pairs the two legs of a call over the trunk.
type trunkLink struct {
	tr              *Trunk
	nearSrv, farSrv *Server
	near            *channel // set before the link is shared
	// far is nil until the leg exists on the far node; only the far
	// node touches it, under its lock.
	far *channel
}

// trunkTarget returns the node a PJSIP resource "<token>@node<NAME>" names on
// this node's trunk, with the token; ok is false when the resource is not
// a trunk dial string.
func (s *Server) trunkTarget(resource string) (to *Server, name, token string, ok bool) {
	if s.opts.Trunk == nil {
		return nil, "", "", false
	}
	token, ep, found := strings.Cut(resource, "@")
	name, isNode := strings.CutPrefix(ep, "node")
	if !found || !isNode || name == "" || name == s.opts.Node {
		return nil, "", "", false
	}
	return s.opts.Trunk.node(name), name, token, true
}

// originateTrunk is POST /channels to PJSIP/<token>@node<NAME> (see Trunk):
// the near leg c is dialing here; the far leg arrives on to.
func (s *Server) originateTrunk(q *req, c *channel, to *Server, name, token string, timeout time.Duration) {
	c.endpoint = "PJSIP/node" + name
	c.name = fmt.Sprintf("%s-%08x", c.endpoint, c.seq)
	c.sip = true
	c.call = &Call{s: s, ch: c}
	s.created(c)
	s.subscribeChannel(c.app, c) // subscribed from creation (trace 13)
	writeJSON(q.w, http.StatusOK, c.snapshot())
	s.dial(c, "")
	if to == nil {
		c.after(s, timeout, func() { s.destroyed(c, 19) })
		return
	}
	link := &trunkLink{tr: s.opts.Trunk, near: c, nearSrv: s, farSrv: to}
	c.trunk = link
	from := s.opts.Node
	link.tr.send(to, func() { to.trunkArrive(link, from, token) })
}

// trunkArrive is the far node's [callin-trunk]: Stasis(callin,trunk,<token>)
// on a SIP channel from node from, ringing; when Stasis() fails the leg is
// refused.
func (s *Server) trunkArrive(link *trunkLink, from, token string) {
	f, err := s.startCall(CallOptions{App: "callin", Args: []string{ari.TrunkArg, token}, SIP: true,
		Exten: token, Context: "callin-trunk", endpoint: "PJSIP/node" + from})
	if err != nil {
		// [callin-trunk]'s Hangup(34).
		c, status := trunkRefusal(34)
		link.tr.send(link.nearSrv, func() { link.nearSrv.trunkRefused(link, c, status) })
		return
	}
	f.trunk = link
	link.far = f
}

// trunkAnswered tells the near node that the far leg was answered.
func (s *Server) trunkAnswered(c *channel) {
	link := c.trunk
	if link == nil || link.far != c {
		return
	}
	near := link.nearSrv
	link.tr.send(near, func() {
		if n := link.near; !n.gone && n.dialing {
			near.answerPhone(n, Phone{})
		}
	})
}

// trunkRefused ends the near leg of a call the far node never answered,
// as a phone's refusal (trace 13c): ChannelHangupRequest(cause),
// Dial(status), ChannelDestroyed(cause).
func (s *Server) trunkRefused(link *trunkLink, cause int, status string) {
	if n := link.near; !n.gone && n.dialing {
		s.hangupRequest(n, cause, false)
		s.dial(n, status)
		s.destroyed(n, cause)
	}
}

// trunkRefusal is what the near leg ends with when the far leg is hung up
// with cause before it was answered: the far node answers the INVITE with
// the cause's SIP status, which the near node turns back into a cause.
// Recorded: 16 (603 Decline) → 21, NOANSWER; 17 (486) → 17, BUSY; 34 (503,
// [callin-trunk]'s refusal) → 34, CONGESTION. Other causes: guess, as 16
// (Asterisk's chan_pjsip answers 603 for a cause it has no status for).
func trunkRefusal(cause int) (int, string) {
	switch cause {
	case 17:
		return 17, "BUSY"
	case 34:
		return 34, "CONGESTION"
	}
	return 21, "NOANSWER"
}

// trunkGone sends what the end of leg c (destroyed with cause) does to the
// other leg: a BYE (or a CANCEL) to the far leg, a BYE or a refusal to the
// near one.
func (s *Server) trunkGone(c *channel, cause int) {
	link := c.trunk
	if link == nil {
		return
	}
	c.trunk = nil
	if c == link.near {
		// link.far belongs to the far node: read it under its lock.
		far := link.farSrv
		link.tr.send(far, func() {
			if f := link.far; f != nil {
				far.hangup(f, hangTrunk, cause)
			}
		})
		return
	}
	near := link.nearSrv
	link.tr.send(near, func() {
		n := link.near
		switch {
		case n.gone:
		case n.dialing:
			c, status := trunkRefusal(cause)
			near.trunkRefused(link, c, status)
		default:
			near.hangup(n, hangTrunk, cause)
		}
	})
}

// Kill ends the node as SIGKILL does: nothing is sent to the other nodes
// (their legs to this one stay up), every WebSocket ends without a close
// frame, and the node answers no more. Recorded on the real pair:
// testdata/pbx-TrunkNodeKilled.jsonl.
func (s *Server) Kill() {
	if tr := s.opts.Trunk; tr != nil {
		tr.leave(s.opts.Node, s)
	}
	s.Close()
}

// Stop stops the node as `core stop now` does (see Restart for the events
// on its own sockets): its legs over the trunk are hung up, so the other
// nodes' legs get a BYE; then the WebSockets end without a close frame and
// the node answers no more. Recorded on the real pair:
// testdata/pbx-TrunkNodeStopped.jsonl.
func (s *Server) Stop() {
	if tr := s.opts.Trunk; tr != nil {
		tr.leave(s.opts.Node, s)
	}
	s.Restart()
	s.Close()
}
