package web

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// fakeApp stands in for *broadcast.App: one show driven by a real
// queue.Show (pure, no I/O), each action reserved and committed at once as
// if its telephony had worked, and every transition sent to the
// subscribers. The rules of the line are the queue's own; the fake adds
// only what broadcast adds around them (a title, talking, recording,
// media) and a few function fields that decide first (wtf mock style).
type fakeApp struct {
	mu    sync.Mutex
	show  string
	q     *queue.Show
	subs  map[*fakeSub]bool
	buf   int
	now   time.Time
	subCh chan struct{} // a value per Subscribe

	// Overrides; nil means the default behaviour.
	ActFn     func(action, callID string) error
	ControlFn func(control string) error
	DropFn    func(ctx context.Context) error // runs first in Drop, with the request's context

	lastDrop     broadcast.DropOptions     // the options of the last Drop
	lastTalkback broadcast.TalkbackOptions // the options of the last StartTalkback

	title     string   // the show's title
	talking   []string // call ids talking now
	recording bool
	// unstarted, when set, is why StartRecording fails as a start that
	// Asterisk did not confirm; the recording is then "failed" with it.
	unstarted string
	media     broadcast.MediaState
	quality   map[string]broadcast.LineQuality // call id -> its line, as measured

	// phones are the screeners' phones: Screen with one reserves and
	// rings (ringing), and phoneAnswered or phoneFailed ends it.
	phones     map[string]string
	ringing    map[string]queue.Ticket        // call id -> its screening's reservation
	screenings map[string]broadcast.Screening // as broadcast keeps them
}

func newFakeApp(show string) *fakeApp {
	q, err := queue.NewShow(queue.Config{Key: show, LinesOpen: true, AnnounceEvery: 90 * time.Second,
		Callback: queue.CallbackConfig{Offer: time.Nanosecond}})
	if err != nil {
		panic(err)
	}
	return &fakeApp{show: show, q: q, subs: map[*fakeSub]bool{}, buf: 256,
		subCh: make(chan struct{}, 64), title: "Morning <b>Show</b>", now: time.Date(2025, 11, 26, 9, 0, 0, 0, time.UTC),
		media: broadcast.MediaState{Music: true, HoldBridges: 1}}
}

type fakeSub struct {
	app  *fakeApp
	ch   chan broadcast.Update
	err  error
	once sync.Once
}

func (s *fakeSub) Updates() <-chan broadcast.Update { return s.ch }
func (s *fakeSub) Err() error {
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	return s.err
}
func (s *fakeSub) Close() {
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	s.app.dropSub(s, broadcast.ErrClosed)
}

// dropSub ends a subscription; a.mu held.
func (a *fakeApp) dropSub(s *fakeSub, err error) {
	if a.subs[s] {
		delete(a.subs, s)
		s.err = err
		close(s.ch)
	}
}

func (a *fakeApp) Shows() []string { return []string{a.show} }

