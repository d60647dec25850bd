package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// NodeState is a node's connection state as the App sees it.
type NodeState string

// Node states.
const (
	NodeConnecting NodeState = "connecting" // not connected yet
	NodeSyncing    NodeState = "syncing"    // connected, rebuilding from what Asterisk lists
	NodeUp         NodeState = "up"         // connected and in sync: actions work
	NodeDown       NodeState = "down"       // disconnected, reconnecting: actions fail with ErrNodeDown
	NodeReplaced   NodeState = "replaced"   // another application took the name: unhealthy until restarted
	NodeStopped    NodeState = "stopped"    // the App stopped
)

// NodeHealth is one node's health, for /readyz and the console.
type NodeHealth struct {
	Node  string    `json:"node"`
	State NodeState `json:"state"`
	Since time.Time `json:"since"`
	Err   string    `json:"error,omitempty"` // why it is not up, when known
}

// OK reports whether the node is connected and in sync.
func (h NodeHealth) OK() bool { return h.State == NodeUp }

// Roles of the channels the App knows.
const (
	roleCaller   = "caller"
	roleHost     = "host"
	roleScreener = "screener"
	roleTalkback = "talkback"
)

// chanRef is what a node knows of one of its channels.
type chanRef struct {
	show   *show
	callID string // the call (callers) or the call being screened (screener lines)
	role   string
	gen    uint64 // the connection it was seen on; resync vanishes only older calls
}

// Kinds of playback a node tracks.
const (
	pbAnnounce = iota
	pbTalkback
)

type pbRef struct {
	show   *show
	callID string
	kind   int
}

// node is one Asterisk node: its REST client, its event reader, its
// waiters and its index of channels, bridges, playbacks and recordings.
type node struct {
	app   *App
	cfg   NodeConfig
	name  string
	ari   Telephony
	log   *slog.Logger
	waits *registry
	shows []*show
	kick  chan struct{} // asks the resync loop to run

	mu         sync.Mutex
	gen        uint64
	health     NodeHealth
	chans      map[string]*chanRef
	bridges    map[string]*show // hold, air and screening bridges
	playbacks  map[string]pbRef
	recordings map[string]*show
}

func newNode(a *App, cfg NodeConfig) *node {
	return &node{
		app: a, cfg: cfg, name: cfg.Name, ari: cfg.ARI, log: a.log.With("node", cfg.Name),
		waits: newRegistry(), kick: make(chan struct{}, 1),
		health: NodeHealth{Node: cfg.Name, State: NodeConnecting, Since: a.cfg.Now()},
		chans:  map[string]*chanRef{}, bridges: map[string]*show{}, playbacks: map[string]pbRef{},
		recordings: map[string]*show{},
	}
}

// Health returns every node's health, in no particular order.
func (a *App) Health() []NodeHealth {
	out := make([]NodeHealth, 0, len(a.nodes))
	for _, n := range a.nodes {
		out = append(out, n.healthNow())
	}
	return out
}

// NodeHealth returns one node's health; ok is false for an unknown node.
func (a *App) NodeHealth(name string) (h NodeHealth, ok bool) {
	n := a.nodes[name]
	if n == nil {
		return NodeHealth{}, false
	}
	return n.healthNow(), true
}

func (n *node) healthNow() NodeHealth {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.health
}

// setHealth changes the node's state and tells its shows' subscribers.
func (n *node) setHealth(st NodeState, err error) {
	n.mu.Lock()
	if n.health.State == NodeReplaced && st != NodeStopped {
		n.mu.Unlock()
		return // replaced is final
	}
	n.health = NodeHealth{Node: n.name, State: st, Since: n.app.cfg.Now()}
	if err != nil {
		n.health.Err = err.Error()
	}
	h := n.health
	n.mu.Unlock()
	for _, s := range n.shows {
		s.mu.Lock()
		s.emit(Update{Kind: UpdateNode, Node: h})
		s.mu.Unlock()
	}
}

// ready returns ErrNodeDown unless the node is up.
func (n *node) ready() error {
	if h := n.healthNow(); h.State != NodeUp {
		return fmt.Errorf("broadcast: node %s is %s: %w", n.name, h.State, ErrNodeDown)
	}
	return nil
}

func (n *node) lookup(chanID string) *chanRef {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.chans[chanID]
}

// index records a channel on the current connection.
func (n *node) index(chanID string, ref *chanRef) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ref.gen = n.gen
	n.chans[chanID] = ref
}

// claim indexes a channel unless it is indexed already, atomically: of
// the arrival path (StasisStart) and a resync that lists the same new
// channel at the same moment, exactly one admits it. It reports whether
// this caller got it.
func (n *node) claim(chanID string, ref *chanRef) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.chans[chanID]; ok {
		return false
	}
	ref.gen = n.gen
	n.chans[chanID] = ref
	return true
}

func (n *node) unindex(chanID string) *chanRef {
	n.mu.Lock()
	defer n.mu.Unlock()
	ref := n.chans[chanID]
	delete(n.chans, chanID)
	return ref
}

func (n *node) bridgeShow(id string) *show {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.bridges[id]
}

