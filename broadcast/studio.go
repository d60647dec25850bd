package broadcast

import (
	"context"
	"fmt"

	"github.com/callin-radio/callin/queue"
)

// The studio of a show across nodes (issue 24): the node of its on-air
// bridge, hosts, screenings, recording, call-backs and talkback. Lost
// (down past Config.NodeLostAfter), the show says so (StudioState.Lost,
// in Snapshot.Studio and UpdateStudio: a console shows it loudly); its
// callers on the other nodes keep their places and their music, those
// on air across the trunk go back on hold (air_lost), and nobody can go
// on air until the studio comes back or SetStudio names another.

// StudioState is a show's studio node and whether the show can go on air
// there.
type StudioState struct {
	Node  string    `json:"node"`
	State NodeState `json:"state"`
	// Lost says the studio node was down past Config.NodeLostAfter and
	// has not come back: the show is off air until it does or another
	// studio is named (App.SetStudio).
	Lost bool `json:"lost,omitempty"`
}

// studioState is the show's StudioState now.
func (s *show) studioState() StudioState {
	n := s.studio()
	h := n.healthNow()
	n.mu.Lock()
	defer n.mu.Unlock()
	return StudioState{Node: n.name, State: h.State, Lost: n.gone}
}

// tellStudio tells the show's subscribers its studio's state (shows
// across nodes only: on one node, UpdateNode says it all).
func (s *show) tellStudio() {
	if !s.spread() {
		return
	}
	st := s.studioState()
	s.mu.Lock()
	s.emit(Update{Kind: UpdateStudio, Studio: st})
	s.mu.Unlock()
}

// SetStudio names another of the show's nodes as its studio while the
// show runs: the on-air bridge is created there, and promote, hosts,
// screening, recording, call-backs and talkback use it from then on.
// The node must be up (ErrNodeDown). While the current studio is up, it
// is allowed only with nobody on air or screening, no host, no recording
// and no talkback (queue.ErrConflict): nothing is moved across. With the
// current studio down or lost, whatever was on air there is given up:
// callers on air across the trunk go back on hold (air_lost), the hosts
// and a recording are forgotten. Naming the studio it has is a no-op.
// The App does not keep it across a restart of callin; the service does
// (internal/cluster: Controls.SetStudio saves it, RestoreStudios names it
// again at a start).
// Errors: queue.ErrNotFound (show), queue.ErrInvalid (not one of the
// show's nodes), ErrTelephony.
func (a *App) SetStudio(ctx context.Context, showKey, nodeName string) error {
	s, err := a.show(showKey)
	if err != nil {
		return err
	}
	hm := s.spanAt.Load().holds[nodeName]
	if hm == nil {
		return fmt.Errorf("broadcast: show %q does not take node %q's callers: %w", showKey, nodeName, queue.ErrInvalid)
	}
	old, n := s.studio(), hm.node
	if n == old {
		return nil
	}
	if err := n.ready(); err != nil {
		return err
	}
	if old.ready() == nil {
		if err := s.airIdle(); err != nil {
			return err
		}
	}
	if err := s.createBridge(ctx, n, s.air.id); err != nil {
		return telErr("create the on-air bridge on "+n.name, err)
	}
	n.indexBridge(s.air.id, s)
	if !s.studioAt.CompareAndSwap(old, n) {
		return fmt.Errorf("broadcast: show %q: the studio changed meanwhile: %w", showKey, queue.ErrConflict)
	}
	old.unindexBridge(s.air.id)
	s.trunksLost(old) // callers on air across the trunk to the old studio: back on hold
	s.air.reset("the studio moved from " + old.name + " to " + n.name)
	a.log.Warn("broadcast: studio changed", "show", showKey, "from", old.name, "to", n.name)
	s.tellStudio()
	s.holdOn(old).tell()
	hm.tell()
	s.mu.Lock()
	s.emit(Update{Kind: UpdateRecording, Recording: s.air.rec()})
	s.mu.Unlock()
	return nil
}

// airIdle returns queue.ErrConflict unless nothing is on air, screening,
// hosting, recording or talking back.
func (s *show) airIdle() error {
	s.mu.Lock()
	st := s.q.Stats(s.app.cfg.Now())
	s.mu.Unlock()
	sh := s.studioHold()
	sh.mu.Lock()
	talkback := sh.talkback != nil
	sh.mu.Unlock()
	switch {
	case st.OnAir > 0 || st.Screening > 0:
		return fmt.Errorf("broadcast: show %q has callers on air or screening: %w", s.key, queue.ErrConflict)
	case len(s.air.hostList()) > 0 || s.air.rec().Active || talkback:
		return fmt.Errorf("broadcast: show %q has hosts, a recording or a talkback on: %w", s.key, queue.ErrConflict)
	}
	return nil
}

// reset forgets the hosts and an active recording of an on-air bridge
// left behind (why says so in the recording's Error).
func (a *air) reset(why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.hosts)
	if a.recording.Active {
		a.recording.Active, a.recording.State, a.recording.Error = false, "failed", why
	}
}
