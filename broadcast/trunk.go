package broadcast

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// roleTrunk is either leg of a trunk call that puts a caller held on
// another node on air (chanRef.callID: the caller's call).
const roleTrunk = "trunk"

// trunkCall is one caller on air across the trunk between nodes (issue
// 24): on the caller's node (near) the caller and the near leg, which
// callin originated to ari.TrunkDial(studio, token), share a mixing bridge
// of their own; on the studio (far) the far leg, which arrived as
// Stasis(callin,trunk,<token>), is in the on-air bridge. What each node
// sends is in ari/aritest/testdata/pbx-README.md (TrunkCrossing and the
// scenarios after it, recorded on two real Asterisks).
type trunkCall struct {
	s      *show
	callID string
	caller string // the caller's channel, on near
	token  string
	near   *node  // the caller's node
	nearID string // the leg callin originates on near
	far    *node  // the studio
	bridge string // the caller's and the near leg's mixing bridge on near ("" for a talkback's)
	// farBridge is the bridge on the studio the far leg joins: the on-air
	// bridge, or the call's screening bridge (screen).
	farBridge string
	screen    bool // a screening: the far leg is with the screener's phone
	farIn     chan error
	// talkback: the leg carries the studio's live talkback to the far
	// node (callID is talkbackKey(far)): the near leg listens in the
	// studio's first holding bridge, the far leg is the far node's live
	// talkback line (talkbackTrunk).
	talkback bool

	// Guarded by App.trunkMu.
	farID  string // the far leg, once it arrived
	active bool   // on air: a leg that ends now puts the caller back on hold
}

// trunks is the App's registry of trunk calls, by token and by call.
type trunks struct {
	byToken map[string]*trunkCall
	byCall  map[callKey]*trunkCall
}

type callKey struct {
	show   *show
	callID string
}

// trunkToken is a token for [callin-trunk]'s _X.: digits, the first not
// 0, at least two.
func trunkToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "9" + strconv.FormatUint(binary.BigEndian.Uint64(b[:])%1e15, 10)
}

// trunkBridge is the mixing bridge of a caller on air across the trunk,
// on the caller's node, named by the trunk call's token: a new one for
// each promote (a real Asterisk answered a bridge DELETE before the bridge
// was gone: the next promote's create found it, 409, and its addChannel
// then 404, BenchmarkPBXTrunkPromote).
func (s *show) trunkBridge(token string) string { return "callin-" + s.key + "-x-" + token }

// knownTrunkBridge says whether bridge is the trunk bridge of one of the
// show's trunk calls this process knows.
func (s *show) knownTrunkBridge(bridge string) bool {
	s.app.trunkMu.Lock()
	defer s.app.trunkMu.Unlock()
	tc := s.app.trunk.byToken[strings.TrimPrefix(bridge, s.trunkBridge(""))]
	return tc != nil && tc.s == s && tc.bridge == bridge
}

// strayTrunkCaller says whether a channel listed by a resync is a caller
// of the show found in a trunk bridge this process does not know: callin
// restarted while the caller was on air (or screening) across the trunk.
// Its legs are hung up as strays (hangupStrayTrunks), so the caller, alone
// in that bridge, is readmitted in no place and put back on hold on their
// node with its music (place, PlanResync's ToHold), and the bridge is
// removed (destroyStrayTrunkBridges): back on hold, never left in a silent
// bridge nor dropped (TestRestartOnAirAcrossTrunkPBX, two real
// Asterisks). Staying on air would need the legs re-paired; not done.
func (s *show) strayTrunkCaller(bridge string, args []string) bool {
	return strings.HasPrefix(bridge, s.trunkBridge("")) && !s.knownTrunkBridge(bridge) &&
		len(args) == 1 && args[0] == s.key
}

// destroyStrayTrunkBridges removes the show's trunk bridges on n that
// this process does not know (a resync after a restart, once their
// callers were put back on hold).
func (s *show) destroyStrayTrunkBridges(ctx context.Context, n *node, byID map[string]ari.Bridge) {
	for id := range byID {
		if !strings.HasPrefix(id, s.trunkBridge("")) || s.knownTrunkBridge(id) {
			continue
		}
		if err := n.ari.DestroyBridge(ctx, id); err != nil && !errors.Is(err, ari.ErrNotFound) {
			n.log.Warn("broadcast: removing a stray trunk bridge failed", "bridge", id, "err", err)
		}
	}
}

