package broadcast

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// show is one show at run time: its queue, its live calls' records and its
// subscribers, guarded by mu (never held across an ARI request), and its
// parts: the holding media (hold, with its own locks) and the on-air side
// (air, with its own). doc.go says who owns what, and the lock order.
type show struct {
	app *App
	// studioAt is the studio node: the on-air bridge, hosts, screenings,
	// recording, call-backs, talkback (studio(); SetStudio changes it).
	studioAt atomic.Pointer[node]
	key      string
	cfg      ShowConfig // static parts: media, endpoints
	air      *air       // the on-air bridge, its hosts and recording (onair.go)
	// spanAt is the nodes whose callers the show takes (the first studio
	// first) and their holding parts, by node name: set by New, replaced
	// whole by App.SpanNode (span.go), read without a lock.
	spanAt atomic.Pointer[span]
	kick   chan struct{} // asks the show loop to start the music
	// sweeping: a sweep of stale stored calls runs (beside the show loop,
	// which never waits on the database).
	sweeping atomic.Bool

	mu          sync.Mutex
	q           *queue.Show
	calls       map[string]*liveCall // call id -> what is kept beside its queue.Call, while it lives (calls.go)
	subs        map[*Subscription]bool
	emitted     uint64             // updates emitted so far: the last one's Update.Seq
	batch       []queue.Transition // non-nil while a resync collects its transitions
	sampled     time.Time          // the last line quality sample
	staleBefore time.Time          // non-zero: a sweep of stale stored calls is owed (see sweepStale)
	sweeps      int                // failed sweeps since
}

func newShow(a *App, nodes []*node, cfg ShowConfig) (*show, error) {
	n := nodes[0] // the studio
	if cfg.CallbackLine.Dial == "" {
		cfg.Config.Callback = queue.CallbackConfig{} // nothing to dial: offer nothing
	}
	if cfg.NextClears != "" && cfg.NextClears != ClearHold && cfg.NextClears != ClearDrop {
		return nil, fmt.Errorf("broadcast: show %q: take next clears the air by %q: want hold or drop: %w", cfg.Key, cfg.NextClears, queue.ErrInvalid)
	}
	q, err := queue.NewShow(cfg.Config)
	if err != nil {
		return nil, err
	}
	m, def := &cfg.Media, DefaultMedia()
	for _, f := range []struct {
		dst *[]string
		def []string
	}{
		{&m.Closed, def.Closed}, {&m.Full, def.Full},
		{&m.Blocked, def.Blocked}, {&m.Goodbye, def.Goodbye},
		{&m.CallbackOffer, def.CallbackOffer}, {&m.CallbackConfirm, def.CallbackConfirm},
		{&m.CallbackReturn, def.CallbackReturn}, {&m.ReadyCheck, def.ReadyCheck}, {&m.WaitAbout, def.WaitAbout},
	} {
		if len(*f.dst) == 0 {
			*f.dst = f.def
		}
	}
	s := &show{
		app: a, key: cfg.Key, cfg: cfg,
		air:  newAir("callin-" + cfg.Key + "-air"),
		kick: make(chan struct{}, 1), q: q,
		calls: map[string]*liveCall{}, subs: map[*Subscription]bool{},
	}
	sp := &span{nodes: nodes, holds: map[string]*holding{}}
	for _, hn := range nodes {
		sp.holds[hn.name] = newHolding(s, hn, s.holdID())
	}
	s.spanAt.Store(sp)
	s.studioAt.Store(n)
	return s, nil
}

// studio is the show's studio node (ShowConfig.Studio, or SetStudio's).
func (s *show) studio() *node { return s.studioAt.Load() }

// studioHold is the studio node's holding part: its holding bridges,
// their music and the talkback (hold.go, talkback.go).
func (s *show) studioHold() *holding { return s.spanAt.Load().holds[s.studio().name] }

// holdOn is the show's holding part on node n; nil when the show does not
// take n's callers.
func (s *show) holdOn(n *node) *holding { return s.spanAt.Load().holds[n.name] }