// read is the node's one event reader. It never blocks on the network or
// on a worker: it applies facts under show locks, wakes waiters and hands
// slow work to the pool.
func (n *node) read(ctx context.Context, conn *ari.Conn) {
	var wg sync.WaitGroup
	wg.Go(func() { n.resyncLoop(ctx) })
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			n.setHealth(NodeStopped, ctx.Err())
			n.waits.setDown(ErrNodeDown)
			return
		case ev, ok := <-conn.Events():
			if !ok {
				if conn.State() == ari.ConnReplaced {
					n.setHealth(NodeReplaced, ari.ErrApplicationReplaced)
				} else {
					n.setHealth(NodeStopped, conn.Err())
				}
				n.waits.setDown(ErrNodeDown)
				<-ctx.Done() // the resync loop stops with the App
				return
			}
			n.handle(ev)
		}
	}
}

func (n *node) handle(ev ari.Event) {
	switch e := ev.(type) {
	case *ari.Connected:
		n.mu.Lock()
		n.gen++
		n.mu.Unlock()
		n.waits.setUp()
		n.setHealth(NodeSyncing, nil)
		n.kickResync()
	case *ari.Disconnected:
		n.waits.setDown(fmt.Errorf("%w: %w", ErrNodeDown, e.Err))
		if e.Final {
			n.setHealth(NodeReplaced, e.Err)
		} else {
			n.setHealth(NodeDown, e.Err)
		}
	case *ari.ApplicationReplaced:
		n.log.Error("broadcast: ANOTHER APPLICATION TOOK OUR STASIS APP ON THIS NODE; node unhealthy, no longer acting on it")
		n.setHealth(NodeReplaced, ari.ErrApplicationReplaced)
	case *ari.StasisStart:
		n.stasisStart(e)
	case *ari.ChannelDestroyed:
		n.destroyed(e)
	case *ari.ChannelEnteredBridge:
		n.bridgeChanged(e.Bridge, e.Channel.ID, true)
	case *ari.ChannelLeftBridge:
		n.bridgeChanged(e.Bridge, e.Channel.ID, false)
	case *ari.PlaybackFinished:
		n.playbackFinished(e)
	case *ari.ChannelTalkingStarted:
		n.talking(e.Channel.ID, true)
	case *ari.ChannelTalkingFinished:
		n.talking(e.Channel.ID, false)
	case *ari.ChannelDtmfReceived:
		if ref := n.lookup(e.Channel.ID); ref != nil && ref.role == roleCaller {
			ref.show.mu.Lock()
			ref.show.emit(Update{Kind: UpdateDTMF, CallID: ref.callID, Digit: e.Digit})
			ref.show.mu.Unlock()
		}
	case *ari.RecordingStarted:
		n.recording(e.Recording, true)
	case *ari.RecordingFinished:
		n.recording(e.Recording, false)
	case *ari.RecordingFailed:
		n.recording(e.Recording, false)
	}
	n.waits.deliver(ev)
}

// stasisStart routes a channel entering the app by its arguments:
// [show] a caller, [show, "host"] the host line, [show, "screener", call]
// a screener's line, [show, "talkback"] a producer's talkback line.
func (n *node) stasisStart(e *ari.StasisStart) {
	ch := e.Channel
	var s *show
	if len(e.Args) > 0 {
		s = n.app.shows[e.Args[0]]
	}
	if s == nil || s.node != n {
		n.log.Warn("broadcast: channel for no show of this node; hanging up", "channel", ch.ID, "args", e.Args)
		n.submitOrLog(func(ctx context.Context) { n.hangup(ctx, ch.ID, ari.HangupUnallocated) })
		return
	}
	role := roleCaller
	if len(e.Args) > 1 {
		role = e.Args[1]
	}
	switch role {
	case roleCaller:
		s.arrive(e)
	case roleHost:
		n.index(ch.ID, &chanRef{show: s, role: roleHost})
		n.submitOrLog(func(ctx context.Context) { s.hostJoin(ctx, ch) })
	case roleScreener:
		callID := ""
		if len(e.Args) > 2 {
			callID = e.Args[2]
		}
		n.index(ch.ID, &chanRef{show: s, role: roleScreener, callID: callID})
		n.submitOrLog(func(ctx context.Context) { s.screenerJoin(ctx, ch.ID, callID) })
	case roleTalkback:
		n.index(ch.ID, &chanRef{show: s, role: roleTalkback})
		n.submitOrLog(func(ctx context.Context) { s.talkbackJoin(ctx, ch) })
	default:
		n.log.Warn("broadcast: unknown Stasis role; hanging up", "channel", ch.ID, "args", e.Args)
		n.submitOrLog(func(ctx context.Context) { n.hangup(ctx, ch.ID, ari.HangupNormal) })
	}
}

func (n *node) submitOrLog(job func(context.Context)) {
	if !n.app.submit(job) {
		n.log.Error("broadcast: worker queue full; job dropped")
	}
}

// hangup hangs a channel up, ignoring one that is already gone.
func (n *node) hangup(ctx context.Context, chanID, reason string) {
	if err := n.ari.HangupChannel(ctx, chanID, reason); err != nil && !errors.Is(err, ari.ErrNotFound) {
		n.log.Warn("broadcast: hangup failed", "channel", chanID, "err", err)
	}
}

