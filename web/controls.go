package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/api/from"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
	"github.com/go-chi/chi/v5"
)

// The one table of show-wide controls: showControls. Each row is a
// control as the console posts it (POST /shows/{show}/controls/{name}),
// as the API routes it (under /api/v1/shows/{show}), or both: the
// permission it needs, how it reads its input from a form and from JSON,
// what it does — always through the audited controls (audit.go), so every
// change is logged with who made it — the console's words for it and the
// API's answer. consoleControl and apiControl serve every row; the routes
// (server.go) are made from it.

// showControl is one show-wide control: one row of the table.
type showControl struct {
	console      string // the console's name; "": not on the console
	method, path string // the API's route under /shows/{show}; "": not in the API
	perm         auth.Action
	form, json   func(r *http.Request) (ctlInput, error) // the input: nil reads none
	do           func(r *http.Request, ctl auditedControls, h *hub, in ctlInput) (ctlResult, error)
	said         func(in ctlInput, res ctlResult) string // the console's flash
	// answer is the API's answer once done.
	answer func(s *core, h *hub, in ctlInput, res ctlResult) (any, error)
}

// ctlInput is what a control takes: each reads its own fields.
type ctlInput struct {
	open     bool
	n        int // seconds (announce) or minutes (air limit)
	talkback broadcast.TalkbackOptions
	drop     broadcast.DropOptions
}

// ctlResult is what a control did, for the console's words and the
// API's answer.
type ctlResult struct {
	recording broadcast.RecordingState
	channel   string
	air       broadcast.AirCleared
}

// showControls is every show-wide control.
var showControls = []showControl{
	lines("open-lines", true), lines("close-lines", false),
	{method: "PUT", path: "/lines", perm: auth.ActionLines, json: linesJSON, do: setLines, answer: showAnswer},
	recording("start-recording", "/recording/start", true), recording("stop-recording", "/recording/stop", false),
	talkbackControl("start-talkback", "/talkback/start", true), talkbackControl("stop-talkback", "/talkback/stop", false),
	clearAirControl("hold-air", "/on-air/hold", broadcast.ClearHold, auth.ActionHold),
	clearAirControl("drop-air", "/on-air/drop", broadcast.ClearDrop, auth.ActionDropOnAir),
	{console: "call-host", method: "POST", path: "/host/call", perm: auth.ActionLines,
		do: func(r *http.Request, ctl auditedControls, h *hub, _ ctlInput) (ctlResult, error) {
			ch, err := ctl.JoinHost(r.Context(), h.key, "")
			return ctlResult{channel: ch}, err
		},
		said: func(ctlInput, ctlResult) string { return "Calling the host's phone: on air when answered." },
		answer: func(_ *core, _ *hub, _ ctlInput, res ctlResult) (any, error) {
			return api.HostCall{ChannelID: res.channel}, nil
		}},
	{console: "announce", perm: auth.ActionAnnounceInterval, form: formNumber("seconds", 0, maxAnnounceEvery),
		do: func(_ *http.Request, ctl auditedControls, h *hub, in ctlInput) (ctlResult, error) {
			return ctlResult{}, ctl.SetAnnounceEvery(h.key, time.Duration(in.n)*time.Second)
		},
		said: func(in ctlInput, _ ctlResult) string { return "Announcements every " + strconv.Itoa(in.n) + " s." }},
	{console: "air-limit", perm: auth.ActionAirLimit, form: formNumber("minutes", 1, maxWarningMinutes),
		do: func(_ *http.Request, ctl auditedControls, h *hub, in ctlInput) (ctlResult, error) {
			ctl.SetAirLimit(h, time.Duration(in.n)*time.Minute)
			return ctlResult{}, nil
		},
		said: func(in ctlInput, _ ctlResult) string { return "Warning after " + strconv.Itoa(in.n) + " min on air." }},
}

// lines is the console's open-lines or close-lines.
func lines(name string, open bool) showControl {
	return showControl{console: name, perm: auth.ActionLines,
		form: func(*http.Request) (ctlInput, error) { return ctlInput{open: open}, nil },
		do:   setLines,
		said: func(ctlInput, ctlResult) string {
			return map[bool]string{true: "Lines open.", false: "Lines closed."}[open]
		}}
}

