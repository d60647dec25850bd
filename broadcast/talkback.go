package broadcast

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// Talkback: a producer speaks to everyone on hold, in every holding bridge
// of the pool.
//
// A recorded message is played to each holding bridge, one bridge playback
// each. A live line (the producer's phone) becomes the first holding
// bridge's announcer, and each other bridge of the pool hears it through a
// relay: a Local channel pair whose near half (`;1`, originated into the
// app) is a participant of the first bridge, where it hears the line, and
// whose far half (`;2`, which runs [callin-talkback] in the dialplan:
// Stasis(${CALLIN_APP},${CALLIN_SHOW},relay), both variables set by the
// originate) is the other bridge's announcer. A bridge
// made while the line is live gets its relay too.
//
// A holding bridge has one announcer, and its music holds that role
// (trace 01), so each bridge's music is stopped just before its announcer
// joins, and started again once that announcer has left or its message has
// finished (trace 15: DELETE /moh, play or join, then POST /moh). The stop
// is asynchronous: an announcer that joins too soon is refused, and is
// tried again (joinAnnouncer, trace 19r). A bridge whose relay fails keeps
// its music; the others still hear the line.
//
// Trace 19 recorded this relay on the real Asterisk (both halves in Stasis,
// the line heard through a /n Local pair), and TestTalkbackLivePBX hears
// it, by sound, in every bridge of a pool of SIP callers. The relay's
// Local endpoint is relayDial.

// relayDial is where a talkback relay is originated: its far half runs
// s@callin-talkback (dialplan/extensions.conf). "/n" keeps Asterisk from
// optimising the pair away once both halves are bridged.
const relayDial = "Local/s@callin-talkback/n"

// relayFormats is the codec a relay's Local pair runs at: 8 kHz signed
// linear, what a holding bridge's announcer is made to speak anyway.
// Without it the pair ran at slin192 and resampled the line twice (trace
// 19, surprise 3); TestTalkbackLivePBX checks the pair's native format.
const relayFormats = "slin"

// Channel id prefixes of talkback lines and relays: a resync after a
// restart of callin tells them from callers by these.
const (
	talkbackPrefix = "callin-tb-"
	relayPrefix    = "callin-tbr-"
)

// isTalkbackLine says whether a channel id is one of callin's talkback
// lines or relays.
func isTalkbackLine(id string) bool {
	return strings.HasPrefix(id, talkbackPrefix) || strings.HasPrefix(id, relayPrefix)
}

// talkback is what speaks to the holding bridges, one of two kinds: a
// producer's live line (liveTalkback) or a recorded message
// (messageTalkback). Its state is guarded by holding.mu.
type talkback interface {
	// reach counts the holding bridges that hear it now.
	reach() int
	// speaksThrough reports whether it still speaks through by: its
	// line, a relay's far half, or a playback.
	speaksThrough(by string) bool
}

// liveTalkback is a producer's phone: the first holding bridge's
// announcer once answered, relayed to the pool's other bridges.
type liveTalkback struct {
	line   string            // the producer's line
	joined bool              // the line is the first holding bridge's announcer
	relays map[string]*relay // the line's relays to the pool's other bridges, by bridge
	// joining: the line or relay halves being made a bridge's announcer
	// (joinAnnouncer), by channel id; their departures from that bridge
	// meanwhile are joinAnnouncer's to judge, not announcerLeft's.
	joining map[string]*joining
}

// messageTalkback is a recorded message played to each holding bridge.
type messageTalkback struct {
	playbacks map[string]string // playback id -> its holding bridge, until it finishes
}

// joining is one announcer join in progress.
type joining struct {
	bridge string
	left   bool // ChannelLeftBridge came from bridge during the attempt
}

// relay carries a talkback line to a holding bridge beyond the first.
type relay struct {
	bridge    string
	near, far string // the Local pair: near listens in the first bridge, far announces in bridge
	live      bool   // far is bridge's announcer
}

func (tb *liveTalkback) reach() int {
	if !tb.joined {
		return 0
	}
	n := 1
	for _, r := range tb.relays {
		if r.live {
			n++
		}
	}
	return n
}

func (tb *liveTalkback) speaksThrough(by string) bool {
	if tb.line == by {
		return true
	}
	for _, r := range tb.relays {
		if r.far == by {
			return true
		}
	}
	return false
}

