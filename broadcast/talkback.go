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

type talkback struct {
	chanID    string            // a producer's line, or
	playbacks map[string]string // a recorded message: playback id -> its holding bridge, until it finishes
	joined    bool              // the line is the first holding bridge's announcer
	relays    map[string]*relay // the line's relays to the pool's other bridges, by bridge
	// joining: the line or relay halves being made a bridge's announcer
	// (joinAnnouncer), by channel id; their departures from that bridge
	// meanwhile are joinAnnouncer's to judge, not announcerLeft's.
	joining map[string]*joining
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

// reach counts the holding bridges that hear the talkback now. Callers
// hold s.mu.
func (tb *talkback) reach() int {
	if tb.chanID == "" {
		return len(tb.playbacks)
	}
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

// TalkbackOptions say what speaks to the holding bridges: a producer's
// phone (User, whose phone Config.Phones knows, or Endpoint, a configured
// phone: callers of the App check it), or a recorded message (Media).
type TalkbackOptions struct {
	User     string
	Endpoint string
	Media    []string
}

// StartTalkback speaks to every waiting caller, in every holding bridge of
// the pool: it plays the message to each bridge, or rings the producer's
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
	if err := s.node.ready(); err != nil {
		return err
	}
	n := s.node
	tb := &talkback{}
	s.mu.Lock()
	if s.talkback != nil {
		s.mu.Unlock()
		return fmt.Errorf("broadcast: talkback already on: %w", queue.ErrConflict)
	}
	if opts.Endpoint != "" {
		tb.chanID = talkbackPrefix + newID()
		tb.relays = map[string]*relay{}
	} else {
		tb.playbacks = map[string]string{}
		for _, id := range s.holdIDs() {
			tb.playbacks[newID()] = id
		}
	}
	s.talkback = tb
	s.emitMedia()
	s.mu.Unlock()

	if tb.chanID == "" {
		return s.playTalkback(ctx, tb, opts.Media)
	}
	// The phone rings while the callers keep their music; it stops when
	// the producer answers (talkbackJoin).
	n.index(tb.chanID, &chanRef{show: s, role: roleTalkback})
	if _, err := n.ari.Originate(ctx, ari.OriginateParams{
		Endpoint: opts.Endpoint, App: a.cfg.App, AppArgs: s.key + "," + roleTalkback, ChannelID: tb.chanID,
	}); err != nil {
		n.unindex(tb.chanID)
		s.endTalkback(tb.chanID, "")
		return telErr("originate talkback "+opts.Endpoint, err)
	}
	return nil
}

// playTalkback plays a recorded message to every holding bridge of the
// talkback, one playback each, the bridge's music stopped first. A bridge
// that refuses it is left out (and gets its music back); the talkback
// fails only when none plays.
func (s *show) playTalkback(ctx context.Context, tb *talkback, media []string) error {
	n := s.node
	s.mu.Lock()
	pbs := maps.Clone(tb.playbacks) // endTalkback deletes from tb.playbacks
	s.mu.Unlock()
	for pb := range pbs {
		n.trackPlayback(pb, pbRef{show: s, kind: pbTalkback})
	}
	var failed error
	played := 0
	for pb, bridge := range pbs {
		err := s.stopMusic(ctx, bridge, pb)
		if err == nil {
			_, err = n.ari.PlayBridge(ctx, bridge, pb, media...)
		}
		if err != nil {
			n.untrackPlayback(pb)
			failed = err
			s.endTalkback("", pb)
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
	s.mu.Lock()
	tb := s.talkback
	var pbs []string
	if tb != nil {
		for pb := range tb.playbacks {
			pbs = append(pbs, pb)
		}
	}
	s.mu.Unlock()
	if tb == nil {
		return fmt.Errorf("broadcast: no talkback on: %w", queue.ErrConflict)
	}
	if tb.chanID == "" {
		for _, pb := range pbs {
			if err := s.node.ari.StopPlayback(ctx, pb); err != nil {
				if !errors.Is(err, ari.ErrNotFound) {
					return telErr("stop talkback message", err)
				}
				s.endTalkback("", pb) // already over: no event will come
			}
		}
		return nil
	}
	if err := s.node.ari.HangupChannel(ctx, tb.chanID, ari.HangupNormal); err != nil {
		if !errors.Is(err, ari.ErrNotFound) {
			return telErr("hang up talkback line", err)
		}
		s.endTalkback(tb.chanID, "")
	}
	return nil
}

// talkbackJoin makes the producer's answered line the first holding
// bridge's announcer, then relays it to the pool's other bridges.
func (s *show) talkbackJoin(ctx context.Context, ch ari.Channel) {
	s.mu.Lock()
	want := s.talkback != nil && s.talkback.chanID == ch.ID
	s.mu.Unlock()
	if !want {
		s.node.hangup(ctx, ch.ID, ari.HangupNormal)
		return
	}
	if ch.State != ari.StateUp {
		if err := s.node.ari.AnswerChannel(ctx, ch.ID); err != nil {
			s.node.log.Warn("broadcast: answering talkback line failed", "err", err)
		}
	}
	err := s.stopMusic(ctx, s.holdID, ch.ID)
	if err == nil {
		err = s.joinAnnouncer(ctx, ch.ID, s.holdID)
	}
	if err != nil {
		if !errors.Is(err, errTalkbackOver) {
			s.node.log.Warn("broadcast: talkback line not bridged", "show", s.key, "err", err)
		}
		s.node.hangup(ctx, ch.ID, ari.HangupNormal)
		return
	}
	s.mu.Lock()
	var others []string
	if s.talkback != nil && s.talkback.chanID == ch.ID {
		s.talkback.joined = true
		s.emitMedia()
		others = s.holdIDs()[1:]
	}
	s.mu.Unlock()
	for _, id := range others { // one job each: at 100 bridges, 99 originates
		s.node.submitOrLog(func(ctx context.Context) { s.startRelay(ctx, id) })
	}
}

// startRelay carries the live talkback line to a holding bridge beyond the
// first: it originates the relay's Local pair, whose halves come back
// through relayStart. A relay that cannot be made leaves the bridge its
// music.
func (s *show) startRelay(ctx context.Context, bridge string) {
	n := s.node
	s.mu.Lock()
	h := s.holdByID[bridge]
	s.mu.Unlock()
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
	s.mu.Lock()
	tb := s.talkback
	ok := tb != nil && tb.joined && tb.relays[bridge] == nil && bridge != s.holdID && s.holdByID[bridge] == h && h.err == nil
	if ok {
		tb.relays[bridge] = r
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	n.index(r.near, &chanRef{show: s, role: roleRelay, callID: bridge})
	n.index(r.far, &chanRef{show: s, role: roleRelay, callID: bridge})
	_, err := n.ari.Originate(ctx, ari.OriginateParams{
		Endpoint: relayDial, App: s.app.cfg.App, AppArgs: s.key + "," + roleRelay,
		ChannelID: r.near, OtherChannelID: r.far, Formats: relayFormats,
		Variables: map[string]string{"CALLIN_APP": s.app.cfg.App, "CALLIN_SHOW": s.key},
	})
	if err != nil {
		n.log.Warn("broadcast: talkback relay not made; that holding bridge keeps its music", "show", s.key, "bridge", bridge, "err", err)
		n.unindex(r.near)
		n.unindex(r.far)
		s.relayGone(r.near, bridge)
	}
}

// relayStart takes a relay's half into the app: the far half, which
// arrives ringing from the dialplan, is answered (and so the near half
// answers and arrives); the near half then joins the first holding bridge
// to hear the line, the relay's bridge's music is stopped and the far half
// becomes its announcer. A relay the talkback no longer wants is hung up.
func (s *show) relayStart(ctx context.Context, ch ari.Channel) {
	n := s.node
	ref := n.lookup(ch.ID)
	var r *relay
	s.mu.Lock()
	if tb := s.talkback; tb != nil && ref != nil && ref.role == roleRelay {
		if x := tb.relays[ref.callID]; x != nil && (x.near == ch.ID || x.far == ch.ID) {
			r = x
		}
	}
	s.mu.Unlock()
	if r == nil {
		n.hangup(ctx, ch.ID, ari.HangupNormal)
		return
	}
	if ch.ID == r.far {
		if ch.State != ari.StateUp {
			if err := n.ari.AnswerChannel(ctx, ch.ID); err != nil {
				n.log.Warn("broadcast: answering a talkback relay failed", "show", s.key, "err", err)
				n.hangup(ctx, ch.ID, ari.HangupNormal)
			}
		}
		return
	}
	err := s.moveTo(ctx, r.near, s.holdID, "")
	if err == nil {
		err = s.stopMusic(ctx, r.bridge, r.far)
	}
	if err == nil {
		err = s.joinAnnouncer(ctx, r.far, r.bridge)
	}
	if err != nil {
		if !errors.Is(err, errTalkbackOver) {
			n.log.Warn("broadcast: talkback relay not bridged; that holding bridge gets its music back", "show", s.key, "bridge", r.bridge, "err", err)
		}
		n.hangup(ctx, r.near, ari.HangupNormal) // its end frees the bridge (relayGone)
		return
	}
	s.mu.Lock()
	if s.talkback != nil && s.talkback.relays[r.bridge] == r {
		r.live = true
		s.emitMedia()
	}
	s.mu.Unlock()
}

// relayGone ends a relay one of whose halves has left its bridge or ended
// (or that was never made): its other half is hung up, and its bridge gets
// its music back once its announcer has gone.
func (s *show) relayGone(chanID, bridge string) {
	var r *relay
	s.mu.Lock()
	if tb := s.talkback; tb != nil {
		if x := tb.relays[bridge]; x != nil && (x.near == chanID || x.far == chanID) {
			r = x
			delete(tb.relays, bridge)
			s.emitMedia()
		}
	}
	s.mu.Unlock()
	s.freeBridge(bridge, chanID)
	if r != nil {
		other := r.near
		if chanID == r.near {
			other = r.far
		}
		s.node.submitOrLog(func(ctx context.Context) { s.node.hangup(ctx, other, ari.HangupNormal) })
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
func (s *show) joinAnnouncer(ctx context.Context, chanID, bridge string) error {
	n := s.node
	j := &joining{bridge: bridge}
	s.mu.Lock()
	tb := s.talkback
	if !s.speaksThrough(chanID) {
		s.mu.Unlock()
		return errTalkbackOver
	}
	if tb.joining == nil {
		tb.joining = map[string]*joining{}
	}
	tb.joining[chanID] = j
	s.mu.Unlock()
	done := func() (left bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if tb.joining[chanID] == j {
			delete(tb.joining, chanID)
		}
		return j.left
	}
	// fail ends the join with err, or errTalkbackOver when the talkback no
	// longer speaks through chanID (stopped, or the line hung up).
	fail := func(err error) error {
		done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.speaksThrough(chanID) {
			return errTalkbackOver
		}
		return err
	}
	gap := announcerGap
	for try := 1; ; try++ {
		s.mu.Lock()
		j.left = false
		s.mu.Unlock()
		// Subscribe first: the refusal's ChannelLeftBridge can come before
		// the addChannel's answer.
		left := n.waits.expect(ari.TypeChannelLeftBridge, chanID, chanID, func(ev ari.Event) bool {
			return ev.(*ari.ChannelLeftBridge).Bridge.ID == bridge
		})
		err := s.moveTo(ctx, chanID, bridge, ari.RoleAnnouncer)
		in := false
		if err == nil {
			in, err = s.bridged(ctx, bridge, chanID)
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
				n.log.Info("broadcast: talkback announcer joined after Asterisk refused it", "show", s.key, "bridge", bridge, "channel", chanID, "tries", try)
			}
			return nil
		}
		if _, err := n.waits.wait(ctx, left, s.app.cfg.EventTimeout); err != nil {
			return fail(telErr("add announcer to "+bridge, err))
		}
		if try == announcerTries {
			done()
			n.log.Warn("broadcast: talkback announcer refused; gave up, the bridge will not hear the talkback", "show", s.key, "bridge", bridge, "channel", chanID, "tries", try, "err", errAnnouncerRefused)
			return telErr("add announcer to "+bridge, errAnnouncerRefused)
		}
		n.log.Info("broadcast: talkback announcer refused (the music's announcer had not left); trying again", "show", s.key, "bridge", bridge, "channel", chanID, "try", try, "gap", gap)
		t := time.NewTimer(gap) // nothing on the app's socket says the music's announcer has gone (19r)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fail(ctx.Err())
		}
		gap *= 2
		s.mu.Lock()
		over := !s.speaksThrough(chanID)
		s.mu.Unlock()
		if over {
			return fail(errTalkbackOver)
		}
	}
}

// bridged says whether a channel is a member of a bridge now (GET
// /bridges/{id}).
func (s *show) bridged(ctx context.Context, bridge, chanID string) (bool, error) {
	b, err := s.node.ari.GetBridge(ctx, bridge)
	if err != nil {
		return false, telErr("get bridge "+bridge, err)
	}
	return slices.Contains(b.Channels, chanID), nil
}

// announcerLeft follows a talkback line or relay leaving a holding bridge:
// the bridge it held gets its music back, and the line's departure ends the
// talkback, a relay's ends the relay.
func (s *show) announcerLeft(bridge, chanID string, ref *chanRef) {
	s.mu.Lock()
	if tb := s.talkback; tb != nil {
		if j := tb.joining[chanID]; j != nil && j.bridge == bridge {
			j.left = true // joinAnnouncer judges it: refused, or gone
			s.mu.Unlock()
			return
		}
	}
	s.mu.Unlock()
	s.freeBridge(bridge, chanID)
	switch ref.role {
	case roleTalkback:
		s.endTalkback(chanID, "")
	case roleRelay:
		s.relayGone(chanID, ref.callID)
	}
}

// errTalkbackOver: the talkback ended (or let go of what asked) while
// something of it was being set up.
var errTalkbackOver = errors.New("broadcast: the talkback is over")

// speaksThrough reports whether the talkback on, if any, still speaks
// through by: its line, a relay's far half, or a playback. Callers hold
// s.mu.
func (s *show) speaksThrough(by string) bool {
	tb := s.talkback
	switch {
	case tb == nil:
		return false
	case tb.chanID == by:
		return true
	case tb.playbacks[by] != "":
		return true
	}
	for _, r := range tb.relays {
		if r.far == by {
			return true
		}
	}
	return false
}

// stopMusic stops a holding bridge's music for a talkback, whose line,
// relay or playback (by) then holds it: no music is started there until by
// has gone (freeBridge). The bridge's one announcer is then free (trace
// 15). It refuses with errTalkbackOver when the talkback no longer speaks
// through by: whatever ended it has freed the bridge already, and nothing
// would free it again.
func (s *show) stopMusic(ctx context.Context, bridge, by string) error {
	s.musicMu.Lock()
	defer s.musicMu.Unlock()
	s.mu.Lock()
	if !s.speaksThrough(by) {
		s.mu.Unlock()
		return errTalkbackOver
	}
	if h := s.holdByID[bridge]; h != nil {
		h.heldBy = by
	}
	s.mu.Unlock()
	err := s.node.ari.StopBridgeMOH(ctx, bridge)
	if errors.Is(err, ari.ErrConflict) || errors.Is(err, ari.ErrNotFound) {
		err = nil // not playing: nothing to stop
	}
	s.mu.Lock()
	if h := s.holdByID[bridge]; h != nil {
		h.playing = false
		if err != nil && h.heldBy == by {
			h.heldBy = ""
		}
	}
	s.emitMedia()
	s.mu.Unlock()
	return telErr("stop music", err)
}

// freeBridge gives a holding bridge its music back if by (a talkback's
// line, relay or playback) held it.
func (s *show) freeBridge(bridge, by string) {
	s.mu.Lock()
	h := s.holdByID[bridge]
	freed := h != nil && h.heldBy != "" && h.heldBy == by
	if freed {
		h.heldBy = ""
		h.musicWant++
	}
	s.mu.Unlock()
	if freed {
		s.kickMusic()
	}
}

// dropTalkback ends a talkback, whatever it was, if it is still on (after a
// reconnect that lost its events): bridges held by its messages or by
// lines Asterisk no longer lists get their music back, and its relays are
// hung up (their bridges get it when they have gone).
func (s *show) dropTalkback(tb *talkback, listed map[string]bool) {
	s.mu.Lock()
	over := s.talkback == tb
	var relays []*relay
	if over {
		s.talkback = nil
		for _, r := range tb.relays {
			relays = append(relays, r)
		}
		for _, h := range s.holds {
			if h.heldBy != "" && !listed[h.heldBy] {
				h.heldBy = ""
				h.musicWant++
			}
		}
		s.emitMedia()
	}
	s.mu.Unlock()
	if !over {
		return
	}
	s.hangUpRelays(relays)
	s.kickMusic()
}

// endTalkback ends the talkback's line, or one of its playbacks (either
// may be ""): a playback's bridge gets its music back; the talkback is over
// when its line has gone (its relays are then hung up) or its last playback
// has finished.
func (s *show) endTalkback(chanID, playback string) {
	s.mu.Lock()
	tb := s.talkback
	over := false
	var relays []*relay
	played := "" // the bridge the playback played in
	switch {
	case tb == nil:
	case chanID != "" && tb.chanID == chanID:
		over = true
		for _, r := range tb.relays {
			relays = append(relays, r)
		}
	case playback != "" && tb.playbacks[playback] != "":
		played = tb.playbacks[playback]
		delete(tb.playbacks, playback)
		over = len(tb.playbacks) == 0
	}
	if over {
		s.talkback = nil
	}
	if tb != nil {
		s.emitMedia()
	}
	s.mu.Unlock()
	if chanID != "" {
		s.freeBridge(s.holdID, chanID)
	}
	if played != "" {
		s.freeBridge(played, playback)
	}
	s.hangUpRelays(relays)
	if over {
		s.shrinkAll()
	}
}

// hangUpRelays hangs relays up (their near halves: the far ones go with
// them), each in a job of its own.
func (s *show) hangUpRelays(relays []*relay) {
	for _, r := range relays {
		s.node.submitOrLog(func(ctx context.Context) { s.node.hangup(ctx, r.near, ari.HangupNormal) })
	}
}
