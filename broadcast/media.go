package broadcast

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// JoinHost calls the host's line (endpoint, or the show's HostEndpoint)
// into the on-air bridge and returns the new channel's id; the line joins
// when answered. Stasis(callin,<show>,host) in the dialplan does the same
// for a host who dials in. Errors: queue.ErrNotFound, queue.ErrInvalid (no
// endpoint); ErrNodeDown, ErrTelephony.
func (a *App) JoinHost(ctx context.Context, showKey, endpoint string) (string, error) {
	s, err := a.show(showKey)
	if err != nil {
		return "", err
	}
	if endpoint == "" {
		endpoint = s.cfg.HostEndpoint
	}
	if endpoint == "" {
		return "", fmt.Errorf("broadcast: show %q has no host endpoint: %w", showKey, queue.ErrInvalid)
	}
	if err := s.studio().ready(); err != nil {
		return "", err
	}
	id := hostLineID(s.key)
	n := s.studio()
	// The line is the show's, ringing, from now: its ChannelDestroyed (busy,
	// no answer, hung up) reaches hostGone, as a talkback line's ringing
	// does: the originating app gets the channel's events from its creation
	// (trace 13; TestHostLinePBX: a busy phone's line ends on a real
	// Asterisk 22.10.1).
	n.index(id, &chanRef{show: s, role: roleHost})
	s.air.clearFailed() // a new line replaces a failed one
	s.air.ringHost(id, endpoint, a.cfg.Now())
	s.studioHold().tell()
	if _, err := n.ari.Originate(ctx, ari.OriginateParams{
		Endpoint: endpoint, App: a.cfg.App, AppArgs: s.key + "," + roleHost, ChannelID: id,
	}); err != nil {
		n.unindex(id)
		s.hostGone(id)
		return "", telErr("originate host "+endpoint, err)
	}
	return id, nil
}

// hostLinePrefix begins the id of every host line JoinHost rings.
const hostLinePrefix = "callin-host-"

// hostLineID is a new host line's channel id, "callin-host-<show>-<id>":
// the show is in the id because a line still ringing when callin restarts
// is listed (GET /channels) outside Stasis, as AppDial2 "(Outgoing Line)",
// with no arguments to say whose it is (TestHostRingingRestartPBX, Asterisk
// 22.10.1); its StasisStart, once answered, carries them.
func hostLineID(show string) string { return hostLinePrefix + show + "-" + newID() }

// hostLineShow is the show a host line's id names (hostLineID), or "".
func hostLineShow(chanID string) string {
	rest, ok := strings.CutPrefix(chanID, hostLinePrefix)
	i := strings.LastIndexByte(rest, '-')
	if !ok || i < 1 || len(rest)-i-1 != 16 {
		return ""
	}
	return rest[:i]
}

// adoptRinging makes a host line found ringing after a restart of callin
// the show's again, as JoinHost left it: ringing since it was created,
// with the endpoint its channel's name says. On a real Asterisk 22.10.1
// (TestHostRingingRestartPBX) the app's subscription to the line outlives
// callin's connection (GET /applications lists it), so the new connection
// gets its ChannelDestroyed if it ends unanswered (hostGone), and its
// StasisStart (args <show>,host) when answered: hostJoin puts it on air as
// if callin had never restarted. A line answered meanwhile (its StasisStart
// came first) is the arrival path's: claim says so. One answered while no
// callin was connected is not listed: Stasis refuses an app without a
// connection and the line ends (seen on 22.10.1). Not handled: a line
// that ends between the listing and the claim (its ChannelDestroyed then
// finds nothing to end) stays ringing until hung up here; the window is a
// few milliseconds, and Hang up (404: gone) clears it.
func (s *show) adoptRinging(n *node, ch ari.Channel) {
	if !n.claim(ch.ID, &chanRef{show: s, role: roleHost}) {
		return
	}
	endpoint := ch.Name
	if i := strings.LastIndexByte(endpoint, '-'); i > 0 { // PJSIP/phone2-00000000
		endpoint = endpoint[:i]
	}
	if s.air.adoptRinging(ch.ID, endpoint, ch.CreationTime.Time) {
		s.studioHold().tell()
	}
}

// hostJoin answers a host line and puts it in the on-air bridge; a line
// that cannot be put there is hung up and shown failed (hostNotOnAir).
func (s *show) hostJoin(ctx context.Context, ch ari.Channel) {
	if ch.State != ari.StateUp {
		if err := s.studio().ari.AnswerChannel(ctx, ch.ID); err != nil {
			s.hostNotOnAir(ctx, ch.ID, "Asterisk did not answer the host's line", err)
			return
		}
	}
	if err := s.studio().moveTo(ctx, ch.ID, s.air.id, ""); err != nil {
		s.hostNotOnAir(ctx, ch.ID, "Asterisk did not put the host's line on air", err)
		return
	}
	s.air.addHost(ch.ID, s.app.cfg.Now())
	s.studioHold().tell()
}