// addTrunk registers a trunk call; ErrConflict when the call has one.
func (a *App) addTrunk(tc *trunkCall) error {
	a.trunkMu.Lock()
	defer a.trunkMu.Unlock()
	k := callKey{tc.s, tc.callID}
	if a.trunk.byCall[k] != nil {
		return fmt.Errorf("broadcast: call %s has a trunk leg already: %w", tc.callID, queue.ErrConflict)
	}
	a.trunk.byCall[k] = tc
	a.trunk.byToken[tc.token] = tc
	return nil
}

// takeTrunk removes a call's trunk call from the registry and returns it
// (nil if it had none): from here on its legs' ends are expected.
func (a *App) takeTrunk(s *show, callID string) *trunkCall {
	a.trunkMu.Lock()
	defer a.trunkMu.Unlock()
	tc := a.trunk.byCall[callKey{s, callID}]
	if tc != nil {
		a.dropTrunkLocked(tc)
	}
	return tc
}

// dropTrunkLocked removes tc from the registry. Callers hold a.trunkMu.
func (a *App) dropTrunkLocked(tc *trunkCall) {
	if a.trunk.byCall[callKey{tc.s, tc.callID}] == tc {
		delete(a.trunk.byCall, callKey{tc.s, tc.callID})
	}
	if a.trunk.byToken[tc.token] == tc {
		delete(a.trunk.byToken, tc.token)
	}
	tc.active = false
}

// trunkOf is a call's trunk call, nil if it has none.
func (a *App) trunkOf(s *show, callID string) *trunkCall {
	a.trunkMu.Lock()
	defer a.trunkMu.Unlock()
	return a.trunk.byCall[callKey{s, callID}]
}

// trunksOf lists the show's trunk calls.
func (a *App) trunksOf(s *show) []*trunkCall {
	a.trunkMu.Lock()
	defer a.trunkMu.Unlock()
	var out []*trunkCall
	for k, tc := range a.trunk.byCall {
		if k.show == s {
			out = append(out, tc)
		}
	}
	return out
}

// onAirRemote puts a caller held on node n (not the studio) on air across
// the trunk (crossTrunk into the on-air bridge). It returns once the caller
// is heard on air.
func (s *show) onAirRemote(ctx context.Context, t queue.Ticket, n *node) error {
	s.stopAnnouncement(ctx, t.Call.ID)
	if err := s.crossTrunk(ctx, t.Call, n, s.air.id, false); err != nil {
		return err
	}
	s.talkDetect(n, t.Call.ID, t.Call.ChannelID)
	return nil
}

// crossTrunk joins a caller held on node n (not the studio) with bridge
// farBridge on the studio across the trunk: a mixing bridge on n; a leg
// originated on n to the studio, whose far end the studio's reader
// answers and puts in farBridge (farJoin); once the near leg is up (it
// enters the app only after the far answer: TrunkCrossing) and the far
// leg is in farBridge, the caller and the near leg join the bridge on n
// in one request. It returns once both have entered. Every step waits for
// its event, within Config.EventTimeout; on any failure every leg is hung
// up and the bridge removed (the caller stays in the holding bridge it is
// in, or is put back).
func (s *show) crossTrunk(ctx context.Context, call queue.Call, n *node, farBridge string, screen bool) (err error) {
	tc := &trunkCall{s: s, callID: call.ID, caller: call.ChannelID, token: trunkToken(), near: n, far: s.studio(),
		nearID: "callin-tk-" + newID(), farBridge: farBridge, screen: screen, farIn: make(chan error, 1)}
	tc.bridge = s.trunkBridge(tc.token)
	if err := s.app.addTrunk(tc); err != nil {
		return err
	}
	moved := false
	defer func() {
		if err != nil {
			ctx := context.WithoutCancel(ctx)
			s.app.takeTrunk(s, tc.callID)
			if moved {
				if herr := s.holdOn(n).joinHold(ctx, tc.caller); herr != nil {
					n.log.Warn("broadcast: caller not put back on hold after a failed trunk", "call", tc.callID, "err", herr)
				}
			}
			s.endTrunk(ctx, tc)
		}
	}()
	// The bridge is created while the leg crosses: one request less on the
	// promote's path.
	created := make(chan error, 1)
	go func() {
		_, err := n.ari.CreateBridge(ctx, tc.bridge, ari.BridgeMixing, s.key)
		if err != nil && !errors.Is(err, ari.ErrConflict) {
			err = telErr("create trunk bridge "+tc.bridge, err)
		} else {
			err = nil
		}
		created <- err
	}()
	dialed := time.Now()
	err = s.dialTrunk(ctx, tc)
	n.log.Debug("broadcast: trunk leg up", "call", tc.callID, "setup", time.Since(dialed), "err", err)
	if cerr := <-created; err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	moved = true
	if err := n.moveAll(ctx, tc.bridge, tc.caller, tc.nearID); err != nil {
		return err
	}
	s.app.trunkMu.Lock()
	tc.active = s.app.trunk.byCall[callKey{s, tc.callID}] == tc
	live := tc.active
	s.app.trunkMu.Unlock()
	if !live { // a leg ended meanwhile
		return telErr("trunk", errors.New("a trunk leg ended while the caller joined"))
	}
	return nil
}