func (a *fakeApp) Subscribe(show string) (Subscription, error) {
	if show != a.show {
		return nil, fmt.Errorf("fake: show %q: %w", show, queue.ErrNotFound)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &fakeSub{app: a, ch: make(chan broadcast.Update, a.buf)}
	a.subs[s] = true
	select {
	case a.subCh <- struct{}{}:
	default:
	}
	return s, nil
}

func (a *fakeApp) Call(show, callID string) (queue.Call, error) {
	if show != a.show {
		return queue.Call{}, fmt.Errorf("fake: show %q: %w", show, queue.ErrNotFound)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.q.Get(callID)
}

func (a *fakeApp) LineQuality(_ context.Context, show, callID string) (broadcast.LineQuality, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.q.Get(callID); err != nil || show != a.show {
		return broadcast.LineQuality{}, fmt.Errorf("fake: %q: %w", callID, queue.ErrNotFound)
	}
	q, ok := a.quality[callID]
	if !ok {
		return broadcast.LineQuality{}, broadcast.ErrNoQuality
	}
	return q, nil
}

func (a *fakeApp) Snapshot(show string) (broadcast.Snapshot, error) {
	if show != a.show {
		return broadcast.Snapshot{}, fmt.Errorf("fake: show %q: %w", show, queue.ErrNotFound)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cfg := a.q.Config()
	media := a.media
	media.HoldMembers = a.q.Stats(a.now).Waiting
	return broadcast.Snapshot{Show: a.show, At: a.now, Node: broadcast.NodeHealth{Node: "n1", State: broadcast.NodeUp},
		Settings: broadcast.Settings{Title: a.title, LinesOpen: cfg.LinesOpen, AnnounceEvery: cfg.AnnounceEvery,
			MaxOnAir: cfg.MaxOnAir, Capacity: cfg.Capacity},
		Lineup: a.q.List(), Stats: a.q.Stats(a.now), Media: media,
		Talking: slices.Clone(a.talking), Recording: a.recordingState(),
		Quality: maps.Clone(a.quality), Screenings: maps.Clone(a.screenings)}, nil
}

// send sends one update to every subscriber; a.mu held.
func (a *fakeApp) send(u broadcast.Update) {
	u.Show = a.show
	for s := range a.subs {
		select {
		case s.ch <- u:
		default:
			a.dropSub(s, broadcast.ErrSlowSubscriber)
		}
	}
}

// phoneAnswered ends the ringing of a screening as broadcast does when the
// screener answers: the screen transition, then the answered screening.
func (a *fakeApp) phoneAnswered(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ts, err := a.q.Commit(a.now, a.ringing[id])
	if err != nil {
		panic(err)
	}
	a.emit(ts...)
	sc := a.screenings[id]
	delete(a.ringing, id)
	delete(a.screenings, id)
	sc.State, sc.Ended = broadcast.ScreenAnswered, a.now
	a.send(broadcast.Update{Kind: broadcast.UpdateScreening, Screening: sc})
}

// phoneFailed ends the ringing of a screening with a phone that did not
// answer: the caller as they were, the screening kept until they move on.
func (a *fakeApp) phoneFailed(id string, st broadcast.ScreenState, cause int, rang time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.q.Abort(a.ringing[id]); err != nil {
		panic(err)
	}
	delete(a.ringing, id)
	sc := a.screenings[id]
	sc.State, sc.Cause, sc.Rang, sc.Ended = st, cause, rang, a.now.Add(rang)
	a.screenings[id] = sc
	a.send(broadcast.Update{Kind: broadcast.UpdateScreening, Screening: sc})
}

// emit sends transitions to every subscriber; one whose buffer is full is
// dropped, as broadcast does. a.mu held.
func (a *fakeApp) emit(ts ...queue.Transition) {
	for _, t := range ts {
		if sc, ok := a.screenings[t.CallID]; ok && sc.State != broadcast.ScreenRinging {
			delete(a.screenings, t.CallID)
		}
		a.send(broadcast.Update{Kind: broadcast.UpdateTransition, Transition: t})
	}
}

// arrive adds a waiting caller (arrived and joined the holding bridge).
func (a *fakeApp) arrive(id, number, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	adm, err := a.q.Arrive(a.now, queue.Arrival{CallID: id, Number: number, Name: name, ChannelID: "ch-" + id})
	if err != nil || !adm.Admitted() {
		panic(fmt.Sprintf("fake: arrive %s: %v %s", id, err, adm.Reject))
	}
	_, ts, err := a.q.Joined(a.now, id)
	if err != nil {
		panic(err)
	}
	a.emit(append(adm.Transitions, ts...)...)
}

// ring adds a caller that has arrived (in Stasis) but is not answered
// yet: one transition, where arrive makes two (arrive and join).
func (a *fakeApp) ring(id, number, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	adm, err := a.q.Arrive(a.now, queue.Arrival{CallID: id, Number: number, Name: name, ChannelID: "ch-" + id})
	if err != nil || !adm.Admitted() {
		panic(fmt.Sprintf("fake: ring %s: %v %s", id, err, adm.Reject))
	}
	a.emit(adm.Transitions...)
}

// hangup ends a call as the caller would.
func (a *fakeApp) hangup(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ts, err := a.q.Hangup(a.now, id, 0); err == nil {
		a.emit(ts...)
	}
}

// callback turns a waiting caller into a call-back entry the way a caller
// gets there: callers taken off the line give the show a rate, the
// caller's announcement offers a call-back, and the caller presses for it.
func (a *fakeApp) callback(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range 3 {
		tid := fmt.Sprintf("rate-%s-%d", id, i)
		if _, err := a.q.Arrive(a.now, queue.Arrival{CallID: tid, Number: "+15550000000", ChannelID: "ch-" + tid}); err != nil {
			panic(err)
		}
		a.q.Joined(a.now, tid)
		tk, err := a.q.Screen(queue.System, tid, "rate")
		if err != nil {
			panic(err)
		}
		a.q.Commit(a.now, tk)
		a.q.Hangup(a.now, tid, 0)
	}
	later := a.now.Add(time.Hour)
	for _, an := range a.q.DueAnnouncements(later, 0) {
		a.q.AnnouncementDone(later, an.CallID)
	}
	_, ts, err := a.q.RequestCallback(a.now, id)
	if err != nil {
		panic(err)
	}
	a.emit(ts...)
}

// confirm records that a caller pressed 1 at the readiness check.
func (a *fakeApp) confirm(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ts, err := a.q.Confirm(a.now, id)
	if err != nil {
		panic(err)
	}
	a.emit(ts...)
}

// act reserves an action and commits it at once (its telephony worked);
// ActFn decides first.
func (a *fakeApp) act(action, id string, reserve func(*queue.Show) (queue.Ticket, error)) (queue.Call, error) {
	if a.ActFn != nil {
		if err := a.ActFn(action, id); err != nil {
			return queue.Call{}, err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	tk, err := reserve(a.q)
	if err != nil {
		return queue.Call{}, fmt.Errorf("fake: %w", err)
	}
	c, ts, err := a.q.Commit(a.now, tk)
	if err != nil {
		return queue.Call{}, fmt.Errorf("fake: %w", err)
	}
	a.emit(ts...)
	return c, nil
}

// immediate applies an action without telephony; ActFn decides first.
func (a *fakeApp) immediate(action, id string, f func(*queue.Show) (queue.Call, []queue.Transition, error)) (queue.Call, error) {
	if a.ActFn != nil {
		if err := a.ActFn(action, id); err != nil {
			return queue.Call{}, err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ts, err := f(a.q)
	if err != nil {
		return queue.Call{}, fmt.Errorf("fake: %w", err)
	}
	a.emit(ts...)
	return c, nil
}

func (a *fakeApp) Screen(_ context.Context, _, id string, actor queue.Actor, screener string) (queue.Call, error) {
	if phone := a.phones[screener]; phone != "" {
		if a.ActFn != nil {
			if err := a.ActFn(queue.ActionScreen, id); err != nil {
				return queue.Call{}, err
			}
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		tk, err := a.q.Screen(actor, id, screener)
		if err != nil {
			return queue.Call{}, fmt.Errorf("fake: %w", err)
		}
		sc := broadcast.Screening{CallID: id, Screener: screener, Phone: phone, Caller: tk.Call.Name, Number: tk.Call.Number,
			State: broadcast.ScreenRinging, Started: a.now}
		if a.ringing == nil {
			a.ringing, a.screenings = map[string]queue.Ticket{}, map[string]broadcast.Screening{}
		}
		a.ringing[id], a.screenings[id] = tk, sc
		a.send(broadcast.Update{Kind: broadcast.UpdateScreening, Screening: sc})
		return tk.Call, nil
	}
	return a.act(queue.ActionScreen, id, func(q *queue.Show) (queue.Ticket, error) { return q.Screen(actor, id, screener) })
}
func (a *fakeApp) Ready(_ context.Context, _, id string, actor queue.Actor, n queue.Notes) (queue.Call, error) {
	return a.act(queue.ActionReady, id, func(q *queue.Show) (queue.Ticket, error) { return q.Ready(actor, id, n) })
}
func (a *fakeApp) UpdateNotes(_, id string, actor queue.Actor, n queue.Notes) (queue.Call, error) {
	return a.immediate(queue.ActionNotes, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.UpdateNotes(a.now, actor, id, n)
	})
}
func (a *fakeApp) Promote(_ context.Context, _, id string, actor queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionPromote, id, func(q *queue.Show) (queue.Ticket, error) { return q.Promote(actor, id) })
}
func (a *fakeApp) TakeNext(_ context.Context, _ string, actor queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionTakeNext, "", func(q *queue.Show) (queue.Ticket, error) { return q.TakeNext(actor) })
}
func (a *fakeApp) Hold(_ context.Context, _, id string, actor queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionHold, id, func(q *queue.Show) (queue.Ticket, error) { return q.Hold(actor, id) })
}
func (a *fakeApp) Mute(_ context.Context, _, id string, actor queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionMute, id, func(q *queue.Show) (queue.Ticket, error) { return q.Mute(actor, id) })
}
func (a *fakeApp) Unmute(_ context.Context, _, id string, actor queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionUnmute, id, func(q *queue.Show) (queue.Ticket, error) { return q.Unmute(actor, id) })
}
func (a *fakeApp) Drop(ctx context.Context, _, id string, actor queue.Actor, o broadcast.DropOptions) (queue.Call, error) {
	a.mu.Lock()
	a.lastDrop = o
	fn := a.DropFn
	a.mu.Unlock()
	if fn != nil {
		if err := fn(ctx); err != nil {
			return queue.Call{}, err
		}
	}
	return a.act(queue.ActionDrop, id, func(q *queue.Show) (queue.Ticket, error) {
		if c, err := q.Get(id); err == nil && o.NotOnAir && c.State == queue.StateOnAir {
			return queue.Ticket{}, fmt.Errorf("fake: drop %s: on air: %w", id, queue.ErrConflict)
		}
		return q.Drop(actor, id, o.Reason)
	})
}
func (a *fakeApp) Lock(_, id string, actor queue.Actor) (queue.Call, error) {
	return a.immediate(queue.ActionLock, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.Lock(a.now, actor, id)
	})
}
func (a *fakeApp) Unlock(_, id string, actor queue.Actor) (queue.Call, error) {
	return a.immediate(queue.ActionUnlock, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.Unlock(a.now, actor, id)
	})
}
func (a *fakeApp) MoveToTop(_, id string, actor queue.Actor) (queue.Call, error) {
	return a.immediate(queue.ActionMoveToTop, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.MoveToTop(a.now, actor, id)
	})
}
func (a *fakeApp) PickNext(_, id string, actor queue.Actor) (queue.Call, error) {
	return a.immediate(queue.ActionPickNext, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.PickNext(a.now, actor, id)
	})
}
func (a *fakeApp) CallbackNow(_, id string, actor queue.Actor) (queue.Call, error) {
	return a.immediate(queue.ActionCallbackNow, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.CallbackNow(a.now, actor, id)
	})
}