// hostNotOnAir ends a host line that was answered but could not be put in
// the on-air bridge. Its card used to stay "ringing" until the line ended
// (the host, answered, heard nothing and believed they were on air). A
// producer expects to be told and to call again, as a recording that did
// not start says so (recordingNotStarted): the line is hung up (the host
// hears it end) and stays in the show's host lines as failed, with why,
// until the next JoinHost or HangupHost; its ChannelDestroyed leaves it
// there (removeHost). A line that is gone already (the host hung up
// first) just ends, as any other.
func (s *show) hostNotOnAir(ctx context.Context, chanID, what string, err error) {
	n := s.studio()
	n.log.Warn("broadcast: host line not on air; hanging it up", "show", s.key, "channel", chanID, "err", err)
	if errors.Is(err, queue.ErrGone) {
		return
	}
	// Failed before the hang-up, so that its ChannelDestroyed finds it
	// failed; told after, so that a console told "hung up" is right.
	failed := s.air.failHost(chanID, what+"; the line is hung up: press Call host to try again", s.app.cfg.Now())
	n.hangup(ctx, chanID, ari.HangupNormal)
	if failed {
		s.studioHold().tell()
	}
}

// StartRecording records the on-air bridge to a new recording named
// "callin-<show>-<unix nanoseconds>" (wav) and waits until it has started.
// Errors: queue.ErrNotFound, queue.ErrConflict (already recording);
// ErrNodeDown, ErrTelephony.
func (a *App) StartRecording(ctx context.Context, showKey string) (RecordingState, error) {
	s, err := a.show(showKey)
	if err != nil {
		return RecordingState{}, err
	}
	if err := s.studio().ready(); err != nil {
		return RecordingState{}, err
	}
	n := s.studio()
	// A real Asterisk (22.10.1) sends an application a bridge recording's
	// events only while the application is subscribed to the bridge, which
	// the bridge's members make it: an empty on-air bridge recorded, and no
	// RecordingStarted came (TestRecordEmptyAirOnARealPBX; the start timed
	// out). Subscribed explicitly, it gets RecordingStarted and
	// RecordingFinished; the subscription stays with the bridge.
	if err := n.ari.Subscribe(ctx, "bridge:"+s.air.id); err != nil {
		return RecordingState{}, telErr("subscribe to the on-air bridge", err)
	}
	name := fmt.Sprintf("callin-%s-%d", s.key, a.cfg.Now().UnixNano())
	if err := s.air.begin(name); err != nil {
		return RecordingState{}, err
	}
	n.trackRecording(name, s)
	w := n.waits.expect(ari.TypeRecordingStarted, name, "", nil)
	if _, err := n.ari.RecordBridge(ctx, s.air.id, ari.RecordParams{Name: name, Format: "wav", IfExists: ari.IfExistsFail}); err != nil {
		n.waits.cancel(w)
		s.air.abandon()
		return RecordingState{}, telErr("record on-air bridge", err)
	}
	if _, err := n.waits.wait(ctx, w, a.cfg.EventTimeout); err != nil {
		return s.recordingNotStarted(ctx, name, err)
	}
	return s.air.rec(), nil
}

// recordingNotStarted ends a start whose RecordingStarted did not come
// (Asterisk answered 201 "queued", trace 14, then nothing within
// Config.EventTimeout, or the request gave up): the recording is "failed",
// not active, with Error saying why, so Record works again and Stop says
// there is nothing to stop. It used to stay "queued" for good: start said
// "already recording", stop "not recording" (issue 21, point 8). Asterisk is
// asked to stop it, in case it is recording unannounced (as an empty
// bridge did, TestRecordEmptyAirOnARealPBX) or starts late, and callin
// forgets it: a RecordingStarted after this changes nothing. If
// RecordingStarted came just before, the recording is on and this start
// succeeds after all.
func (s *show) recordingNotStarted(ctx context.Context, name string, why error) (RecordingState, error) {
	n := s.studio()
	if rec, on := s.air.active(name); on {
		return rec, nil
	}
	n.untrackRecording(name)
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.app.cfg.EventTimeout)
	defer cancel()
	if err := n.ari.StopLiveRecording(stop, name); err != nil && !errors.Is(err, ari.ErrNotFound) {
		n.log.Warn("broadcast: stopping a recording that did not start failed", "recording", name, "err", err)
	}
	wait := "in time"
	if errors.Is(why, ErrTimeout) {
		wait = fmt.Sprintf("within %v", s.app.cfg.EventTimeout)
	}
	msg := "Asterisk did not start the recording " + wait + "; it is stopped: press Record to try again"
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.air.failed(name, msg, s.app.cfg.Now())
	if ok {
		s.emit(Update{Kind: UpdateRecording, Recording: rec})
	}
	return rec, telErr("record on-air bridge: "+msg, why)
}

// StopRecording stops the on-air recording and waits for it to finish.
// Errors: queue.ErrNotFound, queue.ErrConflict (not recording);
// ErrNodeDown, ErrTelephony.
func (a *App) StopRecording(ctx context.Context, showKey string) (RecordingState, error) {
	s, err := a.show(showKey)
	if err != nil {
		return RecordingState{}, err
	}
	if err := s.studio().ready(); err != nil {
		return RecordingState{}, err
	}
	rec := s.air.rec()
	name, active := rec.Name, rec.Active
	if !active {
		return RecordingState{}, fmt.Errorf("broadcast: not recording: %w", queue.ErrConflict)
	}
	n := s.studio()
	w := n.waits.expect(ari.TypeRecordingFinished, name, "", nil)
	if err := n.ari.StopLiveRecording(ctx, name); err != nil {
		n.waits.cancel(w)
		return RecordingState{}, telErr("stop recording", err)
	}
	if _, err := n.waits.wait(ctx, w, a.cfg.EventTimeout); err != nil {
		return RecordingState{}, telErr("stop recording", err)
	}
	return s.air.rec(), nil
}