func (tb *messageTalkback) reach() int { return len(tb.playbacks) }

func (tb *messageTalkback) speaksThrough(by string) bool { return tb.playbacks[by] != "" }

// live returns the talkback on if it is a live line. Callers hold hm.mu.
func (hm *holding) live() *liveTalkback {
	lt, _ := hm.talkback.(*liveTalkback)
	return lt
}

// TalkbackOptions say what speaks to the holding bridges: a producer's
// phone (User, whose phone Config.Phones knows, or Endpoint, a configured
// phone: callers of the App check it), or a recorded message (Media).
// By names who started it, for the consoles (MediaState.TalkbackBy).
type TalkbackOptions struct {
	User     string
	Endpoint string
	Media    []string
	By       string
}

// StartTalkback speaks to every waiting caller, in every holding bridge of
// the pool on every node of the show (a message is played on each node
// that is up; a live line, once it speaks on the studio, crosses the trunk
// once to each other node and is relayed there: startTalkbackTrunks): it
// plays the message to each bridge, or rings the producer's
// line, which callers hear once answered (see the comment at the top of
// talkback.go). Each bridge's music stops just before the talkback reaches
// it and starts again after. Errors: queue.ErrNotFound, queue.ErrInvalid
// (neither or both options), queue.ErrConflict (a talkback is on);
// ErrNodeDown, ErrTelephony.
func (a *App) StartTalkback(ctx context.Context, showKey string, opts TalkbackOptions) error {
	s, err := a.show(showKey)
	if err != nil {
		return err
	}
	if opts.User != "" && opts.Endpoint == "" {
		if p := a.cfg.Phones; p != nil {
			opts.Endpoint, _ = p.Phone(opts.User)
		}
		if opts.Endpoint == "" {
			return fmt.Errorf("broadcast: talkback: %s has no phone: %w", opts.User, queue.ErrInvalid)
		}
		if err := a.allowPhone(opts.User, opts.Endpoint); err != nil {
			return fmt.Errorf("broadcast: talkback: %w", err)
		}
	}
	if (opts.Endpoint == "") == (len(opts.Media) == 0) {
		return fmt.Errorf("broadcast: talkback: want an endpoint or media: %w", queue.ErrInvalid)
	}
	if err := s.studio().ready(); err != nil {
		return err
	}
	if err := s.studioHold().startTalkback(ctx, opts); err != nil || opts.Endpoint != "" {
		return err // a live line reaches the other nodes once it speaks (startTalkbackTrunks)
	}
	for _, n := range s.nodes()[1:] { // a message plays on every node of the show that is up
		if n.ready() != nil {
			continue
		}
		if err := s.holdOn(n).startTalkback(ctx, opts); err != nil {
			n.log.Warn("broadcast: talkback message not played on this node; its callers keep their music", "show", s.key, "err", err)
		}
	}
	return nil
}

// startTalkback starts a checked talkback (StartTalkback).
func (hm *holding) startTalkback(ctx context.Context, opts TalkbackOptions) error {
	n := hm.node
	var line string
	var msg *messageTalkback
	hm.mu.Lock()
	if hm.talkback != nil {
		hm.mu.Unlock()
		return fmt.Errorf("broadcast: talkback already on: %w", queue.ErrConflict)
	}
	if opts.Endpoint != "" {
		line = talkbackPrefix + newID()
		hm.talkback = &liveTalkback{line: line, relays: map[string]*relay{}}
	} else {
		msg = &messageTalkback{playbacks: map[string]string{}}
		for _, id := range hm.holdIDs() {
			msg.playbacks[newID()] = id
		}
		hm.talkback = msg
	}
	hm.talkbackBy = opts.By
	hm.emitMedia()
	hm.mu.Unlock()

	if msg != nil {
		return hm.playTalkback(ctx, msg, opts.Media)
	}
	// The phone rings while the callers keep their music; it stops when
	// the producer answers (talkbackJoin).
	n.index(line, &chanRef{show: hm.s, role: roleTalkback})
	if _, err := n.ari.Originate(ctx, ari.OriginateParams{
		Endpoint: opts.Endpoint, App: hm.s.app.cfg.App, AppArgs: hm.s.key + "," + roleTalkback, ChannelID: line,
	}); err != nil {
		n.unindex(line)
		hm.lineEnded(line)
		return telErr("originate talkback "+opts.Endpoint, err)
	}
	return nil
}

