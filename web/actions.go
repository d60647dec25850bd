package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
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
