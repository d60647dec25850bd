// Package broadcast is callin's Stasis application: it turns ARI events into
// queue facts and queue decisions into ARI commands, for several shows on
// several Asterisk nodes.
//
// # Shape
//
// An App owns N nodes (each a Telephony, usually *ari.Client, and its one
// ordered event stream) and M shows (each a queue.Show with two bridges of
// deterministic ids: "callin-<show>-hold", a holding bridge with music on
// hold, and "callin-<show>-air", the on-air mixing bridge). A show's
// queue.Show is guarded by one mutex that is never held across an ARI
// request; the show's other parts have locks of their own (see "Who owns
// what").
//
// Per node, one goroutine reads the event stream and never blocks: it
// applies facts (arrival, hang-up, talking, recording, bridge membership)
// under the show's lock, wakes the waiters registered for the event, and
// hands slow work (answering and bridging an arrival, playing a rejection,
// resynchronising) to a bounded worker pool. A worker is held for requests,
// not for the events that follow them where nobody waits for the result:
// an arrival's worker sends its addChannel and the reader makes the call
// join when its ChannelEnteredBridge comes. Per show, one goroutine starts
// music on hold when needed and plays position announcements.
//
// # A show across nodes
//
// A show takes the callers of one or more nodes (ShowConfig.Nodes; issue
// 24) and has one studio node (ShowConfig.Studio, by default its only
// node): the on-air bridge, host lines, screenings, recording and
// talkback live there. Call-backs are dialled from the studio while it
// has room, else from another of the show's nodes with room
// (callbackNode), and the callers who answer are held there. A caller arriving by Stasis(callin,<show>) on
// any of the show's nodes is held on that node, in that node's own
// holding part (its pool, its music): waiting never crosses nodes. The
// line is the one queue.Show, in arrival order across nodes, each call
// carrying its node (queue.Call.Node); whatever touches a caller's
// channel (answer, hold, announcements, goodbye, hang-up, line quality)
// goes to that node. Each node resynchronises its own calls (a resync of
// B never ends A's). A caller held away from the studio goes on
// air across the SIP trunk between the nodes (trunk.go): a leg originated
// on the caller's node to ari.TrunkDial(studio, token) arrives on the
// studio as Stasis(callin,trunk,<token>), is answered and put in the
// on-air bridge; the caller and the near leg share a mixing bridge of
// their own on the caller's node. Hold, drop, mute, take next, hold all
// and drop all act on the caller's node and hang both legs up; the caller
// ending ends both legs; a leg ending that callin did not end puts the
// caller back on hold (queue.Show.AirLost, an air_lost transition,
// published once the caller is in the holding bridge, so that a promote
// meanwhile is refused rather than undone), as does the studio lost. A live talkback, once the producer speaks on the
// studio, crosses the trunk once to each other node, where the far leg is
// that node's talkback line (relayed to its other bridges as on the
// studio); a message plays on every node. The legs are App.trunk's (a
// leaf lock, trunkMu). A screener's phone is rung from the studio, where
// station phones register as the host's does; a caller held on another
// node joins it across the trunk as for a promote (crossTrunk), the far
// leg going into the studio's screening bridge with the phone instead of
// the on-air bridge. Ready, Hold, the screener or the caller hanging up
// end both legs and the phone; a leg ending that callin did not end, or
// the studio lost, puts the caller back on hold as the screener hanging
// up does (screenLost). A screening without a phone moves nothing, on
// any node.
//
// The studio is the show's studio() (an atomic pointer, read without a
// lock), which App.SetStudio may change while the show runs (studio.go):
// the on-air bridge is then created on the new studio, and everything
// that names the studio follows it. The studio lost, the show says so
// (Snapshot.Studio, UpdateStudio with Lost) and puts nobody on air until
// it comes back or another is named; the line holds on the other nodes.
//
// A node down past Config.NodeLostAfter is lost: in every show spanning
// more than one node its calls end node_lost (queue.Show.NodeLost) and the
// line goes on, and callin hangs up the legs its callers on air had on
// the studio (a killed node's legs stay up there: TrunkNodeKilled in
// ari/aritest/testdata/pbx-README.md); a node that comes back sooner only
// resynchronises. Should a
// lost node come back, its resync hangs up what Asterisk still has of the
// ended calls. Each node's load (callers held, capacity, state, full)
// is read with App.NodeLoads, Snapshot.Nodes and UpdateLoad. A node with
// a capacity (NodeConfig.Capacity) that holds it is marked full in its
// own dialplan (CALLIN_FULL_<show>=1, room.go), so that the SIP front
// gives new callers to another node.
//
// # Who owns what
//
// A show (show.go) is made of parts, each with one job and its own lock:
//
//   - show: the queue.Show, what is kept per live call (calls.go: one
//     record a call, with talking, announcement, screener line, line
//     quality, talk detection and screening, removed in one place, forget,
//     when the call ends), the subscribers and a resync's batch. Lock:
//     show.mu.
//   - holding (hold.go, talkback.go), one per node of the show (show.holds;
//     the studio's is show.hold): the holding media on one node: the
//     pool of holding bridges and their members, their music, and the
//     talkback (a producer's live line and its relays, or a message's
//     playbacks). Lock: holding.mu; holding.musicMu orders the requests
//     that start and stop music and is the one lock held across them.
//   - air (onair.go): the on-air bridge, the host lines in it and its
//     recording. Lock: air.mu.
//   - node (node.go, nodeindex.go): the channels, bridges, playbacks and
//     recordings whose events it routes to a show, late hang-up causes and
//     its health. Lock: node.mu, which shows never take: they call the
//     node's methods (index, trackPlayback, indexBridge, ...).
//
// Lock order: App.spanMu (AddNode, SpanNode), node.syncMu (one resync
// of a node at a time), App.mu, holding.musicMu, holding.mu, show.mu,
// air.mu, node.mu, then the waiter registry's; a lock is never taken
// while a later one is held.
//
// The App's nodes, each node's shows and each show's nodes with their
// holding parts are values replaced whole (copy on write) by AddNode and
// SpanNode (span.go), read without a lock: a node added while the shows
// run takes a show's callers from SpanNode on, as the nodes of
// ShowConfig.Nodes do from the start.
// The holding part tells subscribers of its changes under holding.mu and
// show.mu (the media state also lists air's hosts); publish, under
// show.mu, adds a call going on air to air's recording; every part reaches
// the node through its methods. None but musicMu is held across an ARI
// request: a part copies what a request needs, unlocks, sends it, and
// relocks to apply the answer only where the answer changes its state.
//
// # Waiting for events
//
// Anything whose result arrives as an event subscribes first (a waiter keyed
// by event type and channel, playback or recording id), then sends the
// request, then waits for the event, its context and a timeout. Events may
// arrive before the REST response. A channel that leaves Stasis wakes its
// waiters with an error wrapping queue.ErrGone; a lost connection wakes all
// waiters of the node with ErrNodeDown.
//
// # Actions
//
// The action methods (Screen, Ready, Promote, TakeNext, Hold, Mute, Unmute,
// Drop, Lock, Unlock, MoveToTop, PickNext, UpdateNotes, ...) take a context,
// the show key, the call id and the acting queue.Actor. They return the
// updated queue.Call or an error wrapping a queue sentinel (ErrNotFound,
// ErrConflict for a lost race, ErrInvalid, ErrGone for a caller who hung up)
// or one of this package's: ErrNodeDown (the show's node is not connected)
// and ErrTelephony (Asterisk refused or did not do what was asked; ErrTimeout
// wraps it). Every reserved action is committed or aborted on every path.
// Screen on a screener's phone is the one that returns before its
// telephony is done: it answers once the phone rings, the call still
// reserved (Pending "screen"), and the outcome follows as updates
// (UpdateScreening; screen.go).
//
// # Transitions and updates
//
// A caller's call ends at its StasisEnd; the real Q.850 cause, which only
// a subscribed channel's ChannelDestroyed carries and which a busy Asterisk
// sent up to 1.5 s late (issue 25), follows as a queue.ActionCause
// transition (within Config.EndGrace).
//
// Every queue.Transition goes to the Sink (which must never block) and, in
// order, to the show's live subscribers with the other changes a console
// renders (talking, music, talkback, recording, settings, node health,
// screenings on phones).
// Each subscriber has a bounded buffer; one that falls behind is
// disconnected: its channel is closed and Err says why. Snapshot returns
// everything needed to render a show from scratch.
//
// # Reconnects and restarts
//
// On every *ari.Connected the node resynchronises from what Asterisk lists:
// the show bridges are re-adopted (a 409 on create means the bridge exists)
// or created, callers found in them are readmitted in the state their bridge
// says (with the arrival time and last Seq a Recall gives for a service
// restart, else the channel's creation time and Seq 0), callers in Stasis
// but in no bridge go back to the holding bridge, and calls Asterisk no
// longer has end (aired if ever on air, else abandoned). A host line found
// on air stays on air; one still ringing (outside Stasis, known by its id,
// "callin-host-<show>-…") is the show's again, ringing, and goes on air
// when its StasisStart comes. While a node is
// disconnected, actions on its shows fail fast with ErrNodeDown. After
// ApplicationReplaced the node is unhealthy for good (see Health).
//
// Several instances may share the nodes: with NodeConfig.Claim each node
// is driven by the one instance holding its claim, and stands by
// (NodeStandby, touching nothing in Asterisk) in the others until it is
// theirs; taking it over is a resync like any other.
//
// # Music on hold
//
// Bridge music on hold stops for good when the holding bridge empties (real
// Asterisk removes its music channel; no event says so), and it is the
// bridge's one announcer. So POST /moh (idempotent) follows every join into
// a holding bridge and every resync (hold.go). A talkback stops a bridge's
// music just before its announcer (the producer's line, a relay of it, or a
// message) speaks there, and the music starts again once that announcer has
// gone (talkback.go).
package broadcast