// playTalkback plays a recorded message to every holding bridge of the
// talkback, one playback each, the bridge's music stopped first. A bridge
// that refuses it is left out (and gets its music back); the talkback
// fails only when none plays.
func (hm *holding) playTalkback(ctx context.Context, tb *messageTalkback, media []string) error {
	n := hm.node
	hm.mu.Lock()
	pbs := maps.Clone(tb.playbacks) // playbackEnded deletes from tb.playbacks
	hm.mu.Unlock()
	for pb := range pbs {
		n.trackPlayback(pb, pbRef{show: hm.s, kind: pbTalkback})
	}
	var failed error
	played := 0
	for pb, bridge := range pbs {
		err := hm.stopMusic(ctx, bridge, pb)
		if err == nil {
			_, err = n.ari.PlayBridge(ctx, bridge, pb, media...)
		}
		if err != nil {
			n.untrackPlayback(pb)
			failed = err
			hm.playbackEnded(pb)
			continue
		}
		played++
	}
	if played == 0 && failed != nil {
		return telErr("play to holding bridge", failed)
	}
	return nil
}

// StopTalkback ends the talkback: the line is hung up (its relays follow)
// or the message stopped; each bridge's music starts again when Asterisk
// confirms. Errors: queue.ErrNotFound, queue.ErrConflict (no talkback);
// ErrTelephony.
func (a *App) StopTalkback(ctx context.Context, showKey string) error {
	s, err := a.show(showKey)
	if err != nil {
		return err
	}
	err = s.studioHold().stopTalkback(ctx)
	for _, n := range s.nodes()[1:] { // a message's playbacks on the other nodes
		hm := s.holdOn(n)
		hm.mu.Lock()
		_, msg := hm.talkback.(*messageTalkback)
		hm.mu.Unlock()
		if msg {
			if serr := hm.stopTalkback(ctx); serr != nil && !errors.Is(serr, queue.ErrConflict) {
				n.log.Warn("broadcast: stopping a talkback message failed", "show", s.key, "err", serr)
			}
		}
	}
	return err
}

// stopTalkback ends the talkback on (StopTalkback).
func (hm *holding) stopTalkback(ctx context.Context) error {
	n := hm.node
	hm.mu.Lock()
	tb := hm.talkback
	var pbs []string
	if msg, ok := tb.(*messageTalkback); ok {
		for pb := range msg.playbacks {
			pbs = append(pbs, pb)
		}
	}
	hm.mu.Unlock()
	switch tb := tb.(type) {
	case nil:
		return fmt.Errorf("broadcast: no talkback on: %w", queue.ErrConflict)
	case *messageTalkback:
		for _, pb := range pbs {
			if err := n.ari.StopPlayback(ctx, pb); err != nil {
				if !errors.Is(err, ari.ErrNotFound) {
					return telErr("stop talkback message", err)
				}
				hm.playbackEnded(pb) // already over: no event will come
			}
		}
	case *liveTalkback:
		if err := n.ari.HangupChannel(ctx, tb.line, ari.HangupNormal); err != nil {
			if !errors.Is(err, ari.ErrNotFound) {
				return telErr("hang up talkback line", err)
			}
			hm.lineEnded(tb.line)
		}
	}
	return nil
}

// talkbackJoin makes the producer's answered line the first holding
// bridge's announcer, then relays it to the pool's other bridges.
func (hm *holding) talkbackJoin(ctx context.Context, ch ari.Channel) {
	hm.mu.Lock()
	want := hm.live() != nil && hm.live().line == ch.ID
	hm.mu.Unlock()
	if !want {
		hm.node.hangup(ctx, ch.ID, ari.HangupNormal)
		return
	}
	if ch.State != ari.StateUp {
		if err := hm.node.ari.AnswerChannel(ctx, ch.ID); err != nil {
			hm.node.log.Warn("broadcast: answering talkback line failed", "err", err)
		}
	}
	err := hm.stopMusic(ctx, hm.first, ch.ID)
	if err == nil {
		err = hm.joinAnnouncer(ctx, ch.ID, hm.first)
	}
	if err != nil {
		if !errors.Is(err, errTalkbackOver) {
			hm.node.log.Warn("broadcast: talkback line not bridged", "show", hm.s.key, "err", err)
		}
		hm.node.hangup(ctx, ch.ID, ari.HangupNormal)
		return
	}
	hm.mu.Lock()
	var others []string
	joined := false
	if lt := hm.live(); lt != nil && lt.line == ch.ID {
		lt.joined, joined = true, true
		hm.emitMedia()
		others = hm.holdIDs()[1:]
	}
	hm.mu.Unlock()
	for _, id := range others { // one job each: at 100 bridges, 99 originates
		hm.node.submitOrLog(func(ctx context.Context) { hm.startRelay(ctx, id) })
	}
	if hm == hm.s.studioHold() && joined && hm.s.spread() {
		hm.s.startTalkbackTrunks() // and to the show's other nodes (trunk.go)
	}
}

