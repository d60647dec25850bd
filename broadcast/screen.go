package broadcast

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// Screening on a screener's phone. Screen answers as soon as Asterisk has
// taken the call to the phone (the originate's answer, milliseconds): the
// caller stays on hold at their place with a reservation (Call.Pending
// "screen") while it rings, and a goroutine of the App waits for the phone
// (one per reservation, so at most one per caller in line; Run waits for
// them). Each step reaches subscribers as an UpdateScreening: ringing, then
// answered (after the screen transition) or why not. A phone that does not
// answer used to hold the request for the whole ring timeout (issue 25,
// defect 6: 20 s before a 502 on a real Asterisk).

// ScreenState says where a screening on a phone is.
type ScreenState string

// Screening states. What each unanswered state is told by comes from
// trace 13 (a real Asterisk ringing a SIP phone) and TestScreenOnARealPBX.
const (
	// ScreenRinging: the phone rings; the caller keeps the music and their
	// place, reserved for the screening (Call.Pending "screen").
	ScreenRinging ScreenState = "ringing"
	// ScreenAnswered: answered; caller and screener are in the screening
	// bridge and the call is screening.
	ScreenAnswered ScreenState = "answered"
	// ScreenBusy: the phone said it is busy (486, Q.850 17: trace 13c).
	ScreenBusy ScreenState = "busy"
	// ScreenUnavailable: the phone turned the call away as unavailable
	// (480: a hang-up request with cause 19 before ChannelDestroyed(19),
	// trace 13c), or said no answer itself (18).
	ScreenUnavailable ScreenState = "unavailable"
	// ScreenNoAnswer: it rang for Config.RingTimeout (ChannelDestroyed(19)
	// in state Ringing with no hang-up request: trace 13d).
	ScreenNoAnswer ScreenState = "no_answer"
	// ScreenUnreachable: nothing answered the call setup (ChannelDestroyed(19)
	// in state Down at the timeout: trace 13b), or the endpoint is not
	// registered or reachable (causes 1, 3, 20, 27, 38 and the rest: a
	// guess, no trace has them).
	ScreenUnreachable ScreenState = "unreachable"
	// ScreenRefused: the phone rejected the call (Q.850 21; a guess, no
	// trace has it).
	ScreenRefused ScreenState = "refused"
	// ScreenFailed: Asterisk did not do what callin asked (ring the phone,
	// or bridge the two once answered); the caller is back on hold.
	ScreenFailed ScreenState = "failed"
	// ScreenCallerGone: the caller hung up (or the call ended) while the
	// phone rang; the phone is hung up.
	ScreenCallerGone ScreenState = "caller_gone"
)

// Screening is a screening on a screener's phone: being rung, or how the
// attempt ended. Snapshot.Screenings keeps those ringing and each call's
// last unanswered attempt until the call's next transition.
type Screening struct {
	CallID   string      `json:"call_id"`
	Screener string      `json:"screener"`
	Phone    string      `json:"phone"`            // the endpoint rung
	Caller   string      `json:"caller,omitempty"` // the caller's name when rung: the screener's notes, else caller ID
	Number   string      `json:"number"`
	State    ScreenState `json:"state"`
	// Cause is the Q.850 cause of the phone's hang-up, when it gave one.
	Cause   int           `json:"cause,omitempty"`
	Rang    time.Duration `json:"rang"` // how long it rang, once over
	Started time.Time     `json:"started"`
	Ended   time.Time     `json:"ended,omitzero"`
}

// OnHold reports whether the attempt is over and left the caller on hold
// at their place: any end but answered and the caller gone.
func (sc Screening) OnHold() bool {
	return sc.State != ScreenRinging && sc.State != ScreenAnswered && sc.State != ScreenCallerGone
}

// PhoneError is a phone that callin rang and that did not answer; it wraps
// ErrPhone. Its message keeps the words "is busy", "did not answer",
// "refused the call", "is not registered or not reachable" and "could not
// be reached" by cause, as before.
type PhoneError struct {
	Endpoint string
	State    ScreenState // busy, unavailable, no_answer, unreachable or refused
	Cause    int         // Q.850; 0 when callin gave up waiting
}

func (e *PhoneError) Error() string {
	if e.Cause == 0 {
		return fmt.Sprintf("broadcast: %s did not answer", e.Endpoint)
	}
	why := "could not be reached"
	switch e.Cause {
	case 17:
		why = "is busy"
	case 18, 19:
		why = "did not answer"
	case 21:
		why = "refused the call"
	case 1, 3, 20, 27, 38:
		why = "is not registered or not reachable"
	}
	return fmt.Sprintf("broadcast: the phone %s %s (cause %d)", e.Endpoint, why, e.Cause)
}

