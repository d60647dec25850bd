package aritest

import (
	"strings"
	"time"

	"github.com/callin-radio/callin/ari"
)

// PlaybackRecord is one playback as the fake saw it, for test inspection.
type PlaybackRecord struct {
	ID     string
	Target string   // "channel:ID" or "bridge:ID"
	Media  []string // every URI of the playback, in order
	State  string   // last state: queued, playing, done, failed, canceled; "lost" for an unsupported scheme
}

type playback struct {
	id     string
	media  []string
	idx    int
	target string
	lang   string
	state  string
	ch     *channel
	br     *bridge
	timer  *time.Timer
	hist   int // index into Server.history
}

func (p *playback) model() ari.Playback {
	m := ari.Playback{ID: p.id, MediaURI: p.media[p.idx], TargetURI: p.target, Language: p.lang, State: p.state}
	if p.idx+1 < len(p.media) {
		m.NextMediaURI = p.media[p.idx+1]
	}
	return m
}

func (p *playback) stopTimer() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

// emitPlayback sends a playback event on its target's topic; bridge
// playbacks reach a subscribeAll socket twice, as traces 03 (c4) and 15 show.
func (s *Server) emitPlayback(p *playback, typ string) {
	m := p.model()
	var ev ari.Event
	switch typ {
	case ari.TypePlaybackStarted:
		ev = &ari.PlaybackStarted{EventBase: base(typ), Playback: m}
	case ari.TypePlaybackFinished:
		ev = &ari.PlaybackFinished{EventBase: base(typ), Playback: m}
	default:
		ev = &playbackContinuing{EventBase: base(typ), Playback: m}
	}
	if p.ch != nil {
		s.onChannel(p.ch, ev)
		if l := s.listener; l != nil && typ != ari.TypePlaybackFinished && p.idx < len(p.media) {
			// Outside s.mu: the listener may act on the channel (DTMF).
			id, media := p.ch.id, p.media[p.idx]
			go l(id, media)
		}
	} else {
		s.onBridge(p.br, ev, 2)
	}
	s.history[p.hist].State = p.state
}

// SetPlayListener calls f with the channel and the media whenever a media
// item starts playing to a channel (f runs on its own goroutine and may
// act on the channel, e.g. press keys after a prompt). nil removes it.
func (s *Server) SetPlayListener(f func(chanID, media string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listener = f
}

type playbackContinuing struct {
	ari.EventBase
	Playback ari.Playback `json:"playback"`
}

type mediaOutcome int

const (
	mediaPlays mediaOutcome = iota
	mediaFails              // unknown sound: PlaybackFinished "failed" at once
	mediaLost               // unsupported scheme: PlaybackStarted, then nothing ever
)

// mediaDuration decides how one media URI plays on this node.
func (s *Server) mediaDuration(uri string) (time.Duration, mediaOutcome) {
	if d, ok := s.opts.Media[uri]; ok {
		return d, mediaPlays
	}
	scheme, rest, _ := strings.Cut(uri, ":")
	switch scheme {
	case "sound":
		if d, ok := s.opts.Sounds[rest]; ok {
			return d, mediaPlays
		}
		return 0, mediaFails
	case "number", "digits", "characters":
		n := len(rest)
		if n == 0 {
			return 0, mediaFails
		}
		return time.Duration(n) * 400 * time.Millisecond, mediaPlays
	case "tone":
		return Never, mediaPlays // a tone plays until stopped
	case "recording":
		return 2 * time.Second, mediaPlays
	}
	return 0, mediaLost
}

// queuePlayback adds p to its target's queue and starts it if it is first.
func (s *Server) queuePlayback(p *playback) {
	s.playbacks[p.id] = p
	p.hist = len(s.history)
	s.history = append(s.history, PlaybackRecord{ID: p.id, Target: p.target, Media: p.media, State: p.state})
	q := s.queueOf(p)
	*q = append(*q, p)
	if len(*q) == 1 {
		s.startHead(q)
	}
}

func (s *Server) queueOf(p *playback) *[]*playback {
	if p.ch != nil {
		return &p.ch.queue
	}
	return &p.br.queue
}

// startHead plays the head of q; failed and lost media give way at once.
func (s *Server) startHead(q *[]*playback) {
	for len(*q) > 0 {
		p := (*q)[0]
		p.state = ari.PlaybackPlaying
		s.emitPlayback(p, ari.TypePlaybackStarted)
		if s.playMedia(p) {
			return
		}
		*q = (*q)[1:]
	}
}

// playMedia runs p's current media; it reports false when p ended at once.
func (s *Server) playMedia(p *playback) bool {
	d, out := s.mediaDuration(p.media[p.idx])
	if p.br != nil && p.br.typ == ari.BridgeHolding && (p.br.mohPlaying || p.br.announcer != "") {
		// The bridge's one announcer is taken by its music: the playback
		// starts and fails about 3 ms later, nothing is heard, the music
		// goes on (trace 15a, 15c). The same with an announcer-role
		// channel in the bridge (trace 01 has it only for music): seen on
		// the real Asterisk 22.10.1, TestDifferential/BridgeMusicAndPlayback.
		out = mediaFails
	}
	switch out {
	case mediaFails:
		p.state = ari.PlaybackFailed
		s.emitPlayback(p, ari.TypePlaybackFinished)
		s.forget(p)
		return false
	case mediaLost:
		// Trace 05: no PlaybackFinished ever, GET /playbacks/{id} is 404 and
		// the channel can play again at once.
		p.state = "lost"
		s.history[p.hist].State = p.state
		s.forget(p)
		return false
	}
	if d == Never {
		return true
	}
	if d == 0 {
		// A zero duration ends within the same operation, deterministically.
		if p.idx+1 < len(p.media) {
			p.idx++
			s.emitPlayback(p, "PlaybackContinuing")
			return s.playMedia(p)
		}
		p.state = ari.PlaybackDone
		s.emitPlayback(p, ari.TypePlaybackFinished)
		s.forget(p)
		return false
	}
	p.timer = time.AfterFunc(s.scale(d), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || p.timer == nil || p.state != ari.PlaybackPlaying {
			return
		}
		p.timer = nil
		s.mediaEnded(p)
	})
	return true
}

