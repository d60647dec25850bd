package console

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/control"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
	"github.com/callin-radio/callin/web/stream"
	"github.com/go-chi/chi/v5"
)

func (s *Console) home(w http.ResponseWriter, r *http.Request) {
	if len(s.Keys) == 1 {
		http.Redirect(w, r, "/shows/"+s.Keys[0], http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, homePage(s.page(r, "Shows")))
}

func (s *Console) showPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.liveView(r)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	p, _ := shared.Principal(r)
	s.render(w, r, http.StatusOK, showPage(s.page(r, v.Snap.Settings.Title), v, permsOf(p.Role)))
}

// hostPage is the host's view of a show (GET /shows/{show}/host): any
// role may open it; it offers the actions of the viewer's role that talent
// mode has (take next, mute, lock, drop an on-air caller).
func (s *Console) hostPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.liveView(r)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	p, _ := shared.Principal(r)
	s.render(w, r, http.StatusOK, hostPage(s.page(r, v.Snap.Settings.Title+" · host"), v, hostPerms(p.Role)))
}

// hostPerms are what the host view offers a role: of its permissions, the
// ones talent mode has.
func hostPerms(role auth.Role) perms {
	p := permsOf(role)
	out := perms{}
	for _, a := range []auth.Action{auth.ActionView, auth.ActionTakeNext, auth.ActionMute, auth.ActionLock,
		auth.ActionDropOnAir, auth.ActionMessage} {
		out[a] = p[a]
	}
	return out
}

// liveView is the current view of the request's show, for a role that
// may view it.
func (s *Console) liveView(r *http.Request) (showView, error) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		return showView{}, err
	}
	h, err := s.Hub(r)
	if err != nil {
		return showView{}, err
	}
	return s.shows[h.Key].currentView()
}

// showLive is the SSE stream of a console's rendered fragments, or with
// view=host of the host view's.
func (s *Console) showLive(w http.ResponseWriter, r *http.Request) {
	err := shared.Allow(r, auth.ActionView)
	var h *core.Hub
	if err == nil {
		h, err = s.Hub(r)
	}
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	p, _ := shared.Principal(r)
	c := stream.NewClient(p.Role, s.Cfg.ClientBuffer)
	c.Page, c.NeedFull = pageConsole, true // every fragment at the first render
	if r.URL.Query().Get("view") == pageHost {
		c.Page = pageHost
	}
	cs := s.shows[h.Key]
	s.Streams.Serve(w, r, c, func() { cs.attach(c) }, func() { cs.detach(c) })
}

// errorWords are the flash area's words for the domain's errors, the first
// that matches in order (ErrConflict after the more particular ones).
var errorWords = []struct {
	err   error
	words string
}{
	{shared.ErrForbidden, "Your role may not do that."},
	{queue.ErrGone, "Too late: the caller has hung up."},
	{queue.ErrBusy, "Too late: someone else is acting on this caller."},
	{queue.ErrLocked, "The caller is locked on air: unlock first."},
	{queue.ErrOnAirFull, "The on-air limit is reached."},
	{queue.ErrConflict, "Too late: someone else was quicker."},
	{queue.ErrNotFound, "Not found: the caller is no longer here."},
	{queue.ErrInvalid, "That does not fit the caller's state now."},
	{broadcast.ErrNodeDown, "Asterisk is not connected; try again shortly."},
	{broadcast.ErrTelephony, "Asterisk did not do it; try again."},
}

// humanError says what went wrong in words for the flash area.
func humanError(err error) string {
	var in *shared.InputError
	var field *queue.FieldError
	var ex *shared.Explained
	switch {
	case errors.As(err, &ex):
		return shared.Printable(ex.Why) + "."
	case errors.As(err, &in):
		return "Check " + in.Field + ": " + in.Message + "."
	case errors.As(err, &field):
		return "Check " + field.Field + ": " + field.Message + "."
	}
	for _, w := range errorWords {
		if errors.Is(err, w.err) {
			return w.words
		}
	}
	return "Something went wrong; it has been logged."
}