func setLines(_ *http.Request, ctl auditedControls, h *hub, in ctlInput) (ctlResult, error) {
	return ctlResult{}, ctl.SetLinesOpen(h.key, in.open)
}

// linesJSON reads PUT lines' body: open, required.
func linesJSON(r *http.Request) (ctlInput, error) {
	var in api.Lines
	if err := shared.DecodeJSON(r, &in); err != nil {
		return ctlInput{}, err
	}
	if in.Open == nil {
		return ctlInput{}, shared.Invalid("open", "is required (true or false)")
	}
	return ctlInput{open: *in.Open}, nil
}

// showAnswer answers with the show as it is now.
func showAnswer(s *core, h *hub, _ ctlInput, _ ctlResult) (any, error) {
	snap, err := s.cfg.Shows.Snapshot(h.key)
	return from.Show(snap), err
}

// recording starts (on) or stops the on-air recording; a start Asterisk
// did not make says why.
func recording(name, path string, on bool) showControl {
	return showControl{console: name, method: "POST", path: path, perm: auth.ActionRecording,
		do: func(r *http.Request, ctl auditedControls, h *hub, _ ctlInput) (ctlResult, error) {
			if !on {
				st, err := ctl.StopRecording(r.Context(), h.key)
				return ctlResult{recording: st}, err
			}
			st, err := ctl.StartRecording(r.Context(), h.key)
			if err != nil && st.Error != "" {
				err = &explained{why: st.Error, err: err}
			}
			return ctlResult{recording: st}, err
		},
		said: func(ctlInput, ctlResult) string {
			return map[bool]string{true: "Recording.", false: "Recording stopped."}[on]
		},
		answer: func(_ *core, _ *hub, _ ctlInput, res ctlResult) (any, error) {
			return from.RecordingState(res.recording), nil
		}}
}

// talkbackControl starts (on) or stops the talkback.
func talkbackControl(name, path string, on bool) showControl {
	c := showControl{console: name, method: "POST", path: path, perm: auth.ActionTalkback,
		do: func(r *http.Request, ctl auditedControls, h *hub, _ ctlInput) (ctlResult, error) {
			return ctlResult{}, ctl.StopTalkback(r.Context(), h.key)
		},
		said: func(ctlInput, ctlResult) string { return "Talkback off." },
		answer: func(*core, *hub, ctlInput, ctlResult) (any, error) {
			return api.Talkback{Talkback: on}, nil
		}}
	if on {
		c.form, c.json, c.do = talkbackForm, talkbackJSON, startTalkback
		c.said = func(ctlInput, ctlResult) string { return "Talkback on." }
	}
	return c
}

// talkbackForm reads the console's talkback: the phone or message given
// in the form (one of the show's talkback phones or media), else the
// first of its phones, else the producer's own phone.
func talkbackForm(r *http.Request) (ctlInput, error) {
	opts := broadcast.TalkbackOptions{Endpoint: r.PostFormValue("endpoint")}
	if m := r.PostFormValue("media"); m != "" {
		opts.Media = []string{m}
	}
	return ctlInput{talkback: opts}, nil
}

// talkbackJSON reads talkback/start's body: an endpoint or media.
func talkbackJSON(r *http.Request) (ctlInput, error) {
	var in api.TalkbackStart
	if err := shared.DecodeJSON(r, &in); err != nil {
		return ctlInput{}, err
	}
	if in.Endpoint == "" && len(in.Media) == 0 {
		return ctlInput{}, shared.Invalid("endpoint", "want an endpoint (one of the show's talkback phones) or media")
	}
	return ctlInput{talkback: broadcast.TalkbackOptions{Endpoint: in.Endpoint, Media: in.Media}}, nil
}