// Unwrap makes a PhoneError an ErrPhone (and so an ErrTelephony).
func (e *PhoneError) Unwrap() error { return ErrPhone }

// phoneError says why a phone did not answer, from ChannelDestroyed's
// cause and state and whether a hang-up request with a cause came first
// (trace 13: 480 sends one, a ring timeout and an unreachable phone none).
func phoneError(endpoint string, cause int, asked bool, state string) *PhoneError {
	e := &PhoneError{Endpoint: endpoint, Cause: cause, State: ScreenUnreachable}
	switch cause {
	case 17:
		e.State = ScreenBusy
	case 18, 19:
		switch {
		case asked || cause == 18:
			e.State = ScreenUnavailable
		case state == ari.StateDown:
			e.State = ScreenUnreachable
		default:
			e.State = ScreenNoAnswer
		}
	case 21:
		e.State = ScreenRefused
	}
	return e
}

// Screen takes a waiting or ready caller to screening with a screener.
// Without a phone (Config.Phones, or ShowConfig.ScreenerEndpoints) the
// caller is marked screening at once and stays in the holding bridge with
// its music: the call comes back screening. With one, Screen rings it and
// returns as soon as Asterisk has taken the call, with the caller as it
// was and Pending "screen": the caller keeps the music and their place
// while it rings. Subscribers get an UpdateScreening (ringing), then, once
// answered, the screen transition (both in a private screening bridge
// "callin-<show>-scr-<call>" on the studio, where the phone is rung; a
// caller held on another node joins it across the trunk, crossTrunk) and
// an UpdateScreening answered; a phone that
// is busy, unavailable, unanswered after Config.RingTimeout or unreachable
// leaves the caller on hold, unchanged, and its UpdateScreening says which.
// Errors: queue.ErrNotFound, ErrGone, ErrConflict (ErrBusy, already
// screening), ErrInvalid; ErrNodeDown; ErrTelephony when Asterisk refused
// to ring the phone at all.
func (a *App) Screen(ctx context.Context, showKey, callID string, actor queue.Actor, screener string) (queue.Call, error) {
	reserve := func(q *queue.Show) (queue.Ticket, error) { return q.Screen(actor, callID, screener) }
	s, err := a.show(showKey)
	if err != nil {
		return queue.Call{}, err
	}
	endpoint, err := s.phone(screener)
	if err != nil {
		return queue.Call{}, fmt.Errorf("broadcast: screen %q: %w", callID, err)
	}
	if endpoint == "" { // screened from the console: the caller keeps the music
		return a.act(ctx, showKey, reserve, func(*show, context.Context, queue.Ticket) error { return nil })
	}
	n := s.studio()
	if err := n.ready(); err != nil {
		return queue.Call{}, err
	}
	line := "callin-scr-" + newID()
	s.mu.Lock()
	t, err := reserve(s.q)
	if err == nil {
		if err = s.canAct(t); err != nil {
			_ = s.q.Abort(t)
		}
	}
	if err != nil {
		s.mu.Unlock()
		return queue.Call{}, err
	}
	sc := Screening{CallID: callID, Screener: screener, Phone: endpoint, Caller: t.Call.Notes.Name, Number: t.Call.Number,
		State: ScreenRinging, Started: a.cfg.Now()}
	if sc.Caller == "" {
		sc.Caller = t.Call.Name
	}
	if c := s.call(callID); c != nil {
		c.screening, c.screenerLine = &sc, line
	}
	s.emit(Update{Kind: UpdateScreening, Screening: sc})
	s.mu.Unlock()

	n.index(line, &chanRef{show: s, role: roleScreener, callID: callID})
	rg, err := s.dial(ctx, s.studio(), line, endpoint, roleScreener+","+callID, fmt.Sprintf("%q <%s>", t.Call.Name, t.Call.Number))
	if err != nil {
		s.screenEnded(t, sc, line, ScreenFailed, 0, err)
		return queue.Call{}, fmt.Errorf("broadcast: %s %q: %w", t.Action, callID, err)
	}
	if !a.background(func(ctx context.Context) { s.screenRung(ctx, t, sc, line, rg) }) {
		rg.giveUp(context.WithoutCancel(ctx))
		s.screenEnded(t, sc, line, ScreenFailed, 0, ErrNodeDown)
		return queue.Call{}, fmt.Errorf("broadcast: %s %q: the app is stopping: %w", t.Action, callID, ErrNodeDown)
	}
	return t.Call, nil
}

