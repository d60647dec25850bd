package webtest

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
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/feed"
)

// App stands in for *broadcast.App: one show driven by a real
// queue.Show (pure, no I/O), each action reserved and committed at once as
// if its telephony had worked, and every transition sent to the
// subscribers. The rules of the line are the queue's own; the fake adds
// only what broadcast adds around them (a title, talking, recording,
// media) and a few function fields that decide first (wtf mock style).
type App struct {
	Mu    sync.Mutex
	Key   string
	Q     *queue.Show
	Subs  map[*sub]bool
	Buf   int
	Now   time.Time
	SubCh chan struct{} // a value per Subscribe
	// Emitted counts the updates sent (each one's Seq), as broadcast
	// numbers them; a.Mu guards it.
	Emitted uint64

	// Overrides; nil means the default behaviour.
	ActFn     func(action, callID string) error
	ControlFn func(control string) error
	DropFn    func(ctx context.Context) error // runs first in Drop, with the request's context

	LastDrop     broadcast.DropOptions     // the options of the last Drop
	LastTalkback broadcast.TalkbackOptions // the options of the last StartTalkback

	Title     string   // the show's title
	Talking   []string // call ids talking now
	Recording bool
	// unstarted, when set, is why StartRecording fails as a start that
	// Asterisk did not confirm; the recording is then "failed" with it.
	Unstarted string
	Media     broadcast.MediaState
	Quality   map[string]broadcast.LineQuality // call id -> its line, as measured

	// phones are the screeners' phones: Screen with one reserves and
	// rings (ringing), and phoneAnswered or phoneFailed ends it.
	Phones     map[string]string
	Ringing    map[string]queue.Ticket        // call id -> its screening's reservation
	Screenings map[string]broadcast.Screening // as broadcast keeps them

	// Nodes, when set, make the show span those nodes (Snapshot.Nodes);
	// Studio is its studio's state. Unset: one node, "n1", up.
	Nodes  []broadcast.NodeLoad
	Studio broadcast.StudioState
}

func NewApp(show string) *App {
	q, err := queue.NewShow(queue.Config{Key: show, LinesOpen: true, AnnounceEvery: 90 * time.Second,
		Callback: queue.CallbackConfig{Offer: time.Nanosecond}})
	if err != nil {
		panic(err)
	}
	return &App{Key: show, Q: q, Subs: map[*sub]bool{}, Buf: 256,
		SubCh: make(chan struct{}, 64), Title: "Morning <b>Show</b>", Now: time.Date(2025, 11, 26, 9, 0, 0, 0, time.UTC),
		Media: broadcast.MediaState{Music: true, HoldBridges: 1}}
}

type sub struct {
	app  *App
	ch   chan broadcast.Update
	err  error
	once sync.Once
}

func (s *sub) Updates() <-chan broadcast.Update { return s.ch }
func (s *sub) Err() error {
	s.app.Mu.Lock()
	defer s.app.Mu.Unlock()
	return s.err
}
func (s *sub) Close() {
	s.app.Mu.Lock()
	defer s.app.Mu.Unlock()
	s.app.DropSub(s, broadcast.ErrClosed)
}

// dropSub ends a subscription; a.Mu held.
func (a *App) DropSub(s *sub, err error) {
	if a.Subs[s] {
		delete(a.Subs, s)
		s.err = err
		close(s.ch)
	}
}

func (a *App) Shows() []string { return []string{a.Key} }