// startRelay carries the live talkback line to a holding bridge beyond the
// first: it originates the relay's Local pair, whose halves come back
// through relayStart. A relay that cannot be made leaves the bridge its
// music.
func (hm *holding) startRelay(ctx context.Context, bridge string) {
	n := hm.node
	hm.mu.Lock()
	h := hm.holdByID[bridge]
	hm.mu.Unlock()
	if h == nil {
		return
	}
	select {
	case <-h.ready: // a bridge of the pool still being made
	case <-ctx.Done():
		return
	}
	id := relayPrefix + newID()
	r := &relay{bridge: bridge, near: id, far: id + "-far"}
	hm.mu.Lock()
	tb := hm.live()
	ok := tb != nil && tb.joined && tb.relays[bridge] == nil && bridge != hm.first && hm.holdByID[bridge] == h && h.err == nil
	if ok {
		tb.relays[bridge] = r
	}
	hm.mu.Unlock()
	if !ok {
		return
	}
	n.index(r.near, &chanRef{show: hm.s, role: roleRelay, bridge: bridge})
	n.index(r.far, &chanRef{show: hm.s, role: roleRelay, bridge: bridge})
	_, err := n.ari.Originate(ctx, ari.OriginateParams{
		Endpoint: relayDial, App: hm.s.app.cfg.App, AppArgs: hm.s.key + "," + roleRelay,
		ChannelID: r.near, OtherChannelID: r.far, Formats: relayFormats,
		Variables: map[string]string{"CALLIN_APP": hm.s.app.cfg.App, "CALLIN_SHOW": hm.s.key},
	})
	if err != nil {
		n.log.Warn("broadcast: talkback relay not made; that holding bridge keeps its music", "show", hm.s.key, "bridge", bridge, "err", err)
		n.unindex(r.near)
		n.unindex(r.far)
		hm.relayGone(r.near, bridge)
	}
}

// relayStart takes a relay's half into the app: the far half, which
// arrives ringing from the dialplan, is answered (and so the near half
// answers and arrives); the near half then joins the first holding bridge
// to hear the line, the relay's bridge's music is stopped and the far half
// becomes its announcer. A relay the talkback no longer wants is hung up.
func (hm *holding) relayStart(ctx context.Context, ch ari.Channel) {
	n := hm.node
	ref := n.lookup(ch.ID)
	var r *relay
	hm.mu.Lock()
	if tb := hm.live(); tb != nil && ref != nil && ref.role == roleRelay {
		if x := tb.relays[ref.bridge]; x != nil && (x.near == ch.ID || x.far == ch.ID) {
			r = x
		}
	}
	hm.mu.Unlock()
	if r == nil {
		n.hangup(ctx, ch.ID, ari.HangupNormal)
		return
	}
	if ch.ID == r.far {
		if ch.State != ari.StateUp {
			if err := n.ari.AnswerChannel(ctx, ch.ID); err != nil {
				n.log.Warn("broadcast: answering a talkback relay failed", "show", hm.s.key, "err", err)
				n.hangup(ctx, ch.ID, ari.HangupNormal)
			}
		}
		return
	}
	err := hm.node.moveTo(ctx, r.near, hm.first, "")
	if err == nil {
		err = hm.stopMusic(ctx, r.bridge, r.far)
	}
	if err == nil {
		err = hm.joinAnnouncer(ctx, r.far, r.bridge)
	}
	if err != nil {
		if !errors.Is(err, errTalkbackOver) {
			n.log.Warn("broadcast: talkback relay not bridged; that holding bridge gets its music back", "show", hm.s.key, "bridge", r.bridge, "err", err)
		}
		n.hangup(ctx, r.near, ari.HangupNormal) // its end frees the bridge (relayGone)
		return
	}
	hm.mu.Lock()
	if lt := hm.live(); lt != nil && lt.relays[r.bridge] == r {
		r.live = true
		hm.emitMedia()
	}
	hm.mu.Unlock()
}

