package broadcast

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// show is one show at run time: its queue, its bridges and media state, and
// its subscribers, all guarded by mu (never held across an ARI request).
type show struct {
	app    *App
	node   *node
	key    string
	cfg    ShowConfig // static parts: media, endpoints
	holdID string
	airID  string
	kick   chan struct{} // asks the show loop to start the music

	// musicMu orders the requests that start and stop the holding bridge's
	// music (held across them, unlike mu): a start that is in flight when a
	// talkback begins lands before the talkback's stop, never after it.
	musicMu sync.Mutex

	mu            sync.Mutex
	q             *queue.Show
	music         bool   // bridge music on hold believed playing
	emptied       uint64 // bumped each time the holding bridge empties
	holdMembers   int
	talkback      *talkback
	recording     RecordingState
	talking       map[string]bool   // call ids talking now
	announcing    map[string]annRef // call id -> its position announcement
	screenerLines map[string]string // call id -> screener line channel
	hosts         map[string]bool   // host channels on air
	subs          map[*Subscription]bool
}

type annRef struct {
	playback string
	started  time.Time
}

type talkback struct {
	chanID   string // a producer's line, or
	playback string // a recorded message
	joined   bool   // the line is in the holding bridge
}

func newShow(a *App, n *node, cfg ShowConfig) (*show, error) {
	q, err := queue.NewShow(cfg.Config)
	if err != nil {
		return nil, err
	}
	m := &cfg.Media
	for _, f := range []struct {
		dst *[]string
		def []string
	}{
		{&m.Closed, DefaultMedia.Closed}, {&m.Full, DefaultMedia.Full},
		{&m.Blocked, DefaultMedia.Blocked}, {&m.Goodbye, DefaultMedia.Goodbye},
	} {
		if len(*f.dst) == 0 {
			*f.dst = f.def
		}
	}
	return &show{
		app: a, node: n, key: cfg.Key, cfg: cfg,
		holdID: "callin-" + cfg.Key + "-hold", airID: "callin-" + cfg.Key + "-air",
		kick: make(chan struct{}, 1), q: q,
		talking: map[string]bool{}, announcing: map[string]annRef{}, screenerLines: map[string]string{},
		hosts: map[string]bool{}, subs: map[*Subscription]bool{},
	}, nil
}

// screenID is the private screening bridge of a call.
func (s *show) screenID(callID string) string { return "callin-" + s.key + "-scr-" + callID }

// publish hands transitions to the sink and the subscribers, in order.
// Callers hold s.mu, so every subscriber sees one order.
func (s *show) publish(ts []queue.Transition) {
	for _, t := range ts {
		if s.app.cfg.Sink != nil {
			s.app.cfg.Sink.Record(t)
		}
		s.emit(Update{Kind: UpdateTransition, Transition: t})
	}
}

// emit sends u to every subscriber without blocking; one whose buffer is
// full is disconnected. Callers hold s.mu.
func (s *show) emit(u Update) {
	u.Show = s.key
	if u.At.IsZero() {
		u.At = s.app.cfg.Now()
	}
	for sub := range s.subs {
		select {
		case sub.ch <- u:
		default:
			s.app.log.Warn("broadcast: subscriber too slow; disconnecting it", "show", s.key, "buffer", cap(sub.ch))
			s.dropSub(sub, ErrSlowSubscriber)
		}
	}
}

func (s *show) emitMedia() {
	s.emit(Update{Kind: UpdateMedia, Media: s.mediaState()})
}

func (s *show) mediaState() MediaState {
	hosts := make([]string, 0, len(s.hosts))
	for h := range s.hosts {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	m := MediaState{Music: s.music, Talkback: s.talkback != nil, HoldMembers: s.holdMembers, Hosts: hosts}
	if s.talkback != nil && s.talkback.joined {
		m.TalkbackLine = s.talkback.chanID
	}
	return m
}

// dropSub closes a subscription with a reason. Callers hold s.mu.
func (s *show) dropSub(sub *Subscription, why error) {
	if !s.subs[sub] {
		return
	}
	delete(s.subs, sub)
	sub.err = why
	close(sub.ch)
}

func (s *show) closeSubs(why error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		s.dropSub(sub, why)
	}
}

