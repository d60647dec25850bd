package web

import (
	"context"
	"fmt"
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

// fakeApp is a hand-written stand-in for *broadcast.App: one show whose
// calls move between states as the actions say. Each action can be
// overridden with a function field (wtf mock style).
type fakeApp struct {
	mu    sync.Mutex
	show  string
	calls map[string]*queue.Call
	order []string // arrival order
	lines bool
	subs  map[*fakeSub]bool
	seq   int
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
}

func newFakeApp(show string) *fakeApp {
	return &fakeApp{show: show, calls: map[string]*queue.Call{}, subs: map[*fakeSub]bool{}, buf: 256,
		lines: true, subCh: make(chan struct{}, 64), title: "Morning <b>Show</b>", now: time.Date(2025, 11, 26, 9, 0, 0, 0, time.UTC)}
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

func (a *fakeApp) Snapshot(show string) (broadcast.Snapshot, error) {
	if show != a.show {
		return broadcast.Snapshot{}, fmt.Errorf("fake: show %q: %w", show, queue.ErrNotFound)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	snap := broadcast.Snapshot{Show: a.show, At: a.now, Node: broadcast.NodeHealth{Node: "n1", State: broadcast.NodeUp},
		Settings: broadcast.Settings{Title: a.title, LinesOpen: a.lines, AnnounceEvery: 90 * time.Second},
		Talking:  slices.Clone(a.talking), Recording: broadcast.RecordingState{Active: a.recording}}
	pos := 0
	for _, st := range []queue.State{queue.StateReady, queue.StateWaiting} {
		for _, id := range a.order {
			if c := a.calls[id]; c.State == st {
				pos++
				c.Position = pos
			}
		}
	}
	for _, id := range a.order {
		c := *a.calls[id]
		switch c.State {
		case queue.StateWaiting:
			snap.Lineup.Waiting = append(snap.Lineup.Waiting, c)
			snap.Stats.Waiting++
		case queue.StateReady:
			snap.Lineup.Ready = append(snap.Lineup.Ready, c)
			snap.Stats.Ready++
		case queue.StateScreening:
			snap.Lineup.Screening = append(snap.Lineup.Screening, c)
			snap.Stats.Screening++
		case queue.StateOnAir:
			snap.Lineup.OnAir = append(snap.Lineup.OnAir, c)
			snap.Stats.OnAir++
		}
	}
	slices.SortFunc(snap.Lineup.Ready, func(x, y queue.Call) int { return x.Position - y.Position })
	var waited time.Duration
	for _, c := range slices.Concat(snap.Lineup.Ready, snap.Lineup.Waiting) {
		w := a.now.Sub(c.ArrivedAt)
		waited += w
		snap.Stats.LongestWait = max(snap.Stats.LongestWait, w)
	}
	if n := snap.Stats.Waiting + snap.Stats.Ready; n > 0 {
		snap.Stats.AverageWait = waited / time.Duration(n)
	}
	return snap, nil
}

// emit sends a transition to every subscriber; one whose buffer is full is
// dropped, as broadcast does. a.mu held.
func (a *fakeApp) emit(c *queue.Call, from queue.State, action string) {
	a.seq++
	c.Seq++
	t := queue.Transition{CallID: c.ID, Seq: c.Seq, At: a.now, Show: a.show, From: from, To: c.State,
		Action: action, Number: c.Number, Name: c.Name}
	for s := range a.subs {
		select {
		case s.ch <- broadcast.Update{Show: a.show, Kind: broadcast.UpdateTransition, Transition: t}:
		default:
			a.dropSub(s, broadcast.ErrSlowSubscriber)
		}
	}
}

// arrive adds a waiting caller.
func (a *fakeApp) arrive(id, number, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := &queue.Call{ID: id, Number: number, Name: name, State: queue.StateWaiting, ArrivedAt: a.now, Since: a.now}
	a.calls[id] = c
	a.order = append(a.order, id)
	a.emit(c, "", queue.ActionArrive)
}

// hangup ends a call as the caller would.
func (a *fakeApp) hangup(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.calls[id]; c != nil {
		from := c.State
		c.State = queue.StateEnded
		a.emit(c, from, queue.ActionHangup)
		delete(a.calls, id)
		a.order = slices.DeleteFunc(a.order, func(x string) bool { return x == id })
	}
}

// act applies an action: the override decides first, then the default
// moves the call.
func (a *fakeApp) act(action, id string, to queue.State, change func(*queue.Call)) (queue.Call, error) {
	if a.ActFn != nil {
		if err := a.ActFn(action, id); err != nil {
			return queue.Call{}, err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.calls[id]
	if c == nil {
		return queue.Call{}, fmt.Errorf("fake: %s %q: %w", action, id, queue.ErrNotFound)
	}
	from := c.State
	if to != "" {
		c.State = to
		if to != from {
			c.Since = a.now
		}
	}
	if change != nil {
		change(c)
	}
	a.emit(c, from, action)
	out := *c
	if c.State == queue.StateEnded {
		delete(a.calls, id)
		a.order = slices.DeleteFunc(a.order, func(x string) bool { return x == id })
	}
	return out, nil
}

func (a *fakeApp) Screen(_ context.Context, _, id string, _ queue.Actor, screener string) (queue.Call, error) {
	return a.act(queue.ActionScreen, id, queue.StateScreening, func(c *queue.Call) { c.Screener = screener })
}
func (a *fakeApp) Ready(_ context.Context, _, id string, _ queue.Actor, n queue.Notes) (queue.Call, error) {
	return a.act(queue.ActionReady, id, queue.StateReady, func(c *queue.Call) { c.Notes = n })
}
func (a *fakeApp) Promote(_ context.Context, _, id string, _ queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionPromote, id, queue.StateOnAir, nil)
}
func (a *fakeApp) TakeNext(ctx context.Context, show string, actor queue.Actor) (queue.Call, error) {
	snap, _ := a.Snapshot(show)
	line := slices.Concat(snap.Lineup.Ready, snap.Lineup.Waiting)
	if len(line) == 0 {
		return queue.Call{}, fmt.Errorf("fake: take next: nobody: %w", queue.ErrNotFound)
	}
	return a.act(queue.ActionTakeNext, line[0].ID, queue.StateOnAir, nil)
}
func (a *fakeApp) Hold(_ context.Context, _, id string, _ queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionHold, id, queue.StateWaiting, nil)
}
func (a *fakeApp) Mute(_ context.Context, _, id string, _ queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionMute, id, "", func(c *queue.Call) { c.Muted = true })
}
func (a *fakeApp) Unmute(_ context.Context, _, id string, _ queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionUnmute, id, "", func(c *queue.Call) { c.Muted = false })
}
func (a *fakeApp) Drop(ctx context.Context, _, id string, _ queue.Actor, o broadcast.DropOptions) (queue.Call, error) {
	a.mu.Lock()
	a.lastDrop = o
	fn := a.DropFn
	a.mu.Unlock()
	if fn != nil {
		if err := fn(ctx); err != nil {
			return queue.Call{}, err
		}
	}
	return a.act(queue.ActionDrop, id, queue.StateEnded, func(c *queue.Call) { c.Outcome, c.Reason = queue.OutcomeDropped, o.Reason })
}
func (a *fakeApp) Lock(_, id string, _ queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionLock, id, "", func(c *queue.Call) { c.Locked = true })
}
func (a *fakeApp) Unlock(_, id string, _ queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionUnlock, id, "", func(c *queue.Call) { c.Locked = false })
}
func (a *fakeApp) MoveToTop(_, id string, _ queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionMoveToTop, id, "", func(c *queue.Call) { c.Top = true })
}
func (a *fakeApp) PickNext(_, id string, _ queue.Actor) (queue.Call, error) {
	return a.act(queue.ActionPickNext, id, "", func(c *queue.Call) { c.Next = true })
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
	a.lines = open
	a.mu.Unlock()
	return nil
}
func (a *fakeApp) SetAnnounceEvery(string, time.Duration) error { return a.control("announce") }
func (a *fakeApp) StartRecording(context.Context, string) (broadcast.RecordingState, error) {
	return broadcast.RecordingState{Active: true}, a.control("record")
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
func (a *fakeApp) SetBlocked(number string, blocked bool, note string, _ queue.Actor) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, id := range a.order {
		c := a.calls[id]
		if queue.NormalizeNumber(c.Number) == number && c.Blocked != blocked {
			c.Blocked, c.BlockNote = blocked, note
			a.emit(c, c.State, map[bool]string{true: queue.ActionBlock, false: queue.ActionUnblock}[blocked])
			n++
		}
	}
	return n
}
func (a *fakeApp) StopTalkback(context.Context, string) error { return a.control("talkback") }

// fakeHistory is a History of function fields.
type fakeHistory struct {
	ProfileFn   func(number string) (postgres.Profile, error)
	CallsFn     func(number string) ([]postgres.Call, error)
	DayFn       func(show string, day time.Time) (postgres.Day, error)
	ShowCallsFn func(show string) ([]postgres.Call, error)
	BlockFn     func(number, by, reason string) error
	UnblockFn   func(number, by string) error
	SearchFn    func(q string, limit int) ([]postgres.Profile, error)
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
func (h *fakeHistory) ShowCalls(_ context.Context, show string, _, _ time.Time) ([]postgres.Call, error) {
	if h.ShowCallsFn == nil {
		return nil, nil
	}
	return h.ShowCallsFn(show)
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