// ClearAir holds or drops the unlocked callers on air one by one, as
// broadcast does (all at once there).
func (a *fakeApp) ClearAir(ctx context.Context, show string, actor queue.Actor, how string, o broadcast.DropOptions) (broadcast.AirCleared, error) {
	if err := a.control("clear_air"); err != nil {
		return broadcast.AirCleared{}, err
	}
	a.mu.Lock()
	onAir := a.q.List().OnAir
	a.mu.Unlock()
	var out broadcast.AirCleared
	for _, c := range onAir {
		if c.Locked {
			out.Locked = append(out.Locked, c)
			continue
		}
		var err error
		if how == broadcast.ClearHold {
			_, err = a.Hold(ctx, show, c.ID, actor)
		} else {
			_, err = a.Drop(ctx, show, c.ID, actor, o)
		}
		if err != nil {
			return out, err
		}
		out.Cleared = append(out.Cleared, c)
	}
	return out, nil
}

func (a *fakeApp) control(name string) error {
	if a.ControlFn != nil {
		return a.ControlFn(name)
	}
	return nil
}
func (a *fakeApp) SetLinesOpen(_ string, open bool) error {
	if err := a.control("lines"); err != nil {
		return err
	}
	a.mu.Lock()
	a.q.SetLinesOpen(open)
	a.mu.Unlock()
	return nil
}
func (a *fakeApp) SetAnnounceEvery(_ string, d time.Duration) error {
	if err := a.control("announce"); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.q.SetAnnounceEvery(d)
}
func (a *fakeApp) StartRecording(context.Context, string) (broadcast.RecordingState, error) {
	a.mu.Lock()
	st, why := a.recordingState(), a.unstarted
	a.mu.Unlock()
	if why != "" {
		return st, fmt.Errorf("fake: record on-air bridge: %s: %w", why, broadcast.ErrTimeout)
	}
	return broadcast.RecordingState{Active: true}, a.control("record")
}

