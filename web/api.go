package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
	"github.com/go-chi/chi/v5"
)

// showJSON is a show as the API describes it.
type showJSON struct {
	Key                string      `json:"key"`
	Title              string      `json:"title"`
	LinesOpen          bool        `json:"lines_open"`
	Recording          bool        `json:"recording"`
	Talkback           bool        `json:"talkback"`
	NodeUp             bool        `json:"node_up"`
	AnnounceEveryInSec int         `json:"announce_every_seconds"`
	Stats              queue.Stats `json:"stats"`
}

func showOf(s broadcast.Snapshot) showJSON {
	return showJSON{Key: s.Show, Title: s.Settings.Title, LinesOpen: s.Settings.LinesOpen, Recording: s.Recording.Active,
		Talkback: s.Media.Talkback, NodeUp: s.Node.OK(), AnnounceEveryInSec: int(s.Settings.AnnounceEvery / time.Second), Stats: s.Stats}
}

// apiSnapshot checks the role may view and returns the show's snapshot.
func (s *Server) apiSnapshot(r *http.Request) (broadcast.Snapshot, error) {
	if err := s.allow(r, auth.ActionView); err != nil {
		return broadcast.Snapshot{}, err
	}
	h, err := s.hub(r)
	if err != nil {
		return broadcast.Snapshot{}, err
	}
	return s.cfg.Shows.Snapshot(h.key)
}

func (s *Server) apiShows(w http.ResponseWriter, r *http.Request) {
	if err := s.allow(r, auth.ActionView); err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := []showJSON{}
	for _, k := range s.keys {
		snap, err := s.cfg.Shows.Snapshot(k)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		out = append(out, showOf(snap))
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"shows": out})
}

func (s *Server) apiShow(w http.ResponseWriter, r *http.Request) {
	snap, err := s.apiSnapshot(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, showOf(snap))
}

func (s *Server) apiLines(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Open *bool `json:"open"`
	}
	err := s.allow(r, auth.ActionLines)
	h, herr := s.hub(r)
	switch {
	case err != nil:
	case herr != nil:
		err = herr
	default:
		if err = decodeJSON(r, &in); err == nil && in.Open == nil {
			err = invalid("open", "is required (true or false)")
		}
	}
	if err == nil {
		err = s.controls(r).SetLinesOpen(h.key, *in.Open)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	snap, err := s.cfg.Shows.Snapshot(h.key)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, showOf(snap))
}

// callersJSON is a show's callers, each group in line order.
type callersJSON struct {
	Callers []queue.Call `json:"callers"`
}