// relayGone ends a relay one of whose halves has left its bridge or ended
// (or that was never made): its other half is hung up, and its bridge gets
// its music back once its announcer has gone.
func (hm *holding) relayGone(chanID, bridge string) {
	var r *relay
	hm.mu.Lock()
	if tb := hm.live(); tb != nil {
		if x := tb.relays[bridge]; x != nil && (x.near == chanID || x.far == chanID) {
			r = x
			delete(tb.relays, bridge)
			hm.emitMedia()
		}
	}
	hm.mu.Unlock()
	hm.freeBridge(bridge, chanID)
	if r != nil {
		other := r.near
		if chanID == r.near {
			other = r.far
		}
		hm.node.submitOrLog(func(ctx context.Context) { hm.node.hangup(ctx, other, ari.HangupNormal) })
	}
}

// Announcer joins that Asterisk refuses (trace 19r) are tried again, up to
// announcerTries in all, announcerGap apart and doubling (310 ms in all):
// 19r saw no refusal with a gap of 5 ms or more after DELETE /moh, but
// TestTalkbackLivePBX on a busy machine saw a relay refused twice, 13 ms
// apart.
const (
	announcerTries = 6
	announcerGap   = 10 * time.Millisecond
)

// errAnnouncerRefused: Asterisk kept refusing a talkback channel as a
// holding bridge's announcer.
var errAnnouncerRefused = errors.New("broadcast: Asterisk refused the channel as the holding bridge's announcer (bridge_holding: \"Bridge already has one\"): its music's announcer had not left")

// joinAnnouncer makes a talkback line or a relay's far half (chanID) the
// announcer of a holding bridge whose music it has just stopped
// (stopMusic).
//
// DELETE /bridges/{id}/moh answers before the music's announcer has left,
// and an announcer added meanwhile is refused: Asterisk logs "Bridge
// already has one", the addChannel still answers 204, and the channel
// enters and leaves the bridge at once (trace 19r; TestTalkbackLivePBX saw
// it for the line and the relays). Asterisk settles the join before it
// answers the addChannel (main/bridge.c: the impart waits for it), so the
// bridge's members, asked after the answer, tell a refusal; the refused
// attempt's ChannelLeftBridge is waited for (so that it is not taken for
// a later departure), and the join is tried again after a short gap. It
// gives up, with a log line saying why, after announcerTries.
func (hm *holding) joinAnnouncer(ctx context.Context, chanID, bridge string) error {
	n := hm.node
	j := &joining{bridge: bridge}
	tb := hm.beginJoin(chanID, j)
	if tb == nil {
		return errTalkbackOver
	}
	done := func() (left bool) {
		left, _ = hm.endJoin(tb, chanID, j)
		return left
	}
	// fail ends the join with err, or errTalkbackOver when the talkback no
	// longer speaks through chanID (stopped, or the line hung up).
	fail := func(err error) error {
		if _, over := hm.endJoin(tb, chanID, j); over {
			return errTalkbackOver
		}
		return err
	}
	gap := announcerGap
	for try := 1; ; try++ {
		hm.mu.Lock()
		j.left = false
		hm.mu.Unlock()
		// Subscribe first: the refusal's ChannelLeftBridge can come before
		// the addChannel's answer.
		left := n.waits.expect(ari.TypeChannelLeftBridge, chanID, chanID, func(ev ari.Event) bool {
			return ev.(*ari.ChannelLeftBridge).Bridge.ID == bridge
		})
		err := hm.node.moveTo(ctx, chanID, bridge, ari.RoleAnnouncer)
		in := false
		if err == nil {
			in, err = hm.bridged(ctx, bridge, chanID)
		}
		if err != nil {
			n.waits.cancel(left)
			return fail(err)
		}
		if in {
			n.waits.cancel(left)
			if done() { // accepted, and gone since (hung up, removed)
				return fail(telErr("add announcer to "+bridge, fmt.Errorf("%s left the bridge at once", chanID)))
			}
			if try > 1 {
				n.log.Info("broadcast: talkback announcer joined after Asterisk refused it", "show", hm.s.key, "bridge", bridge, "channel", chanID, "tries", try)
			}
			return nil
		}
		if _, err := n.waits.wait(ctx, left, hm.s.app.cfg.EventTimeout); err != nil {
			return fail(telErr("add announcer to "+bridge, err))
		}
		if try == announcerTries {
			done()
			n.log.Warn("broadcast: talkback announcer refused; gave up, the bridge will not hear the talkback", "show", hm.s.key, "bridge", bridge, "channel", chanID, "tries", try, "err", errAnnouncerRefused)
			return telErr("add announcer to "+bridge, errAnnouncerRefused)
		}
		n.log.Info("broadcast: talkback announcer refused (the music's announcer had not left); trying again", "show", hm.s.key, "bridge", bridge, "channel", chanID, "try", try, "gap", gap)
		t := time.NewTimer(gap) // nothing on the app's socket says the music's announcer has gone (19r)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fail(ctx.Err())
		}
		gap *= 2
		hm.mu.Lock()
		over := !hm.speaksThrough(chanID)
		hm.mu.Unlock()
		if over {
			return fail(errTalkbackOver)
		}
	}
}