// recordingState is the recording as broadcast would say it; a.mu held.
func (a *fakeApp) recordingState() broadcast.RecordingState {
	if a.unstarted != "" {
		return broadcast.RecordingState{Name: "r1", State: "failed", Format: "wav", Error: a.unstarted}
	}
	return broadcast.RecordingState{Active: a.recording}
}
func (a *fakeApp) StopRecording(context.Context, string) (broadcast.RecordingState, error) {
	return broadcast.RecordingState{}, a.control("record")
}
func (a *fakeApp) StartTalkback(_ context.Context, _ string, o broadcast.TalkbackOptions) error {
	if err := a.control("talkback"); err != nil {
		return err
	}
	a.mu.Lock()
	a.lastTalkback = o
	a.mu.Unlock()
	return nil
}

// SetBlocked flags the calls whose number normalises to number, as
// broadcast does (web's Blocks).
func (a *fakeApp) SetBlocked(number string, blocked bool, note string, actor queue.Actor) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	calls, ts := a.q.SetBlocked(a.now, actor, number, blocked, note)
	a.emit(ts...)
	return len(calls)
}
func (a *fakeApp) StopTalkback(context.Context, string) error { return a.control("talkback") }

func (a *fakeApp) JoinHost(context.Context, string, string) (string, error) {
	return "host-line", a.control("host")
}

