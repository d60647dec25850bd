package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
	"github.com/go-chi/chi/v5"
)

// actionInput is what an action may take besides the call: the screener
// for screen, notes for ready, a reason for drop.
type actionInput struct {
	Screener string `json:"screener,omitempty"`
	Name     string `json:"name,omitempty"`
	Location string `json:"location,omitempty"`
	Topic    string `json:"topic,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Goodbye  bool   `json:"goodbye,omitempty"` // drop: play the goodbye prompt first

	// notOnAir is set for a principal who may drop only waiting callers:
	// broadcast then refuses atomically if the caller went on air.
	notOnAir bool
}

// The one table of caller actions: callerActions. Each row says
// everything about one action on one caller — its queue name and URL
// segment, the permission it needs (of the call: dropping a caller on air
// needs more than dropping a waiting one), when it fits the call (queue's
// rule, queue.May, plus the console's narrower button rule), its JSON
// body, its API operation, its console button and key, the words for it
// under way and done — and what it does. The console's buttons (actsOf,
// airActs), the API's routes (server.go) and OpenAPI operations
// (openapi.go), the permission check (callerAct) and GET /me's list of
// permitted actions (apiMe) are all made from it: adding an action is a
// row here plus its rule in queue.May (TestTrivialActionEverywhere adds
// one).

// callerAction is one action on one caller: one row of the table.
type callerAction struct {
	name string // queue action name
	path string // URL segment, under /shows/{show}/callers/{call}/
	// perm is what a role needs; permOnAir, when set, what it needs on a
	// caller on air (see permFor).
	perm, permOnAir auth.Action
	// may is queue's rule, whether the action fits the call now; nil:
	// queue.May(c, name).
	may    func(queue.Call) bool
	body   actionBody   // the API's JSON body
	op     actionOp     // the API operation
	button actionButton // the console's button
	label  string       // the console's flash message when done: "On air"
	doing  string       // words while it is under way ("going on air"); "": the name
	do     func(ctx context.Context, c Callers, show, callID string, a queue.Actor, in actionInput) (queue.Call, error)
}

// actionOp is what the OpenAPI document says of a caller action: its
// operationId, who may, what it does, whether it may reach Asterisk (502,
// 503) and, for an action that can answer 202, when.
type actionOp struct {
	id, who, desc string
	telephony     bool
	accepted      string
}

// Where a caller action's button goes on the console.
const (
	placeMenu   = iota // the row's menu, in table order; the first is the primary button but on air
	placeToggle        // the on-air card's toggles (mute, lock)
	placeDanger        // set apart and confirmed (drop)
)

// actionButton describes a caller action's button, in no console's
// types: its label and key, where it goes, the console's own rule beyond
// queue's (show: the console's buttons are narrower than what queue
// allows), the dialog it opens first, whether it is a toggle and which
// question is asked before it. The console makes its own view of it
// (lines.go: buttons).
type actionButton struct {
	label, key string
	place      int
	testID     string                // data-testid act-<testID>; "": the action's name
	show       func(queue.Call) bool // nil: whenever queue's rule allows
	// dialog, when set, is the dialog the button opens to ask for the
	// action's input first (dialogReady: the screener's notes), with
	// title and submit as its heading and submit word ("": the dialog's
	// own).
	dialog, title, submit string
	// pressed is a toggle's state ("true", "false"); "": no toggle.
	pressed string
	// ask is the question asked first (askDoNotAir, askDrop); "": none.
	ask string
}

// The dialogs a button may open, and the questions it may ask first.
const (
	dialogReady = "ready" // the screener's notes
	// askDoNotAir asks first when the caller is marked do not air.
	askDoNotAir = "do-not-air"
	// askDrop confirms a drop, offering a goodbye first (a call-back
	// entry is removed from the line instead).
	askDrop = "drop"
)

// fits reports whether a fits c: queue's rule.
func (a callerAction) fits(c queue.Call) bool {
	if a.may != nil {
		return a.may(c)
	}
	return queue.May(c, a.name)
}

// permFor is the permission doing a to c needs.
func (a callerAction) permFor(c queue.Call) auth.Action {
	if a.permOnAir != "" && c.State == queue.StateOnAir {
		return a.permOnAir
	}
	return a.perm
}

// callerActions is every action on one caller, in the console's menu
// order (the first a caller's state allows is its primary button).
var callerActions = []callerAction{
	{name: queue.ActionCallbackNow, path: "callback-now", perm: auth.ActionPromote, body: noBody,
		op:     actionOp{id: "callBackNow", who: api.WhoProducer, desc: "Call a call-back entry (state callback) now, wherever it is in line."},
		button: actionButton{label: "Call back now", key: "c"}, label: "Calling back",
		do: func(_ context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
			return c.CallbackNow(show, id, a)
		}},
	{name: queue.ActionScreen, path: "screen", perm: auth.ActionScreen, body: screenBody,
		op: actionOp{id: "screenCaller", who: api.WhoScreen, telephony: true, desc: screenDoc,
			accepted: "The screener's phone is ringing; the caller is as before, with pending `screen`. The outcome comes as `screening` events."},
		button: actionButton{label: "Screen", key: "s", show: func(c queue.Call) bool { return c.State == queue.StateWaiting }},
		label:  "Screening", doing: "ringing the screener",
		do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, in actionInput) (queue.Call, error) {
			return c.Screen(ctx, show, id, a, in.Screener)
		}},
	{name: queue.ActionPromote, path: "promote", perm: auth.ActionPromote, body: noBody,
		op:     actionOp{id: "promoteCaller", who: api.WhoProducer, telephony: true, desc: "Put a caller on air, wherever they are in line (also one that is blocked)."},
		button: actionButton{label: "On air", key: "p", ask: askDoNotAir}, label: "On air", doing: "going on air",
		do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
			return c.Promote(ctx, show, id, a)
		}},
	{name: queue.ActionReady, path: "ready", perm: auth.ActionReady, body: notesBody,
		op:     actionOp{id: "readyCaller", who: api.WhoScreen, telephony: true, desc: "Mark a caller ready for air, with the screener's notes."},
		button: actionButton{label: "Ready…", key: "r", dialog: dialogReady}, label: "Ready", doing: "marking ready",
		do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, in actionInput) (queue.Call, error) {
			return c.Ready(ctx, show, id, a, in.notes())
		}},
	{name: queue.ActionPickNext, path: "pick-next", perm: auth.ActionPickNext, body: noBody,
		op:     actionOp{id: "pickNextCaller", who: api.WhoProducer, desc: "Pick the caller take-next puts on air next."},
		button: actionButton{label: "Pick as next", key: "x", show: func(c queue.Call) bool { return !c.Next }}, label: "Picked as next",
		do: func(_ context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
			return c.PickNext(show, id, a)
		}},
	{name: queue.ActionMoveToTop, path: "move-to-top", perm: auth.ActionMoveToTop, body: noBody,
		op: actionOp{id: "moveCallerToTop", who: api.WhoProducer, desc: "Move a caller to the front of the line."},
		button: actionButton{label: "Move to top", key: "t",
			show: func(c queue.Call) bool { return !c.Top || c.State == queue.StateCallback }}, label: "Moved to top",
		do: func(_ context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
			return c.MoveToTop(show, id, a)
		}},
	{name: queue.ActionHold, path: "hold", perm: auth.ActionHold, body: noBody,
		op:     actionOp{id: "holdCaller", who: api.WhoProducer, telephony: true, desc: "Take an on-air caller back to hold, at the front of the line."},
		button: actionButton{label: "Back to hold", key: "h"}, label: "Back on hold", doing: "back to hold",
		do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
			return c.Hold(ctx, show, id, a)
		}},
	{name: queue.ActionNotes, path: "screener-notes", perm: auth.ActionNotes, body: notesBody,
		op: actionOp{id: "updateScreenerNotes", who: api.WhoScreen,
			desc: "Replace the screener's notes on a live caller (waiting, screening, ready or on air); a ready caller's new priority moves them in line. Unchanged notes record nothing."},
		// The ready dialog again, to change the notes of a ready or
		// on-air caller without moving them.
		button: actionButton{label: "Screener notes…", key: "w", testID: "screener-notes", dialog: dialogReady, title: "Screener notes", submit: "Save notes",
			show: func(c queue.Call) bool { return c.State == queue.StateReady || c.State == queue.StateOnAir }},
		label: "Notes saved",
		do: func(_ context.Context, c Callers, show, id string, a queue.Actor, in actionInput) (queue.Call, error) {
			return c.UpdateNotes(show, id, a, in.notes())
		}},
	{name: queue.ActionMute, path: "mute", perm: auth.ActionMute, body: noBody,
		op:     actionOp{id: "muteCaller", who: api.WhoOnAir, telephony: true, desc: "Mute an on-air caller."},
		button: actionButton{label: "Mute", key: "m", place: placeToggle, pressed: "false"}, label: "Muted",
		do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
			return c.Mute(ctx, show, id, a)
		}},
	{name: queue.ActionUnmute, path: "unmute", perm: auth.ActionMute, body: noBody,
		op:     actionOp{id: "unmuteCaller", who: api.WhoOnAir, telephony: true, desc: "Unmute an on-air caller."},
		button: actionButton{label: "Muted", key: "m", place: placeToggle, pressed: "true"}, label: "Unmuted",
		do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
			return c.Unmute(ctx, show, id, a)
		}},
	{name: queue.ActionLock, path: "lock", perm: auth.ActionLock, body: noBody,
		op:     actionOp{id: "lockCaller", who: api.WhoOnAir, desc: "Lock an on-air caller: hold and drop are refused until unlocked."},
		button: actionButton{label: "Lock", key: "l", place: placeToggle, pressed: "false"}, label: "Locked",
		do: func(_ context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
			return c.Lock(show, id, a)
		}},
	{name: queue.ActionUnlock, path: "unlock", perm: auth.ActionLock, body: noBody,
		op:     actionOp{id: "unlockCaller", who: api.WhoOnAir, desc: "Unlock an on-air caller."},
		button: actionButton{label: "Locked", key: "l", place: placeToggle, pressed: "true"}, label: "Unlocked",
		do: func(_ context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
			return c.Unlock(show, id, a)
		}},
	{name: queue.ActionDrop, path: "drop", perm: auth.ActionDropWaiting, permOnAir: auth.ActionDropOnAir, body: dropBody,
		op:     actionOp{id: "dropCaller", who: api.WhoHostDrop, telephony: true, desc: "End a call, after a goodbye prompt when asked."},
		button: actionButton{label: "Drop", key: "d", place: placeDanger, ask: askDrop}, label: "Dropped", doing: "dropping",
		do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, in actionInput) (queue.Call, error) {
			return c.Drop(ctx, show, id, a, broadcast.DropOptions{Reason: in.Reason, Goodbye: in.Goodbye, NotOnAir: in.notOnAir})
		}},
}

// screenDoc describes the screen operation.
const screenDoc = "Take a waiting caller to a screener (the token's name when screener is left out). " +
	"A screener without a phone screens in the console: 200, the caller screening at once (and still hearing the music). " +
	"A screener with a phone: 202 as soon as the phone rings, the caller still waiting or ready at their place with pending `screen`; " +
	"the event stream's `screening` events say how it goes (ringing, then answered with the screen transition, or busy, unavailable, " +
	"no answer after the ring timeout, unreachable: the caller stays on hold at their place), each with a message for people. " +
	"502 only when Asterisk refused to ring the phone at all. " +
	"Only producers and admins may name another user as the screener (whose phone then rings); anyone else screens as themselves: 403 otherwise. " +
	"422 (`phone`) when the screener's phone is not one the installation allows (serve's --phones-allowed): it is not rung."

// actionBody is a caller action's JSON body: its schema's name ("" for
// none: no body, or an empty object) and how it is read, strictly (a
// field another action takes is refused like any unknown one).
type actionBody struct {
	schema string
	read   func(*http.Request) (actionInput, error)
}

// bodyOf is the body of schema, decoded as a T and made an actionInput.
func bodyOf[T any](schema string, input func(T) actionInput) actionBody {
	return actionBody{schema: schema, read: func(r *http.Request) (actionInput, error) {
		var b T
		if err := shared.DecodeJSON(r, &b); err != nil {
			return actionInput{}, err
		}
		in := input(b)
		return in, in.validate()
	}}
}

// The bodies of the caller actions; ready's and screener-notes' is the
// screener's notes (schema Notes, api.Notes).
var (
	noBody     = bodyOf("", func(struct{}) actionInput { return actionInput{} })
	screenBody = bodyOf("Screen", func(b api.Screen) actionInput { return actionInput{Screener: b.Screener} })
	notesBody  = bodyOf("Notes", func(b api.Notes) actionInput {
		return actionInput{Name: b.Name, Location: b.Location, Topic: b.Topic, Priority: b.Priority}
	})
	dropBody = bodyOf("Drop", func(b api.Drop) actionInput { return actionInput{Reason: b.Reason, Goodbye: b.Goodbye} })
)

// notes are the screener notes of an input.
func (in actionInput) notes() queue.Notes {
	return queue.Notes{Name: in.Name, Location: in.Location, Topic: in.Topic, Priority: in.Priority}
}

// actionNamed is the row of a queue action name.
func actionNamed(acts []callerAction, name string) (callerAction, bool) {
	for _, a := range acts {
		if a.name == name {
			return a, true
		}
	}
	return callerAction{}, false
}

// callerAct does action a on the request's {call} in its {show}, reading
// the action's input with read: the show, then the role's permission,
// then the input, then the action; the first error ends it. The API
// (jsonInput) and the console (formInput) share it.
func (s *Server) callerAct(r *http.Request, a callerAction, read func(*http.Request) (actionInput, error)) (queue.Call, error) {
	h, err := s.hub(r)
	if err != nil {
		return queue.Call{}, err
	}
	callID := chi.URLParam(r, "call")
	if err := shared.Allow(r, s.permFor(a, h, callID)); err != nil {
		return queue.Call{}, err
	}
	in, err := read(r)
	if err != nil {
		return queue.Call{}, err
	}
	p, actor := shared.Principal(r)
	if a.name == queue.ActionScreen {
		if err := screenerFor(p, &in); err != nil {
			return queue.Call{}, err
		}
	}
	in.notOnAir = !auth.Can(p.Role, auth.ActionDropOnAir)
	return a.do(r.Context(), s.cfg.Callers, h.key, callID, actor, in)
}

// screenerFor decides who screens for a Screen by p: p themselves when
// the request names nobody (or p, in any case); another user only when p's
// role may screen for others (auth.ActionScreenFor: producers and admins),
// else a 403. A screener named another user used to ring that user's phone
// and write them into the history as the screener (issue 21, point 3).
func screenerFor(p auth.Principal, in *actionInput) error {
	name := strings.TrimSpace(in.Screener)
	if name == "" || strings.EqualFold(name, p.Name) {
		in.Screener = p.Name
		return nil
	}
	if !auth.Can(p.Role, auth.ActionScreenFor) {
		return fmt.Errorf("web: screener %q: you screen as yourself only (producers and admins may name another screener): %w",
			shared.Printable(name), shared.ErrForbidden)
	}
	in.Screener = name
	return nil
}

// takeNext puts the request's show's next caller on air.
func (s *Server) takeNext(r *http.Request) (queue.Call, error) {
	if err := shared.Allow(r, auth.ActionTakeNext); err != nil {
		return queue.Call{}, err
	}
	h, err := s.hub(r)
	if err != nil {
		return queue.Call{}, err
	}
	_, actor := shared.Principal(r)
	return s.cfg.Callers.TakeNext(r.Context(), h.key, actor)
}

// actionByPath finds an action of acts by its URL segment.
func actionByPath(acts []callerAction, path string) (callerAction, bool) {
	for _, a := range acts {
		if a.path == path {
			return a, true
		}
	}
	return callerAction{}, false
}

// Input limits; longer text is refused rather than cut.
const (
	maxText     = api.MaxText
	maxPriority = api.MaxPriority
)

// validate checks an action's input, naming the field at fault.
func (in actionInput) validate() error {
	for _, f := range []struct{ name, v string }{
		{"screener", in.Screener}, {"name", in.Name}, {"location", in.Location},
		{"topic", in.Topic}, {"reason", in.Reason},
	} {
		if !utf8.ValidString(f.v) || strings.IndexFunc(f.v, shared.Unprintable) >= 0 {
			return shared.Invalid(f.name, "must be UTF-8 text without control characters")
		}
		if utf8.RuneCountInString(f.v) > maxText {
			return shared.Invalid(f.name, "must be at most %d characters", maxText)
		}
	}
	if in.Priority < 0 || in.Priority > maxPriority {
		return shared.Invalid("priority", "must be between 0 and %d", maxPriority)
	}
	return nil
}

// formInput reads an action's input from a form.
func formInput(r *http.Request) (actionInput, error) {
	in := actionInput{Screener: r.PostFormValue("screener"), Name: r.PostFormValue("name"),
		Location: r.PostFormValue("location"), Topic: r.PostFormValue("topic"), Reason: r.PostFormValue("reason"),
		Goodbye: r.PostFormValue("goodbye") != ""}
	if p := strings.TrimSpace(r.PostFormValue("priority")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return in, shared.Invalid("priority", "must be a whole number")
		}
		in.Priority = n
	}
	return in, in.validate()
}
