// Package control is the one table of show-wide controls (Table), shared
// by web's two audiences: open and close the lines, record, talkback,
// clear the air, call the host, the announcement interval and the
// consoles' on-air warning. Each row says its permission, how it reads
// its input from the console's form and from the API's JSON, what it does,
// the console's words for it and the API's answer. Every control goes
// through Audited (audit.go), which logs each change with who made it,
// since broadcast's controls take no actor; the API's settings go through
// it too. A talkback may use only its show's TalkbackRules (talkback.go).
package control

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/api/from"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// Controls is the show-wide controls of the broadcast application;
// *broadcast.App satisfies it. Errors as for action.Callers.
type Controls interface {
	SetLinesOpen(show string, open bool) error
	SetAnnounceEvery(show string, every time.Duration) error
	SetCapacity(show string, n int) error
	SetMaxOnAir(show string, n int) error
	StartRecording(ctx context.Context, show string) (broadcast.RecordingState, error)
	StopRecording(ctx context.Context, show string) (broadcast.RecordingState, error)
	StartTalkback(ctx context.Context, show string, opts broadcast.TalkbackOptions) error
	StopTalkback(ctx context.Context, show string) error
	// JoinHost calls the show's host phone (host= in --show) into the
	// on-air bridge and returns the line's channel; queue.ErrInvalid when
	// the show has no host phone.
	JoinHost(ctx context.Context, show, endpoint string) (string, error)
	// HangupHost hangs up a host line, ringing or on air; MuteHost mutes
	// or unmutes one: queue.ErrNotFound for a line not the show's.
	HangupHost(ctx context.Context, show, channel string) error
	MuteHost(ctx context.Context, show, channel string, muted bool) error
	// ClearAir puts every unlocked caller on air back on hold (how
	// broadcast.ClearHold) or drops them (broadcast.ClearDrop); locked ones
	// stay. It reports both, also with an error for callers it could not
	// clear.
	ClearAir(ctx context.Context, show string, actor queue.Actor, how string, opts broadcast.DropOptions) (broadcast.AirCleared, error)
	// SetStudio names another of a show across nodes' nodes as its
	// studio (broadcast.App.SetStudio): queue.ErrInvalid for a node not
	// the show's, broadcast.ErrNodeDown for a node down,
	// queue.ErrConflict while the studio is up and in use.
	SetStudio(ctx context.Context, show, node string) error
	// AddShowNode makes the show take the callers of another node, added
	// at its ARI URL when callin has none of that name
	// (broadcast.App.AddShowNode): queue.ErrInvalid for a new node
	// without a URL or one callin cannot add.
	AddShowNode(ctx context.Context, show, node, url string) error
}

// Control is one show-wide control: one row of Table. A row is a
// control as the console posts it (POST /shows/{show}/controls/{name}),
// as the API routes it (under /api/v1/shows/{show}), or both: the
// permission it needs, how it reads its input from a form and from JSON,
// what it does — always through the audited controls (Audited), so every
// change is logged with who made it — the console's words for it and the
// API's answer. The console and the API serve every row through Run; the
// API's routes are made from the table.
type Control struct {
	Console      string // the console's name; "": not on the console
	Method, Path string // the API's route under /shows/{show}; "": not in the API
	Perm         auth.Action
	Form, JSON   func(r *http.Request) (Input, error) // the input: nil reads none
	Do           func(r *http.Request, ctl Audited, sh Show, in Input) (Result, error)
	Said         func(in Input, res Result) string // the console's flash
	// Answer is the API's answer once done.
	Answer func(sh Show, in Input, res Result) (any, error)
}

// Show is the show a control acts on, as the server that holds it gives
// it: its key, its talkback rules, its snapshot (for an answer) and where
// the consoles keep their on-air warning.
type Show struct {
	Key      string
	Talkback TalkbackRules
	Snapshot func() (broadcast.Snapshot, error)
	// SetAirLimit sets when every console of the show warns that a
	// caller is on air too long.
	SetAirLimit func(time.Duration)
}

