package broadcast

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// LineQuality is a caller's line as Asterisk measures it (RTP and RTCP
// statistics, trace 16), so a screener can avoid a bad line.
type LineQuality struct {
	At       time.Time `json:"at"`
	JitterMS float64   `json:"jitter_ms"`        // the worse direction
	LossPct  float64   `json:"loss_percent"`     // packets lost, the worse direction
	RTTMS    float64   `json:"rtt_ms,omitempty"` // round trip, when the phone sends RTCP
	MES      float64   `json:"mes,omitempty"`    // media experience score, 0-100, when known
	Grade    string    `json:"grade"`            // "good", "fair" or "poor"
}

// Line quality grades and their limits (ITU-T G.114 puts one-way delay
// under 150 ms; jitter and loss after common VoIP guidance).
const (
	GradeGood = "good"
	GradeFair = "fair"
	GradePoor = "poor"
)

// qualityOf turns Asterisk's statistics into a LineQuality.
func qualityOf(st *ari.RTPStats, at time.Time) LineQuality {
	q := LineQuality{At: at, JitterMS: max(st.TxJitter, st.RxJitter) * 1000, RTTMS: st.RTT * 1000}
	loss := func(lost, got int64) float64 {
		if lost <= 0 || lost+got <= 0 {
			return 0
		}
		return 100 * float64(lost) / float64(lost+got)
	}
	q.LossPct = max(loss(st.RxPloss, st.RxCount), loss(st.TxPloss, st.TxCount))
	q.MES = max(st.TxMES, st.RxMES)
	switch {
	case q.LossPct > 5 || q.JitterMS > 60 || q.RTTMS > 500:
		q.Grade = GradePoor
	case q.LossPct > 1 || q.JitterMS > 30 || q.RTTMS > 250:
		q.Grade = GradeFair
	default:
		q.Grade = GradeGood
	}
	return q
}

// LineQuality measures a caller's line now (GET
// /channels/{id}/rtp_statistics) and tells the show's subscribers.
// Errors: queue.ErrNotFound, ErrGone; ErrNoQuality for a line Asterisk has
// no RTP statistics for (a Local channel: 403, trace 16); ErrNodeDown,
// ErrTelephony.
func (a *App) LineQuality(ctx context.Context, showKey, callID string) (LineQuality, error) {
	s, err := a.show(showKey)
	if err != nil {
		return LineQuality{}, err
	}
	if err := s.studio().ready(); err != nil && !s.spread() {
		return LineQuality{}, err
	}
	s.mu.Lock()
	c, err := s.q.Get(callID)
	s.mu.Unlock()
	if err == nil {
		err = s.nodeOf(c).ready()
	}
	switch {
	case err != nil:
		return LineQuality{}, err
	case c.State == queue.StateEnded:
		return LineQuality{}, fmt.Errorf("broadcast: line quality %q: %w", callID, queue.ErrGone)
	case c.ChannelID == "":
		return LineQuality{}, fmt.Errorf("broadcast: line quality %q: %w", callID, ErrNoQuality)
	}
	return s.measure(ctx, c)
}

// ErrNoQuality means Asterisk keeps no RTP statistics for the caller's
// line (a Local channel, trace 16: 403 "Unsupported channel type").
var ErrNoQuality = errors.New("broadcast: no line statistics for this channel")

// measure asks Asterisk for one caller's statistics and records them.
func (s *show) measure(ctx context.Context, c queue.Call) (LineQuality, error) {
	n := s.nodeOf(c)
	st, err := n.ari.RTPStatistics(ctx, c.ChannelID)
	if err != nil {
		if errors.Is(err, ari.ErrForbidden) {
			s.mu.Lock()
			if rec := s.call(c.ID); rec != nil {
				rec.noQuality = true
			}
			s.mu.Unlock()
			return LineQuality{}, fmt.Errorf("broadcast: line quality %q: %w", c.ID, ErrNoQuality)
		}
		return LineQuality{}, n.restError(ctx, "line quality", c.ChannelID, err)
	}
	q := qualityOf(st, s.app.cfg.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, err := s.q.Get(c.ID); err != nil || cur.State == queue.StateEnded || cur.ChannelID != c.ChannelID {
		return q, nil // gone meanwhile: nothing to keep
	}
	if rec := s.call(c.ID); rec != nil {
		rec.quality = &q
	}
	s.emit(Update{Kind: UpdateQuality, CallID: c.ID, Quality: q})
	return q, nil
}

// sampleQuality measures, every Config.QualityEvery, the lines of the
// callers a producer is about to put on air or has on air: screening,
// ready, picked next, on air. Waiting callers are measured only on demand
// (LineQuality), so hundreds of them cost Asterisk nothing.
func (s *show) sampleQuality(ctx context.Context) {
	now := s.app.cfg.Now()
	s.mu.Lock()
	if now.Sub(s.sampled) < s.app.cfg.QualityEvery || !s.anyUp() {
		s.mu.Unlock()
		return
	}
	s.sampled = now
	l := s.q.List()
	var due []queue.Call
	for _, grp := range [][]queue.Call{l.OnAir, l.Screening, l.Ready, l.Waiting} {
		for _, c := range grp {
			if len(due) >= qualityBatch {
				break
			}
			if c.ChannelID == "" || s.calls[c.ID] != nil && s.calls[c.ID].noQuality || (c.State == queue.StateWaiting && !c.Next) ||
				s.nodeOf(c).ready() != nil {
				continue
			}
			due = append(due, c)
		}
	}
	s.mu.Unlock()
	for _, c := range due {
		if _, err := s.measure(ctx, c); err != nil && !errors.Is(err, ErrNoQuality) && !errors.Is(err, queue.ErrGone) && ctx.Err() == nil {
			s.nodeOf(c).log.Debug("broadcast: line quality", "call", c.ID, "err", err)
		}
	}
}

// qualityBatch bounds the statistics requests a show makes per sample.
const qualityBatch = 20