func (s *Server) apiCallers(w http.ResponseWriter, r *http.Request) {
	snap, err := s.apiSnapshot(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	state := queue.State(r.URL.Query().Get("state"))
	switch state {
	case "", queue.StateArriving, queue.StateWaiting, queue.StateScreening, queue.StateReady, queue.StateOnAir:
	default:
		s.apiFail(w, r, invalid("state", "must be one of arriving, waiting, screening, ready, on_air"))
		return
	}
	out := callersJSON{Callers: []queue.Call{}}
	l := snap.Lineup
	for _, calls := range [][]queue.Call{l.OnAir, l.Ready, l.Waiting, l.Screening, l.Arriving} {
		for _, c := range calls {
			if state == "" || c.State == state {
				out.Callers = append(out.Callers, c)
			}
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) apiCaller(w http.ResponseWriter, r *http.Request) {
	snap, err := s.apiSnapshot(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	id := chi.URLParam(r, "call")
	if c, ok := findCall(snap, id); ok {
		s.writeJSON(w, r, http.StatusOK, c)
		return
	}
	s.apiFail(w, r, notFound("caller", id))
}

// findCall finds a live call in a snapshot.
func findCall(snap broadcast.Snapshot, id string) (queue.Call, bool) {
	l := snap.Lineup
	for _, calls := range [][]queue.Call{l.OnAir, l.Ready, l.Waiting, l.Screening, l.Arriving} {
		for _, c := range calls {
			if c.ID == id {
				return c, true
			}
		}
	}
	return queue.Call{}, false
}

func (s *Server) apiOnAir(w http.ResponseWriter, r *http.Request) {
	snap, err := s.apiSnapshot(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, callersJSON{Callers: append([]queue.Call{}, snap.Lineup.OnAir...)})
}

// apiAct serves one caller action.
func (s *Server) apiAct(a callerAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in actionInput
		h, err := s.hub(r)
		if err == nil {
			err = s.allow(r, s.permFor(a, h, chi.URLParam(r, "call")))
		}
		if err == nil {
			err = decodeJSON(r, &in)
		}
		if err == nil {
			err = in.validate()
		}
		var c queue.Call
		if err == nil {
			p, actor := principal(r)
			if a.name == queue.ActionScreen && in.Screener == "" {
				in.Screener = p.Name
			}
			in.notOnAir = !auth.Can(p.Role, auth.ActionDropOnAir)
			c, err = a.do(r.Context(), s.cfg.Callers, h.key, chi.URLParam(r, "call"), actor, in)
		}
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, c)
	}
}

func (s *Server) apiTakeNext(w http.ResponseWriter, r *http.Request) {
	err := s.allow(r, auth.ActionTakeNext)
	h, herr := s.hub(r)
	if err == nil {
		err = herr
	}
	var c queue.Call
	if err == nil {
		_, actor := principal(r)
		c, err = s.cfg.Callers.TakeNext(r.Context(), h.key, actor)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

func (s *Server) apiTalkback(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := s.allow(r, auth.ActionTalkback)
		h, herr := s.hub(r)
		if err == nil {
			err = herr
		}
		if err == nil {
			var in broadcast.TalkbackOptions
			if on {
				if err = decodeJSON(r, &in); err == nil {
					p, _ := principal(r)
					err = s.cfg.Talkback[h.key].check(h.key, in, p)
				}
				if err == nil {
					err = s.controls(r).StartTalkback(r.Context(), h.key, in)
				}
			} else {
				err = s.controls(r).StopTalkback(r.Context(), h.key)
			}
		}
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, map[string]bool{"talkback": on})
	}
}

// historyJSON is a caller's profile and last calls.
type historyJSON struct {
	Profile profileJSON `json:"profile"`
	Calls   []callJSON  `json:"calls"`
}

type profileJSON struct {
	Number        string    `json:"number"`
	Name          string    `json:"name,omitempty"`
	Notes         string    `json:"notes,omitempty"`
	Calls         int       `json:"calls"`
	OnAir         int       `json:"on_air"`
	FirstCall     time.Time `json:"first_call,omitzero"`
	LastCall      time.Time `json:"last_call,omitzero"`
	Blocked       bool      `json:"blocked"`
	BlockedReason string    `json:"blocked_reason,omitempty"`
	BlockedBy     string    `json:"blocked_by,omitempty"`
	BlockedAt     time.Time `json:"blocked_at,omitzero"`
}

type callJSON struct {
	ID        string        `json:"id"`
	Show      string        `json:"show"`
	Number    string        `json:"number"`
	Name      string        `json:"name,omitempty"`
	State     queue.State   `json:"state"`
	ArrivedAt time.Time     `json:"arrived_at,omitzero"`
	OnAirAt   time.Time     `json:"on_air_at,omitzero"`
	EndedAt   time.Time     `json:"ended_at,omitzero"`
	Outcome   queue.Outcome `json:"outcome,omitempty"`
	Reason    string        `json:"reason,omitempty"`
	Notes     queue.Notes   `json:"notes"`
}

func profileOf(p queue.Profile) profileJSON {
	return profileJSON{Number: p.Number, Name: p.Name, Notes: p.Notes, Calls: p.Calls, OnAir: p.OnAir,
		FirstCall: p.FirstCall, LastCall: p.LastCall, Blocked: p.Blocked, BlockedReason: p.BlockedReason,
		BlockedBy: p.BlockedBy, BlockedAt: p.BlockedAt}
}

func callOf(c queue.CallRecord) callJSON {
	return callJSON{ID: c.ID, Show: c.Show, Number: c.Number, Name: c.Name, State: c.State, ArrivedAt: c.ArrivedAt,
		OnAirAt: c.OnAirAt, EndedAt: c.EndedAt, Outcome: c.Outcome, Reason: c.Reason, Notes: c.Notes}
}

// historyLimit is how many past calls a caller's history shows.
const historyLimit = 100

// number reads the {number} parameter, percent-decoded (chi routes an
// escaped path as sent: "%2B1212..." is "+1212..."), and returns it as
// callers are keyed, or a 422 naming the rule.
func number(r *http.Request) (string, error) {
	raw := chi.URLParam(r, "number")
	if r.URL.RawPath != "" {
		v, err := url.PathUnescape(raw)
		if err != nil {
			return "", badRequest("number", "malformed percent-encoding")
		}
		raw = v
	}
	n := queue.NormalizeNumber(raw)
	if n == "" {
		return "", invalid("number", "must be a phone number: up to 20 digits, an optional leading +, and spaces, dashes, dots, slashes or brackets between them")
	}
	return n, nil
}

// history loads a caller's profile and calls; known says whether callin
// has ever seen or noted the number.
func (s *Server) history(r *http.Request) (out historyJSON, known bool, err error) {
	if err := s.allow(r, auth.ActionView); err != nil {
		return historyJSON{}, false, err
	}
	if s.cfg.History == nil {
		return historyJSON{}, false, notFound("history", "")
	}
	n, err := number(r)
	if err != nil {
		return historyJSON{}, false, err
	}
	p, err := s.cfg.History.CallerProfile(r.Context(), n)
	if err != nil {
		return historyJSON{}, false, err
	}
	calls, err := s.cfg.History.CallerCalls(r.Context(), n, historyLimit)
	if err != nil {
		return historyJSON{}, false, err
	}
	out = historyJSON{Profile: profileOf(p), Calls: []callJSON{}}
	for _, c := range calls {
		out.Calls = append(out.Calls, callOf(c))
	}
	return out, len(calls) > 0 || knownProfile(p), nil
}

// knownProfile reports whether a profile has anything in it: calls, a
// block (or a lifted one), notes or a name. CallerProfile answers a zero
// profile for a number never seen.
func knownProfile(p queue.Profile) bool {
	return p.Calls > 0 || !p.FirstCall.IsZero() || p.Blocked || !p.BlockedAt.IsZero() || p.Notes != "" || p.Name != ""
}

func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	out, known, err := s.history(r)
	if err == nil && !known {
		err = notFound("caller", out.Profile.Number)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// block blocks (with a reason, required) or unblocks the {number} of r,
// and flags or unflags that number's callers already in line.
func (s *Server) block(r *http.Request, blocked bool, reason string) error {
	if err := s.allow(r, auth.ActionBlock); err != nil {
		return err
	}
	if s.cfg.History == nil {
		return notFound("history", "")
	}
	n, err := number(r)
	if err != nil {
		return err
	}
	if blocked {
		reason = strings.TrimSpace(reason)
		switch {
		case reason == "":
			return invalid("reason", "is required: say why the number is blocked")
		case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > maxText || strings.IndexFunc(reason, unprintable) >= 0:
			return invalid("reason", "must be at most %d characters of text without control characters", maxText)
		}
	}
	p, actor := principal(r)
	if blocked {
		err = s.cfg.History.Block(r.Context(), n, p.Name, reason)
	} else {
		err = s.cfg.History.Unblock(r.Context(), n, p.Name)
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

func (s *Server) apiBlock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	err := decodeJSON(r, &in)
	if err == nil {
		err = s.block(r, true, in.Reason)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.apiHistory(w, r)
}

func (s *Server) apiUnblock(w http.ResponseWriter, r *http.Request) {
	if err := s.block(r, false, ""); err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.apiHistory(w, r)
}

// lastEventID reads Last-Event-ID (header, or the query parameter
// last_event_id for clients that cannot set headers); -1 when absent.
func lastEventID(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	field := "Last-Event-ID"
	if v == "" {
		v, field = r.URL.Query().Get("last_event_id"), "last_event_id"
	}
	if v == "" {
		return -1, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, badRequest(field, "must be an event id")
	}
	return id, nil
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	err := s.allow(r, auth.ActionView)
	h, herr := s.hub(r)
	if err == nil {
		err = herr
	}
	var last int64
	if err == nil {
		last, err = lastEventID(r)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	p, _ := principal(r)
	c := newClient(p.Role, 0) // attachAPI sizes its buffer for the replay
	s.serveSSE(w, r, h, c, func() { h.attachAPI(c, last) })
}

// permFor is the permission an action on a call needs: dropping an on-air
// caller needs more than dropping a waiting one. The state is read before
// the action, so a caller promoted in between is dropped on the waiting
// permission; broadcast has no "drop only if" option to close that gap.
func (s *Server) permFor(a callerAction, h *hub, callID string) auth.Action {
	if a.name != queue.ActionDrop {
		return a.perm
	}
	if snap, err := s.cfg.Shows.Snapshot(h.key); err == nil {
		if c, ok := findCall(snap, callID); ok {
			return dropPerm(c)
		}
	}
	return a.perm
}