// Input is what a control takes: each reads its own fields.
type Input struct {
	Open     bool
	N        int // seconds (announce) or minutes (air limit)
	Talkback broadcast.TalkbackOptions
	Drop     broadcast.DropOptions
	Node     string // the studio to name, or the node to add
	URL      string // the ARI URL of the node to add
	Channel  string // a host line
	Muted    bool   // mute the host line, or unmute it
}

// Result is what a control did, for the console's words and the
// API's answer.
type Result struct {
	Recording broadcast.RecordingState
	Channel   string
	Air       broadcast.AirCleared
}

// Table is every show-wide control.
var Table = []Control{
	lines("open-lines", true), lines("close-lines", false),
	{Method: "PUT", Path: "/lines", Perm: auth.ActionLines, JSON: linesJSON, Do: setLines, Answer: showAnswer},
	recording("start-recording", "/recording/start", true), recording("stop-recording", "/recording/stop", false),
	talkbackControl("start-talkback", "/talkback/start", true), talkbackControl("stop-talkback", "/talkback/stop", false),
	clearAirControl("hold-air", "/on-air/hold", broadcast.ClearHold, auth.ActionHold),
	clearAirControl("drop-air", "/on-air/drop", broadcast.ClearDrop, auth.ActionDropOnAir),
	{Console: "call-host", Method: "POST", Path: "/host/call", Perm: auth.ActionLines,
		Do: func(r *http.Request, ctl Audited, sh Show, _ Input) (Result, error) {
			ch, err := ctl.JoinHost(r.Context(), sh.Key, "")
			return Result{Channel: ch}, err
		},
		Said: func(Input, Result) string { return "Calling the host's phone: on air when answered." },
		Answer: func(_ Show, _ Input, res Result) (any, error) {
			return api.HostCall{ChannelID: res.Channel}, nil
		}},
	hangupHostControl, muteHostControl,
	{Console: "announce", Perm: auth.ActionAnnounceInterval, Form: formNumber("seconds", 0, api.MaxAnnounceEvery),
		Do: func(_ *http.Request, ctl Audited, sh Show, in Input) (Result, error) {
			return Result{}, ctl.SetAnnounceEvery(sh.Key, time.Duration(in.N)*time.Second)
		},
		Said: func(in Input, _ Result) string { return "Announcements every " + strconv.Itoa(in.N) + " s." }},
	{Console: "air-limit", Perm: auth.ActionAirLimit, Form: formNumber("minutes", 1, api.MaxWarningMinutes),
		Do: func(_ *http.Request, ctl Audited, sh Show, in Input) (Result, error) {
			ctl.SetAirLimit(sh, time.Duration(in.N)*time.Minute)
			return Result{}, nil
		},
		Said: func(in Input, _ Result) string { return "Warning after " + strconv.Itoa(in.N) + " min on air." }},
	studioControl, nodeControl,
}

// studioControl names another studio node for a show across nodes,
// typically once its studio node is lost (the console's banner offers
// it then).
var studioControl = Control{Console: "set-studio", Method: "POST", Path: "/studio", Perm: auth.ActionLines,
	Form: func(r *http.Request) (Input, error) { return nodeInput(r.PostFormValue("node")) },
	JSON: func(r *http.Request) (Input, error) {
		var in api.StudioSet
		if err := shared.DecodeJSON(r, &in); err != nil {
			return Input{}, err
		}
		return nodeInput(in.Node)
	},
	Answer: showAnswer,
	Do: func(r *http.Request, ctl Audited, sh Show, in Input) (Result, error) {
		return Result{}, ctl.SetStudio(r.Context(), sh.Key, in.Node)
	},
	Said: func(in Input, _ Result) string { return "Studio is now node " + in.Node + "." }}

// nodeInput is the studio to name: a node name, required.
func nodeInput(node string) (Input, error) {
	node = strings.TrimSpace(node)
	if node == "" {
		return Input{}, shared.Invalid("node", "is required: one of the show's nodes")
	}
	if len(node) > api.MaxText || shared.Printable(node) != node {
		return Input{}, shared.Invalid("node", "must be a node's name")
	}
	return Input{Node: node}, nil
}

