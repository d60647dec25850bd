package web

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/control"
	"github.com/callin-radio/callin/web/shared"
	"github.com/callin-radio/callin/web/stream"
	"github.com/go-chi/chi/v5"
)

// core is what the console and the API share: the configuration, the
// shows' hubs, the event streams and their bounds, and the requests both
// make: a show (hub, showReq), a caller action (callerAct, takeNext), a
// show control through the audit (controls, show), a block, caller notes
// and recordings.
type core struct {
	cfg     Config
	log     *slog.Logger
	limits  Limits
	streams *stream.Server
	hubs    map[string]*hub
	keys    []string
	// refusals rate-limits the log lines of refused requests.
	refusals limitedLog
}

// hub finds a show's hub, or queue.ErrNotFound.
func (s *core) hub(r *http.Request) (*hub, error) {
	key := chi.URLParam(r, "show")
	h := s.hubs[key]
	if h == nil {
		return nil, shared.NotFound("show", key)
	}
	return h, nil
}

// callerAct does action a on the request's {call} in its {show}, reading
// the action's input with read: the show, then the role's permission,
// then the input, then the action; the first error ends it. The API
// (jsonInput) and the console (formInput) share it.
func (s *core) callerAct(r *http.Request, a action.Action, read func(*http.Request) (action.Input, error)) (queue.Call, error) {
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
	if a.Name == queue.ActionScreen {
		if err := action.ScreenerFor(p, &in); err != nil {
			return queue.Call{}, err
		}
	}
	in.NotOnAir = !auth.Can(p.Role, auth.ActionDropOnAir)
	return a.Do(r.Context(), s.cfg.Callers, h.key, callID, actor, in)
}

// takeNext puts the request's show's next caller on air.
func (s *core) takeNext(r *http.Request) (queue.Call, error) {
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

// controls returns the show controls for r's principal, audited: every
// change is logged with who made it (control.Audit).
func (s *core) controls(r *http.Request) control.Audited {
	return control.Audit(s.cfg.Controls, s.log, r)
}

// show is h's show as a control acts on it.
func (s *core) show(h *hub) control.Show {
	return control.Show{Key: h.key, Talkback: s.cfg.Talkback[h.key], SetAirLimit: h.setAirLimit,
		Snapshot: func() (broadcast.Snapshot, error) { return s.cfg.Shows.Snapshot(h.key) }}
}

// showReq checks the role may do action and returns the request's
// show hub.
func (s *core) showReq(r *http.Request, action auth.Action) (*hub, error) {
	if err := shared.Allow(r, action); err != nil {
		return nil, err
	}
	return s.hub(r)
}

// block blocks (with a reason, required) or unblocks the {number} of r,
// and flags or unflags that number's callers already in line.
func (s *core) block(r *http.Request, blocked bool, reason string) error {
	if err := shared.Allow(r, auth.ActionBlock); err != nil {
		return err
	}
	if s.cfg.History == nil {
		return shared.NotFound("history", "")
	}
	n, err := number(r)
	if err != nil {
		return err
	}
	if blocked {
		reason = strings.TrimSpace(reason)
		switch {
		case reason == "":
			return shared.Invalid("reason", "is required: say why the number is blocked")
		case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > api.MaxText || strings.IndexFunc(reason, shared.Unprintable) >= 0:
			return shared.Invalid("reason", "must be at most %d characters of text without control characters", api.MaxText)
		}
	}
	p, actor := shared.Principal(r)
	if blocked {
		err = s.cfg.History.Block(r.Context(), n, auth.ActorName(p), reason)
	} else {
		err = s.cfg.History.Unblock(r.Context(), n, auth.ActorName(p))
	}
	if err != nil {
		return err
	}
	if s.cfg.Blocks != nil {
		if changed := s.cfg.Blocks.SetBlocked(n, blocked, reason, actor); changed > 0 {
			s.log.Info("web: block reached callers in line", "number", n, "blocked", blocked, "callers", changed, "user", p.Name)
		}
	}
	for _, h := range s.hubs {
		h.forget(n)
	}
	return nil
}

// permFor is the permission doing a to a call needs (callerAction's
// permFor): dropping an on-air caller needs more than dropping a waiting
// one. The state is read before the action, so a caller promoted in
// between would be dropped on the waiting permission; callerAct closes
// that gap with DropOptions.NotOnAir.
func (s *core) permFor(a action.Action, h *hub, callID string) auth.Action {
	if a.PermOnAir == "" {
		return a.Perm
	}
	if c, err := s.cfg.Shows.Call(h.key, callID); err == nil {
		return a.PermFor(c)
	}
	return a.Perm
}

// recordingsReq checks the role may handle recordings and that callin
// keeps them, and returns the show.
func (s *core) recordingsReq(r *http.Request) (*hub, error) {
	h, err := s.showReq(r, auth.ActionRecording)
	if err != nil {
		return nil, err
	}
	if s.cfg.Recordings == nil {
		return nil, shared.NotFound("recordings", "")
	}
	return h, nil
}

// sendRecording sends the request's {recording} of h's show, as a
// download or, inline, for the browser to play. An error comes before
// anything is written.
func (s *core) sendRecording(w http.ResponseWriter, r *http.Request, h *hub, inline bool) error {
	name := chi.URLParam(r, "recording")
	body, ctype, err := s.cfg.Recordings.RecordingFile(r.Context(), h.key, name)
	if err != nil {
		return err
	}
	defer body.Close()
	file := safeFileName(name)
	if ctype == "audio/wav" {
		file += ".wav"
	} else {
		ctype = "application/octet-stream"
	}
	disposition := "attachment"
	if inline {
		disposition = "inline"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", disposition+`; filename="`+file+`"`)
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, body); err != nil {
		s.log.Warn("web: recording file", "show", h.key, "recording", name, "err", err)
	}
	return nil
}

// notesStore checks a notes request: the role may do action, there is a
// notes store, and {number} is a phone number, which it returns.
func (s *core) notesStore(r *http.Request, action auth.Action) (string, error) {
	if err := shared.Allow(r, action); err != nil {
		return "", err
	}
	if s.cfg.Notes == nil {
		return "", shared.NotFound("caller notes", "")
	}
	return number(r)
}