// startTalkback starts a talkback with what the input names, else the
// first of the show's phones, else the user's own phone, within the
// show's rules (TalkbackRules).
func startTalkback(r *http.Request, ctl auditedControls, h *hub, in ctlInput) (ctlResult, error) {
	rules := ctl.s.cfg.Talkback[h.key]
	p, _ := shared.Principal(r)
	opts := in.talkback
	switch {
	case opts.Endpoint != "" || len(opts.Media) > 0:
	case len(rules.Phones) > 0:
		opts.Endpoint = rules.Phones[0]
	default:
		opts.User = p.Name
	}
	if err := rules.check(h.key, opts, p); err != nil {
		return ctlResult{}, err
	}
	err := ctl.StartTalkback(r.Context(), h.key, opts)
	if opts.User != "" && errors.Is(err, queue.ErrInvalid) {
		return ctlResult{}, shared.Invalid("endpoint", "show %s has no talkback phones (add talkback-phones=PJSIP/a|PJSIP/b to its --show) and you have no phone of your own", h.key)
	}
	return ctlResult{}, err
}

// clearAirControl is hold all (how broadcast.ClearHold) or drop all
// (broadcast.ClearDrop, with the body of a drop).
func clearAirControl(name, path, how string, perm auth.Action) showControl {
	body, _ := action.Named(action.Table, how)
	read := func(r *http.Request) (ctlInput, error) {
		in, err := body.Body.Read(r)
		return ctlInput{drop: broadcast.DropOptions{Reason: in.Reason, Goodbye: in.Goodbye}}, err
	}
	form := func(r *http.Request) (ctlInput, error) {
		in, err := action.FormInput(r)
		return ctlInput{drop: broadcast.DropOptions{Reason: in.Reason, Goodbye: in.Goodbye}}, err
	}
	return showControl{console: name, method: "POST", path: path, perm: perm, form: form, json: read,
		do: func(r *http.Request, ctl auditedControls, h *hub, in ctlInput) (ctlResult, error) {
			_, actor := shared.Principal(r)
			out, err := ctl.ClearAir(r.Context(), h.key, actor, how, in.drop)
			return ctlResult{air: out}, err
		},
		said: func(_ ctlInput, res ctlResult) string { return airMessage(how, res.air) },
		answer: func(_ *core, _ *hub, _ ctlInput, res ctlResult) (any, error) {
			return api.AirCleared{Cleared: from.Calls(res.air.Cleared).Callers, Locked: from.Calls(res.air.Locked).Callers}, nil
		}}
}

// formNumber reads a whole number field within [lo, hi].
func formNumber(field string, lo, hi int) func(*http.Request) (ctlInput, error) {
	return func(r *http.Request) (ctlInput, error) {
		n, err := formInt(r, field, lo, hi)
		return ctlInput{n: n}, err
	}
}

// control does c on h's show for r: the permission, then the input read
// by read (none when nil), then the control, through the audit.
func (s *core) control(r *http.Request, h *hub, c showControl, read func(*http.Request) (ctlInput, error)) (ctlInput, ctlResult, error) {
	if err := shared.Allow(r, c.perm); err != nil {
		return ctlInput{}, ctlResult{}, err
	}
	var in ctlInput
	if read != nil {
		var err error
		if in, err = read(r); err != nil {
			return in, ctlResult{}, err
		}
	}
	res, err := c.do(r, s.controls(r), h, in)
	return in, res, err
}

// consoleControl serves the console's show-wide controls.
func (s *consoleUI) consoleControl(w http.ResponseWriter, r *http.Request) {
	h, err := s.hub(r)
	if err != nil {
		s.done(w, r, "/", "", err)
		return
	}
	back, name := "/shows/"+h.key, chi.URLParam(r, "control")
	for _, c := range showControls {
		if c.console != name || name == "" {
			continue
		}
		in, res, err := s.control(r, h, c, c.form)
		if err != nil && res.air.Cleared != nil {
			s.log.Warn("web: clearing the air left callers on air", "show", h.key, "err", err)
			err = nil
		}
		s.done(w, r, back, c.said(in, res), err)
		return
	}
	s.done(w, r, back, "", shared.NotFound("control", name))
}

// apiControl serves one control of the API. When clearing the air
// cleared some callers and not others, the answer says who was cleared
// and the log why the others were not.
func (s *restAPI) apiControl(c showControl) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h, err := s.showReq(r, c.perm)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		in, res, err := s.control(r, h, c, c.json)
		if err != nil && (res.air.Cleared != nil || res.air.Locked != nil) {
			s.log.Warn("web: clearing the air left callers on air", "show", h.key, "err", err)
			err = nil
		}
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		out, err := c.answer(s.core, h, in, res)
		s.reply(w, r, out, err)
	}
}