func (a *App) Subscribe(show string) (feed.Subscription, error) {
	if show != a.Key {
		return nil, fmt.Errorf("fake: show %q: %w", show, queue.ErrNotFound)
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	s := &sub{app: a, ch: make(chan broadcast.Update, a.Buf)}
	a.Subs[s] = true
	select {
	case a.SubCh <- struct{}{}:
	default:
	}
	return s, nil
}

func (a *App) Call(show, callID string) (queue.Call, error) {
	if show != a.Key {
		return queue.Call{}, fmt.Errorf("fake: show %q: %w", show, queue.ErrNotFound)
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	return a.Q.Get(callID)
}

func (a *App) LineQuality(_ context.Context, show, callID string) (broadcast.LineQuality, error) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	if _, err := a.Q.Get(callID); err != nil || show != a.Key {
		return broadcast.LineQuality{}, fmt.Errorf("fake: %q: %w", callID, queue.ErrNotFound)
	}
	q, ok := a.Quality[callID]
	if !ok {
		return broadcast.LineQuality{}, broadcast.ErrNoQuality
	}
	return q, nil
}

func (a *App) Snapshot(show string) (broadcast.Snapshot, error) {
	if show != a.Key {
		return broadcast.Snapshot{}, fmt.Errorf("fake: show %q: %w", show, queue.ErrNotFound)
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	media := a.Media
	media.HoldMembers = a.Q.Stats(a.Now).Waiting
	return broadcast.Snapshot{Show: a.Key, At: a.Now, Node: broadcast.NodeHealth{Node: "n1", State: broadcast.NodeUp},
		Settings: a.settings(), Seq: a.Emitted,
		Lineup: a.Q.List(), Stats: a.Q.Stats(a.Now), Media: media,
		Talking: slices.Clone(a.Talking), Recording: a.RecordingState(),
		Quality: maps.Clone(a.Quality), Screenings: maps.Clone(a.Screenings),
		Nodes: a.nodes(), Studio: a.studio()}, nil
}

// settings are the show's settings as broadcast says them; a.Mu held.
func (a *App) settings() broadcast.Settings {
	cfg := a.Q.Config()
	return broadcast.Settings{Title: a.Title, LinesOpen: cfg.LinesOpen, AnnounceEvery: cfg.AnnounceEvery,
		MaxOnAir: cfg.MaxOnAir, Capacity: cfg.Capacity}
}

// settingsChanged tells the subscribers of the settings, as broadcast
// does after every change of them (even to the same value); a.Mu held.
func (a *App) settingsChanged(err error) error {
	if err == nil {
		a.Send(broadcast.Update{Kind: broadcast.UpdateSettings, Settings: a.settings()})
	}
	return err
}

// nodes is the show's nodes' loads; a.Mu held.
func (a *App) nodes() []broadcast.NodeLoad {
	if a.Nodes == nil {
		return []broadcast.NodeLoad{{Node: "n1", Studio: true, State: broadcast.NodeUp, Held: a.Q.Stats(a.Now).Waiting}}
	}
	return slices.Clone(a.Nodes)
}

// studio is the show's studio's state; a.Mu held.
func (a *App) studio() broadcast.StudioState {
	if a.Studio.Node == "" {
		return broadcast.StudioState{Node: "n1", State: broadcast.NodeUp}
	}
	return a.Studio
}

// SetLoad sets one node's load, as broadcast reports it, and tells the
// subscribers (UpdateLoad).
func (a *App) SetLoad(l broadcast.NodeLoad) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	for i := range a.Nodes {
		if a.Nodes[i].Node == l.Node {
			a.Nodes[i] = l
		}
	}
	a.Send(broadcast.Update{Kind: broadcast.UpdateLoad, Load: l})
}

// SetStudioState sets the studio's state and tells the subscribers
// (UpdateStudio), as broadcast does when the studio is lost or back.
func (a *App) SetStudioState(st broadcast.StudioState) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.Studio = st
	a.Send(broadcast.Update{Kind: broadcast.UpdateStudio, Studio: st})
}

// SetStudio names another studio as broadcast.App.SetStudio does, with
// its errors: ErrInvalid for a node not the show's, ErrNodeDown for one
// down, and ControlFn("studio") first.
func (a *App) SetStudio(_ context.Context, show, node string) error {
	if err := a.Control("studio"); err != nil {
		return err
	}
	if show != a.Key {
		return fmt.Errorf("fake: show %q: %w", show, queue.ErrNotFound)
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	i := slices.IndexFunc(a.Nodes, func(l broadcast.NodeLoad) bool { return l.Node == node })
	switch {
	case i < 0:
		return fmt.Errorf("fake: show %q does not take node %q's callers: %w", show, node, queue.ErrInvalid)
	case a.Nodes[i].State != broadcast.NodeUp:
		return fmt.Errorf("fake: node %q: %w", node, broadcast.ErrNodeDown)
	}
	for j := range a.Nodes {
		a.Nodes[j].Studio = j == i
	}
	a.Studio = broadcast.StudioState{Node: node, State: broadcast.NodeUp}
	a.Send(broadcast.Update{Kind: broadcast.UpdateStudio, Studio: a.Studio})
	return nil
}

// NodeLost ends the calls held on node node_lost, as broadcast does when
// a node of a show across nodes is lost.
func (a *App) NodeLost(node string) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	_, ts := a.Q.NodeLost(a.Now, node)
	a.Emit(ts...)
}