// callEnded applies a caller's hang-up, with the Q.850 cause.
func (s *show) callEnded(callID string, cause int) {
	s.mu.Lock()
	if _, ts, err := s.q.Hangup(s.app.cfg.Now(), callID, cause); err == nil {
		s.publish(ts)
	}
	if s.talking[callID] {
		delete(s.talking, callID)
		s.emit(Update{Kind: UpdateTalking, CallID: callID})
	}
	delete(s.announcing, callID)
	line := s.screenerLines[callID]
	delete(s.screenerLines, callID)
	s.mu.Unlock()
	if s.node.bridgeShow(s.screenID(callID)) != nil || line != "" {
		s.node.submitOrLog(func(ctx context.Context) { s.endScreening(ctx, callID, line) })
	}
}

// kickMusic asks the show loop to (re)start the holding bridge's music.
func (s *show) kickMusic() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// loop is the show's media goroutine: music restarts and announcements.
func (s *show) loop(ctx context.Context) {
	t := time.NewTicker(s.app.cfg.AnnounceTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			s.ensureMusic(ctx)
		case <-t.C:
			s.announce(ctx)
		}
	}
}

// ensureMusic starts the holding bridge's music when callers are in it, it
// is not believed playing (it stops for good when the bridge empties) and
// no talkback holds the bridge's one announcer role.
func (s *show) ensureMusic(ctx context.Context) {
	s.mu.Lock()
	need := s.holdMembers > 0 && s.talkback == nil && !s.music
	gen := s.emptied
	s.mu.Unlock()
	if !need {
		return
	}
	s.startMusic(ctx, gen)
}

func (s *show) startMusic(ctx context.Context, gen uint64) {
	s.musicMu.Lock()
	defer s.musicMu.Unlock()
	s.mu.Lock()
	tb := s.talkback != nil
	s.mu.Unlock()
	if tb {
		return // the talkback holds the announcer role; music follows it
	}
	if err := s.node.ari.StartBridgeMOH(ctx, s.holdID, s.cfg.MOHClass); err != nil {
		s.node.log.Warn("broadcast: starting music on hold failed", "show", s.key, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The bridge may have emptied (music gone) while the request ran.
	if s.emptied == gen && s.talkback == nil && !s.music {
		s.music = true
		s.emitMedia()
	}
}

// announce starts the position announcements that are due.
func (s *show) announce(ctx context.Context) {
	if s.node.ready() != nil {
		return
	}
	now := s.app.cfg.Now()
	s.mu.Lock()
	for id, a := range s.announcing {
		if now.Sub(a.started) > s.app.cfg.PlaybackTimeout {
			s.announcementDone(id) // its PlaybackFinished never came (e.g. a lost media)
		}
	}
	due := s.q.DueAnnouncements(now, s.app.cfg.AnnounceBatch)
	for _, d := range due {
		s.announcing[d.CallID] = annRef{playback: newID(), started: now}
	}
	refs := make([]annRef, len(due))
	for i, d := range due {
		refs[i] = s.announcing[d.CallID]
	}
	s.mu.Unlock()
	for i, d := range due {
		pb := refs[i].playback
		s.node.mu.Lock()
		s.node.playbacks[pb] = pbRef{show: s, callID: d.CallID, kind: pbAnnounce}
		s.node.mu.Unlock()
		media := append(slices.Clone(s.cfg.Media.Position), "number:"+strconv.Itoa(d.Position))
		if _, err := s.node.ari.PlayChannel(ctx, d.ChannelID, pb, media...); err != nil {
			s.node.mu.Lock()
			delete(s.node.playbacks, pb)
			s.node.mu.Unlock()
			s.mu.Lock()
			s.announcementDone(d.CallID)
			s.mu.Unlock()
		}
	}
}

// announcementDone ends a caller's announcement. Callers hold s.mu.
func (s *show) announcementDone(callID string) {
	delete(s.announcing, callID)
	_ = s.q.AnnouncementDone(s.app.cfg.Now(), callID) // ErrGone/ErrInvalid: nothing to undo
}

// stopAnnouncement stops a caller's position announcement, if one plays,
// before the caller leaves the holding bridge.
func (s *show) stopAnnouncement(ctx context.Context, callID string) {
	s.mu.Lock()
	a, ok := s.announcing[callID]
	s.mu.Unlock()
	if !ok {
		return
	}
	if err := s.node.ari.StopPlayback(ctx, a.playback); err != nil && !errors.Is(err, ari.ErrNotFound) {
		s.node.log.Warn("broadcast: stopping announcement failed", "call", callID, "err", err)
	}
}