// phone is the endpoint of a screener's phone, if any: their own phone
// (Config.Phones), which Config.PhoneRule must allow (a *queue.FieldError
// for "phone" if not), else the show's configured one.
func (s *show) phone(screener string) (string, error) {
	if p := s.app.cfg.Phones; p != nil {
		if ep, ok := p.Phone(screener); ok {
			return ep, s.app.allowPhone(screener, ep)
		}
	}
	return s.cfg.ScreenerEndpoints[screener], nil
}

// allowPhone checks a person's phone against Config.PhoneRule, just
// before callin would ring it (issue 21, point 4: a phone of
// "Local/0019005550100@from-internal" was originated). It returns a
// *queue.FieldError for "phone", an ErrInvalid.
func (a *App) allowPhone(user, endpoint string) error {
	if err := a.cfg.PhoneRule.Allow(endpoint); err != nil {
		a.log.Warn("broadcast: a phone the installation does not allow was not rung", "user", user, "phone", endpoint)
		return &queue.FieldError{Field: "phone", Message: fmt.Sprintf("%s's phone %s is not one this installation allows (%s): set another on the settings page",
			user, endpoint, a.cfg.PhoneRule)}
	}
	return nil
}

// screenRung waits for the screener's phone of ticket t, then puts caller
// and screener in the screening bridge and commits, or aborts and says
// why. It runs in the App's background (Screen has returned). sc is the
// screening as it began ringing.
func (s *show) screenRung(ctx context.Context, t queue.Ticket, sc Screening, line string, rg *ringing) {
	if err := rg.wait(ctx); err != nil {
		st, cause := ScreenFailed, 0
		if pe := (*PhoneError)(nil); errors.As(err, &pe) {
			st, cause = pe.State, pe.Cause
		}
		s.screenEnded(t, sc, line, st, cause, err)
		return
	}
	if err := s.screenConnect(ctx, t, line); err != nil {
		s.screenEnded(t, sc, line, ScreenFailed, 0, err)
		return
	}
	callID := t.Call.ID
	now := s.app.cfg.Now()
	s.mu.Lock()
	_, ts, err := s.q.Commit(now, t)
	if err != nil {
		s.mu.Unlock()
		// The caller hung up, or a resync took the reservation back:
		// nothing is screening.
		s.screenUndo(ctx, t, line)
		s.screenEnded(t, sc, line, ScreenFailed, 0, err)
		return
	}
	s.publish(ts)
	c := s.calls[callID]
	if c != nil {
		c.screening = nil
	}
	sc.State, sc.Ended, sc.Rang = ScreenAnswered, now, now.Sub(sc.Started)
	s.emit(Update{Kind: UpdateScreening, Screening: sc})
	s.emit(Update{Kind: UpdateScreener, CallID: callID})
	// The screener hung up while the two were being bridged: screenerGone
	// left the caller alone then (the reservation was held), so hold now;
	// so too when a trunk leg of a screening across the trunk ended
	// meanwhile (screenLost's Hold found the reservation).
	gone := c == nil || c.screenerLine != line
	s.mu.Unlock()
	switch {
	case gone:
		s.screenerGone("", callID)
	case s.nodeOf(t.Call) != s.studio() && s.app.trunkOf(s, callID) == nil:
		s.screenHold(ctx, callID) // its legs are being ended (screenLost)
	}
}

// screenConnect puts an answered screener's line and the caller of t in
// the call's screening bridge. On failure the caller is back on hold and
// the screening torn down.
func (s *show) screenConnect(ctx context.Context, t queue.Ticket, line string) error {
	n := s.studio()
	bridgeID := s.screenID(t.Call.ID)
	if _, err := n.ari.CreateBridge(ctx, bridgeID, ari.BridgeMixing, "screening "+t.Call.ID); err != nil && !errors.Is(err, ari.ErrConflict) {
		s.endScreening(ctx, t.Call.ID, line)
		return telErr("create screening bridge", err)
	}
	n.indexBridge(bridgeID, s)
	s.stopAnnouncement(ctx, t.Call.ID)
	if err := s.studio().moveTo(ctx, line, bridgeID, ""); err != nil {
		s.endScreening(ctx, t.Call.ID, line)
		return err
	}
	if near := s.nodeOf(t.Call); near != n {
		// Held on another node: the caller joins the screener across
		// the trunk, as a promote does (crossTrunk puts the caller back
		// on hold itself if it fails).
		if err := s.crossTrunk(ctx, t.Call, near, bridgeID, true); err != nil {
			s.endScreening(ctx, t.Call.ID, line)
			return err
		}
		return nil
	}
	if err := s.studio().moveTo(ctx, t.Call.ChannelID, bridgeID, ""); err != nil {
		s.screenUndo(ctx, t, line)
		return err
	}
	return nil
}