// lines is the console's open-lines or close-lines.
func lines(name string, open bool) Control {
	return Control{Console: name, Perm: auth.ActionLines,
		Form: func(*http.Request) (Input, error) { return Input{Open: open}, nil },
		Do:   setLines,
		Said: func(Input, Result) string {
			return map[bool]string{true: "Lines open.", false: "Lines closed."}[open]
		}}
}

func setLines(_ *http.Request, ctl Audited, sh Show, in Input) (Result, error) {
	return Result{}, ctl.SetLinesOpen(sh.Key, in.Open)
}

// linesJSON reads PUT lines' body: open, required.
func linesJSON(r *http.Request) (Input, error) {
	var in api.Lines
	if err := shared.DecodeJSON(r, &in); err != nil {
		return Input{}, err
	}
	if in.Open == nil {
		return Input{}, shared.Invalid("open", "is required (true or false)")
	}
	return Input{Open: *in.Open}, nil
}

// showAnswer answers with the show as it is now.
func showAnswer(sh Show, _ Input, _ Result) (any, error) {
	snap, err := sh.Snapshot()
	return from.Show(snap), err
}

// recording starts (on) or stops the on-air recording; a start Asterisk
// did not make says why.
func recording(name, path string, on bool) Control {
	return Control{Console: name, Method: "POST", Path: path, Perm: auth.ActionRecording,
		Do: func(r *http.Request, ctl Audited, sh Show, _ Input) (Result, error) {
			if !on {
				st, err := ctl.StopRecording(r.Context(), sh.Key)
				return Result{Recording: st}, err
			}
			st, err := ctl.StartRecording(r.Context(), sh.Key)
			if err != nil && st.Error != "" {
				err = &shared.Explained{Why: st.Error, Err: err}
			}
			return Result{Recording: st}, err
		},
		Said: func(Input, Result) string {
			return map[bool]string{true: "Recording.", false: "Recording stopped."}[on]
		},
		Answer: func(_ Show, _ Input, res Result) (any, error) {
			return from.RecordingState(res.Recording), nil
		}}
}

// talkbackControl starts (on) or stops the talkback.
func talkbackControl(name, path string, on bool) Control {
	c := Control{Console: name, Method: "POST", Path: path, Perm: auth.ActionTalkback,
		Do: func(r *http.Request, ctl Audited, sh Show, _ Input) (Result, error) {
			return Result{}, ctl.StopTalkback(r.Context(), sh.Key)
		},
		Said: func(Input, Result) string { return "Talkback off." },
		Answer: func(Show, Input, Result) (any, error) {
			return api.Talkback{Talkback: on}, nil
		}}
	if on {
		c.Form, c.JSON, c.Do = talkbackForm, talkbackJSON, startTalkback
		c.Said = func(Input, Result) string { return "Talkback on." }
	}
	return c
}

// talkbackForm reads the console's talkback: the phone or message given
// in the form (one of the show's talkback phones or media), else the
// first of its phones, else the producer's own phone.
func talkbackForm(r *http.Request) (Input, error) {
	opts := broadcast.TalkbackOptions{Endpoint: r.PostFormValue("endpoint")}
	if m := r.PostFormValue("media"); m != "" {
		opts.Media = []string{m}
	}
	return Input{Talkback: opts}, nil
}

// talkbackJSON reads talkback/start's body: an endpoint or media.
func talkbackJSON(r *http.Request) (Input, error) {
	var in api.TalkbackStart
	if err := shared.DecodeJSON(r, &in); err != nil {
		return Input{}, err
	}
	if in.Endpoint == "" && len(in.Media) == 0 {
		return Input{}, shared.Invalid("endpoint", "want an endpoint (one of the show's talkback phones) or media")
	}
	return Input{Talkback: broadcast.TalkbackOptions{Endpoint: in.Endpoint, Media: in.Media}}, nil
}