// dialTrunk originates the near leg and waits until it is up and the far
// leg is in the on-air bridge.
func (s *show) dialTrunk(ctx context.Context, tc *trunkCall) error {
	n := tc.near
	n.index(tc.nearID, &chanRef{show: s, callID: tc.callID, role: roleTrunk})
	up := n.waits.expect(ari.TypeStasisStart, tc.nearID, "", nil)
	down := n.waits.expect(ari.TypeChannelDestroyed, tc.nearID, "", nil)
	defer n.waits.cancel(up)
	defer n.waits.cancel(down)
	if _, err := n.ari.Originate(ctx, ari.OriginateParams{
		Endpoint: ari.TrunkDial(tc.far.name, tc.token), App: s.app.cfg.App, AppArgs: s.key + "," + roleTrunk + "," + tc.callID,
		ChannelID: tc.nearID, Formats: "ulaw", Timeout: s.app.cfg.EventTimeout,
	}); err != nil {
		return telErr("originate trunk leg to "+tc.far.name, err)
	}
	timer := time.NewTimer(s.app.cfg.EventTimeout)
	defer timer.Stop()
	for nearUp, farIn := false, false; !nearUp || !farIn; {
		select {
		case res := <-up.done:
			if res.err != nil {
				return telErr("trunk leg", res.err)
			}
			nearUp = true
		case res := <-down.done:
			cause := 0
			if e, ok := res.ev.(*ari.ChannelDestroyed); ok {
				cause = e.Cause
			}
			return telErr("trunk leg", fmt.Errorf("ended before it was on air (cause %d)", cause))
		case err := <-tc.farIn:
			if err != nil {
				return err
			}
			farIn = true
		case <-timer.C:
			return telErr("trunk leg", fmt.Errorf("%w: not on air after %v", ErrTimeout, s.app.cfg.EventTimeout))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// trunkArrived takes the far leg of a trunk call entering the app on the
// studio (Stasis(callin,trunk,<token>), ringing): it is answered and put
// in the on-air bridge by a worker (farJoin). A leg nobody waits for (its
// promote gave up, or an unknown token) is refused.
func (n *node) trunkArrived(e *ari.StasisStart, token string) {
	ch := e.Channel
	a := n.app
	a.trunkMu.Lock()
	tc := a.trunk.byToken[token]
	ok := tc != nil && tc.far == n && tc.farID == ""
	if ok {
		tc.farID = ch.ID
	}
	a.trunkMu.Unlock()
	if !ok {
		n.log.Warn("broadcast: trunk leg nobody waits for; hanging up", "channel", ch.ID, "token", token)
		n.submitOrLog(func(ctx context.Context) { n.hangup(ctx, ch.ID, ari.HangupNormal) })
		return
	}
	if tc.talkback {
		n.index(ch.ID, &chanRef{show: tc.s, callID: tc.callID, role: roleTalkback})
		n.submitOrLog(func(ctx context.Context) { tc.farIn <- tc.s.holdOn(n).remoteTalkback(ctx, ch) })
		return
	}
	n.index(ch.ID, &chanRef{show: tc.s, callID: tc.callID, role: roleTrunk})
	n.submitOrLog(func(ctx context.Context) { tc.farIn <- farJoin(ctx, n, ch, tc.farBridge) })
}

// farJoin answers the far leg and puts it in bridge (the on-air bridge,
// or a screening bridge).
func farJoin(ctx context.Context, n *node, ch ari.Channel, bridge string) error {
	if ch.State != ari.StateUp {
		if err := n.ari.AnswerChannel(ctx, ch.ID); err != nil {
			return n.restError(ctx, "answer trunk leg", ch.ID, err)
		}
	}
	return n.moveTo(ctx, ch.ID, bridge, "")
}

// endTrunk hangs up both legs of a trunk call taken from the registry
// (takeTrunk) and removes its bridge: no leg is left open, whatever the
// trunk does (a killed node's legs stay up on the other node until
// callin hangs them up: TrunkNodeKilled).
func (s *show) endTrunk(ctx context.Context, tc *trunkCall) {
	s.app.trunkMu.Lock()
	farID := tc.farID
	s.app.trunkMu.Unlock()
	tc.near.hangup(ctx, tc.nearID, ari.HangupNormal)
	if farID != "" {
		tc.far.hangup(ctx, farID, ari.HangupNormal)
	}
	if tc.bridge == "" {
		return
	}
	if err := tc.near.ari.DestroyBridge(ctx, tc.bridge); err != nil && !errors.Is(err, ari.ErrNotFound) {
		tc.near.log.Warn("broadcast: removing a trunk bridge failed", "bridge", tc.bridge, "err", err)
	}
}

// trunkLegEnded follows a trunk leg that ended (node.ended): for a caller
// on air across the trunk that callin did not take off the air itself,
// the caller goes back on hold (airLost).
func (s *show) trunkLegEnded(callID, chanID string) {
	a := s.app
	a.trunkMu.Lock()
	tc := a.trunk.byCall[callKey{s, callID}]
	lost := tc != nil && tc.active && (chanID == tc.nearID || chanID == tc.farID)
	if lost {
		a.dropTrunkLocked(tc)
	}
	a.trunkMu.Unlock()
	switch {
	case lost && tc.talkback: // the far node's talkback ends with its line
		tc.near.submitOrLog(func(ctx context.Context) { s.endTrunk(ctx, tc) })
	case lost:
		s.trunkLost(tc, "the trunk leg to the studio ended")
	}
}

// trunkLost follows a caller's trunk call lost (a leg ended, or the studio
// lost), taken from the registry: on air, the caller goes back on hold
// (airLost); screening, the screening ends as when the screener hangs up
// (screenLost).
func (s *show) trunkLost(tc *trunkCall, why string) {
	if tc.screen {
		tc.near.submitOrLog(func(ctx context.Context) { s.screenLost(ctx, tc) })
		return
	}
	tc.near.submitOrLog(func(ctx context.Context) { s.airLost(ctx, tc, why) })
}

// airLost puts a caller whose trunk call was lost back on hold on their
// node and ends what is left of the trunk call; the air_lost transition
// (queue.AirLost) is published once the caller has entered the holding
// bridge (joinHold waits for its ChannelEnteredBridge, within
// Config.EventTimeout), not before: until then the line says on air, so a
// promote in between is refused (ErrConflict) instead of being undone by
// the move back to hold (TestTrunkLegLostPromoteInGap, on the fake). A
// move that fails or times out still publishes it: the caller is no
// longer on air either way.
func (s *show) airLost(ctx context.Context, tc *trunkCall, why string) {
	n := tc.near
	herr := s.holdOn(n).joinHold(ctx, tc.caller)
	s.endTrunk(ctx, tc)
	s.mu.Lock()
	c, ts, err := s.q.AirLost(s.app.cfg.Now(), tc.callID, why)
	if err == nil {
		s.publish(ts)
		s.setTalking(tc.callID, false)
	}
	s.mu.Unlock()
	if err != nil {
		return // ended or moved meanwhile: nothing to put back
	}
	n.log.Warn("broadcast: caller's trunk leg lost; back on hold", "show", s.key, "call", tc.callID, "why", why)
	if herr != nil && !errors.Is(herr, queue.ErrGone) {
		n.log.Warn("broadcast: caller not put back on hold", "call", tc.callID, "err", herr)
	}
	s.offAir(ctx, n, c.ID, tc.caller, true)
}

// trunksLost deals with the trunk calls of the show across node n, lost:
// a caller of n (ended node_lost) has its far leg hung up on the studio;
// a caller held elsewhere whose far leg was on n (the studio) goes back
// on hold.
func (s *show) trunksLost(n *node) {
	for _, tc := range s.app.trunksOf(s) {
		if tc.near != n && tc.far != n {
			continue
		}
		switch {
		case tc.near == n:
			if s.app.takeTrunk(s, tc.callID) == tc {
				tc.far.submitOrLog(func(ctx context.Context) { s.endTrunk(ctx, tc) })
			}
		case tc.talkback:
			if s.app.takeTrunk(s, tc.callID) == tc {
				s.studio().submitOrLog(func(ctx context.Context) { s.endTrunk(ctx, tc) })
			}
		case tc.far == n:
			if s.app.takeTrunk(s, tc.callID) == tc {
				s.trunkLost(tc, "the studio node "+n.name+" was lost")
			}
		}
	}
}

// talkbackKey is the registry key of the live talkback's leg to node n.
func talkbackKey(n *node) string { return "talkback:" + n.name }

// startTalkbackTrunks carries the studio's live talkback line, once it
// speaks in the studio's first holding bridge, to every other node of
// the show that is up: one trunk leg each (talkbackTrunk).
func (s *show) startTalkbackTrunks() {
	for _, n := range s.nodes()[1:] {
		if n.ready() == nil {
			s.studio().submitOrLog(func(ctx context.Context) { s.talkbackTrunk(ctx, n) })
		}
	}
}

// talkbackTrunk originates a leg from the studio to node far: its far end
// becomes far's live talkback line (remoteTalkback: the announcer of far's
// first holding bridge, relayed there to far's other bridges as on the
// studio), and once it has, the near leg joins the studio's first holding
// bridge as a participant, where it hears the producer. A leg that cannot
// be made leaves far's callers their music.
func (s *show) talkbackTrunk(ctx context.Context, far *node) {
	tc := &trunkCall{s: s, callID: talkbackKey(far), token: trunkToken(), near: s.studio(), far: far,
		nearID: "callin-tk-" + newID(), farIn: make(chan error, 1), talkback: true}
	if s.app.addTrunk(tc) != nil {
		return // one is on already
	}
	err := s.dialTrunk(ctx, tc)
	if err == nil {
		err = s.studio().moveTo(ctx, tc.nearID, s.studioHold().first, "")
	}
	s.app.trunkMu.Lock()
	tc.active = err == nil && s.app.trunk.byCall[callKey{s, tc.callID}] == tc
	live := tc.active
	s.app.trunkMu.Unlock()
	if !live {
		s.studio().log.Warn("broadcast: talkback not carried to a node; its callers keep their music", "show", s.key, "node", far.name, "err", err)
		s.app.takeTrunk(s, tc.callID)
		s.endTrunk(context.WithoutCancel(ctx), tc)
	}
}

// endTalkbackTrunks hangs up the live talkback's legs to the other nodes
// (the studio's line ended): each far node's talkback ends with its line.
func (s *show) endTalkbackTrunks() {
	for _, tc := range s.app.trunksOf(s) {
		if tc.talkback && s.app.takeTrunk(s, tc.callID) == tc {
			s.studio().submitOrLog(func(ctx context.Context) { s.endTrunk(ctx, tc) })
		}
	}
}

// remoteTalkback makes a talkback leg arriving from the studio this
// node's live talkback line, as the producer's phone is on the studio
// (talkbackJoin), and reports whether it speaks in the first holding
// bridge.
func (hm *holding) remoteTalkback(ctx context.Context, ch ari.Channel) error {
	hm.mu.Lock()
	if hm.talkback != nil {
		hm.mu.Unlock()
		hm.node.hangup(ctx, ch.ID, ari.HangupNormal)
		return fmt.Errorf("broadcast: talkback already on at %s: %w", hm.node.name, queue.ErrConflict)
	}
	hm.talkback = &liveTalkback{line: ch.ID, relays: map[string]*relay{}}
	hm.talkbackBy = "" // the studio's consoles name who speaks
	hm.emitMedia()
	hm.mu.Unlock()
	hm.talkbackJoin(ctx, ch)
	hm.mu.Lock()
	lt := hm.live()
	joined := lt != nil && lt.line == ch.ID && lt.joined
	hm.mu.Unlock()
	if !joined {
		return telErr("talkback across the trunk", errors.New("the leg is not the holding bridge's announcer"))
	}
	return nil
}