// beginJoin registers a join of chanID as an announcer (joinAnnouncer)
// with the live talkback that speaks through it; nil when none does.
func (hm *holding) beginJoin(chanID string, j *joining) *liveTalkback {
	hm.mu.Lock()
	defer hm.mu.Unlock()
	tb := hm.live() // a line or a relay's far half: a live talkback's
	if tb == nil || !tb.speaksThrough(chanID) {
		return nil
	}
	if tb.joining == nil {
		tb.joining = map[string]*joining{}
	}
	tb.joining[chanID] = j
	return tb
}

// endJoin ends a join begun by beginJoin: left says chanID left the
// bridge during its last attempt, over that the talkback on no longer
// speaks through it.
func (hm *holding) endJoin(tb *liveTalkback, chanID string, j *joining) (left, over bool) {
	hm.mu.Lock()
	defer hm.mu.Unlock()
	if tb.joining[chanID] == j {
		delete(tb.joining, chanID)
	}
	return j.left, !hm.speaksThrough(chanID)
}

// bridged says whether a channel is a member of a bridge now (GET
// /bridges/{id}).
func (hm *holding) bridged(ctx context.Context, bridge, chanID string) (bool, error) {
	b, err := hm.node.ari.GetBridge(ctx, bridge)
	if err != nil {
		return false, telErr("get bridge "+bridge, err)
	}
	return slices.Contains(b.Channels, chanID), nil
}

// announcerLeft follows a talkback line or relay leaving a holding bridge:
// the bridge it held gets its music back, and the line's departure ends the
// talkback, a relay's ends the relay.
func (hm *holding) announcerLeft(bridge, chanID string, ref *chanRef) {
	hm.mu.Lock()
	if tb := hm.live(); tb != nil {
		if j := tb.joining[chanID]; j != nil && j.bridge == bridge {
			j.left = true // joinAnnouncer judges it: refused, or gone
			hm.mu.Unlock()
			return
		}
	}
	hm.mu.Unlock()
	hm.freeBridge(bridge, chanID)
	switch ref.role {
	case roleTalkback:
		hm.lineEnded(chanID)
	case roleRelay:
		hm.relayGone(chanID, ref.bridge)
	}
}

// errTalkbackOver: the talkback ended (or let go of what asked) while
// something of it was being set up.
var errTalkbackOver = errors.New("broadcast: the talkback is over")

// speaksThrough reports whether the talkback on, if any, still speaks
// through by: its line, a relay's far half, or a playback. Callers hold
// hm.mu.
func (hm *holding) speaksThrough(by string) bool {
	return hm.talkback != nil && hm.talkback.speaksThrough(by)
}