// send sends one update to every subscriber; a.Mu held.
func (a *App) Send(u broadcast.Update) {
	u.Show = a.Key
	a.Emitted++
	u.Seq = a.Emitted
	for s := range a.Subs {
		select {
		case s.ch <- u:
		default:
			a.DropSub(s, broadcast.ErrSlowSubscriber)
		}
	}
}

// phoneAnswered ends the ringing of a screening as broadcast does when the
// screener answers: the screen transition, then the answered screening.
func (a *App) PhoneAnswered(id string) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	_, ts, err := a.Q.Commit(a.Now, a.Ringing[id])
	if err != nil {
		panic(err)
	}
	a.Emit(ts...)
	sc := a.Screenings[id]
	delete(a.Ringing, id)
	delete(a.Screenings, id)
	sc.State, sc.Ended = broadcast.ScreenAnswered, a.Now
	a.Send(broadcast.Update{Kind: broadcast.UpdateScreening, Screening: sc})
}

// phoneFailed ends the ringing of a screening with a phone that did not
// answer: the caller as they were, the screening kept until they move on.
func (a *App) PhoneFailed(id string, st broadcast.ScreenState, cause int, rang time.Duration) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	if err := a.Q.Abort(a.Ringing[id]); err != nil {
		panic(err)
	}
	delete(a.Ringing, id)
	sc := a.Screenings[id]
	sc.State, sc.Cause, sc.Rang, sc.Ended = st, cause, rang, a.Now.Add(rang)
	a.Screenings[id] = sc
	a.Send(broadcast.Update{Kind: broadcast.UpdateScreening, Screening: sc})
}

// emit sends transitions to every subscriber; one whose buffer is full is
// dropped, as broadcast does. a.Mu held.
func (a *App) Emit(ts ...queue.Transition) {
	for _, t := range ts {
		if sc, ok := a.Screenings[t.CallID]; ok && sc.State != broadcast.ScreenRinging {
			delete(a.Screenings, t.CallID)
		}
		a.Send(broadcast.Update{Kind: broadcast.UpdateTransition, Transition: t})
	}
}

// arrive adds a waiting caller (arrived and joined the holding bridge).
func (a *App) Arrive(id, number, name string) { a.ArriveOn(id, number, name, "") }

// ArriveOn adds a waiting caller held on node (a show across nodes).
func (a *App) ArriveOn(id, number, name, node string) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	adm, err := a.Q.Arrive(a.Now, queue.Arrival{CallID: id, Number: number, Name: name, Node: node, ChannelID: "ch-" + id})
	if err != nil || !adm.Admitted() {
		panic(fmt.Sprintf("fake: arrive %s: %v %s", id, err, adm.Reject))
	}
	_, ts, err := a.Q.Joined(a.Now, id)
	if err != nil {
		panic(err)
	}
	a.Emit(append(adm.Transitions, ts...)...)
}

// ring adds a caller that has arrived (in Stasis) but is not answered
// yet: one transition, where arrive makes two (arrive and join).
func (a *App) Ring(id, number, name string) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	adm, err := a.Q.Arrive(a.Now, queue.Arrival{CallID: id, Number: number, Name: name, ChannelID: "ch-" + id})
	if err != nil || !adm.Admitted() {
		panic(fmt.Sprintf("fake: ring %s: %v %s", id, err, adm.Reject))
	}
	a.Emit(adm.Transitions...)
}

// hangup ends a call as the caller would.
func (a *App) Hangup(id string) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	if _, ts, err := a.Q.Hangup(a.Now, id, 0); err == nil {
		a.Emit(ts...)
	}
}