// spread says whether the show spans more than one node.
func (s *show) spread() bool { return len(s.nodes()) > 1 }

// nodeOf is the node a call's channel is on (Call.Node; the studio when
// unknown).
func (s *show) nodeOf(c queue.Call) *node {
	if hm := s.spanAt.Load().holds[c.Node]; hm != nil {
		return hm.node
	}
	return s.studio()
}

// holdOf is the holding part of the node a call's channel is on.
func (s *show) holdOf(c queue.Call) *holding { return s.holdOn(s.nodeOf(c)) }

// nodeOfCall is nodeOf for a call id (the studio for an unknown call).
// Callers hold s.mu.
func (s *show) nodeOfCall(callID string) *node {
	c, _ := s.q.Get(callID)
	return s.nodeOf(c)
}

// screenID is the private screening bridge of a call.
func (s *show) screenID(callID string) string { return "callin-" + s.key + "-scr-" + callID }

// publish hands transitions to the sink and the subscribers, in order (to
// the resync's batch while one runs). Callers hold s.mu, so every
// subscriber sees one order.
func (s *show) publish(ts []queue.Transition) {
	for _, t := range ts {
		if c := s.calls[t.CallID]; c != nil && c.screening != nil && c.screening.State != ScreenRinging {
			c.screening = nil // a phone's last "no" is news until the call moves on
		}
		if t.To == queue.StateEnded {
			s.forget(t.CallID) // however it ended
		}
		if s.app.cfg.Sink != nil {
			s.app.cfg.Sink.Record(t)
		}
		if t.To == queue.StateOnAir {
			s.air.wentOnAir(t.CallID)
		}
		if s.batch != nil {
			s.batch = append(s.batch, t)
			continue
		}
		s.emit(Update{Kind: UpdateTransition, Transition: t})
	}
}

// emit sends u to every subscriber without blocking; one whose buffer is
// full is disconnected. Callers hold s.mu.
func (s *show) emit(u Update) {
	u.Show = s.key
	s.emitted++
	u.Seq = s.emitted
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

// kickMusic asks the show loop to (re)start the holding bridges' music.
func (s *show) kickMusic() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// hostGone forgets a host line that left the on-air bridge or ended (a
// failed one stays, saying why: failHost).
func (s *show) hostGone(chanID string) {
	if s.air.removeHost(chanID, false) {
		s.studioHold().tell()
	}
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
	c := s.forget(callID)
	if _, ts, err := s.q.Hangup(s.app.cfg.Now(), callID, cause); err == nil {
		s.publish(ts)
	}
	line := ""
	if c != nil {
		if c.talking {
			s.emit(Update{Kind: UpdateTalking, CallID: callID})
		}
		line = c.screenerLine
	}
	s.mu.Unlock()
	if tc := s.app.takeTrunk(s, callID); tc != nil { // on air across the trunk: both legs end too
		tc.near.submitOrLog(func(ctx context.Context) { s.endTrunk(ctx, tc) })
	}
	if s.studio().bridgeShow(s.screenID(callID)) != nil || line != "" {
		s.studio().submitOrLog(func(ctx context.Context) { s.endScreening(ctx, callID, line) })
	}
}

// callCause records the Q.850 cause of a caller's call that has ended
// without it (see node.stasisEnd).
func (s *show) callCause(callID string, cause int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ts, err := s.q.Cause(callID, cause); err == nil {
		s.publish(ts)
	}
}

// loop is the show's media goroutine: music (re)starts and announcements.
func (s *show) loop(ctx context.Context) {
	t := time.NewTicker(s.app.cfg.AnnounceTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			s.ensureMusic(ctx)
			s.dialCallbacks()
		case <-t.C:
			s.ensureMusic(ctx) // retries a failed start
			s.announce(ctx)
			s.dialCallbacks()
			s.sampleQuality(ctx)
			if s.app.cfg.Recall != nil && s.sweeping.CompareAndSwap(false, true) {
				go func() {
					defer s.sweeping.Store(false)
					s.sweepStale(ctx)
				}()
			}
		}
	}
}