// fakeHistory is a History of function fields.
type fakeHistory struct {
	ProfileFn   func(number string) (postgres.Profile, error)
	CallsFn     func(number string) ([]postgres.Call, error)
	DayFn       func(show string, day time.Time) (postgres.Day, error)
	ShowCallsFn func(show string) ([]postgres.Call, error)
	// ShowCallsInFn, when set, answers ShowCalls with the range asked.
	ShowCallsInFn func(show string, from, to time.Time) ([]postgres.Call, error)
	BlockFn       func(number, by, reason string) error
	UnblockFn     func(number, by string) error
	SearchFn      func(q string, limit int) ([]postgres.Profile, error)
}

func (h *fakeHistory) SearchCallers(_ context.Context, q string, limit int) ([]postgres.Profile, error) {
	if h.SearchFn == nil {
		return nil, nil
	}
	return h.SearchFn(q, limit)
}

// fakeChat is a Chat kept in a slice, as the store would keep it; AddFn
// and ListFn, when set, decide first (a non-nil error is returned).
type fakeChat struct {
	mu     sync.Mutex
	msgs   []postgres.ShowMessage
	at     time.Time
	AddFn  func(show, author, body string) error
	ListFn func(show string) error
}

func (c *fakeChat) AddShowMessage(_ context.Context, show, author, body string) (postgres.ShowMessage, error) {
	c.mu.Lock()
	fn := c.AddFn
	c.mu.Unlock()
	if fn != nil {
		if err := fn(show, author, body); err != nil {
			return postgres.ShowMessage{}, err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(time.Minute)
	m := postgres.ShowMessage{ID: int64(len(c.msgs) + 1), Show: show, Author: author, Body: body, At: c.at}
	c.msgs = append(c.msgs, m)
	return m, nil
}

func (c *fakeChat) ShowMessages(_ context.Context, show string, limit int) ([]postgres.ShowMessage, error) {
	c.mu.Lock()
	fn := c.ListFn
	c.mu.Unlock()
	if fn != nil {
		if err := fn(show); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []postgres.ShowMessage
	for _, m := range c.msgs {
		if m.Show == show {
			out = append(out, m)
		}
	}
	return out[max(0, len(out)-limit):], nil
}

func (h *fakeHistory) CallerProfile(_ context.Context, n string) (postgres.Profile, error) {
	if h.ProfileFn == nil {
		return postgres.Profile{Number: n}, nil
	}
	return h.ProfileFn(n)
}
func (h *fakeHistory) CallerCalls(_ context.Context, n string, _ int) ([]postgres.Call, error) {
	if h.CallsFn == nil {
		return nil, nil
	}
	return h.CallsFn(n)
}
func (h *fakeHistory) ShowDay(_ context.Context, show string, day time.Time) (postgres.Day, error) {
	if h.DayFn == nil {
		return postgres.Day{Show: show, Start: day, PerHour: make([]int, 24)}, nil
	}
	return h.DayFn(show, day)
}
func (h *fakeHistory) ShowCalls(_ context.Context, show string, from, to time.Time) ([]postgres.Call, error) {
	switch {
	case h.ShowCallsInFn != nil:
		return h.ShowCallsInFn(show, from, to)
	case h.ShowCallsFn != nil:
		return h.ShowCallsFn(show)
	}
	return nil, nil
}
func (h *fakeHistory) Block(_ context.Context, n, by, reason string) error {
	if h.BlockFn == nil {
		return nil
	}
	return h.BlockFn(n, by, reason)
}
func (h *fakeHistory) Unblock(_ context.Context, n, by string) error {
	if h.UnblockFn == nil {
		return nil
	}
	return h.UnblockFn(n, by)
}

// fakeAuth authenticates "Bearer <role>" tokens and a "session" cookie
// holding "<name>:<role>"; the CSRF token is "csrf-<name>". A credential's
// Key is "s:<cookie>" or "t:<role>"; revoke makes one invalid.
type fakeAuth struct {
	mu      sync.Mutex
	revoked map[string]bool
	checks  int // Authenticate calls
}

func newFakeAuth() *fakeAuth { return &fakeAuth{revoked: map[string]bool{}} }

// revoke makes a credential invalid from now on.
func (a *fakeAuth) revoke(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.revoked[key] = true
}

func (a *fakeAuth) valid(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.revoked[key]
}

// session returns the principal of r's session cookie.
func (a *fakeAuth) session(r *http.Request) (auth.Principal, bool) {
	c, err := r.Cookie("session")
	if err != nil {
		return auth.Principal{}, false
	}
	name, role, ok := strings.Cut(c.Value, ":")
	key := "s:" + c.Value
	if !ok || !a.valid(key) {
		return auth.Principal{}, false
	}
	return auth.Principal{Kind: auth.KindUser, Name: name, Role: auth.Role(role), Key: key}, true
}

// bearer returns the principal of r's bearer token.
func (a *fakeAuth) bearer(r *http.Request) (auth.Principal, bool) {
	role, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	key := "t:" + role
	if !ok || role == "" || !a.valid(key) {
		return auth.Principal{}, false
	}
	return auth.Principal{Kind: auth.KindToken, Name: "bot-" + role, Role: auth.Role(role), Key: key}, true
}

func (a *fakeAuth) RequireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.session(r)
		if !ok {
			http.Redirect(w, r, "/login?next="+r.URL.Path, http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Header.Get("X-CSRF-Token") != "csrf-"+p.Name && r.PostFormValue("csrf_token") != "csrf-"+p.Name {
			http.Error(w, `{"error":{"code":"forbidden","message":"CSRF"}}`, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func (a *fakeAuth) RequireBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.bearer(r)
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":"unauthorized","message":"no token"}}`)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func (a *fakeAuth) Authenticate(r *http.Request) (auth.Principal, error) {
	a.mu.Lock()
	a.checks++
	a.mu.Unlock()
	if r.Header.Get("Authorization") != "" {
		if p, ok := a.bearer(r); ok {
			return p, nil
		}
	} else if p, ok := a.session(r); ok {
		return p, nil
	}
	return auth.Principal{}, fmt.Errorf("fake: %w", auth.ErrUnauthenticated)
}

func (a *fakeAuth) LoginHandler(fail func(http.ResponseWriter, *http.Request, int, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, pw := r.PostFormValue("username"), r.PostFormValue("password")
		if pw != "secret" {
			fail(w, r, http.StatusUnauthorized, "Wrong user name or password.")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: name + ":" + name, Path: "/"})
		next := r.PostFormValue("next")
		if next == "" {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
}

// LogoutHandler ends the session as auth's does: the credential is
// revoked and the cookie cleared.
func (a *fakeAuth) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := a.session(r); ok {
			if r.PostFormValue("csrf_token") != "csrf-"+p.Name && r.Header.Get("X-CSRF-Token") != "csrf-"+p.Name {
				http.Error(w, `{"error":{"code":"forbidden","message":"CSRF"}}`, http.StatusForbidden)
				return
			}
			a.revoke(p.Key)
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "", Path: "/", MaxAge: -1})
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
}

func (a *fakeAuth) CSRFToken(r *http.Request) string {
	c, err := r.Cookie("session")
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(c.Value, ":")
	return "csrf-" + name
}

// fakeNotes is a CallerNotes kept in memory, every save a version, as the
// store keeps them; WriteFn, when set, decides first.
type fakeNotes struct {
	mu       sync.Mutex
	versions map[string][]queue.CallerNotes // newest last
	at       time.Time
	WriteFn  func(n queue.CallerNotes) error
}

func newFakeNotes() *fakeNotes {
	return &fakeNotes{versions: map[string][]queue.CallerNotes{}, at: time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC)}
}

func (f *fakeNotes) CallerNotes(ctx context.Context, number string) (queue.CallerNotes, error) {
	h, err := f.CallerNotesHistory(ctx, number, 1)
	if err != nil || len(h) == 0 {
		return queue.CallerNotes{Number: queue.NormalizeNumber(number)}, err
	}
	return h[0], nil
}

func (f *fakeNotes) CallerNotesHistory(_ context.Context, number string, limit int) ([]queue.CallerNotes, error) {
	n := queue.NormalizeNumber(number)
	if n == "" {
		return nil, fmt.Errorf("fake: notes of %q: %w", number, queue.ErrInvalid)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.versions[n]
	var out []queue.CallerNotes
	for i := len(vs) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, vs[i])
	}
	return out, nil
}

func (f *fakeNotes) WriteCallerNotes(ctx context.Context, n queue.CallerNotes, by string) (queue.CallerNotes, error) {
	n = n.Clean()
	if err := n.Validate(); err != nil {
		return queue.CallerNotes{}, err
	}
	f.mu.Lock()
	fn := f.WriteFn
	f.mu.Unlock()
	if fn != nil {
		if err := fn(n); err != nil {
			return queue.CallerNotes{}, err
		}
	}
	cur, _ := f.CallerNotes(ctx, n.Number)
	if cur.SameAs(n) {
		return cur, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at = f.at.Add(time.Minute)
	n.By, n.At = by, f.at
	f.versions[n.Number] = append(f.versions[n.Number], n)
	return n, nil
}