// stopMusic stops a holding bridge's music for a talkback, whose line,
// relay or playback (by) then holds it: no music is started there until by
// has gone (freeBridge). The bridge's one announcer is then free (trace
// 15). It refuses with errTalkbackOver when the talkback no longer speaks
// through by: whatever ended it has freed the bridge already, and nothing
// would free it again.
func (hm *holding) stopMusic(ctx context.Context, bridge, by string) error {
	hm.musicMu.Lock()
	defer hm.musicMu.Unlock()
	hm.mu.Lock()
	if !hm.speaksThrough(by) {
		hm.mu.Unlock()
		return errTalkbackOver
	}
	if h := hm.holdByID[bridge]; h != nil {
		h.heldBy = by
	}
	hm.mu.Unlock()
	err := hm.node.ari.StopBridgeMOH(ctx, bridge)
	if errors.Is(err, ari.ErrConflict) || errors.Is(err, ari.ErrNotFound) {
		err = nil // not playing: nothing to stop
	}
	hm.mu.Lock()
	if h := hm.holdByID[bridge]; h != nil {
		h.playing = false
		if err != nil && h.heldBy == by {
			h.heldBy = ""
		}
	}
	hm.emitMedia()
	hm.mu.Unlock()
	return telErr("stop music", err)
}

// freeBridge gives a holding bridge its music back if by (a talkback's
// line, relay or playback) held it.
func (hm *holding) freeBridge(bridge, by string) {
	hm.mu.Lock()
	h := hm.holdByID[bridge]
	freed := h != nil && h.heldBy != "" && h.heldBy == by
	if freed {
		h.heldBy = ""
		h.musicWant++
	}
	hm.mu.Unlock()
	if freed {
		hm.s.kickMusic()
	}
}

// dropTalkback ends a talkback, whatever it was, if it is still on (after a
// reconnect that lost its events): bridges held by its messages or by
// lines Asterisk no longer lists get their music back, and its relays are
// hung up (their bridges get it when they have gone).
func (hm *holding) dropTalkback(tb talkback, listed map[string]bool) {
	hm.mu.Lock()
	over := hm.talkback == tb
	var relays []*relay
	if over {
		hm.talkback = nil
		if lt, ok := tb.(*liveTalkback); ok {
			relays = lt.relayList()
		}
		for _, h := range hm.holds {
			if h.heldBy != "" && !listed[h.heldBy] {
				h.heldBy = ""
				h.musicWant++
			}
		}
		hm.emitMedia()
	}
	hm.mu.Unlock()
	if !over {
		return
	}
	hm.hangUpRelays(relays)
	hm.s.kickMusic()
}

// lineEnded ends the talkback whose line chanID was (it hung up, left
// the first holding bridge or was never made): its relays are hung up and
// the bridges get their music back once their announcers have gone.
func (hm *holding) lineEnded(chanID string) {
	hm.mu.Lock()
	over := false
	var relays []*relay
	if lt := hm.live(); lt != nil && lt.line == chanID {
		over = true
		relays = lt.relayList()
		hm.talkback = nil
	}
	if over || hm.talkback != nil {
		hm.emitMedia()
	}
	hm.mu.Unlock()
	hm.freeBridge(hm.first, chanID)
	hm.hangUpRelays(relays)
	if over {
		hm.shrinkAll()
		if hm == hm.s.studioHold() {
			hm.s.endTalkbackTrunks()
		}
	}
}

// playbackEnded ends one playback of a message: its bridge gets its music
// back, and the talkback is over when its last playback has finished.
func (hm *holding) playbackEnded(playback string) {
	hm.mu.Lock()
	over := false
	played := "" // the bridge the playback played in
	msg, _ := hm.talkback.(*messageTalkback)
	if msg != nil && msg.playbacks[playback] != "" {
		played = msg.playbacks[playback]
		delete(msg.playbacks, playback)
		over = len(msg.playbacks) == 0
	}
	if over {
		hm.talkback = nil
	}
	if msg != nil || hm.talkback != nil {
		hm.emitMedia()
	}
	hm.mu.Unlock()
	if played != "" {
		hm.freeBridge(played, playback)
	}
	if over {
		hm.shrinkAll()
	}
}

// relayList lists a live talkback's relays. Callers hold holding.mu.
func (tb *liveTalkback) relayList() []*relay {
	relays := make([]*relay, 0, len(tb.relays))
	for _, r := range tb.relays {
		relays = append(relays, r)
	}
	return relays
}

// hangUpRelays hangs relays up (their near halves: the far ones go with
// them), each in a job of its own.
func (hm *holding) hangUpRelays(relays []*relay) {
	for _, r := range relays {
		hm.node.submitOrLog(func(ctx context.Context) { hm.node.hangup(ctx, r.near, ari.HangupNormal) })
	}
}