// startTalkback starts a talkback with what the input names, else the
// first of the show's phones, else the user's own phone, within the
// show's rules (TalkbackRules).
func startTalkback(r *http.Request, ctl Audited, sh Show, in Input) (Result, error) {
	rules := sh.Talkback
	p, _ := shared.Principal(r)
	opts := in.Talkback
	switch {
	case opts.Endpoint != "" || len(opts.Media) > 0:
	case len(rules.Phones) > 0:
		opts.Endpoint = rules.Phones[0]
	default:
		opts.User = p.Name
	}
	if err := rules.Check(sh.Key, opts, p); err != nil {
		return Result{}, err
	}
	opts.By = p.Name // the consoles say who speaks
	err := ctl.StartTalkback(r.Context(), sh.Key, opts)
	if opts.User != "" && errors.Is(err, queue.ErrInvalid) {
		return Result{}, shared.Invalid("endpoint", "show %s has no talkback phones (add talkback-phones=PJSIP/a|PJSIP/b to its --show) and you have no phone of your own", sh.Key)
	}
	return Result{}, err
}

// clearAirControl is hold all (how broadcast.ClearHold) or drop all
// (broadcast.ClearDrop, with the body of a drop).
func clearAirControl(name, path, how string, perm auth.Action) Control {
	body, _ := action.Named(action.Table, how)
	read := func(r *http.Request) (Input, error) {
		in, err := body.Body.Read(r)
		return Input{Drop: broadcast.DropOptions{Reason: in.Reason, Goodbye: in.Goodbye}}, err
	}
	form := func(r *http.Request) (Input, error) {
		in, err := action.FormInput(r)
		return Input{Drop: broadcast.DropOptions{Reason: in.Reason, Goodbye: in.Goodbye}}, err
	}
	return Control{Console: name, Method: "POST", Path: path, Perm: perm, Form: form, JSON: read,
		Do: func(r *http.Request, ctl Audited, sh Show, in Input) (Result, error) {
			_, actor := shared.Principal(r)
			out, err := ctl.ClearAir(r.Context(), sh.Key, actor, how, in.Drop)
			return Result{Air: out}, err
		},
		Said: func(_ Input, res Result) string { return airMessage(how, res.Air) },
		Answer: func(_ Show, _ Input, res Result) (any, error) {
			return api.AirCleared{Cleared: from.Calls(res.Air.Cleared).Callers, Locked: from.Calls(res.Air.Locked).Callers}, nil
		}}
}

// formNumber reads a whole number field within [lo, hi].
func formNumber(field string, lo, hi int) func(*http.Request) (Input, error) {
	return func(r *http.Request) (Input, error) {
		n, err := formInt(r, field, lo, hi)
		return Input{N: n}, err
	}
}

// Run does c on sh for r: the permission, then the input read by read
// (c.Form for the console, c.JSON for the API; none when nil), then the
// control, through ctl, the audited controls.
func (c Control) Run(r *http.Request, ctl Audited, sh Show, read func(*http.Request) (Input, error)) (Input, Result, error) {
	if err := shared.Allow(r, c.Perm); err != nil {
		return Input{}, Result{}, err
	}
	var in Input
	if read != nil {
		var err error
		if in, err = read(r); err != nil {
			return in, Result{}, err
		}
	}
	res, err := c.Do(r, ctl, sh, in)
	return in, res, err
}

// formInt reads a whole number field within [lo, hi].
func formInt(r *http.Request, field string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue(field)))
	if err != nil {
		return 0, shared.Invalid(field, "must be a whole number")
	}
	if n < lo || n > hi {
		return 0, shared.Invalid(field, "must be between %d and %d", lo, hi)
	}
	return n, nil
}

// airMessage says what hold all or drop all did.
func airMessage(how string, out broadcast.AirCleared) string {
	verb := map[bool]string{true: "On hold", false: "Dropped"}[how == broadcast.ClearHold]
	msg := "Nobody on air to clear."
	if n := len(out.Cleared); n > 0 {
		msg = verb + ": " + strconv.Itoa(n) + " " + map[bool]string{true: "caller", false: "callers"}[n == 1] + "."
	}
	if n := len(out.Locked); n > 0 {
		msg += " Locked, still on air: " + strconv.Itoa(n) + "."
	}
	return msg
}
