// Package action is the one table of caller actions (Table), shared by
// web's two audiences: each row is an action on one caller with its
// permission, queue's rule, its JSON body, its API operation, a neutral
// description of its button (the console dresses it) and what it does,
// through Callers, the broadcast application's caller actions.
package action

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
)

// Input is what an action may take besides the call: the screener
// for screen, notes for ready, a reason for drop.
type Input struct {
	Screener string `json:"screener,omitempty"`
	Name     string `json:"name,omitempty"`
	Location string `json:"location,omitempty"`
	Topic    string `json:"topic,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Goodbye  bool   `json:"goodbye,omitempty"` // drop: play the goodbye prompt first

	// NotOnAir is set for a principal who may drop only waiting callers:
	// broadcast then refuses atomically if the caller went on air.
	NotOnAir bool `json:"-"`
}

// The one table of caller actions: Table. Each row says
// everything about one action on one caller — its queue name and URL
// segment, the permission it needs (of the call: dropping a caller on air
// needs more than dropping a waiting one), when it fits the call (queue's
// rule, queue.May, plus the console's narrower button rule), its JSON
// body, its API operation, its console button and key, the words for it
// under way and done — and what it does. web's console buttons (actsOf,
// airActs), the API's routes (server.go) and OpenAPI operations
// (openapi.go), the permission check (callerAct) and GET /me's list of
// permitted actions (apiMe) are all made from it: adding an action is a
// row here plus its rule in queue.May (web's TestTrivialActionEverywhere
// adds one).

// Action is one action on one caller: one row of the table.
type Action struct {
	Name string // queue action name
	Path string // URL segment, under /shows/{show}/callers/{call}/
	// Perm is what a role needs; PermOnAir, when set, what it needs on a
	// caller on air (see PermFor).
	Perm, PermOnAir auth.Action
	// May is queue's rule, whether the action fits the call now; nil:
	// queue.May(c, name).
	May    func(queue.Call) bool
	Body   Body   // the API's JSON body
	Op     Op     // the API operation
	Button Button // the console's button
	Label  string // the console's flash message when done: "On air"
	Doing  string // words while it is under way ("going on air"); "": the name
	Do     func(ctx context.Context, c Callers, show, callID string, a queue.Actor, in Input) (queue.Call, error)
}

// Op is what the OpenAPI document says of a caller action: its
// operationId, who may, what it does, whether it may reach Asterisk (502,
// 503) and, for an action that can answer 202, when.
type Op struct {
	ID, Who, Desc string
	Telephony     bool
	Accepted      string
}

// Where a caller action's button goes on the console.
const (
	PlaceMenu   = iota // the row's menu, in table order; the first is the primary button but on air
	PlaceToggle        // the on-air card's toggles (mute, lock)
	PlaceDanger        // set apart and confirmed (drop)
)

// Button describes a caller action's button, in no console's
// types: its label and key, where it goes, the console's own rule beyond
// queue's (Show: the console's buttons are narrower than what queue
// allows), the dialog it opens first, whether it is a toggle and which
// question is asked before it. The console makes its own view of it
// (web's lines.go: buttons).
type Button struct {
	Label, Key string
	Place      int
	TestID     string                // data-testid act-<testID>; "": the action's name
	Show       func(queue.Call) bool // nil: whenever queue's rule allows
	// Dialog, when set, is the dialog the button opens to ask for the
	// action's input first (DialogReady: the screener's notes), with
	// Title and Submit as its heading and submit word ("": the dialog's
	// own).
	Dialog, Title, Submit string
	// Pressed is a toggle's state ("true", "false"); "": no toggle.
	Pressed string
	// Ask is the question asked first (AskDoNotAir, AskDrop); "": none.
	Ask string
}

// The dialogs a button may open, and the questions it may ask first.
const (
	DialogReady = "ready" // the screener's notes
	// AskDoNotAir asks first when the caller is marked do not air.
	AskDoNotAir = "do-not-air"
	// AskDrop confirms a drop, offering a goodbye first (a call-back
	// entry is removed from the line instead).
	AskDrop = "drop"
)

// Fits reports whether a fits c: queue's rule.
func (a Action) Fits(c queue.Call) bool {
	if a.May != nil {
		return a.May(c)
	}
	return queue.May(c, a.Name)
}

// PermFor is the permission doing a to c needs.
func (a Action) PermFor(c queue.Call) auth.Action {
	if a.PermOnAir != "" && c.State == queue.StateOnAir {
		return a.PermOnAir
	}
	return a.Perm
}

// Table is every action on one caller, in the console's menu
// order (the first a caller's state allows is its primary button).
var Table = []Action{
	{Name: queue.ActionCallbackNow, Path: "callback-now", Perm: auth.ActionPromote, Body: NoBody,
		Op:     Op{ID: "callBackNow", Who: api.WhoProducer, Desc: "Call a call-back entry (state callback) now, wherever it is in line."},
		Button: Button{Label: "Call back now", Key: "c"}, Label: "Calling back",
		Do: func(_ context.Context, c Callers, show, id string, a queue.Actor, _ Input) (queue.Call, error) {
			return c.CallbackNow(show, id, a)
		}},
	{Name: queue.ActionScreen, Path: "screen", Perm: auth.ActionScreen, Body: screenBody,
		Op: Op{ID: "screenCaller", Who: api.WhoScreen, Telephony: true, Desc: screenDoc,
			Accepted: "The screener's phone is ringing; the caller is as before, with pending `screen`. The outcome comes as `screening` events."},
		Button: Button{Label: "Screen", Key: "s", Show: func(c queue.Call) bool { return c.State == queue.StateWaiting }},
		Label:  "Screening", Doing: "ringing the screener",
		Do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, in Input) (queue.Call, error) {
			return c.Screen(ctx, show, id, a, in.Screener)
		}},
	{Name: queue.ActionPromote, Path: "promote", Perm: auth.ActionPromote, Body: NoBody,
		Op:     Op{ID: "promoteCaller", Who: api.WhoProducer, Telephony: true, Desc: "Put a caller on air, wherever they are in line (also one that is blocked)."},
		Button: Button{Label: "On air", Key: "p", Ask: AskDoNotAir}, Label: "On air", Doing: "going on air",
		Do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ Input) (queue.Call, error) {
			return c.Promote(ctx, show, id, a)
		}},
	{Name: queue.ActionReady, Path: "ready", Perm: auth.ActionReady, Body: notesBody,
		Op:     Op{ID: "readyCaller", Who: api.WhoScreen, Telephony: true, Desc: "Mark a caller ready for air, with the screener's notes."},
		Button: Button{Label: "Ready…", Key: "r", Dialog: DialogReady}, Label: "Ready", Doing: "marking ready",
		Do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, in Input) (queue.Call, error) {
			return c.Ready(ctx, show, id, a, in.Notes())
		}},
	{Name: queue.ActionPickNext, Path: "pick-next", Perm: auth.ActionPickNext, Body: NoBody,
		Op:     Op{ID: "pickNextCaller", Who: api.WhoProducer, Desc: "Pick the caller take-next puts on air next."},
		Button: Button{Label: "Pick as next", Key: "x", Show: func(c queue.Call) bool { return !c.Next }}, Label: "Picked as next",
		Do: func(_ context.Context, c Callers, show, id string, a queue.Actor, _ Input) (queue.Call, error) {
			return c.PickNext(show, id, a)
		}},
	{Name: queue.ActionMoveToTop, Path: "move-to-top", Perm: auth.ActionMoveToTop, Body: NoBody,
		Op: Op{ID: "moveCallerToTop", Who: api.WhoProducer, Desc: "Move a caller to the front of the line."},
		Button: Button{Label: "Move to top", Key: "t",
			Show: func(c queue.Call) bool { return !c.Top || c.State == queue.StateCallback }}, Label: "Moved to top",
		Do: func(_ context.Context, c Callers, show, id string, a queue.Actor, _ Input) (queue.Call, error) {
			return c.MoveToTop(show, id, a)
		}},
	{Name: queue.ActionHold, Path: "hold", Perm: auth.ActionHold, Body: NoBody,
		Op:     Op{ID: "holdCaller", Who: api.WhoProducer, Telephony: true, Desc: "Take an on-air caller back to hold, at the front of the line."},
		Button: Button{Label: "Back to hold", Key: "h"}, Label: "Back on hold", Doing: "back to hold",
		Do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ Input) (queue.Call, error) {
			return c.Hold(ctx, show, id, a)
		}},
	{Name: queue.ActionNotes, Path: "screener-notes", Perm: auth.ActionNotes, Body: notesBody,
		Op: Op{ID: "updateScreenerNotes", Who: api.WhoScreen,
			Desc: "Replace the screener's notes on a live caller (waiting, screening, ready or on air); a ready caller's new priority moves them in line. Unchanged notes record nothing."},
		// The ready dialog again, to change the notes of a ready or
		// on-air caller without moving them.
		Button: Button{Label: "Screener notes…", Key: "w", TestID: "screener-notes", Dialog: DialogReady, Title: "Screener notes", Submit: "Save notes",
			Show: func(c queue.Call) bool { return c.State == queue.StateReady || c.State == queue.StateOnAir }},
		Label: "Notes saved",
		Do: func(_ context.Context, c Callers, show, id string, a queue.Actor, in Input) (queue.Call, error) {
			return c.UpdateNotes(show, id, a, in.Notes())
		}},
	{Name: queue.ActionMute, Path: "mute", Perm: auth.ActionMute, Body: NoBody,
		Op:     Op{ID: "muteCaller", Who: api.WhoOnAir, Telephony: true, Desc: "Mute an on-air caller."},
		Button: Button{Label: "Mute", Key: "m", Place: PlaceToggle, Pressed: "false"}, Label: "Muted",
		Do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ Input) (queue.Call, error) {
			return c.Mute(ctx, show, id, a)
		}},
	{Name: queue.ActionUnmute, Path: "unmute", Perm: auth.ActionMute, Body: NoBody,
		Op:     Op{ID: "unmuteCaller", Who: api.WhoOnAir, Telephony: true, Desc: "Unmute an on-air caller."},
		Button: Button{Label: "Muted", Key: "m", Place: PlaceToggle, Pressed: "true"}, Label: "Unmuted",
		Do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ Input) (queue.Call, error) {
			return c.Unmute(ctx, show, id, a)
		}},
	{Name: queue.ActionLock, Path: "lock", Perm: auth.ActionLock, Body: NoBody,
		Op:     Op{ID: "lockCaller", Who: api.WhoOnAir, Desc: "Lock an on-air caller: hold and drop are refused until unlocked."},
		Button: Button{Label: "Lock", Key: "l", Place: PlaceToggle, Pressed: "false"}, Label: "Locked",
		Do: func(_ context.Context, c Callers, show, id string, a queue.Actor, _ Input) (queue.Call, error) {
			return c.Lock(show, id, a)
		}},
	{Name: queue.ActionUnlock, Path: "unlock", Perm: auth.ActionLock, Body: NoBody,
		Op:     Op{ID: "unlockCaller", Who: api.WhoOnAir, Desc: "Unlock an on-air caller."},
		Button: Button{Label: "Locked", Key: "l", Place: PlaceToggle, Pressed: "true"}, Label: "Unlocked",
		Do: func(_ context.Context, c Callers, show, id string, a queue.Actor, _ Input) (queue.Call, error) {
			return c.Unlock(show, id, a)
		}},
	{Name: queue.ActionDrop, Path: "drop", Perm: auth.ActionDropWaiting, PermOnAir: auth.ActionDropOnAir, Body: dropBody,
		Op:     Op{ID: "dropCaller", Who: api.WhoHostDrop, Telephony: true, Desc: "End a call, after a goodbye prompt when asked."},
		Button: Button{Label: "Drop", Key: "d", Place: PlaceDanger, Ask: AskDrop}, Label: "Dropped", Doing: "dropping",
		Do: func(ctx context.Context, c Callers, show, id string, a queue.Actor, in Input) (queue.Call, error) {
			return c.Drop(ctx, show, id, a, broadcast.DropOptions{Reason: in.Reason, Goodbye: in.Goodbye, NotOnAir: in.NotOnAir})
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

// Body is a caller action's JSON body: its schema's name ("" for
// none: no body, or an empty object) and how it is read, strictly (a
// field another action takes is refused like any unknown one).
type Body struct {
	Schema string
	Read   func(*http.Request) (Input, error)
}

// bodyOf is the body of schema, decoded as a T and made an Input.
func bodyOf[T any](schema string, input func(T) Input) Body {
	return Body{Schema: schema, Read: func(r *http.Request) (Input, error) {
		var b T
		if err := shared.DecodeJSON(r, &b); err != nil {
			return Input{}, err
		}
		in := input(b)
		return in, in.Validate()
	}}
}

// The bodies of the caller actions (NoBody: none); ready's and screener-notes' is the
// screener's notes (schema Notes, api.Notes).
var (
	NoBody     = bodyOf("", func(struct{}) Input { return Input{} })
	screenBody = bodyOf("Screen", func(b api.Screen) Input { return Input{Screener: b.Screener} })
	notesBody  = bodyOf("Notes", func(b api.Notes) Input {
		return Input{Name: b.Name, Location: b.Location, Topic: b.Topic, Priority: b.Priority}
	})
	dropBody = bodyOf("Drop", func(b api.Drop) Input { return Input{Reason: b.Reason, Goodbye: b.Goodbye} })
)

// Notes are the screener notes of an input.
func (in Input) Notes() queue.Notes {
	return queue.Notes{Name: in.Name, Location: in.Location, Topic: in.Topic, Priority: in.Priority}
}

// Named is the row of a queue action name.
func Named(acts []Action, name string) (Action, bool) {
	for _, a := range acts {
		if a.Name == name {
			return a, true
		}
	}
	return Action{}, false
}

// ScreenerFor decides who screens for a Screen by p: p themselves when
// the request names nobody (or p, in any case); another user only when p's
// role may screen for others (auth.ActionScreenFor: producers and admins),
// else a 403. A screener named another user used to ring that user's phone
// and write them into the history as the screener (issue 21, point 3).
func ScreenerFor(p auth.Principal, in *Input) error {
	name := strings.TrimSpace(in.Screener)
	if name == "" || strings.EqualFold(name, p.Name) {
		in.Screener = p.Name
		return nil
	}
	if !auth.Can(p.Role, auth.ActionScreenFor) {
		return &shared.ForbiddenError{Role: string(p.Role), Permission: string(auth.ActionScreenFor),
			Why: fmt.Sprintf("screener %q: you screen as yourself only (producers and admins may name another screener)", shared.Printable(name))}
	}
	in.Screener = name
	return nil
}

// ByPath finds an action of acts by its URL segment.
func ByPath(acts []Action, path string) (Action, bool) {
	for _, a := range acts {
		if a.Path == path {
			return a, true
		}
	}
	return Action{}, false
}

// Validate checks an action's input, naming the field at fault.
func (in Input) Validate() error {
	for _, f := range []struct{ name, v string }{
		{"screener", in.Screener}, {"name", in.Name}, {"location", in.Location},
		{"topic", in.Topic}, {"reason", in.Reason},
	} {
		if !utf8.ValidString(f.v) || strings.IndexFunc(f.v, shared.Unprintable) >= 0 {
			return shared.Invalid(f.name, "must be UTF-8 text without control characters")
		}
		if utf8.RuneCountInString(f.v) > api.MaxText {
			return shared.Invalid(f.name, "must be at most %d characters", api.MaxText)
		}
	}
	if in.Priority < 0 || in.Priority > api.MaxPriority {
		return shared.Invalid("priority", "must be between 0 and %d", api.MaxPriority)
	}
	return nil
}

// FormInput reads an action's input from a form.
func FormInput(r *http.Request) (Input, error) {
	in := Input{Screener: r.PostFormValue("screener"), Name: r.PostFormValue("name"),
		Location: r.PostFormValue("location"), Topic: r.PostFormValue("topic"), Reason: r.PostFormValue("reason"),
		Goodbye: r.PostFormValue("goodbye") != ""}
	if p := strings.TrimSpace(r.PostFormValue("priority")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return in, shared.Invalid("priority", "must be a whole number")
		}
		in.Priority = n
	}
	return in, in.Validate()
}