// destroyed ends the call of a destroyed channel with its real cause (only
// ChannelDestroyed carries it, after StasisEnd).
func (n *node) destroyed(e *ari.ChannelDestroyed) {
	ref := n.unindex(e.Channel.ID)
	if ref == nil {
		return
	}
	s := ref.show
	switch ref.role {
	case roleCaller:
		s.callEnded(ref.callID, e.Cause)
	case roleHost:
		s.mu.Lock()
		if s.hosts[e.Channel.ID] {
			delete(s.hosts, e.Channel.ID)
			s.emitMedia()
		}
		s.mu.Unlock()
	case roleTalkback:
		s.endTalkback(e.Channel.ID, "")
	case roleScreener:
		s.mu.Lock()
		if s.screenerLines[ref.callID] == e.Channel.ID {
			delete(s.screenerLines, ref.callID)
		}
		s.mu.Unlock()
	}
}

// bridgeChanged follows the membership of a show's bridges from the member
// list each bridge event carries.
func (n *node) bridgeChanged(b ari.Bridge, chanID string, entered bool) {
	s := n.bridgeShow(b.ID)
	if s == nil {
		return
	}
	switch b.ID {
	case s.holdID:
		s.mu.Lock()
		s.holdMembers = len(b.Channels)
		kick := entered && len(b.Channels) == 1
		if !entered && len(b.Channels) == 0 {
			// Asterisk has just removed the bridge's music channel with
			// the last caller: the music is gone for good.
			s.emptied++
			if s.music {
				s.music = false
				s.emitMedia()
			}
		}
		s.mu.Unlock()
		if !entered {
			s.endTalkback(chanID, "")
		}
		if kick {
			s.kickMusic()
		}
	case s.airID:
		if entered {
			return
		}
		s.mu.Lock()
		if s.hosts[chanID] {
			delete(s.hosts, chanID)
			s.emitMedia()
		}
		s.mu.Unlock()
	}
}

func (n *node) playbackFinished(e *ari.PlaybackFinished) {
	n.mu.Lock()
	ref, ok := n.playbacks[e.Playback.ID]
	delete(n.playbacks, e.Playback.ID)
	n.mu.Unlock()
	if !ok {
		return
	}
	s := ref.show
	switch ref.kind {
	case pbAnnounce:
		s.mu.Lock()
		s.announcementDone(ref.callID)
		s.mu.Unlock()
	case pbTalkback:
		s.endTalkback("", e.Playback.ID)
	}
}

func (n *node) talking(chanID string, on bool) {
	ref := n.lookup(chanID)
	if ref == nil || ref.role != roleCaller {
		return
	}
	s := ref.show
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.talking[ref.callID] == on {
		return
	}
	if on {
		s.talking[ref.callID] = true
	} else {
		delete(s.talking, ref.callID)
	}
	s.emit(Update{Kind: UpdateTalking, CallID: ref.callID, Talking: on})
}

func (n *node) recording(r ari.LiveRecording, started bool) {
	n.mu.Lock()
	s := n.recordings[r.Name]
	if !started {
		delete(n.recordings, r.Name)
	}
	n.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recording.Name != r.Name {
		return
	}
	s.recording.State = r.State
	s.recording.Active = started
	if !started {
		s.recording.Duration = time.Duration(r.Duration) * time.Second
	}
	s.emit(Update{Kind: UpdateRecording, Recording: s.recording})
}

// kickResync asks the resync loop to run (again).
func (n *node) kickResync() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// resyncLoop rebuilds the node's shows from Asterisk after each connect,
// retrying a failed attempt while the connection lasts.
func (n *node) resyncLoop(ctx context.Context) {
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
		case <-retry:
		}
		retry = nil
		n.mu.Lock()
		gen := n.gen
		n.mu.Unlock()
		if gen == 0 {
			continue // not connected yet
		}
		if err := n.resync(ctx, gen); err != nil {
			if ctx.Err() != nil {
				return
			}
			n.log.Warn("broadcast: resync failed; retrying", "err", err)
			retry = time.After(time.Second)
			continue
		}
		n.mu.Lock()
		current := n.gen == gen
		n.mu.Unlock()
		if current && n.healthNow().State == NodeSyncing {
			n.setHealth(NodeUp, nil)
		}
	}
}

// failArrival ends a call whose telephony failed (unless it is gone or the
// node is down: the hang-up event or the resync decides then) and hangs it
// up.
func (s *show) failArrival(ctx context.Context, callID, chanID string, err error) {
	if errors.Is(err, queue.ErrGone) || errors.Is(err, ErrNodeDown) || ctx.Err() != nil {
		return
	}
	s.node.log.Warn("broadcast: arrival failed", "show", s.key, "call", callID, "err", err)
	s.mu.Lock()
	if _, ts, ferr := s.q.Fail(s.app.cfg.Now(), callID, err.Error()); ferr == nil {
		s.publish(ts)
	}
	s.mu.Unlock()
	s.node.hangup(ctx, chanID, ari.HangupFailure)
}
