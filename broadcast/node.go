package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	NodeStandby    NodeState = "standby"    // another callin instance drives the node (NodeConfig.Claim)
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
	roleRelay    = "relay"    // a half of a talkback relay (chanRef.bridge: the holding bridge it speaks in)
	roleCallback = "callback" // a call-back ringing the caller, until they are back on hold
)

// Subscription states of a caller's channel: callin subscribes to each
// caller's channel explicitly (POST /applications/{app}/subscription), since
// only then does Asterisk send its ChannelDestroyed, the one event with the
// real Q.850 cause, to an app without subscribeAll (traces 09a, 10a).
const (
	subNone    = iota // not subscribed (or the subscription failed): nothing follows StasisEnd
	subPending        // queued for the subscriber, not sent: nothing follows StasisEnd
	subSending        // the request is in flight: ChannelDestroyed may follow StasisEnd
	subscribed        // ChannelDestroyed follows StasisEnd, with the cause
)

// chanRef is what a node knows of one of its channels. Its mutable fields
// are guarded by node.mu.
type chanRef struct {
	show   *show
	callID string // the call (callers) or the call being screened (screener lines)
	bridge string // the holding bridge a talkback relay's half speaks in or listens to
	role   string
	gen    uint64 // the connection it was seen on; resync vanishes only older calls

	hangCause int32 // the cause of the last non-soft ChannelHangupRequest, 0 if none
	sub       uint8 // subNone, subPending, subSending, subscribed
	up        bool  // a line callin rang has answered (its StasisStart came)
	lost      bool  // its call ended node_lost: a resync forgets it, or hangs it up if listed
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
	// showsAt is the shows that take the node's callers: set by New,
	// replaced whole by App.SpanNode, read without a lock.
	showsAt atomic.Pointer[[]*show]
	// syncMu makes the node's resyncs one at a time (the resync loop's
	// and App.SpanNode's); held across ARI requests, taken before any
	// other lock.
	syncMu sync.Mutex
	kick   chan struct{} // asks the resync loop to run
	subq   chan string   // channels to subscribe to (see subscriber)
	room   roomKeeper    // its CALLIN_FULL_<show> variables (room.go)

	mu         sync.Mutex
	gen        uint64
	health     NodeHealth
	chans      map[string]*chanRef
	causes     map[string]*lateCause // ended callers whose ChannelDestroyed may still come
	bridges    map[string]*show      // hold, air and screening bridges
	playbacks  map[string]pbRef
	recordings map[string]*show
	lostTimer  *time.Timer // running while the node is down, until it counts as lost (Config.NodeLostAfter)
	gone       bool        // lost (lost()) and not connected since
}

func newNode(a *App, cfg NodeConfig) *node {
	return &node{
		app: a, cfg: cfg, name: cfg.Name, ari: cfg.ARI, log: a.log.With("node", cfg.Name),
		waits: newRegistry(), kick: make(chan struct{}, 1), subq: make(chan string, 8192),
		room:   roomKeeper{kick: make(chan struct{}, 1)},
		health: NodeHealth{Node: cfg.Name, State: NodeConnecting, Since: a.cfg.Now()},
		chans:  map[string]*chanRef{}, causes: map[string]*lateCause{}, bridges: map[string]*show{}, playbacks: map[string]pbRef{},
		recordings: map[string]*show{},
	}
}

// Health returns every node's health, in no particular order.
func (a *App) Health() []NodeHealth {
	nodes := a.nodeMap()
	out := make([]NodeHealth, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.healthNow())
	}
	return out
}

// NodeHealth returns one node's health; ok is false for an unknown node.
func (a *App) NodeHealth(name string) (h NodeHealth, ok bool) {
	n := a.nodeMap()[name]
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
	for _, s := range n.showList() {
		s.mu.Lock()
		s.emit(Update{Kind: UpdateNode, Node: h})
		s.mu.Unlock()
		if s.studio() == n {
			s.tellStudio()
		}
	}
}

