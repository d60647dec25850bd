package broadcast

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// TalkbackOptions say what speaks to the holding bridge: a producer's
// phone (User, whose phone Config.Phones knows, or Endpoint, a configured
// phone: callers of the App check it), or a recorded message (Media).
type TalkbackOptions struct {
	User     string
	Endpoint string
	Media    []string
}

// StartTalkback speaks to every waiting caller: it stops the holding
// bridges' music (each bridge's one announcer), then plays the message to
// every bridge of the pool, or adds the producer's line as the announcer.
// When the line leaves or every bridge's message ends, the music starts
// again (trace 15: DELETE /moh, play, PlaybackFinished, POST /moh). A line
// reaches the first holding bridge only, and only that bridge's music
// stops; the others keep theirs. Errors: queue.ErrNotFound,
// queue.ErrInvalid (neither or both options), queue.ErrConflict (a
// talkback is on); ErrNodeDown, ErrTelephony.
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
		tb.chanID = "callin-tb-" + newID()
		tb.bridges = []string{s.holdID}
	} else {
		tb.playbacks = map[string]string{}
		tb.bridges = s.holdIDs()
		for _, id := range tb.bridges {
			tb.playbacks[newID()] = id
		}
	}
	s.talkback = tb
	s.emitMedia()
	s.mu.Unlock()

	if tb.chanID == "" {
		if err := s.stopMusic(ctx, tb.bridges); err != nil {
			s.dropTalkback(tb)
			return err
		}
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

// dropTalkback ends a talkback, whatever it was, if it is still on, and
// asks for the music again.
func (s *show) dropTalkback(tb *talkback) {
	s.mu.Lock()
	over := s.talkback == tb
	if over {
		s.talkback = nil
		s.emitMedia()
	}
	s.mu.Unlock()
	if over {
		s.wantMusic()
	}
}

// stopMusic stops the music of holding bridges for a talkback: each
// bridge's one announcer is then free (trace 15).
func (s *show) stopMusic(ctx context.Context, bridges []string) error {
	s.musicMu.Lock()
	defer s.musicMu.Unlock()
	var err error
	for _, id := range bridges {
		if err = s.node.ari.StopBridgeMOH(ctx, id); err != nil && !errors.Is(err, ari.ErrConflict) && !errors.Is(err, ari.ErrNotFound) {
			break
		}
		err = nil
	}
	s.mu.Lock()
	for _, id := range bridges {
		if h := s.holdByID[id]; h != nil {
			h.playing = false
		}
	}
	s.emitMedia()
	s.mu.Unlock()
	return telErr("stop music", err)
}

// playTalkback plays a recorded message to every holding bridge of the
// talkback, one playback each. A bridge that refuses it is left out; the
// talkback fails only when none plays.
func (s *show) playTalkback(ctx context.Context, tb *talkback, media []string) error {
	n := s.node
	s.mu.Lock()
	pbs := maps.Clone(tb.playbacks) // endTalkback deletes from tb.playbacks
	s.mu.Unlock()
	n.mu.Lock()
	for pb := range pbs {
		n.playbacks[pb] = pbRef{show: s, kind: pbTalkback}
	}
	n.mu.Unlock()
	var failed error
	played := 0
	for pb, bridge := range pbs {
		if _, err := n.ari.PlayBridge(ctx, bridge, pb, media...); err != nil {
			n.mu.Lock()
			delete(n.playbacks, pb)
			n.mu.Unlock()
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

// StopTalkback ends the talkback: the line is hung up or the message
// stopped; the music starts again when Asterisk confirms. Errors:
// queue.ErrNotFound, queue.ErrConflict (no talkback); ErrTelephony.
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

// talkbackJoin puts the producer's answered line into the first holding
// bridge as its announcer.
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
	if err := s.stopMusic(ctx, []string{s.holdID}); err != nil {
		s.node.log.Warn("broadcast: talkback could not stop the music", "show", s.key, "err", err)
		s.node.hangup(ctx, ch.ID, ari.HangupNormal)
		return
	}
	if err := s.moveTo(ctx, ch.ID, s.holdID, ari.RoleAnnouncer); err != nil {
		s.node.log.Warn("broadcast: talkback line not bridged", "show", s.key, "err", err)
		s.node.hangup(ctx, ch.ID, ari.HangupNormal)
		return
	}
	s.mu.Lock()
	if s.talkback != nil && s.talkback.chanID == ch.ID {
		s.talkback.joined = true
		s.emitMedia()
	}
	s.mu.Unlock()
}

// endTalkback ends the talkback's line, or one of its playbacks (either
// may be ""); the talkback is over when its line has gone or its last
// playback has finished, and the music is asked for again.
func (s *show) endTalkback(chanID, playback string) {
	s.mu.Lock()
	tb := s.talkback
	over := false
	switch {
	case tb == nil:
	case chanID != "" && tb.chanID == chanID:
		over = true
	case playback != "" && tb.playbacks[playback] != "":
		delete(tb.playbacks, playback)
		over = len(tb.playbacks) == 0
	}
	if over {
		s.talkback = nil
		s.emitMedia()
	}
	s.mu.Unlock()
	if over {
		s.wantMusic()
	}
}

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
	if err := s.node.ready(); err != nil {
		return "", err
	}
	id := "callin-host-" + newID()
	if _, err := s.node.ari.Originate(ctx, ari.OriginateParams{
		Endpoint: endpoint, App: a.cfg.App, AppArgs: s.key + "," + roleHost, ChannelID: id,
	}); err != nil {
		return "", telErr("originate host "+endpoint, err)
	}
	return id, nil
}

// hostJoin answers a host line and puts it in the on-air bridge.
func (s *show) hostJoin(ctx context.Context, ch ari.Channel) {
	if ch.State != ari.StateUp {
		if err := s.node.ari.AnswerChannel(ctx, ch.ID); err != nil {
			s.node.log.Warn("broadcast: answering host failed", "err", err)
			return
		}
	}
	if err := s.moveTo(ctx, ch.ID, s.airID, ""); err != nil {
		s.node.log.Warn("broadcast: host not bridged", "show", s.key, "err", err)
		return
	}
	s.mu.Lock()
	s.hosts[ch.ID] = true
	s.emitMedia()
	s.mu.Unlock()
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
	if err := s.node.ready(); err != nil {
		return RecordingState{}, err
	}
	n := s.node
	name := fmt.Sprintf("callin-%s-%d", s.key, a.cfg.Now().UnixNano())
	s.mu.Lock()
	if s.recording.Active || s.recording.State == "queued" {
		s.mu.Unlock()
		return RecordingState{}, fmt.Errorf("broadcast: already recording %s: %w", s.recording.Name, queue.ErrConflict)
	}
	s.recording = RecordingState{Name: name, State: "queued", Format: "wav"}
	s.mu.Unlock()
	n.mu.Lock()
	n.recordings[name] = s
	n.mu.Unlock()
	w := n.waits.expect(ari.TypeRecordingStarted, name, "", nil)
	if _, err := n.ari.RecordBridge(ctx, s.airID, ari.RecordParams{Name: name, Format: "wav", IfExists: ari.IfExistsFail}); err != nil {
		n.waits.cancel(w)
		s.mu.Lock()
		s.recording = RecordingState{}
		s.mu.Unlock()
		return RecordingState{}, telErr("record on-air bridge", err)
	}
	if _, err := n.waits.wait(ctx, w, a.cfg.EventTimeout); err != nil {
		return RecordingState{}, telErr("record on-air bridge", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recording, nil
}

// StopRecording stops the on-air recording and waits for it to finish.
// Errors: queue.ErrNotFound, queue.ErrConflict (not recording);
// ErrNodeDown, ErrTelephony.
func (a *App) StopRecording(ctx context.Context, showKey string) (RecordingState, error) {
	s, err := a.show(showKey)
	if err != nil {
		return RecordingState{}, err
	}
	if err := s.node.ready(); err != nil {
		return RecordingState{}, err
	}
	s.mu.Lock()
	name, active := s.recording.Name, s.recording.Active
	s.mu.Unlock()
	if !active {
		return RecordingState{}, fmt.Errorf("broadcast: not recording: %w", queue.ErrConflict)
	}
	n := s.node
	w := n.waits.expect(ari.TypeRecordingFinished, name, "", nil)
	if err := n.ari.StopLiveRecording(ctx, name); err != nil {
		n.waits.cancel(w)
		return RecordingState{}, telErr("stop recording", err)
	}
	if _, err := n.waits.wait(ctx, w, a.cfg.EventTimeout); err != nil {
		return RecordingState{}, telErr("stop recording", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recording, nil
}
