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
	"github.com/callin-radio/callin/web/auth"
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

// callerAction is one action on one caller, for the API and the console.
type callerAction struct {
	name  string      // queue action name
	path  string      // URL segment
	perm  auth.Action // what the role needs; drop depends on the call's state
	label string      // for the flash message: "On air"
	do    func(ctx context.Context, c Callers, show, callID string, a queue.Actor, in actionInput) (queue.Call, error)
}

// callerActions is every action on one caller.
var callerActions = []callerAction{
	{queue.ActionScreen, "screen", auth.ActionScreen, "Screening", func(ctx context.Context, c Callers, show, id string, a queue.Actor, in actionInput) (queue.Call, error) {
		return c.Screen(ctx, show, id, a, in.Screener)
	}},
	{queue.ActionReady, "ready", auth.ActionReady, "Ready", func(ctx context.Context, c Callers, show, id string, a queue.Actor, in actionInput) (queue.Call, error) {
		return c.Ready(ctx, show, id, a, queue.Notes{Name: in.Name, Location: in.Location, Topic: in.Topic, Priority: in.Priority})
	}},
	{queue.ActionNotes, "screener-notes", auth.ActionNotes, "Notes saved", func(_ context.Context, c Callers, show, id string, a queue.Actor, in actionInput) (queue.Call, error) {
		return c.UpdateNotes(show, id, a, queue.Notes{Name: in.Name, Location: in.Location, Topic: in.Topic, Priority: in.Priority})
	}},
	{queue.ActionPromote, "promote", auth.ActionPromote, "On air", func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
		return c.Promote(ctx, show, id, a)
	}},
	{queue.ActionHold, "hold", auth.ActionHold, "Back on hold", func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
		return c.Hold(ctx, show, id, a)
	}},
	{queue.ActionMute, "mute", auth.ActionMute, "Muted", func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
		return c.Mute(ctx, show, id, a)
	}},
	{queue.ActionUnmute, "unmute", auth.ActionMute, "Unmuted", func(ctx context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
		return c.Unmute(ctx, show, id, a)
	}},
	{queue.ActionLock, "lock", auth.ActionLock, "Locked", func(_ context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
		return c.Lock(show, id, a)
	}},
	{queue.ActionUnlock, "unlock", auth.ActionLock, "Unlocked", func(_ context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
		return c.Unlock(show, id, a)
	}},
	{queue.ActionPickNext, "pick-next", auth.ActionPickNext, "Picked as next", func(_ context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
		return c.PickNext(show, id, a)
	}},
	{queue.ActionMoveToTop, "move-to-top", auth.ActionMoveToTop, "Moved to top", func(_ context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
		return c.MoveToTop(show, id, a)
	}},
	{queue.ActionDrop, "drop", auth.ActionDropWaiting, "Dropped", func(ctx context.Context, c Callers, show, id string, a queue.Actor, in actionInput) (queue.Call, error) {
		return c.Drop(ctx, show, id, a, broadcast.DropOptions{Reason: in.Reason, Goodbye: in.Goodbye, NotOnAir: in.notOnAir})
	}},
	{queue.ActionCallbackNow, "callback-now", auth.ActionPromote, "Calling back", func(_ context.Context, c Callers, show, id string, a queue.Actor, _ actionInput) (queue.Call, error) {
		return c.CallbackNow(show, id, a)
	}},
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
	if err := s.allow(r, s.permFor(a, h, callID)); err != nil {
		return queue.Call{}, err
	}
	in, err := read(r)
	if err != nil {
		return queue.Call{}, err
	}
	p, actor := principal(r)
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
			printable(name), errForbidden)
	}
	in.Screener = name
	return nil
}

// takeNext puts the request's show's next caller on air.
func (s *Server) takeNext(r *http.Request) (queue.Call, error) {
	if err := s.allow(r, auth.ActionTakeNext); err != nil {
		return queue.Call{}, err
	}
	h, err := s.hub(r)
	if err != nil {
		return queue.Call{}, err
	}
	_, actor := principal(r)
	return s.cfg.Callers.TakeNext(r.Context(), h.key, actor)
}

// jsonInput reads an action's JSON body: only the fields that action
// takes (schemas Screen, Notes and Drop; the other actions take none), so
// a field another action takes is refused like any unknown one.
func jsonInput(a callerAction) func(*http.Request) (actionInput, error) {
	return func(r *http.Request) (actionInput, error) {
		var in actionInput
		var err error
		switch a.name {
		case queue.ActionScreen:
			var b struct {
				Screener string `json:"screener"`
			}
			err = decodeJSON(r, &b)
			in.Screener = b.Screener
		case queue.ActionReady, queue.ActionNotes:
			var b struct {
				Name     string `json:"name"`
				Location string `json:"location"`
				Topic    string `json:"topic"`
				Priority int    `json:"priority"`
			}
			err = decodeJSON(r, &b)
			in.Name, in.Location, in.Topic, in.Priority = b.Name, b.Location, b.Topic, b.Priority
		case queue.ActionDrop:
			var b struct {
				Reason  string `json:"reason"`
				Goodbye bool   `json:"goodbye"`
			}
			err = decodeJSON(r, &b)
			in.Reason, in.Goodbye = b.Reason, b.Goodbye
		default:
			err = decodeJSON(r, &struct{}{})
		}
		if err != nil {
			return in, err
		}
		return in, in.validate()
	}
}

// actionByPath finds an action by its URL segment.
func actionByPath(path string) (callerAction, bool) {
	for _, a := range callerActions {
		if a.path == path {
			return a, true
		}
	}
	return callerAction{}, false
}

// actionPath is the URL segment of a queue action name.
func actionPath(action string) string { return strings.ReplaceAll(action, "_", "-") }

// Input limits; longer text is refused rather than cut.
const (
	maxText     = 200
	maxPriority = 9
)

// validate checks an action's input, naming the field at fault.
func (in actionInput) validate() error {
	for _, f := range []struct{ name, v string }{
		{"screener", in.Screener}, {"name", in.Name}, {"location", in.Location},
		{"topic", in.Topic}, {"reason", in.Reason},
	} {
		if !utf8.ValidString(f.v) || strings.IndexFunc(f.v, unprintable) >= 0 {
			return invalid(f.name, "must be UTF-8 text without control characters")
		}
		if utf8.RuneCountInString(f.v) > maxText {
			return invalid(f.name, "must be at most %d characters", maxText)
		}
	}
	if in.Priority < 0 || in.Priority > maxPriority {
		return invalid("priority", "must be between 0 and %d", maxPriority)
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
			return in, invalid("priority", "must be a whole number")
		}
		in.Priority = n
	}
	return in, in.validate()
}