// driving says whether this instance may send the node requests on its
// own initiative (music, retries): not while it stands by for another
// instance, nor once it was replaced or stopped.
func (n *node) driving() bool {
	switch n.healthNow().State {
	case NodeStandby, NodeReplaced, NodeStopped:
		return false
	}
	return true
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

// run drives the node until ctx ends: at once when it is this instance's
// alone, else each time this instance claims it, until the claim is lost
// (NodeConfig.Claim). Between claims the node is NodeStandby; when it is
// claimed again, the resync of the new connection rebuilds the shows from
// what Asterisk lists and the history store, as after any reconnect.
func (n *node) run(ctx context.Context) {
	if n.cfg.Claim == nil {
		n.read(ctx, n.ari.Stream(ctx, n.cfg.Events))
		return
	}
	for ctx.Err() == nil {
		n.setHealth(NodeStandby, nil)
		lost, release, err := n.cfg.Claim(ctx)
		if err != nil {
			return // ctx ended
		}
		n.log.Info("broadcast: this instance drives the node")
		owned, stop := context.WithCancel(ctx)
		go func() {
			select {
			case <-lost:
				n.log.Warn("broadcast: another callin instance claimed the node; standing by")
				stop()
			case <-owned.Done():
			}
		}()
		n.read(owned, n.ari.Stream(owned, n.cfg.Events))
		stop()
		release()
	}
}

// read is the node's one event reader. It never blocks on the network or
// on a worker: it applies facts under show locks, wakes waiters and hands
// slow work to the pool.
func (n *node) read(ctx context.Context, conn ari.EventStream) {
	var wg sync.WaitGroup
	wg.Go(func() { n.resyncLoop(ctx) })
	wg.Go(func() { n.subscriber(ctx) })
	wg.Go(func() { n.roomLoop(ctx) })
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
		n.gone = false
		if n.lostTimer != nil {
			n.lostTimer.Stop()
			n.lostTimer = nil
		}
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
			n.startLostTimer()
		}
	case *ari.ApplicationReplaced:
		n.log.Error("broadcast: ANOTHER APPLICATION TOOK OUR STASIS APP ON THIS NODE; node unhealthy, no longer acting on it")
		n.setHealth(NodeReplaced, ari.ErrApplicationReplaced)
	case *ari.StasisStart:
		n.stasisStart(e)
	case *ari.ChannelHangupRequest:
		n.hangupRequest(e)
	case *ari.StasisEnd:
		n.stasisEnd(e)
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
			ref.show.dtmf(e.Channel.ID, ref, e.Digit)
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
// a screener's line, [show, "talkback"] a producer's talkback line,
// [show, "relay"] a half of a talkback relay.
func (n *node) stasisStart(e *ari.StasisStart) {
	ch := e.Channel
	if token, ok := ari.TrunkToken(e.Args); ok {
		n.trunkArrived(e, token) // a far leg: on the studio
		return
	}
	if ref := n.lookup(ch.ID); ref != nil && ref.role == roleTrunk {
		return // a near leg callin originated: its promote waits for this event
	}
	if ref := n.lookup(ch.ID); ref != nil && ref.role == roleRelay {
		// A relay's half is known by the id callin gave it, whatever
		// arguments the dialplan passed.
		n.submitOrLog(func(ctx context.Context) { ref.show.holdOn(n).relayStart(ctx, ch) })
		return
	}
	var s *show
	if len(e.Args) > 0 {
		s = n.app.shows[e.Args[0]]
	}
	role := roleCaller
	if len(e.Args) > 1 {
		role = e.Args[1]
	}
	// A caller may arrive on any of the show's nodes, and a call-back be
	// dialled from any (callbackNode); every other line callin has (host,
	// screener, talkback, relay) is the studio's.
	if s == nil || s.holdOn(n) == nil || (role != roleCaller && role != roleCallback && s.studio() != n) {
		n.log.Warn("broadcast: channel for no show of this node; hanging up", "channel", ch.ID, "args", e.Args)
		n.submitOrLog(func(ctx context.Context) { n.hangup(ctx, ch.ID, ari.HangupUnallocated) })
		return
	}
	switch role {
	case roleCaller:
		s.arrive(n, e)
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
		n.submitOrLog(func(ctx context.Context) { s.studioHold().talkbackJoin(ctx, ch) })
	case roleRelay:
		n.submitOrLog(func(ctx context.Context) { s.studioHold().relayStart(ctx, ch) })
	case roleCallback:
		n.mu.Lock()
		ref := n.chans[ch.ID]
		if ref != nil {
			ref.up = true
		}
		n.mu.Unlock()
		if ref == nil { // the call-back gave up ringing meanwhile
			n.submitOrLog(func(ctx context.Context) { n.hangup(ctx, ch.ID, ari.HangupNormal) })
		}
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

// hangupRequest remembers the cause of a non-soft hang-up request: for a
// caller whose ChannelDestroyed never reaches us, it is the only clue to the
// real cause (Local channels carry one; a SIP BYE has none, trace 09b). The
// soft requests' cause (32, 4) is a flag, not Q.850.
func (n *node) hangupRequest(e *ari.ChannelHangupRequest) {
	if e.Soft || e.Cause == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if ref := n.chans[e.Channel.ID]; ref != nil {
		ref.hangCause = int32(e.Cause)
	}
}

// stasisEnd is the end of a channel as callin's socket sees it: for a
// caller who dialled in, the last event it gets (traces 09-11), unless its
// channel is (or is being) subscribed: then ChannelDestroyed, with the real
// cause, follows. It normally follows within a millisecond (trace 10a), but
// with many callers hanging up at once a real Asterisk sent it 0.8-1.5 s
// later (issue 25). So the call ends now, with the best cause known (a
// non-soft hang-up request's, or our own hang-up's), and the cause of a
// subscribed channel's ChannelDestroyed is filled in when it comes, within
// Config.EndGrace: nothing waits for it.
func (n *node) stasisEnd(e *ari.StasisEnd) {
	id := e.Channel.ID
	n.mu.Lock()
	ref := n.chans[id]
	var late *lateCause
	if ref != nil && ref.role == roleCaller && (ref.sub == subSending || ref.sub == subscribed) {
		late = &lateCause{show: ref.show, callID: ref.callID}
		n.causes[id] = late
	}
	n.mu.Unlock()
	if ref == nil {
		return
	}
	n.ended(id, ref, -1)
	if late != nil {
		time.AfterFunc(n.app.cfg.EndGrace, func() { n.forgetCause(id, late) })
	}
}

// lateCause is a caller whose call has ended at its StasisEnd and whose
// ChannelDestroyed, with the real hang-up cause, may still come.
type lateCause struct {
	show   *show
	callID string
}

// forgetCause stops waiting for a channel's ChannelDestroyed.
func (n *node) forgetCause(chanID string, late *lateCause) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.causes[chanID] == late {
		delete(n.causes, chanID)
	}
}

// destroyed ends the call of a destroyed channel with its real cause. It
// comes after StasisEnd, and only for channels callin subscribed to or
// originated (trace 09); for a caller whose call ended at its StasisEnd it
// fills in the cause.
func (n *node) destroyed(e *ari.ChannelDestroyed) {
	id := e.Channel.ID
	if ref := n.lookup(id); ref != nil {
		n.ended(id, ref, e.Cause)
		return
	}
	n.mu.Lock()
	late := n.causes[id]
	delete(n.causes, id)
	n.mu.Unlock()
	if late != nil && e.Cause > 0 {
		late.show.callCause(late.callID, e.Cause)
	}
}

// ended forgets a channel that has gone and ends what it carried, once: of
// StasisEnd, ChannelDestroyed and the grace timer, the first to get here
// with ref still indexed does it. cause < 0 means "the best we know".
func (n *node) ended(chanID string, ref *chanRef, cause int) {
	n.mu.Lock()
	if n.chans[chanID] != ref {
		n.mu.Unlock()
		return
	}
	delete(n.chans, chanID)
	if cause < 0 {
		cause = int(ref.hangCause)
	}
	n.mu.Unlock()
	s := ref.show
	switch ref.role {
	case roleCaller:
		s.callEnded(ref.callID, cause)
	case roleHost:
		s.hostGone(chanID)
	case roleTalkback: // the producer's line, or a talkback's leg from the studio (trunk.go)
		s.holdOn(n).lineEnded(chanID)
		s.trunkLegEnded(ref.callID, chanID)
	case roleRelay:
		s.holdOn(n).relayGone(chanID, ref.bridge)
	case roleCallback:
		if ref.up { // a failure to answer is the ringing's to report
			s.callbackGone(ref.callID, "hung up")
		}
	case roleScreener:
		s.screenerGone(chanID, ref.callID)
	case roleTrunk:
		s.trunkLegEnded(ref.callID, chanID)
	}
}

// subscribe asks Asterisk for a caller's ChannelDestroyed (and so its real
// hang-up cause) by subscribing the app to the channel; the subscriber
// sends the request. Subscriptions are reference-counted with Stasis's own,
// outlive a WebSocket reconnect and end with the channel, so callin never
// unsubscribes (trace 10b: one unsubscribe too many loses even StasisEnd's
// companions).
func (n *node) subscribe(chanID string) {
	if chanID == "" {
		return // "channel:" alone subscribes to every channel (trace 10g)
	}
	select {
	case n.subq <- chanID:
	default:
		n.subscribed(chanID, errors.New("subscription queue full"))
	}
}

// subscribeBatch is the most channels one subscription request names.
const subscribeBatch = 100

// subscriber sends the queued subscriptions, several channels a request
// when callers arrive faster than a request takes: Asterisk answers each
// subscription with the app's whole list of subscribed channels, so one
// request a caller would cost it O(callers) each at a big line.
func (n *node) subscriber(ctx context.Context) {
	batch := make([]string, 0, subscribeBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-n.subq:
			batch = append(batch[:0], id)
		}
		// Gather what arrives within subscribeWait: at 100 callers a
		// second, about ten channels a request.
		window := time.NewTimer(subscribeWait)
	more:
		for len(batch) < subscribeBatch {
			select {
			case id := <-n.subq:
				batch = append(batch, id)
			case <-window.C:
				break more
			case <-ctx.Done():
				window.Stop()
				return
			}
		}
		window.Stop()
		n.subscribeAll(ctx, batch)
	}
}

// subscribeWait is how long the subscriber gathers channels for one
// request. A caller who hangs up within it is still ended at once, with the
// hang-up request's cause (see stasisEnd).
const subscribeWait = 100 * time.Millisecond

// subscribeAll subscribes to a batch of channels. Asterisk refuses the
// whole request (422) when one of them no longer exists, so a refused batch
// is sent again one channel at a time. (That a batch with one missing
// channel subscribes none of the others is a guess: no trace covers a
// batch; sending each again is safe either way, as a second subscription
// only counts twice and ends with the channel.)
func (n *node) subscribeAll(ctx context.Context, ids []string) {
	// Channels that ended while queued are not worth a request (and one
	// would make Asterisk refuse the whole batch).
	n.mu.Lock()
	live := ids[:0]
	for _, id := range ids {
		if ref := n.chans[id]; ref != nil && ref.sub == subPending {
			ref.sub = subSending
			live = append(live, id)
		}
	}
	n.mu.Unlock()
	ids = live
	if len(ids) == 0 {
		return
	}
	sources := make([]string, len(ids))
	for i, id := range ids {
		sources[i] = "channel:" + id
	}
	err := n.ari.Subscribe(ctx, sources...)
	if err != nil && len(ids) > 1 && ctx.Err() == nil {
		n.mu.Lock()
		for _, id := range ids {
			if ref := n.chans[id]; ref != nil && ref.sub == subSending {
				ref.sub = subPending // sent again, alone
			}
		}
		n.mu.Unlock()
		for _, id := range ids {
			n.subscribeAll(ctx, []string{id})
		}
		return
	}
	for _, id := range ids {
		n.subscribed(id, err)
	}
}

// subscribed records how a channel's subscription went.
func (n *node) subscribed(chanID string, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ref := n.chans[chanID]
	if ref == nil || (ref.sub != subPending && ref.sub != subSending) {
		return
	}
	if err != nil {
		ref.sub = subNone
		if !channelMissing(err) {
			n.log.Warn("broadcast: subscribing to a caller's channel failed; its hang-up cause may be unknown", "channel", chanID, "err", err)
		}
		return
	}
	ref.sub = subscribed
}

// bridgeChanged follows the membership of a show's bridges from the member
// list each bridge event carries.
func (n *node) bridgeChanged(b ari.Bridge, chanID string, entered bool) {
	s := n.bridgeShow(b.ID)
	if s == nil {
		return
	}
	hm := s.holdOn(n)
	switch {
	case hm != nil && hm.isHold(b.ID):
		if ref := n.lookup(chanID); ref != nil && (ref.role == roleTalkback || ref.role == roleRelay || ref.role == roleTrunk) {
			if !entered { // talkback lines, relays and legs are not callers: not counted
				hm.announcerLeft(b.ID, chanID, ref)
			}
			return
		}
		hm.holdChanged(b.ID, chanID, entered)
	case b.ID == s.air.id && n == s.studio():
		if entered {
			return
		}
		s.hostGone(chanID)
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
		s.holdOn(n).playbackEnded(e.Playback.ID)
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
	s.setTalking(ref.callID, on)
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
	var onAir []queue.Call
	if started {
		onAir = s.q.List().OnAir
	}
	rec, ok := s.air.recorded(r, started, s.app.cfg.Now(), onAir)
	if !ok {
		return
	}
	if rs := s.app.cfg.Recordings; rs != nil && !started {
		rs.Recorded(s.key, rec)
	}
	s.emit(Update{Kind: UpdateRecording, Recording: rec})
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
		n.syncMu.Lock()
		err := n.resync(ctx, gen)
		n.syncMu.Unlock()
		if err != nil {
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
			n.roomResend()
		}
	}
}

// failArrival ends a call whose telephony failed (unless it is gone or the
// node is down: the hang-up event or the resync decides then) and hangs it
// up.
func (s *show) failArrival(ctx context.Context, n *node, callID, chanID string, err error) {
	if errors.Is(err, queue.ErrGone) || errors.Is(err, ErrNodeDown) || ctx.Err() != nil {
		return
	}
	n.log.Warn("broadcast: arrival failed", "show", s.key, "call", callID, "err", err)
	s.mu.Lock()
	if _, ts, ferr := s.q.Fail(s.app.cfg.Now(), callID, err.Error()); ferr == nil {
		s.publish(ts)
	}
	s.mu.Unlock()
	n.hangup(ctx, chanID, ari.HangupFailure)
}

// startLostTimer starts counting how long the node has been down, once
// per gap: past Config.NodeLostAfter without a Connected, it is lost.
func (n *node) startLostTimer() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lostTimer != nil {
		return
	}
	gen := n.gen
	var t *time.Timer
	t = time.AfterFunc(n.app.cfg.NodeLostAfter, func() {
		n.mu.Lock()
		still := n.lostTimer == t && n.gen == gen && n.health.State == NodeDown
		n.mu.Unlock()
		if still {
			n.lost()
		}
	})
	n.lostTimer = t
}