// screenUndo takes the caller of t back to hold and tears its screening
// down, after a failure past the answer.
func (s *show) screenUndo(ctx context.Context, t queue.Ticket, line string) {
	tc := s.app.takeTrunk(s, t.Call.ID) // screened across the trunk
	if err := s.holdOf(t.Call).joinHold(ctx, t.Call.ChannelID); err != nil && !errors.Is(err, queue.ErrGone) {
		s.studio().log.Warn("broadcast: returning caller to hold failed", "call", t.Call.ID, "err", err)
	}
	if tc != nil {
		s.endTrunk(ctx, tc)
	}
	s.endScreening(ctx, t.Call.ID, line)
}

// screenLost follows the trunk leg of a caller screened across the trunk
// that ended (or the studio lost): as when the screener hangs up, the
// caller goes back on hold at their place (Hold by the system, which
// hangs up the screener's phone), and the rest of the trunk call ends.
func (s *show) screenLost(ctx context.Context, tc *trunkCall) {
	s.endTrunk(ctx, tc)
	// A screening not yet committed (Hold: ErrBusy) is screenRung's to
	// hold once it is: it finds the trunk call gone.
	s.screenHold(ctx, tc.callID)
}

// screenHold takes a screening caller whose trunk call was lost back to
// hold, by the system.
func (s *show) screenHold(ctx context.Context, callID string) {
	if _, err := s.app.Hold(ctx, s.key, callID, queue.System); err != nil && !errors.Is(err, queue.ErrGone) {
		s.studio().log.Warn("broadcast: caller not returned to hold after the trunk leg of its screening ended", "call", callID, "err", err)
	}
}

// screenEnded ends a screening on a phone that did not come to be: the
// reservation is released (the caller as it was, at their place), the
// line forgotten, and subscribers told why (st; ScreenCallerGone when the
// call ended meanwhile, whatever the phone did). sc is the screening as
// it began ringing.
func (s *show) screenEnded(t queue.Ticket, sc Screening, line string, st ScreenState, cause int, why error) {
	callID := t.Call.ID
	now := s.app.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[callID]
	if c != nil && c.screenerLine == line {
		c.screenerLine = ""
	}
	if err := s.q.Abort(t); errors.Is(err, queue.ErrGone) {
		st = ScreenCallerGone
	}
	sc.State, sc.Cause, sc.Ended, sc.Rang = st, cause, now, now.Sub(sc.Started)
	if c != nil {
		c.screening = nil
		if sc.OnHold() {
			c.screening = &sc // until the call's next transition (publish)
		}
	}
	s.emit(Update{Kind: UpdateScreening, Screening: sc})
	s.studio().log.Info("broadcast: screening on a phone did not happen", "call", callID, "phone", sc.Phone, "state", st, "err", why)
}

// screenerJoin takes note of a screener's answered line: the screening
// that rang it (screenRung) puts it in the screening bridge. A line
// nobody waits for any more (the screening ended, or gave up ringing) is
// hung up.
func (s *show) screenerJoin(ctx context.Context, lineID, callID string) {
	s.mu.Lock()
	want := s.calls[callID] != nil && s.calls[callID].screenerLine == lineID
	s.mu.Unlock()
	if !want {
		s.studio().unindex(lineID)
		s.studio().hangup(ctx, lineID, ari.HangupNormal)
	}
}

// screenerGone is a screener's line that hung up (lineID; "" for whatever
// line the call had): a caller still being screened on it goes back on
// hold at their place, not left in a silent bridge. A line that hangs up
// while it rings is the ringing's to report (screenRung).
func (s *show) screenerGone(lineID, callID string) {
	s.mu.Lock()
	rec := s.calls[callID]
	mine := lineID == "" || rec != nil && rec.screenerLine == lineID
	if mine && rec != nil {
		rec.screenerLine = ""
	}
	c, err := s.q.Get(callID)
	s.mu.Unlock()
	if !mine || err != nil || c.State != queue.StateScreening || c.Pending != "" {
		return
	}
	s.studio().submitOrLog(func(ctx context.Context) {
		if _, err := s.app.Hold(ctx, s.key, callID, queue.System); err != nil && !errors.Is(err, queue.ErrGone) {
			s.studio().log.Warn("broadcast: caller not returned to hold after the screener hung up", "call", callID, "err", err)
		}
	})
}

