package broadcast

import (
	"context"
	"errors"
	"fmt"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// act runs a two-phase action: reserve under the show lock, do the
// telephony without it, then commit, or abort on any failure, so no
// reservation is ever left behind.
func (a *App) act(ctx context.Context, showKey string, reserve func(*queue.Show) (queue.Ticket, error),
	do func(*show, context.Context, queue.Ticket) error) (queue.Call, error) {
	s, err := a.show(showKey)
	if err != nil {
		return queue.Call{}, err
	}
	if err := s.studio().ready(); err != nil && !s.spread() {
		return queue.Call{}, err
	}
	s.mu.Lock()
	t, err := reserve(s.q)
	s.mu.Unlock()
	if err != nil {
		return queue.Call{}, err
	}
	derr := s.canAct(t)
	if derr == nil {
		derr = do(s, ctx, t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settle(t, derr)
}

// canAct checks, for a show across nodes, that the nodes a reserved action
// needs are up: the caller's, and the studio for one that goes on air or
// to a screening (a caller held away from the studio reaches both across
// the trunk).
func (s *show) canAct(t queue.Ticket) error {
	if !s.spread() {
		return nil
	}
	n := s.nodeOf(t.Call)
	if err := n.ready(); err != nil {
		return err
	}
	if t.To != queue.StateOnAir && t.To != queue.StateScreening {
		return nil
	}
	return s.studio().ready()
}

// settle ends a reservation: Commit when its telephony worked (derr nil),
// else Abort, naming ErrGone when the caller hung up meanwhile. Callers
// hold s.mu.
func (s *show) settle(t queue.Ticket, derr error) (queue.Call, error) {
	if derr != nil {
		aerr := s.q.Abort(t)
		if errors.Is(aerr, queue.ErrGone) && !errors.Is(derr, queue.ErrGone) {
			derr = fmt.Errorf("%w (after %w)", aerr, derr)
		}
		return queue.Call{}, fmt.Errorf("broadcast: %s %q: %w", t.Action, t.Call.ID, derr)
	}
	c, ts, err := s.q.Commit(s.app.cfg.Now(), t)
	if err != nil {
		return queue.Call{}, err
	}
	s.publish(ts)
	return c, nil
}

// Promote puts a waiting or ready caller on air: it is moved into the on-air
// bridge (leaving the holding bridge and its music), and talk detection is
// turned on. Errors: queue.ErrNotFound, ErrGone, ErrConflict (ErrBusy,
// ErrOnAirFull, already on air), ErrInvalid; ErrNodeDown, ErrTelephony.
func (a *App) Promote(ctx context.Context, showKey, callID string, actor queue.Actor) (queue.Call, error) {
	return a.act(ctx, showKey, func(q *queue.Show) (queue.Ticket, error) { return q.Promote(actor, callID) }, (*show).onAir)
}

// TakeNext puts the first free caller in line on air, as Promote does;
// for a show whose Take next clears the air (ShowConfig.NextClears), the
// unlocked callers on air are held or dropped first. Errors:
// queue.ErrNotFound when nobody is free in line, ErrOnAirFull, and those
// of Promote.
func (a *App) TakeNext(ctx context.Context, showKey string, actor queue.Actor) (queue.Call, error) {
	if s, err := a.show(showKey); err == nil && s.cfg.NextClears != "" {
		return a.takeNextClearing(ctx, s, actor)
	}
	return a.act(ctx, showKey, func(q *queue.Show) (queue.Ticket, error) { return q.TakeNext(actor) }, (*show).onAir)
}

// onAir moves the caller into the on-air bridge; the action is done (and
// answered) once its ChannelEnteredBridge has come. The talking indicator
// is turned on after that, off the action's path (talkDetect).
//
// A caller held on another node than the studio goes on air across the
// trunk (onAirRemote, trunk.go).
func (s *show) onAir(ctx context.Context, t queue.Ticket) error {
	if n := s.nodeOf(t.Call); n != s.studio() {
		return s.onAirRemote(ctx, t, n)
	}
	chanID := t.Call.ChannelID
	s.stopAnnouncement(ctx, t.Call.ID)
	if err := s.studio().moveTo(ctx, chanID, s.air.id, ""); err != nil {
		return err
	}
	s.talkDetect(s.studio(), t.Call.ID, chanID)
	return nil
}

// Hold puts a caller on air, screening or ready back in the holding bridge
// as waiting, keeping its place in line; a muted caller is unmuted.
// Errors: queue.ErrNotFound, ErrGone, ErrConflict (ErrBusy, ErrLocked,
// already waiting), ErrInvalid; ErrNodeDown, ErrTelephony.
func (a *App) Hold(ctx context.Context, showKey, callID string, actor queue.Actor) (queue.Call, error) {
	return a.act(ctx, showKey, func(q *queue.Show) (queue.Ticket, error) { return q.Hold(actor, callID) }, (*show).backToHold)
}

// Ready marks a screening (or waiting) caller ready for air with notes; a
// screening caller goes back to the holding bridge and its screener's line
// is hung up. Errors: queue.ErrNotFound, ErrGone, ErrConflict, ErrInvalid;
// ErrNodeDown, ErrTelephony.
func (a *App) Ready(ctx context.Context, showKey, callID string, actor queue.Actor, notes queue.Notes) (queue.Call, error) {
	return a.act(ctx, showKey, func(q *queue.Show) (queue.Ticket, error) { return q.Ready(actor, callID, notes) }, (*show).backToHold)
}

func (s *show) backToHold(ctx context.Context, t queue.Ticket) error {
	if t.From == queue.StateWaiting || t.From == queue.StateReady {
		return nil // already in a holding bridge: nothing moves
	}
	chanID := t.Call.ChannelID
	if t.From == queue.StateScreening && s.studio().bridgeShow(s.screenID(t.Call.ID)) == nil {
		return nil // screened without a phone: still in a holding bridge
	}
	var tc *trunkCall
	if t.From == queue.StateOnAir || t.From == queue.StateScreening {
		tc = s.app.takeTrunk(s, t.Call.ID) // across the trunk: its legs' ends are ours from here on
	}
	if err := s.holdOf(t.Call).joinHold(ctx, chanID); err != nil {
		if tc != nil {
			s.endTrunk(ctx, tc)
		}
		return err
	}
	if tc != nil {
		s.endTrunk(ctx, tc) // the caller hears the music first
	}
	if t.From == queue.StateScreening {
		s.mu.Lock()
		line := ""
		if c := s.calls[t.Call.ID]; c != nil {
			line, c.screenerLine = c.screenerLine, ""
		}
		s.mu.Unlock()
		s.endScreening(ctx, t.Call.ID, line)
	}
	if t.From == queue.StateOnAir {
		return s.offAir(ctx, s.nodeOf(t.Call), t.Call.ID, chanID, t.Call.Muted)
	}
	return nil
}

// offAir undoes what going on air set on a caller's channel (on node n)
// that is back on hold: the mute, if muted, and the talk detection.
func (s *show) offAir(ctx context.Context, n *node, callID, chanID string, muted bool) error {
	if muted {
		if err := n.ari.UnmuteChannel(ctx, chanID, ari.DirIn); err != nil {
			return n.restError(ctx, "unmute", chanID, err)
		}
	}
	s.talkDetected(ctx, callID) // its TALK_DETECT(set) goes first
	if err := n.ari.SetChannelVar(ctx, chanID, "TALK_DETECT(remove)", ""); err != nil && !channelMissing(err) {
		n.log.Warn("broadcast: TALK_DETECT(remove) failed", "call", callID, "err", err)
	}
	s.mu.Lock()
	s.setTalking(callID, false)
	s.mu.Unlock()
	return nil
}

// Mute mutes an on-air caller's voice into the bridge (direction in).
// Errors: queue.ErrNotFound, ErrGone, ErrConflict, ErrInvalid; ErrNodeDown,
// ErrTelephony.
func (a *App) Mute(ctx context.Context, showKey, callID string, actor queue.Actor) (queue.Call, error) {
	return a.act(ctx, showKey, func(q *queue.Show) (queue.Ticket, error) { return q.Mute(actor, callID) },
		func(s *show, ctx context.Context, t queue.Ticket) error {
			n := s.nodeOf(t.Call)
			if err := n.ari.MuteChannel(ctx, t.Call.ChannelID, ari.DirIn); err != nil {
				return n.restError(ctx, "mute", t.Call.ChannelID, err)
			}
			return nil
		})
}

// Unmute unmutes an on-air caller. Errors as Mute.
func (a *App) Unmute(ctx context.Context, showKey, callID string, actor queue.Actor) (queue.Call, error) {
	return a.act(ctx, showKey, func(q *queue.Show) (queue.Ticket, error) { return q.Unmute(actor, callID) },
		func(s *show, ctx context.Context, t queue.Ticket) error {
			n := s.nodeOf(t.Call)
			if err := n.ari.UnmuteChannel(ctx, t.Call.ChannelID, ari.DirIn); err != nil {
				return n.restError(ctx, "unmute", t.Call.ChannelID, err)
			}
			return nil
		})
}

// DropOptions tune Drop.
type DropOptions struct {
	Reason  string // why, for the record
	Goodbye bool   // play the show's goodbye prompt to the caller first
	// NotOnAir refuses the drop (queue.ErrConflict) when the caller is on
	// air at the moment of the drop: for someone who may drop only waiting
	// callers, checked atomically with the reservation, so a caller promoted
	// a moment before is never dropped under that permission.
	NotOnAir bool
}

// Drop ends a call: optionally plays the goodbye prompt to the caller alone
// and waits for it to finish (or time out), then hangs up. The call ends as
// dropped (aired if it was ever on air), with the hang-up's cause. A caller
// who hangs up meanwhile still counts as dropped. Errors: queue.ErrNotFound,
// ErrGone, ErrConflict (ErrBusy, ErrLocked); ErrNodeDown, ErrTelephony.
func (a *App) Drop(ctx context.Context, showKey, callID string, actor queue.Actor, opts DropOptions) (queue.Call, error) {
	s, err := a.show(showKey)
	if err != nil {
		return queue.Call{}, err
	}
	if err := s.studio().ready(); err != nil && !s.spread() {
		return queue.Call{}, err
	}
	s.mu.Lock()
	t, err := s.q.Drop(actor, callID, opts.Reason)
	if err == nil && opts.NotOnAir && t.From == queue.StateOnAir {
		_ = s.q.Abort(t)
		err = fmt.Errorf("broadcast: drop %q: the caller is on air: %w", callID, queue.ErrConflict)
	}
	if err == nil {
		if err = s.canAct(t); err != nil {
			_ = s.q.Abort(t)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return queue.Call{}, err
	}
	derr := s.hangUp(ctx, t, opts.Goodbye)
	s.mu.Lock()
	defer s.mu.Unlock()
	if derr != nil {
		if aerr := s.q.Abort(t); errors.Is(aerr, queue.ErrGone) {
			return s.q.Get(callID) // the hang-up completed the drop
		}
		return queue.Call{}, fmt.Errorf("broadcast: drop %q: %w", callID, derr)
	}
	c, ts, err := s.q.Commit(a.cfg.Now(), t)
	if errors.Is(err, queue.ErrGone) {
		return s.q.Get(callID) // ChannelDestroyed recorded the drop, with its cause
	}
	if err != nil {
		return queue.Call{}, err
	}
	s.publish(ts)
	return c, nil
}

// hangUp plays the goodbye (if asked), hangs the caller up and waits until
// the call has ended: for StasisEnd, which is the last event callin's socket
// gets for a caller who dialled in (trace 09e). The reader ends the call on
// it (with the drop reserved, as a drop, with our hang-up's cause); a
// later ChannelDestroyed only fills in another cause (node.stasisEnd). A
// caller who had left Stasis before the hang-up is ErrGone: they hung up
// first.
func (s *show) hangUp(ctx context.Context, t queue.Ticket, goodbye bool) error {
	n := s.nodeOf(t.Call)
	chanID := t.Call.ChannelID
	if goodbye {
		s.stopAnnouncement(ctx, t.Call.ID)
		if err := n.play(ctx, chanID, s.cfg.Media.Goodbye); err != nil {
			if ctx.Err() != nil {
				return err
			}
			n.log.Info("broadcast: goodbye did not finish", "call", t.Call.ID, "err", err)
		}
	}
	end := n.waits.expect(ari.TypeStasisEnd, chanID, chanID, nil)
	// Our own hang-up's cause, should its ChannelDestroyed not come:
	// DELETE ?reason=normal is 16, normal clearing (trace 04 d3).
	n.defaultCause(chanID, 16)
	if err := n.ari.HangupChannel(ctx, chanID, ari.HangupNormal); err != nil && !errors.Is(err, ari.ErrNotFound) {
		n.waits.cancel(end)
		return telErr("hangup", err)
	}
	_, err := n.waits.wait(ctx, end, s.app.cfg.EventTimeout)
	if err != nil && !errors.Is(err, queue.ErrGone) {
		n.log.Info("broadcast: no StasisEnd after hangup", "call", t.Call.ID, "err", err)
		return nil
	}
	// Gone before our hang-up or because of it: either way the reader has
	// ended the call on its StasisEnd, with the drop reserved.
	return telErr("hangup", err)
}

// immediate runs an action without telephony under the show lock.
func (a *App) immediate(showKey string, f func(*queue.Show) (queue.Call, []queue.Transition, error)) (queue.Call, error) {
	s, err := a.show(showKey)
	if err != nil {
		return queue.Call{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ts, err := f(s.q)
	if err != nil {
		return queue.Call{}, err
	}
	s.publish(ts)
	return c, nil
}

// Lock locks an on-air caller against drop and moves. Errors:
// queue.ErrNotFound, ErrGone, ErrConflict, ErrInvalid.
func (a *App) Lock(showKey, callID string, actor queue.Actor) (queue.Call, error) {
	return a.immediate(showKey, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.Lock(a.cfg.Now(), actor, callID)
	})
}

// Unlock unlocks an on-air caller. Errors as Lock.
func (a *App) Unlock(showKey, callID string, actor queue.Actor) (queue.Call, error) {
	return a.immediate(showKey, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.Unlock(a.cfg.Now(), actor, callID)
	})
}

// MoveToTop puts a caller in line ahead of everyone but the pick. Errors:
// queue.ErrNotFound, ErrGone, ErrConflict, ErrInvalid.
func (a *App) MoveToTop(showKey, callID string, actor queue.Actor) (queue.Call, error) {
	return a.immediate(showKey, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.MoveToTop(a.cfg.Now(), actor, callID)
	})
}

// PickNext makes a caller in line the one TakeNext takes next. Errors:
// queue.ErrNotFound, ErrGone, ErrConflict, ErrInvalid.
func (a *App) PickNext(showKey, callID string, actor queue.Actor) (queue.Call, error) {
	c, err := a.immediate(showKey, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.PickNext(a.cfg.Now(), actor, callID)
	})
	if err == nil {
		if s, _ := a.show(showKey); s.readyCheckOn() && !c.Confirmed {
			s.nodeOf(c).submitOrLog(func(ctx context.Context) { s.readyCheck(ctx, c) })
		}
	}
	return c, err
}

// UpdateNotes replaces a caller's screener notes. Errors:
// queue.ErrNotFound, ErrGone, ErrConflict, ErrInvalid.
func (a *App) UpdateNotes(showKey, callID string, actor queue.Actor, notes queue.Notes) (queue.Call, error) {
	return a.immediate(showKey, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.UpdateNotes(a.cfg.Now(), actor, callID, notes)
	})
}