// ensureMusic starts the music every holding bridge of every node is
// owed (holding.ensureMusic).
func (s *show) ensureMusic(ctx context.Context) {
	for _, n := range s.nodes() {
		s.holdOn(n).ensureMusic(ctx)
	}
}

// announce starts the position announcements that are due, each on the
// node its caller is held on (a node that is not up is skipped).
func (s *show) announce(ctx context.Context) {
	if !s.anyUp() {
		return
	}
	now := s.app.cfg.Now()
	s.mu.Lock()
	for id, c := range s.calls {
		if c.ann.playback != "" && now.Sub(c.ann.started) > s.app.cfg.PlaybackTimeout {
			s.announcementDone(id) // its PlaybackFinished never came (e.g. a lost media)
		}
	}
	due := s.q.DueAnnouncements(now, s.app.cfg.AnnounceBatch)
	wait := s.q.Config().AnnounceWait
	refs := make([]annRef, len(due))
	nodes := make([]*node, len(due))
	for i, d := range due {
		refs[i] = annRef{playback: newID(), started: now}
		nodes[i] = s.nodeOfCall(d.CallID)
		if c := s.call(d.CallID); c != nil && nodes[i].ready() == nil {
			c.ann = refs[i]
		}
	}
	s.mu.Unlock()
	for i, d := range due {
		pb, n := refs[i].playback, nodes[i]
		var err error
		if err = n.ready(); err == nil {
			n.trackPlayback(pb, pbRef{show: s, callID: d.CallID, kind: pbAnnounce})
			media := append(slices.Clone(s.cfg.Media.Position), "number:"+strconv.Itoa(d.Position))
			if wait && d.Wait > 0 {
				media = append(media, waitMedia(s.cfg.Media.WaitAbout, d.Wait)...)
			}
			if d.OfferCallback {
				media = append(media, s.cfg.Media.CallbackOffer...)
			}
			if _, err = n.ari.PlayChannel(ctx, d.ChannelID, pb, media...); err != nil {
				n.untrackPlayback(pb)
			}
		}
		if err != nil {
			s.mu.Lock()
			s.announcementDone(d.CallID)
			s.mu.Unlock()
		}
	}
}

// anyUp says whether any of the show's nodes is up.
func (s *show) anyUp() bool {
	for _, n := range s.nodes() {
		if n.ready() == nil {
			return true
		}
	}
	return false
}

// waitMedia says an estimated wait in whole minutes, rounded up (Asterisk's
// core sounds "minute" and "minutes").
func waitMedia(about []string, d time.Duration) []string {
	m := int((d + time.Minute - 1) / time.Minute)
	unit := "sound:minutes"
	if m == 1 {
		unit = "sound:minute"
	}
	return append(slices.Clone(about), "number:"+strconv.Itoa(m), unit)
}

// announcementDone ends a caller's announcement. Callers hold s.mu.
func (s *show) announcementDone(callID string) {
	if c := s.calls[callID]; c != nil {
		c.ann = annRef{}
	}
	_ = s.q.AnnouncementDone(s.app.cfg.Now(), callID) // ErrGone/ErrInvalid: nothing to undo
}

// stopAnnouncement stops a caller's position announcement, if one plays,
// before the caller leaves the holding bridge.
func (s *show) stopAnnouncement(ctx context.Context, callID string) {
	s.mu.Lock()
	var pb string
	if c := s.calls[callID]; c != nil {
		pb = c.ann.playback
	}
	n := s.nodeOfCall(callID)
	s.mu.Unlock()
	s.stopPlayback(ctx, n, callID, pb)
}

// stopPlayback stops a caller's announcement playback pb ("": none) on
// the caller's node n.
func (s *show) stopPlayback(ctx context.Context, n *node, callID, pb string) {
	if pb == "" {
		return
	}
	if err := n.ari.StopPlayback(ctx, pb); err != nil && !errors.Is(err, ari.ErrNotFound) {
		n.log.Warn("broadcast: stopping announcement failed", "call", callID, "err", err)
	}
}