func (s *Server) mediaEnded(p *playback) {
	if p.idx+1 < len(p.media) {
		p.idx++
		s.emitPlayback(p, "PlaybackContinuing")
		if s.playMedia(p) {
			return
		}
		s.popHead(p)
		return
	}
	p.state = ari.PlaybackDone
	s.emitPlayback(p, ari.TypePlaybackFinished)
	s.forget(p)
	s.popHead(p)
}

func (s *Server) popHead(p *playback) {
	q := s.queueOf(p)
	if len(*q) > 0 && (*q)[0] == p {
		*q = (*q)[1:]
		s.startHead(q)
	}
}

func (s *Server) forget(p *playback) {
	if s.playbacks[p.id] == p {
		delete(s.playbacks, p.id)
	}
}

// stopPlayback is DELETE /playbacks/{id}: a playing one finishes "done"
// (not "stopped", trace 03) and the next queued one starts.
func (s *Server) stopPlayback(p *playback) {
	q := s.queueOf(p)
	if len(*q) > 0 && (*q)[0] == p {
		p.stopTimer()
		p.state = ari.PlaybackDone
		s.emitPlayback(p, ari.TypePlaybackFinished)
		s.forget(p)
		s.popHead(p)
		return
	}
	for i, x := range *q {
		if x == p {
			*q = append((*q)[:i:i], (*q)[i+1:]...)
			break
		}
	}
	p.state = "canceled"
	s.emitPlayback(p, ari.TypePlaybackFinished)
	s.forget(p)
}

// failQueue ends the playing head with PlaybackFinished "failed" (the target
// went away, traces 03 c1 and c4); queued ones vanish without an event.
func (s *Server) failQueue(q *[]*playback) {
	for i, p := range *q {
		p.stopTimer()
		if i == 0 && p.state == ari.PlaybackPlaying {
			p.state = ari.PlaybackFailed
			s.emitPlayback(p, ari.TypePlaybackFinished)
		} else {
			p.state = "canceled"
			s.history[p.hist].State = p.state
		}
		s.forget(p)
	}
	*q = nil
}

type recording struct {
	name, format, target string
	state                string
	started              time.Time
	br                   *bridge
	ch                   *channel
	maxDur               *time.Timer
}

func (r *recording) model() ari.LiveRecording {
	m := ari.LiveRecording{Name: r.name, Format: r.format, TargetURI: r.target, State: r.state}
	if r.state == "done" || r.state == "canceled" {
		m.Duration = int(time.Since(r.started) / time.Second)
	}
	return m
}

// storedRecording is a finished recording's file (GET /recordings/stored).
type storedRecording struct {
	name, format string
	length       time.Duration
}

// emitRecording sends a recording event on its target's topic; a bridge
// recording's reach a subscribeAll socket twice (trace 14).
func (s *Server) emitRecording(r *recording, ev ari.Event) {
	if r.ch != nil {
		s.onChannel(r.ch, ev)
		return
	}
	s.onBridge(r.br, ev, 2)
}

// finishRecording ends r: "done" keeps the file (also when its bridge was
// deleted, trace 14c), "canceled" discards it.
func (s *Server) finishRecording(r *recording, state string) {
	r.state = state
	if r.maxDur != nil {
		r.maxDur.Stop()
	}
	s.emitRecording(r, &ari.RecordingFinished{EventBase: base(ari.TypeRecordingFinished), Recording: r.model()})
	delete(s.recs, r.name)
	if r.br != nil && r.br.rec == r {
		r.br.rec = nil
	}
	if state != "done" {
		return
	}
	name := strings.TrimLeft(r.name, "/") // "/abs" is stored as abs.wav (trace 14d)
	st := s.stored[name]
	if st == nil || st.format != r.format {
		st = &storedRecording{name: name, format: r.format}
		s.stored[name] = st
	}
	st.length += time.Since(r.started)
}

// endTalking closes a talk spurt; with event it sends ChannelTalkingFinished.
func (s *Server) endTalking(c *channel, event bool) {
	if !c.talking {
		return
	}
	c.talking = false
	if event {
		s.onChannel(c, &ari.ChannelTalkingFinished{EventBase: base(ari.TypeChannelTalkingFinished), Channel: c.snapshot(), Duration: int(time.Since(c.talkStart) / time.Millisecond)})
	}
}