// endScreening hangs up a screener's line and destroys the screening bridge.
func (s *show) endScreening(ctx context.Context, callID, line string) {
	n := s.studio()
	if line != "" {
		n.hangup(ctx, line, ari.HangupNormal)
	}
	id := s.screenID(callID)
	if !n.unindexBridge(id) {
		return
	}
	if err := n.ari.DestroyBridge(ctx, id); err != nil && !errors.Is(err, ari.ErrNotFound) {
		n.log.Warn("broadcast: destroying screening bridge failed", "bridge", id, "err", err)
	}
}

// ringing is a person's phone being rung into the app: the waits for its
// answer (StasisStart), its end (ChannelDestroyed, trace 13) and a hang-up
// request with a cause before it (how a 480 differs from a ring timeout),
// registered before the originate.
type ringing struct {
	s                *show
	n                *node // the node it rings from
	chanID, endpoint string
	up, down, asked  *waiter
}

// dial calls a phone into the app (POST /channels with app=) showing
// callerID, ringing for Config.RingTimeout; wait for the outcome with
// ringing.wait. The channel is forgotten when Asterisk refuses it.
func (s *show) dial(ctx context.Context, n *node, chanID, endpoint, args, callerID string) (*ringing, error) {
	rg := &ringing{s: s, n: n, chanID: chanID, endpoint: endpoint}
	rg.up = n.waits.expect(ari.TypeStasisStart, chanID, "", nil)
	rg.down = n.waits.expect(ari.TypeChannelDestroyed, chanID, "", nil)
	rg.asked = n.waits.expect(ari.TypeChannelHangupRequest, chanID, "", func(ev ari.Event) bool {
		e := ev.(*ari.ChannelHangupRequest)
		return !e.Soft && e.Cause != 0
	})
	if _, err := n.ari.Originate(ctx, ari.OriginateParams{
		Endpoint: endpoint, App: s.app.cfg.App, AppArgs: s.key + "," + args, ChannelID: chanID,
		CallerID: callerID, Timeout: s.app.cfg.RingTimeout,
	}); err != nil {
		rg.cancel()
		n.unindex(chanID)
		return nil, telErr("call "+endpoint, err)
	}
	return rg, nil
}

func (rg *ringing) cancel() {
	w := rg.n.waits
	w.cancel(rg.up)
	w.cancel(rg.down)
	w.cancel(rg.asked)
}

// giveUp hangs up a phone nobody waits for any more.
func (rg *ringing) giveUp(ctx context.Context) {
	rg.cancel()
	rg.n.unindex(rg.chanID)
	rg.n.hangup(ctx, rg.chanID, ari.HangupNormal)
}

// wait waits until the phone is answered (nil) or fails: a *PhoneError
// for busy, no answer, unreachable (its ChannelDestroyed, trace 13) or
// Config.RingTimeout passed without a word from Asterisk; ErrTelephony or
// ErrNodeDown otherwise, and ctx's error. The channel is hung up on every
// failure.
func (rg *ringing) wait(ctx context.Context) error {
	defer rg.cancel()
	n, endpoint := rg.n, rg.endpoint
	// Asterisk gives up ringing after the originate's timeout (a
	// ChannelDestroyed with cause 19); the wait allows it a few seconds.
	wait, cancel := context.WithTimeout(ctx, rg.s.app.cfg.RingTimeout+5*time.Second)
	defer cancel()
	select {
	case res := <-rg.up.done:
		if res.err == nil {
			return nil
		}
		rg.giveUp(context.WithoutCancel(ctx))
		return telErr("call "+endpoint, res.err)
	case res := <-rg.down.done:
		n.unindex(rg.chanID)
		if res.err != nil {
			rg.giveUp(context.WithoutCancel(ctx))
			return telErr("call "+endpoint, res.err)
		}
		e, _ := res.ev.(*ari.ChannelDestroyed)
		if e == nil { // destroyed before the wait began: no cause known
			return phoneError(endpoint, 0, false, "")
		}
		asked := false
		select {
		case a := <-rg.asked.done: // it comes before ChannelDestroyed, on the same socket
			asked = a.err == nil && a.ev != nil
		default:
		}
		return phoneError(endpoint, e.Cause, asked, e.Channel.State)
	case <-wait.Done():
		rg.giveUp(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &PhoneError{Endpoint: endpoint, State: ScreenNoAnswer}
	}
}

// ring dials a phone and waits until it is answered or fails (dial, then
// ringing.wait).
func (s *show) ring(ctx context.Context, n *node, chanID, endpoint, args, callerID string) error {
	rg, err := s.dial(ctx, n, chanID, endpoint, args, callerID)
	if err != nil {
		return err
	}
	return rg.wait(ctx)
}