// lost ends, in every show spanning more than one node, the calls held
// on this node, which has been down past Config.NodeLostAfter: its
// callers are gone with it as far as the show can tell (a killed node
// sends nothing, and its trunk legs stay up on the others: pbx-README),
// and the line goes on without them. Should the node come back, its
// resync hangs up the channels of these calls that Asterisk still has.
// A show on this node alone keeps its calls: its resync decides, as
// before.
func (n *node) lost() {
	n.log.Error("broadcast: NODE LOST: down too long; ending its callers' calls node_lost", "after", n.app.cfg.NodeLostAfter)
	n.locked(func() { n.gone = true })
	for _, s := range n.showList() {
		if s.spread() {
			s.nodeLost(n)
		}
		if s.studio() == n {
			n.log.Error("broadcast: STUDIO LOST: the show is off air until the node comes back or another studio is named", "show", s.key)
			s.tellStudio()
		}
	}
}

// nodeLost ends the show's calls held on node n, node_lost, and forgets
// n's holding bridges' members.
func (s *show) nodeLost(n *node) {
	s.mu.Lock()
	calls, ts := s.q.NodeLost(s.app.cfg.Now(), n.name)
	s.publish(ts)
	s.mu.Unlock()
	for _, c := range calls {
		n.withChan(c.ChannelID, func(ref *chanRef) { ref.lost = true })
	}
	s.holdOn(n).lost()
	s.trunksLost(n)
}
