package broadcast

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	if err := s.node.ready(); err != nil {
		return queue.Call{}, err
	}
	s.mu.Lock()
	t, err := reserve(s.q)
	s.mu.Unlock()
	if err != nil {
		return queue.Call{}, err
	}
	derr := do(s, ctx, t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if derr != nil {
		aerr := s.q.Abort(t)
		if errors.Is(aerr, queue.ErrGone) && !errors.Is(derr, queue.ErrGone) {
			derr = fmt.Errorf("%w (after %w)", aerr, derr)
		}
		return queue.Call{}, fmt.Errorf("broadcast: %s %q: %w", t.Action, t.Call.ID, derr)
	}
	c, ts, err := s.q.Commit(a.cfg.Now(), t)
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

func (s *show) onAir(ctx context.Context, t queue.Ticket) error {
	chanID := t.Call.ChannelID
	s.stopAnnouncement(ctx, t.Call.ID)
	if err := s.moveTo(ctx, chanID, s.airID, ""); err != nil {
		return err
	}
	// The talking indicator: best effort, the caller is on air either way.
	if err := s.node.ari.SetChannelVar(ctx, chanID, "TALK_DETECT(set)", ""); err != nil {
		s.node.log.Warn("broadcast: TALK_DETECT failed", "call", t.Call.ID, "err", err)
	}
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
	if t.From == queue.StateScreening && s.node.bridgeShow(s.screenID(t.Call.ID)) == nil {
		return nil // screened without a phone: still in a holding bridge
	}
	if err := s.joinHold(ctx, chanID); err != nil {
		return err
	}
	if t.From == queue.StateScreening {
		s.mu.Lock()
		line := s.screenerLines[t.Call.ID]
		delete(s.screenerLines, t.Call.ID)
		s.mu.Unlock()
		s.endScreening(ctx, t.Call.ID, line)
	}
	if t.From == queue.StateOnAir {
		if t.Call.Muted {
			if err := s.node.ari.UnmuteChannel(ctx, chanID, ari.DirIn); err != nil {
				return s.node.restError(ctx, "unmute", chanID, err)
			}
		}
		if err := s.node.ari.SetChannelVar(ctx, chanID, "TALK_DETECT(remove)", ""); err != nil {
			s.node.log.Warn("broadcast: TALK_DETECT(remove) failed", "call", t.Call.ID, "err", err)
		}
		s.mu.Lock()
		if s.talking[t.Call.ID] {
			delete(s.talking, t.Call.ID)
			s.emit(Update{Kind: UpdateTalking, CallID: t.Call.ID})
		}
		s.mu.Unlock()
	}
	return nil
}

// Mute mutes an on-air caller's voice into the bridge (direction in).
// Errors: queue.ErrNotFound, ErrGone, ErrConflict, ErrInvalid; ErrNodeDown,
// ErrTelephony.
func (a *App) Mute(ctx context.Context, showKey, callID string, actor queue.Actor) (queue.Call, error) {
	return a.act(ctx, showKey, func(q *queue.Show) (queue.Ticket, error) { return q.Mute(actor, callID) },
		func(s *show, ctx context.Context, t queue.Ticket) error {
			if err := s.node.ari.MuteChannel(ctx, t.Call.ChannelID, ari.DirIn); err != nil {
				return s.node.restError(ctx, "mute", t.Call.ChannelID, err)
			}
			return nil
		})
}

// Unmute unmutes an on-air caller. Errors as Mute.
func (a *App) Unmute(ctx context.Context, showKey, callID string, actor queue.Actor) (queue.Call, error) {
	return a.act(ctx, showKey, func(q *queue.Show) (queue.Ticket, error) { return q.Unmute(actor, callID) },
		func(s *show, ctx context.Context, t queue.Ticket) error {
			if err := s.node.ari.UnmuteChannel(ctx, t.Call.ChannelID, ari.DirIn); err != nil {
				return s.node.restError(ctx, "unmute", t.Call.ChannelID, err)
			}
			return nil
		})
}

// Screen takes a waiting or ready caller to screening with a screener. When
// the screener has a phone (Config.Phones, or ShowConfig.ScreenerEndpoints)
// callin rings it while the caller stays on hold at their place, and once
// it is answered puts both in a private screening bridge
// ("callin-<show>-scr-<call>"). A phone that is busy, unanswered or
// unreachable leaves the caller on hold, unchanged, and the error says which
// (ErrPhone). Without a phone the caller is marked screening and stays in the
// holding bridge with its music. Errors: queue.ErrNotFound, ErrGone,
// ErrConflict, ErrInvalid; ErrNodeDown, ErrPhone, ErrTelephony.
func (a *App) Screen(ctx context.Context, showKey, callID string, actor queue.Actor, screener string) (queue.Call, error) {
	return a.act(ctx, showKey, func(q *queue.Show) (queue.Ticket, error) { return q.Screen(actor, callID, screener) }, (*show).screen)
}

// phone is the endpoint of a screener's phone, if any.
func (s *show) phone(screener string) string {
	if p := s.app.cfg.Phones; p != nil {
		if ep, ok := p.Phone(screener); ok {
			return ep
		}
	}
	return s.cfg.ScreenerEndpoints[screener]
}

func (s *show) screen(ctx context.Context, t queue.Ticket) error {
	endpoint := s.phone(t.Screener)
	if endpoint == "" {
		return nil // screened from the console: the caller keeps the music
	}
	n := s.node
	line := "callin-scr-" + newID()
	n.index(line, &chanRef{show: s, role: roleScreener, callID: t.Call.ID})
	s.mu.Lock()
	s.screenerLines[t.Call.ID] = line
	s.mu.Unlock()
	if err := s.ring(ctx, line, endpoint, roleScreener+","+t.Call.ID, fmt.Sprintf("%q <%s>", t.Call.Name, t.Call.Number)); err != nil {
		s.mu.Lock()
		if s.screenerLines[t.Call.ID] == line {
			delete(s.screenerLines, t.Call.ID)
		}
		s.mu.Unlock()
		return err
	}
	bridgeID := s.screenID(t.Call.ID)
	if _, err := n.ari.CreateBridge(ctx, bridgeID, ari.BridgeMixing, "screening "+t.Call.ID); err != nil && !errors.Is(err, ari.ErrConflict) {
		s.endScreening(ctx, t.Call.ID, line)
		return telErr("create screening bridge", err)
	}
	n.mu.Lock()
	n.bridges[bridgeID] = s
	n.mu.Unlock()
	s.stopAnnouncement(ctx, t.Call.ID)
	if err := s.moveTo(ctx, line, bridgeID, ""); err != nil {
		s.endScreening(ctx, t.Call.ID, line)
		return err
	}
	if err := s.moveTo(ctx, t.Call.ChannelID, bridgeID, ""); err != nil {
		if herr := s.joinHold(ctx, t.Call.ChannelID); herr != nil && !errors.Is(herr, queue.ErrGone) {
			n.log.Warn("broadcast: returning caller to hold failed", "call", t.Call.ID, "err", herr)
		}
		s.endScreening(ctx, t.Call.ID, line)
		return err
	}
	s.mu.Lock()
	s.emit(Update{Kind: UpdateScreener, CallID: t.Call.ID})
	s.mu.Unlock()
	return nil
}

// ring calls a phone into the app (POST /channels with app=) showing
// callerID, and waits until it is answered (its StasisStart) or fails:
// busy, no answer, unreachable (its ChannelDestroyed, trace 13), or
// Config.RingTimeout. The channel is hung up on every failure.
func (s *show) ring(ctx context.Context, chanID, endpoint, args, callerID string) error {
	n := s.node
	up := n.waits.expect(ari.TypeStasisStart, chanID, "", nil)
	down := n.waits.expect(ari.TypeChannelDestroyed, chanID, "", nil)
	defer n.waits.cancel(up)
	defer n.waits.cancel(down)
	timeout := s.app.cfg.RingTimeout
	if _, err := n.ari.Originate(ctx, ari.OriginateParams{
		Endpoint: endpoint, App: s.app.cfg.App, AppArgs: s.key + "," + args, ChannelID: chanID,
		CallerID: callerID, Timeout: timeout,
	}); err != nil {
		n.unindex(chanID)
		return telErr("call "+endpoint, err)
	}
	// Asterisk gives up ringing after the originate's timeout (a
	// ChannelDestroyed with cause 19); the wait allows it a few seconds.
	wait, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	select {
	case res := <-up.done:
		if res.err == nil {
			return nil
		}
		n.unindex(chanID)
		return telErr("call "+endpoint, res.err)
	case res := <-down.done:
		n.unindex(chanID)
		if res.err != nil {
			return telErr("call "+endpoint, res.err)
		}
		return phoneError(endpoint, res.ev.(*ari.ChannelDestroyed).Cause)
	case <-wait.Done():
		n.unindex(chanID)
		n.hangup(context.WithoutCancel(ctx), chanID, ari.HangupNormal)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("broadcast: %s did not answer: %w", endpoint, ErrPhone)
	}
}

// phoneError says why a phone did not answer, from its hang-up cause.
func phoneError(endpoint string, cause int) error {
	why := "could not be reached"
	switch cause {
	case 17:
		why = "is busy"
	case 18, 19:
		why = "did not answer"
	case 21:
		why = "refused the call"
	case 1, 3, 20, 27, 38:
		why = "is not registered or not reachable"
	}
	return fmt.Errorf("broadcast: the phone %s %s (cause %d): %w", endpoint, why, cause, ErrPhone)
}

// screenerJoin takes note of a screener's answered line: Screen, which rang
// it, puts it in the screening bridge. A line nobody waits for any more
// (the screening ended, or gave up ringing) is hung up.
func (s *show) screenerJoin(ctx context.Context, lineID, callID string) {
	s.mu.Lock()
	want := s.screenerLines[callID] == lineID
	s.mu.Unlock()
	if !want {
		s.node.unindex(lineID)
		s.node.hangup(ctx, lineID, ari.HangupNormal)
	}
}

// screenerGone is a screener's line that hung up: a caller still being
// screened on it goes back on hold at their place, not left in a silent
// bridge.
func (s *show) screenerGone(lineID, callID string) {
	s.mu.Lock()
	mine := s.screenerLines[callID] == lineID
	if mine {
		delete(s.screenerLines, callID)
	}
	c, err := s.q.Get(callID)
	s.mu.Unlock()
	if !mine || err != nil || c.State != queue.StateScreening || c.Pending != "" {
		return
	}
	s.node.submitOrLog(func(ctx context.Context) {
		if _, err := s.app.Hold(ctx, s.key, callID, queue.System); err != nil && !errors.Is(err, queue.ErrGone) {
			s.node.log.Warn("broadcast: caller not returned to hold after the screener hung up", "call", callID, "err", err)
		}
	})
}

// endScreening hangs up a screener's line and destroys the screening bridge.
func (s *show) endScreening(ctx context.Context, callID, line string) {
	n := s.node
	if line != "" {
		n.hangup(ctx, line, ari.HangupNormal)
	}
	id := s.screenID(callID)
	n.mu.Lock()
	_, had := n.bridges[id]
	delete(n.bridges, id)
	n.mu.Unlock()
	if !had {
		return
	}
	if err := n.ari.DestroyBridge(ctx, id); err != nil && !errors.Is(err, ari.ErrNotFound) {
		n.log.Warn("broadcast: destroying screening bridge failed", "bridge", id, "err", err)
	}
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
	if err := s.node.ready(); err != nil {
		return queue.Call{}, err
	}
	s.mu.Lock()
	t, err := s.q.Drop(actor, callID, opts.Reason)
	if err == nil && opts.NotOnAir && t.From == queue.StateOnAir {
		_ = s.q.Abort(t)
		err = fmt.Errorf("broadcast: drop %q: the caller is on air: %w", callID, queue.ErrConflict)
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
// gets for a caller who dialled in (trace 09e), then, when the channel is
// subscribed, for the ChannelDestroyed that carries the cause. The reader
// ends the call on those events (with the drop reserved, as a drop). A
// caller who had left Stasis before the hang-up is ErrGone: they hung up
// first.
func (s *show) hangUp(ctx context.Context, t queue.Ticket, goodbye bool) error {
	n := s.node
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
	destroyed := n.waits.expect(ari.TypeChannelDestroyed, chanID, chanID, nil)
	defer n.waits.cancel(destroyed)
	n.mu.Lock()
	if ref := n.chans[chanID]; ref != nil && ref.hangCause == 0 {
		// Our own hang-up's cause, should its ChannelDestroyed not come:
		// DELETE ?reason=normal is 16, normal clearing (trace 04 d3).
		ref.hangCause = 16
	}
	n.mu.Unlock()
	if err := n.ari.HangupChannel(ctx, chanID, ari.HangupNormal); err != nil && !errors.Is(err, ari.ErrNotFound) {
		n.waits.cancel(end)
		return telErr("hangup", err)
	}
	_, err := n.waits.wait(ctx, end, s.app.cfg.EventTimeout)
	if err != nil && !errors.Is(err, queue.ErrGone) {
		n.log.Info("broadcast: no StasisEnd after hangup", "call", t.Call.ID, "err", err)
		return nil
	}
	// Gone before our hang-up or because of it: either way the call ends
	// on the reader, with the drop reserved, once its ChannelDestroyed
	// (or the grace) has come. Wait for that, so the drop sees it ended.
	n.mu.Lock()
	ref := n.chans[chanID]
	pending := ref != nil && ref.left
	n.mu.Unlock()
	if pending {
		_, _ = n.waits.wait(ctx, destroyed, s.app.cfg.EndGrace) // a timeout ends the call anyway
	}
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
			s.node.submitOrLog(func(ctx context.Context) { s.readyCheck(ctx, c) })
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
