package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
	"github.com/go-chi/chi/v5"
)

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if len(s.keys) == 1 {
		http.Redirect(w, r, "/shows/"+s.keys[0], http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, homePage(s.page(r, "Shows")))
}

func (s *Server) showPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.liveView(r)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	p, _ := principal(r)
	s.render(w, r, http.StatusOK, showPage(s.page(r, v.Snap.Settings.Title), v, permsOf(p.Role)))
}

// hostPage is the host's view of a show (GET /shows/{show}/host): any
// role may open it; it offers the actions of the viewer's role that talent
// mode has (take next, mute, lock, drop an on-air caller).
func (s *Server) hostPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.liveView(r)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	p, _ := principal(r)
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
func (s *Server) liveView(r *http.Request) (showView, error) {
	if err := s.allow(r, auth.ActionView); err != nil {
		return showView{}, err
	}
	h, err := s.hub(r)
	if err != nil {
		return showView{}, err
	}
	return h.currentView()
}

// showLive is the SSE stream of a console's rendered fragments, or with
// view=host of the host view's.
func (s *Server) showLive(w http.ResponseWriter, r *http.Request) {
	err := s.allow(r, auth.ActionView)
	var h *hub
	if err == nil {
		h, err = s.hub(r)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	p, _ := principal(r)
	c := newClient(p.Role, s.cfg.ClientBuffer)
	if r.URL.Query().Get("view") == pageHost {
		c.page = pageHost
	}
	s.serveSSE(w, r, h, c, func() { h.attachConsole(c) })
}

// humanError says what went wrong in words for the flash area.
func humanError(err error) string {
	var in *inputError
	var field *queue.FieldError
	var ex *explained
	switch {
	case errors.As(err, &ex):
		return printable(ex.why) + "."
	case errors.As(err, &in):
		return "Check " + in.field + ": " + in.message + "."
	case errors.As(err, &field):
		return "Check " + field.Field + ": " + field.Message + "."
	case errors.Is(err, errForbidden):
		return "Your role may not do that."
	case errors.Is(err, queue.ErrGone):
		return "Too late: the caller has hung up."
	case errors.Is(err, queue.ErrBusy):
		return "Too late: someone else is acting on this caller."
	case errors.Is(err, queue.ErrLocked):
		return "The caller is locked on air: unlock first."
	case errors.Is(err, queue.ErrOnAirFull):
		return "The on-air limit is reached."
	case errors.Is(err, queue.ErrConflict):
		return "Too late: someone else was quicker."
	case errors.Is(err, queue.ErrNotFound):
		return "Not found: the caller is no longer here."
	case errors.Is(err, queue.ErrInvalid):
		return "That does not fit the caller's state now."
	case errors.Is(err, broadcast.ErrNodeDown):
		return "Asterisk is not connected; try again shortly."
	case errors.Is(err, broadcast.ErrTelephony):
		return "Asterisk did not do it; try again."
	}
	return "Something went wrong; it has been logged."
}

// explained is an error whose words for the producer come with it (a
// recording that Asterisk did not start says why); it is err otherwise.
type explained struct {
	why string
	err error
}

func (e *explained) Error() string { return e.err.Error() }
func (e *explained) Unwrap() error { return e.err }

// done answers a console form: a flash fragment for htmx, else a redirect
// back to the page.
func (s *Server) done(w http.ResponseWriter, r *http.Request, back string, msg string, err error) {
	status := http.StatusOK
	if err != nil {
		status, _ = classify(err)
		s.logFail(r, status, err)
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

func (s *Server) consoleAct(w http.ResponseWriter, r *http.Request) {
	back := "/shows/" + chi.URLParam(r, "show")
	a, ok := actionByPath(chi.URLParam(r, "action"))
	if !ok {
		s.done(w, r, back, "", notFound("action", chi.URLParam(r, "action")))
		return
	}
	c, err := s.callerAct(r, a, formInput)
	msg := a.label + ": " + printable(c.Number) + " " + displayName(c)
	if err == nil && a.name == queue.ActionScreen && c.Pending == queue.ActionScreen {
		// The screener's phone rings; the caller's row says how it goes.
		msg = screeningWords(s.screeningOf(r, c))
	}
	if a.name == queue.ActionDrop && r.PostFormValue("goodbye") != "" {
		msg += " (after the goodbye)"
	}
	s.done(w, r, back, msg, err)
}

func (s *Server) consoleTakeNext(w http.ResponseWriter, r *http.Request) {
	c, err := s.takeNext(r)
	s.done(w, r, "/shows/"+chi.URLParam(r, "show"), "On air: "+printable(c.Number)+" "+displayName(c), err)
}

// consoleControl serves the show-wide controls.
func (s *Server) consoleControl(w http.ResponseWriter, r *http.Request) {
	h, err := s.hub(r)
	if err != nil {
		s.done(w, r, "/", "", err)
		return
	}
	back := "/shows/" + h.key
	ctx, ctl := r.Context(), s.controls(r)
	var msg string
	switch name := chi.URLParam(r, "control"); name {
	case "open-lines", "close-lines":
		open := name == "open-lines"
		if err = s.allow(r, auth.ActionLines); err == nil {
			err = ctl.SetLinesOpen(h.key, open)
		}
		msg = map[bool]string{true: "Lines open.", false: "Lines closed."}[open]
	case "start-recording", "stop-recording":
		if err = s.allow(r, auth.ActionRecording); err == nil {
			if name == "start-recording" {
				var st broadcast.RecordingState
				st, err = ctl.StartRecording(ctx, h.key)
				if err != nil && st.Error != "" {
					err = &explained{why: st.Error, err: err}
				}
				msg = "Recording."
			} else {
				_, err = ctl.StopRecording(ctx, h.key)
				msg = "Recording stopped."
			}
		}
	case "start-talkback", "stop-talkback":
		if err = s.allow(r, auth.ActionTalkback); err == nil {
			if name == "start-talkback" {
				err, msg = s.startTalkback(r, h.key), "Talkback on."
			} else {
				err, msg = ctl.StopTalkback(ctx, h.key), "Talkback off."
			}
		}
	case "hold-air", "drop-air":
		how := map[bool]string{true: broadcast.ClearHold, false: broadcast.ClearDrop}[name == "hold-air"]
		var out broadcast.AirCleared
		out, err = s.clearAir(r, how, formInput)
		if err != nil && out.Cleared != nil {
			s.log.Warn("web: clearing the air left callers on air", "show", h.key, "err", err)
			err = nil
		}
		msg = airMessage(how, out)
	case "call-host":
		if err = s.allow(r, auth.ActionLines); err == nil {
			_, err = ctl.JoinHost(ctx, h.key, "")
		}
		msg = "Calling the host's phone: on air when answered."
	case "announce":
		var n int
		if err = s.allow(r, auth.ActionAnnounceInterval); err == nil {
			n, err = formInt(r, "seconds", 0, 3600)
		}
		if err == nil {
			err = ctl.SetAnnounceEvery(h.key, time.Duration(n)*time.Second)
		}
		msg = "Announcements every " + strconv.Itoa(n) + " s."
	case "air-limit":
		var n int
		if err = s.allow(r, auth.ActionAirLimit); err == nil {
			n, err = formInt(r, "minutes", 1, 240)
		}
		if err == nil {
			h.setAirLimit(time.Duration(n) * time.Minute)
			s.audit(r, h.key, "air_limit", nil, "minutes", n)
		}
		msg = "Warning after " + strconv.Itoa(n) + " min on air."
	default:
		err = notFound("control", name)
	}
	s.done(w, r, back, msg, err)
}

// startTalkback starts a talkback from the console: the phone or message
// given in the form (one of the show's talkback phones or media), else the
// first of its phones, else the producer's own phone.
func (s *Server) startTalkback(r *http.Request, show string) error {
	rules := s.cfg.Talkback[show]
	p, _ := principal(r)
	opts := broadcast.TalkbackOptions{Endpoint: r.PostFormValue("endpoint")}
	if m := r.PostFormValue("media"); m != "" {
		opts.Media = []string{m}
	}
	switch {
	case opts.Endpoint != "" || len(opts.Media) > 0:
	case len(rules.Phones) > 0:
		opts.Endpoint = rules.Phones[0]
	default:
		opts.User = p.Name
	}
	if err := rules.check(show, opts, p); err != nil {
		return err
	}
	err := s.controls(r).StartTalkback(r.Context(), show, opts)
	if opts.User != "" && errors.Is(err, queue.ErrInvalid) {
		return invalid("endpoint", "show %s has no talkback phones (add talkback-phones=PJSIP/a|PJSIP/b to its --show) and you have no phone of your own", show)
	}
	return err
}

// formInt reads a whole number field within [lo, hi].
func formInt(r *http.Request, field string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue(field)))
	if err != nil {
		return 0, invalid(field, "must be a whole number")
	}
	if n < lo || n > hi {
		return 0, invalid(field, "must be between %d and %d", lo, hi)
	}
	return n, nil
}

// maxChat is the longest chat message.
const maxChat = 500

func (s *Server) consoleChat(w http.ResponseWriter, r *http.Request) {
	back := "/shows/" + chi.URLParam(r, "show")
	if err := s.allow(r, auth.ActionMessage); err != nil {
		s.done(w, r, back, "", err)
		return
	}
	h, err := s.hub(r)
	if err != nil {
		s.done(w, r, back, "", err)
		return
	}
	text := strings.TrimSpace(r.PostFormValue("text"))
	if text == "" || !utf8.ValidString(text) || utf8.RuneCountInString(text) > maxChat || strings.IndexFunc(text, unprintable) >= 0 {
		s.done(w, r, back, "", invalid("text", "must be 1 to %d characters of text without control characters", maxChat))
		return
	}
	p, _ := principal(r)
	m := chatMsg{At: s.cfg.Now(), From: p.Name, Text: text}
	if s.cfg.Chat != nil {
		stored, err := s.cfg.Chat.AddShowMessage(r.Context(), h.key, p.Name, text)
		if err != nil {
			s.done(w, r, back, "", err)
			return
		}
		m = chatOf(stored)
	}
	h.addChat(m)
	s.done(w, r, back, "Sent.", nil)
}

// airMessage says what hold all or drop all did.
func airMessage(how string, out broadcast.AirCleared) string {
	verb := map[bool]string{true: "On hold", false: "Dropped"}[how == broadcast.ClearHold]
	msg := "Nobody on air to clear."
	if n := len(out.Cleared); n > 0 {
		msg = verb + ": " + strconv.Itoa(n) + " " + plural(n, "caller", "callers") + "."
	}
	if n := len(out.Locked); n > 0 {
		msg += " Locked, still on air: " + strconv.Itoa(n) + "."
	}
	return msg
}