// callback turns a waiting caller into a call-back entry the way a caller
// gets there: callers taken off the line give the show a rate, the
// caller's announcement offers a call-back, and the caller presses for it.
func (a *App) Callback(id string) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	for i := range 3 {
		tid := fmt.Sprintf("rate-%s-%d", id, i)
		if _, err := a.Q.Arrive(a.Now, queue.Arrival{CallID: tid, Number: "+15550000000", ChannelID: "ch-" + tid}); err != nil {
			panic(err)
		}
		a.Q.Joined(a.Now, tid)
		tk, err := a.Q.Screen(queue.System, tid, "rate")
		if err != nil {
			panic(err)
		}
		a.Q.Commit(a.Now, tk)
		a.Q.Hangup(a.Now, tid, 0)
	}
	later := a.Now.Add(time.Hour)
	for _, an := range a.Q.DueAnnouncements(later, 0) {
		a.Q.AnnouncementDone(later, an.CallID)
	}
	_, ts, err := a.Q.RequestCallback(a.Now, id)
	if err != nil {
		panic(err)
	}
	a.Emit(ts...)
}

// confirm records that a caller pressed 1 at the readiness check.
func (a *App) Confirm(id string) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	_, ts, err := a.Q.Confirm(a.Now, id)
	if err != nil {
		panic(err)
	}
	a.Emit(ts...)
}

// act reserves an action and commits it at once (its telephony worked);
// ActFn decides first.
func (a *App) Act(action, id string, reserve func(*queue.Show) (queue.Ticket, error)) (queue.Call, error) {
	if a.ActFn != nil {
		if err := a.ActFn(action, id); err != nil {
			return queue.Call{}, err
		}
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	tk, err := reserve(a.Q)
	if err != nil {
		return queue.Call{}, fmt.Errorf("fake: %w", err)
	}
	c, ts, err := a.Q.Commit(a.Now, tk)
	if err != nil {
		return queue.Call{}, fmt.Errorf("fake: %w", err)
	}
	a.Emit(ts...)
	return c, nil
}

// immediate applies an action without telephony; ActFn decides first.
func (a *App) Immediate(action, id string, f func(*queue.Show) (queue.Call, []queue.Transition, error)) (queue.Call, error) {
	if a.ActFn != nil {
		if err := a.ActFn(action, id); err != nil {
			return queue.Call{}, err
		}
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	c, ts, err := f(a.Q)
	if err != nil {
		return queue.Call{}, fmt.Errorf("fake: %w", err)
	}
	a.Emit(ts...)
	return c, nil
}

func (a *App) Screen(_ context.Context, _, id string, actor queue.Actor, screener string) (queue.Call, error) {
	if phone := a.Phones[screener]; phone != "" {
		if a.ActFn != nil {
			if err := a.ActFn(queue.ActionScreen, id); err != nil {
				return queue.Call{}, err
			}
		}
		a.Mu.Lock()
		defer a.Mu.Unlock()
		tk, err := a.Q.Screen(actor, id, screener)
		if err != nil {
			return queue.Call{}, fmt.Errorf("fake: %w", err)
		}
		sc := broadcast.Screening{CallID: id, Screener: screener, Phone: phone, Caller: tk.Call.Name, Number: tk.Call.Number,
			State: broadcast.ScreenRinging, Started: a.Now}
		if a.Ringing == nil {
			a.Ringing, a.Screenings = map[string]queue.Ticket{}, map[string]broadcast.Screening{}
		}
		a.Ringing[id], a.Screenings[id] = tk, sc
		a.Send(broadcast.Update{Kind: broadcast.UpdateScreening, Screening: sc})
		return tk.Call, nil
	}
	return a.Act(queue.ActionScreen, id, func(q *queue.Show) (queue.Ticket, error) { return q.Screen(actor, id, screener) })
}
func (a *App) Ready(_ context.Context, _, id string, actor queue.Actor, n queue.Notes) (queue.Call, error) {
	return a.Act(queue.ActionReady, id, func(q *queue.Show) (queue.Ticket, error) { return q.Ready(actor, id, n) })
}
func (a *App) UpdateNotes(_, id string, actor queue.Actor, n queue.Notes) (queue.Call, error) {
	return a.Immediate(queue.ActionNotes, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.UpdateNotes(a.Now, actor, id, n)
	})
}
func (a *App) Promote(_ context.Context, _, id string, actor queue.Actor) (queue.Call, error) {
	return a.Act(queue.ActionPromote, id, func(q *queue.Show) (queue.Ticket, error) { return q.Promote(actor, id) })
}
func (a *App) TakeNext(_ context.Context, _ string, actor queue.Actor) (queue.Call, error) {
	return a.Act(queue.ActionTakeNext, "", func(q *queue.Show) (queue.Ticket, error) { return q.TakeNext(actor) })
}
func (a *App) Hold(_ context.Context, _, id string, actor queue.Actor) (queue.Call, error) {
	return a.Act(queue.ActionHold, id, func(q *queue.Show) (queue.Ticket, error) { return q.Hold(actor, id) })
}
func (a *App) Mute(_ context.Context, _, id string, actor queue.Actor) (queue.Call, error) {
	return a.Act(queue.ActionMute, id, func(q *queue.Show) (queue.Ticket, error) { return q.Mute(actor, id) })
}
func (a *App) Unmute(_ context.Context, _, id string, actor queue.Actor) (queue.Call, error) {
	return a.Act(queue.ActionUnmute, id, func(q *queue.Show) (queue.Ticket, error) { return q.Unmute(actor, id) })
}
func (a *App) Drop(ctx context.Context, _, id string, actor queue.Actor, o broadcast.DropOptions) (queue.Call, error) {
	a.Mu.Lock()
	a.LastDrop = o
	fn := a.DropFn
	a.Mu.Unlock()
	if fn != nil {
		if err := fn(ctx); err != nil {
			return queue.Call{}, err
		}
	}
	return a.Act(queue.ActionDrop, id, func(q *queue.Show) (queue.Ticket, error) {
		if c, err := q.Get(id); err == nil && o.NotOnAir && c.State == queue.StateOnAir {
			return queue.Ticket{}, fmt.Errorf("fake: drop %s: on air: %w", id, queue.ErrConflict)
		}
		return q.Drop(actor, id, o.Reason)
	})
}
func (a *App) Lock(_, id string, actor queue.Actor) (queue.Call, error) {
	return a.Immediate(queue.ActionLock, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.Lock(a.Now, actor, id)
	})
}
func (a *App) Unlock(_, id string, actor queue.Actor) (queue.Call, error) {
	return a.Immediate(queue.ActionUnlock, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.Unlock(a.Now, actor, id)
	})
}
func (a *App) MoveToTop(_, id string, actor queue.Actor) (queue.Call, error) {
	return a.Immediate(queue.ActionMoveToTop, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.MoveToTop(a.Now, actor, id)
	})
}
func (a *App) PickNext(_, id string, actor queue.Actor) (queue.Call, error) {
	return a.Immediate(queue.ActionPickNext, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.PickNext(a.Now, actor, id)
	})
}
func (a *App) CallbackNow(_, id string, actor queue.Actor) (queue.Call, error) {
	return a.Immediate(queue.ActionCallbackNow, id, func(q *queue.Show) (queue.Call, []queue.Transition, error) {
		return q.CallbackNow(a.Now, actor, id)
	})
}