// done answers a console form: a flash fragment for htmx, else a redirect
// back to the page.
func (s *Console) done(w http.ResponseWriter, r *http.Request, back string, msg string, err error) {
	status := http.StatusOK
	if err != nil {
		status, _ = shared.Classify(err)
		s.LogFail(r, status, err)
		msg = humanError(err)
	}
	if r.Header.Get("HX-Request") == "" {
		if err != nil {
			s.render(w, r, status, errorPage(s.page(r, "Error"), status, msg))
			return
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	s.render(w, r, status, flash(err == nil, msg))
}

func (s *Console) consoleAct(w http.ResponseWriter, r *http.Request) {
	back := "/shows/" + chi.URLParam(r, "show")
	a, ok := action.ByPath(s.Cfg.Actions, chi.URLParam(r, "action"))
	if !ok {
		s.done(w, r, back, "", shared.NotFound("action", chi.URLParam(r, "action")))
		return
	}
	c, err := s.CallerAct(r, a, action.FormInput)
	err = s.explainGone(r, err)
	msg := a.Label + ": " + shared.Printable(c.Number) + " " + displayName(c)
	if err == nil && a.Name == queue.ActionScreen && c.Pending == queue.ActionScreen {
		// The screener's phone rings; the caller's row says how it goes.
		msg = core.ScreeningWords(s.screeningOf(r, c))
	}
	if a.Name == queue.ActionDrop && r.PostFormValue("goodbye") != "" {
		msg += " (after the goodbye)"
	}
	s.done(w, r, back, msg, err)
}

func (s *Console) consoleTakeNext(w http.ResponseWriter, r *http.Request) {
	c, err := s.TakeNext(r)
	s.done(w, r, "/shows/"+chi.URLParam(r, "show"), "On air: "+shared.Printable(c.Number)+" "+displayName(c), err)
}

// maxChat is the longest chat message.
const maxChat = api.MaxChat

func (s *Console) consoleChat(w http.ResponseWriter, r *http.Request) {
	back := "/shows/" + chi.URLParam(r, "show")
	if err := shared.Allow(r, auth.ActionMessage); err != nil {
		s.done(w, r, back, "", err)
		return
	}
	h, err := s.Hub(r)
	if err != nil {
		s.done(w, r, back, "", err)
		return
	}
	text := strings.TrimSpace(r.PostFormValue("text"))
	if text == "" || !utf8.ValidString(text) || utf8.RuneCountInString(text) > maxChat || strings.IndexFunc(text, shared.Unprintable) >= 0 {
		s.done(w, r, back, "", shared.Invalid("text", "must be 1 to %d characters of text without control characters", maxChat))
		return
	}
	p, _ := shared.Principal(r)
	m := core.ChatMsg{At: s.Cfg.Now(), From: p.Name, Text: text}
	if s.Cfg.Chat != nil {
		stored, err := s.Cfg.Chat.AddShowMessage(r.Context(), h.Key, p.Name, text)
		if err != nil {
			s.done(w, r, back, "", err)
			return
		}
		m = core.ChatOf(stored)
	}
	h.AddChat(m)
	s.done(w, r, back, "Sent.", nil)
}

// consoleControl serves the console's show-wide controls: the rows of
// control.Table with a console name.
func (s *Console) consoleControl(w http.ResponseWriter, r *http.Request) {
	h, err := s.Hub(r)
	if err != nil {
		s.done(w, r, "/", "", err)
		return
	}
	back, name := "/shows/"+h.Key, chi.URLParam(r, "control")
	for _, c := range control.Table {
		if c.Console != name || name == "" {
			continue
		}
		in, res, err := c.Run(r, s.Controls(r), s.Show(h), c.Form)
		if err != nil && res.Air.Cleared != nil {
			s.Log.Warn("web: clearing the air left callers on air", "show", h.Key, "err", err)
			err = nil
		}
		s.done(w, r, back, c.Said(in, res), err)
		return
	}
	s.done(w, r, back, "", shared.NotFound("control", name))
}