// ClearAir holds or drops the unlocked callers on air one by one, as
// broadcast does (all at once there).
func (a *App) ClearAir(ctx context.Context, show string, actor queue.Actor, how string, o broadcast.DropOptions) (broadcast.AirCleared, error) {
	if err := a.Control("clear_air"); err != nil {
		return broadcast.AirCleared{}, err
	}
	a.Mu.Lock()
	onAir := a.Q.List().OnAir
	a.Mu.Unlock()
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

func (a *App) Control(name string) error {
	if a.ControlFn != nil {
		return a.ControlFn(name)
	}
	return nil
}
func (a *App) SetLinesOpen(_ string, open bool) error {
	if err := a.Control("lines"); err != nil {
		return err
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.Q.SetLinesOpen(open)
	return a.settingsChanged(nil)
}
func (a *App) SetAnnounceEvery(_ string, d time.Duration) error {
	if err := a.Control("announce"); err != nil {
		return err
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	return a.settingsChanged(a.Q.SetAnnounceEvery(d))
}
func (a *App) StartRecording(context.Context, string) (broadcast.RecordingState, error) {
	a.Mu.Lock()
	st, why := a.RecordingState(), a.Unstarted
	a.Mu.Unlock()
	if why != "" {
		return st, fmt.Errorf("fake: record on-air bridge: %s: %w", why, broadcast.ErrTimeout)
	}
	return broadcast.RecordingState{Active: true}, a.Control("record")
}

// recordingState is the recording as broadcast would say it; a.Mu held.
func (a *App) RecordingState() broadcast.RecordingState {
	if a.Unstarted != "" {
		return broadcast.RecordingState{Name: "r1", State: "failed", Format: "wav", Error: a.Unstarted}
	}
	return broadcast.RecordingState{Active: a.Recording}
}
func (a *App) StopRecording(context.Context, string) (broadcast.RecordingState, error) {
	return broadcast.RecordingState{}, a.Control("record")
}
func (a *App) StartTalkback(_ context.Context, _ string, o broadcast.TalkbackOptions) error {
	if err := a.Control("talkback"); err != nil {
		return err
	}
	a.Mu.Lock()
	a.LastTalkback = o
	a.Mu.Unlock()
	return nil
}

// SetBlocked flags the calls whose number normalises to number, as
// broadcast does (web's Blocks).
func (a *App) SetBlocked(number string, blocked bool, note string, actor queue.Actor) int {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	calls, ts := a.Q.SetBlocked(a.Now, actor, number, blocked, note)
	a.Emit(ts...)
	return len(calls)
}
func (a *App) StopTalkback(context.Context, string) error { return a.Control("talkback") }

// History is a History of function fields.
type History struct {
	ProfileFn   func(number string) (queue.Profile, error)
	CallsFn     func(number string) ([]queue.CallRecord, error)
	DayFn       func(show string, day time.Time) (queue.Day, error)
	ShowCallsFn func(show string) ([]queue.CallRecord, error)
	// ShowCallsInFn, when set, answers ShowCalls with the range asked.
	ShowCallsInFn func(show string, from, to time.Time) ([]queue.CallRecord, error)
	BlockFn       func(number, by, reason string) error
	UnblockFn     func(number, by string) error
	SearchFn      func(q string, limit int) ([]queue.Profile, error)
}

func (h *History) SearchCallers(_ context.Context, q string, limit int) ([]queue.Profile, error) {
	if h.SearchFn == nil {
		return nil, nil
	}
	return h.SearchFn(q, limit)
}

// Chat is a Chat kept in a slice, as the store would keep it; AddFn
// and ListFn, when set, decide first (a non-nil error is returned).
type Chat struct {
	Mu     sync.Mutex
	Msgs   []queue.ShowMessage
	At     time.Time
	AddFn  func(show, author, body string) error
	ListFn func(show string) error
}

func (c *Chat) AddShowMessage(_ context.Context, show, author, body string) (queue.ShowMessage, error) {
	c.Mu.Lock()
	fn := c.AddFn
	c.Mu.Unlock()
	if fn != nil {
		if err := fn(show, author, body); err != nil {
			return queue.ShowMessage{}, err
		}
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	c.At = c.At.Add(time.Minute)
	m := queue.ShowMessage{ID: int64(len(c.Msgs) + 1), Show: show, Author: author, Body: body, At: c.At}
	c.Msgs = append(c.Msgs, m)
	return m, nil
}

func (c *Chat) ShowMessages(_ context.Context, show string, limit int) ([]queue.ShowMessage, error) {
	c.Mu.Lock()
	fn := c.ListFn
	c.Mu.Unlock()
	if fn != nil {
		if err := fn(show); err != nil {
			return nil, err
		}
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	var out []queue.ShowMessage
	for _, m := range c.Msgs {
		if m.Show == show {
			out = append(out, m)
		}
	}
	return out[max(0, len(out)-limit):], nil
}

func (h *History) CallerProfile(_ context.Context, n string) (queue.Profile, error) {
	if h.ProfileFn == nil {
		return queue.Profile{Number: n}, nil
	}
	return h.ProfileFn(n)
}
func (h *History) CallerCalls(_ context.Context, n string, _ int) ([]queue.CallRecord, error) {
	if h.CallsFn == nil {
		return nil, nil
	}
	return h.CallsFn(n)
}
func (h *History) ShowDay(_ context.Context, show string, day time.Time) (queue.Day, error) {
	if h.DayFn == nil {
		return queue.Day{Show: show, Start: day, PerHour: make([]int, 24)}, nil
	}
	return h.DayFn(show, day)
}
func (h *History) ShowCalls(_ context.Context, show string, from, to time.Time) ([]queue.CallRecord, error) {
	switch {
	case h.ShowCallsInFn != nil:
		return h.ShowCallsInFn(show, from, to)
	case h.ShowCallsFn != nil:
		return h.ShowCallsFn(show)
	}
	return nil, nil
}
func (h *History) Block(_ context.Context, n, by, reason string) error {
	if h.BlockFn == nil {
		return nil
	}
	return h.BlockFn(n, by, reason)
}
func (h *History) Unblock(_ context.Context, n, by string) error {
	if h.UnblockFn == nil {
		return nil
	}
	return h.UnblockFn(n, by)
}

// Auth authenticates "Bearer <role>" tokens and a "session" cookie
// holding "<name>:<role>"; the CSRF token is "csrf-<name>". A credential's
// Key is "s:<cookie>" or "t:<role>"; revoke makes one invalid.
type Auth struct {
	Mu      sync.Mutex
	Revoked map[string]bool
	Checks  int // Authenticate calls
}

func NewAuth() *Auth { return &Auth{Revoked: map[string]bool{}} }

// revoke makes a credential invalid from now on.
func (a *Auth) Revoke(key string) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.Revoked[key] = true
}

func (a *Auth) Valid(key string) bool {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	return !a.Revoked[key]
}

// session returns the principal of r's session cookie.
func (a *Auth) Session(r *http.Request) (auth.Principal, bool) {
	c, err := r.Cookie("session")
	if err != nil {
		return auth.Principal{}, false
	}
	name, role, ok := strings.Cut(c.Value, ":")
	key := "s:" + c.Value
	if !ok || !a.Valid(key) {
		return auth.Principal{}, false
	}
	return auth.Principal{Kind: auth.KindUser, Name: name, Role: auth.Role(role), Key: key}, true
}

// bearer returns the principal of r's bearer token.
func (a *Auth) Bearer(r *http.Request) (auth.Principal, bool) {
	role, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	key := "t:" + role
	if !ok || role == "" || !a.Valid(key) {
		return auth.Principal{}, false
	}
	return auth.Principal{Kind: auth.KindToken, Name: "bot-" + role, Role: auth.Role(role), Key: key}, true
}

func (a *Auth) RequireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.Session(r)
		if !ok {
			http.Redirect(w, r, "/login?next="+r.URL.Path, http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Header.Get("X-CSRF-Token") != "csrf-"+p.Name && r.PostFormValue("csrf_token") != "csrf-"+p.Name {
			http.Error(w, `{"type":"urn:callin:problem:forbidden","title":"Not permitted","status":403,"detail":"CSRF","code":"forbidden"}`, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func (a *Auth) RequireBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.Bearer(r)
		if !ok {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"type":"urn:callin:problem:unauthorized","title":"Not authenticated","status":401,"detail":"no token","code":"unauthorized","request_id":%q}`,
				w.Header().Get("X-Request-Id"))
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func (a *Auth) Authenticate(r *http.Request) (auth.Principal, error) {
	a.Mu.Lock()
	a.Checks++
	a.Mu.Unlock()
	if r.Header.Get("Authorization") != "" {
		if p, ok := a.Bearer(r); ok {
			return p, nil
		}
	} else if p, ok := a.Session(r); ok {
		return p, nil
	}
	return auth.Principal{}, fmt.Errorf("fake: %w", auth.ErrUnauthenticated)
}

func (a *Auth) LoginHandler(fail func(http.ResponseWriter, *http.Request, int, string)) http.Handler {
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
func (a *Auth) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := a.Session(r); ok {
			if r.PostFormValue("csrf_token") != "csrf-"+p.Name && r.Header.Get("X-CSRF-Token") != "csrf-"+p.Name {
				http.Error(w, `{"type":"urn:callin:problem:forbidden","title":"Not permitted","status":403,"detail":"CSRF","code":"forbidden"}`, http.StatusForbidden)
				return
			}
			a.Revoke(p.Key)
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "", Path: "/", MaxAge: -1})
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
}

func (a *Auth) CSRFToken(r *http.Request) string {
	c, err := r.Cookie("session")
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(c.Value, ":")
	return "csrf-" + name
}

// Notes is a CallerNotes kept in memory, every save a version, as the
// store keeps them; WriteFn, when set, decides first.
type Notes struct {
	Mu       sync.Mutex
	Versions map[string][]queue.CallerNotes // newest last
	At       time.Time
	WriteFn  func(n queue.CallerNotes) error
	change   sync.Mutex
}

func NewNotes() *Notes {
	return &Notes{Versions: map[string][]queue.CallerNotes{}, At: time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC)}
}

func (f *Notes) CallerNotes(ctx context.Context, number string) (queue.CallerNotes, error) {
	h, err := f.CallerNotesHistory(ctx, number, 1)
	if err != nil || len(h) == 0 {
		return queue.CallerNotes{Number: queue.NormalizeNumber(number)}, err
	}
	return h[0], nil
}

func (f *Notes) CallerNotesHistory(_ context.Context, number string, limit int) ([]queue.CallerNotes, error) {
	n := queue.NormalizeNumber(number)
	if n == "" {
		return nil, fmt.Errorf("fake: notes of %q: %w", number, queue.ErrInvalid)
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	vs := f.Versions[n]
	var out []queue.CallerNotes
	for i := len(vs) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, vs[i])
	}
	return out, nil
}

// CallerNotesVersion returns a number's notes and their version: how many
// times they were saved (0: never), as the store's grows with each save.
func (f *Notes) CallerNotesVersion(ctx context.Context, number string) (queue.CallerNotes, int64, error) {
	n, err := f.CallerNotes(ctx, number)
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return n, int64(len(f.Versions[n.Number])), err
}

// ChangeCallerNotes saves change(the notes now) if they are at version
// ifVersion (negative: any); a stale version wraps queue.ErrStale.
func (f *Notes) ChangeCallerNotes(ctx context.Context, number, by string, ifVersion int64,
	change func(queue.CallerNotes) queue.CallerNotes) (queue.CallerNotes, int64, error) {
	f.change.Lock() // one change at a time: the version read is the one written over
	defer f.change.Unlock()
	cur, v, err := f.CallerNotesVersion(ctx, number)
	if err != nil {
		return queue.CallerNotes{}, 0, err
	}
	if ifVersion >= 0 && ifVersion != v {
		return queue.CallerNotes{}, 0, fmt.Errorf("fake: notes of %s at version %d, not %d: %w", cur.Number, v, ifVersion, queue.ErrStale)
	}
	n := change(cur)
	n.Number = cur.Number
	saved, err := f.WriteCallerNotes(ctx, n, by)
	if err != nil {
		return queue.CallerNotes{}, 0, err
	}
	_, v, err = f.CallerNotesVersion(ctx, number)
	return saved, v, err
}

func (f *Notes) WriteCallerNotes(ctx context.Context, n queue.CallerNotes, by string) (queue.CallerNotes, error) {
	n = n.Clean()
	if err := n.Validate(); err != nil {
		return queue.CallerNotes{}, err
	}
	f.Mu.Lock()
	fn := f.WriteFn
	f.Mu.Unlock()
	if fn != nil {
		if err := fn(n); err != nil {
			return queue.CallerNotes{}, err
		}
	}
	cur, _ := f.CallerNotes(ctx, n.Number)
	if cur.SameAs(n) {
		return cur, nil
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.At = f.At.Add(time.Minute)
	n.By, n.At = by, f.At
	f.Versions[n.Number] = append(f.Versions[n.Number], n)
	return n, nil
}

// AddShowNode adds a node to the show as broadcast.App.AddShowNode does,
// with its errors: ErrInvalid for a new node without a URL; a node the
// show has is a no-op. ControlFn("add_node") first. The node added is
// up with nobody held.
func (a *App) AddShowNode(_ context.Context, show, node, url string) error {
	if err := a.Control("add_node"); err != nil {
		return err
	}
	if show != a.Key {
		return fmt.Errorf("fake: show %q: %w", show, queue.ErrNotFound)
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.Nodes = a.nodes()
	if slices.ContainsFunc(a.Nodes, func(l broadcast.NodeLoad) bool { return l.Node == node }) {
		return nil
	}
	if url == "" {
		return fmt.Errorf("fake: node %q is not one of callin's: its ARI URL is needed: %w", node, queue.ErrInvalid)
	}
	l := broadcast.NodeLoad{Node: node, State: broadcast.NodeUp}
	a.Nodes = append(a.Nodes, l)
	a.Send(broadcast.Update{Kind: broadcast.UpdateLoad, Load: l})
	return nil
}
