package rest

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/api/from"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/control"
	"github.com/callin-radio/callin/web/shared"
	"github.com/callin-radio/callin/web/stream"
	"github.com/go-chi/chi/v5"
)

// The automation API's handlers: each reads, checks and acts with early
// returns, then answers through reply (JSON) or apiFail. The route table
// is in server.go, the JSON types and the document in package api (with
// the conversions from the domain in package web/api/from and the caller actions'
// operations in openapi.go).

// reply writes v as JSON with 200, or err as a JSON error: the one
// response writer of the API.
func (s *restAPI) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, v)
}

// apiSnapshot checks the role may view and returns the show's snapshot.
func (s *restAPI) apiSnapshot(r *http.Request) (broadcast.Snapshot, error) {
	h, err := s.showReq(r, auth.ActionView)
	if err != nil {
		return broadcast.Snapshot{}, err
	}
	return s.cfg.Shows.Snapshot(h.key)
}

func (s *restAPI) apiShows(w http.ResponseWriter, r *http.Request) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := api.ShowList{Shows: []api.Show{}}
	for _, k := range s.keys {
		snap, err := s.cfg.Shows.Snapshot(k)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		out.Shows = append(out.Shows, from.Show(snap))
	}
	s.reply(w, r, out, nil)
}

func (s *restAPI) apiShow(w http.ResponseWriter, r *http.Request) {
	snap, err := s.apiSnapshot(r)
	s.reply(w, r, from.Show(snap), err)
}

// lineOrder is the order the API lists callers in.
func lineOrder(l queue.Lineup) [][]queue.Call {
	return [][]queue.Call{l.OnAir, l.Ready, l.Waiting, l.Screening, l.Arriving}
}

// callers lists the show's live callers, in one state when asked.
func (s *restAPI) callers(r *http.Request) (api.CallList, error) {
	snap, err := s.apiSnapshot(r)
	if err != nil {
		return api.CallList{}, err
	}
	state := queue.State(r.URL.Query().Get("state"))
	switch state {
	case "", queue.StateArriving, queue.StateWaiting, queue.StateScreening, queue.StateReady, queue.StateCallback, queue.StateOnAir:
	default:
		return api.CallList{}, shared.Invalid("state", "must be one of arriving, waiting, screening, ready, callback, on_air")
	}
	var out []queue.Call
	for _, calls := range lineOrder(snap.Lineup) {
		for _, c := range calls {
			if state == "" || c.State == state {
				out = append(out, c)
			}
		}
	}
	return from.WithQuality(from.Calls(out), snap.Quality), nil
}

func (s *restAPI) apiCallers(w http.ResponseWriter, r *http.Request) {
	out, err := s.callers(r)
	s.reply(w, r, out, err)
}

// caller finds one live caller, reading only that call.
func (s *restAPI) caller(r *http.Request) (api.Call, error) {
	h, err := s.hub(r)
	if err != nil {
		return api.Call{}, err
	}
	id := chi.URLParam(r, "call")
	c, err := s.cfg.Shows.Call(h.key, id)
	if errors.Is(err, queue.ErrNotFound) || err == nil && c.State == queue.StateEnded {
		return api.Call{}, shared.NotFound("caller", id)
	}
	if err != nil {
		return api.Call{}, err
	}
	return from.Call(c), nil
}

func (s *restAPI) apiCaller(w http.ResponseWriter, r *http.Request) {
	c, err := s.caller(r)
	s.reply(w, r, c, err)
}

// apiLineQuality measures a caller's line now (one request to Asterisk).
func (s *restAPI) apiLineQuality(w http.ResponseWriter, r *http.Request) {
	h, err := s.hub(r)
	if err != nil {
		s.reply(w, r, nil, err)
		return
	}
	q, err := s.cfg.Callers.LineQuality(r.Context(), h.key, chi.URLParam(r, "call"))
	if err != nil {
		s.reply(w, r, nil, err)
		return
	}
	s.reply(w, r, from.Quality(q), nil)
}

// findCall finds a live call in a snapshot.
func findCall(snap broadcast.Snapshot, id string) (queue.Call, bool) {
	for _, calls := range lineOrder(snap.Lineup) {
		for _, c := range calls {
			if c.ID == id {
				return c, true
			}
		}
	}
	return queue.Call{}, false
}

func (s *restAPI) apiOnAir(w http.ResponseWriter, r *http.Request) {
	snap, err := s.apiSnapshot(r)
	s.reply(w, r, from.Calls(snap.Lineup.OnAir), err)
}

// apiAct serves one caller action: callerAct with the action's JSON body.
func (s *restAPI) apiAct(a action.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.callerAct(r, a, a.Body.Read)
		if err == nil && a.Name == queue.ActionScreen && c.Pending == queue.ActionScreen {
			// The screener's phone rings: the outcome comes as a screening
			// event (and the screen transition once answered).
			s.writeJSON(w, r, http.StatusAccepted, from.Call(c))
			return
		}
		s.reply(w, r, from.Call(c), err)
	}
}

func (s *restAPI) apiTakeNext(w http.ResponseWriter, r *http.Request) {
	c, err := s.takeNext(r)
	s.reply(w, r, from.Call(c), err)
}

// historyJSON is a caller's profile and last calls, for the API and the
// caller page.
type historyJSON = api.History

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
			return "", shared.BadRequest("number", "malformed percent-encoding")
		}
		raw = v
	}
	n := queue.NormalizeNumber(raw)
	if n == "" {
		return "", shared.Invalid("number", "must be a phone number: up to 20 digits, an optional leading +, and spaces, dashes, dots, slashes or brackets between them")
	}
	return n, nil
}

// history loads a caller's profile and calls; known says whether callin
// has ever seen or noted the number.
func (s *restAPI) history(r *http.Request) (out historyJSON, known bool, err error) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		return historyJSON{}, false, err
	}
	if s.cfg.History == nil {
		return historyJSON{}, false, shared.NotFound("history", "")
	}
	n, err := number(r)
	if err != nil {
		return historyJSON{}, false, err
	}
	p, err := s.cfg.History.CallerProfile(r.Context(), n)
	if err != nil {
		return historyJSON{}, false, err
	}
	page, err := readPage(s, nil, func(pr PageRequest) (Page[queue.CallRecord], error) {
		return s.cfg.Pages.CallerCallsPage(r.Context(), n, pr)
	}, func() ([]queue.CallRecord, error) { return s.cfg.History.CallerCalls(r.Context(), n, historyLimit) })
	if err != nil {
		return historyJSON{}, false, err
	}
	out = historyJSON{Profile: from.Profile(p), Calls: convert(page.Items, from.CallRecord), Paging: paging(page)}
	return out, len(page.Items) > 0 || p.Known(), nil
}

// knownHistory is history, with 404 for a number never seen.
func (s *restAPI) knownHistory(r *http.Request) (historyJSON, error) {
	out, known, err := s.history(r)
	if err == nil && !known {
		err = shared.NotFound("caller", out.Profile.Number)
	}
	return out, err
}

func (s *restAPI) apiHistory(w http.ResponseWriter, r *http.Request) {
	out, err := s.knownHistory(r)
	s.reply(w, r, out, err)
}

// apiBlockReq blocks (with the body's reason) or unblocks, then returns
// the caller's history.
func (s *restAPI) apiBlockReq(r *http.Request, blocked bool) (historyJSON, error) {
	var in api.Block
	if blocked {
		if err := shared.DecodeJSON(r, &in); err != nil {
			return historyJSON{}, err
		}
	}
	if err := s.block(r, blocked, in.Reason); err != nil {
		return historyJSON{}, err
	}
	return s.knownHistory(r)
}

func (s *restAPI) apiBlock(w http.ResponseWriter, r *http.Request) {
	out, err := s.apiBlockReq(r, true)
	s.reply(w, r, out, err)
}

func (s *restAPI) apiUnblock(w http.ResponseWriter, r *http.Request) {
	out, err := s.apiBlockReq(r, false)
	s.reply(w, r, out, err)
}

// searchCallers finds callers by number or name.
func (s *restAPI) searchCallers(r *http.Request) (any, error) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		return nil, err
	}
	if s.cfg.History == nil {
		return nil, shared.NotFound("history", "")
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	switch {
	case q == "":
		return nil, shared.Invalid("q", "is required: digits of a number or part of a name")
	case !utf8.ValidString(q) || utf8.RuneCountInString(q) > api.MaxText || strings.IndexFunc(q, shared.Unprintable) >= 0:
		return nil, shared.Invalid("q", "must be at most %d characters of text", api.MaxText)
	}
	limit, err := queryInt(r, "limit", searchLimit, 1, maxSearch)
	if err != nil {
		return nil, err
	}
	found, err := s.cfg.History.SearchCallers(r.Context(), q, limit)
	if err != nil {
		return nil, err
	}
	out := api.ProfileList{Callers: []api.Profile{}}
	for _, p := range found {
		out.Callers = append(out.Callers, from.Profile(p))
	}
	return out, nil
}

func (s *restAPI) apiSearch(w http.ResponseWriter, r *http.Request) {
	out, err := s.searchCallers(r)
	s.reply(w, r, out, err)
}

// settings returns the show's settings.
func (s *restAPI) settings(h *hub) (api.Settings, error) {
	snap, err := s.cfg.Shows.Snapshot(h.key)
	return from.Settings(snap.Settings, h.airLimitNow()), err
}

func (s *restAPI) apiSettings(w http.ResponseWriter, r *http.Request) {
	h, err := s.showReq(r, auth.ActionView)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out, err := s.settings(h)
	s.reply(w, r, out, err)
}

// Bounds of the settings the API changes.
const (
	maxCapacity   = api.MaxCapacity
	maxOnAirLimit = api.MaxOnAirLimit
)

// changeSettings checks every field given (its bounds and the role's
// permission for it) before changing any.
func (s *restAPI) changeSettings(r *http.Request) (api.Settings, error) {
	h, err := s.showReq(r, auth.ActionView)
	if err != nil {
		return api.Settings{}, err
	}
	var in api.SettingsChange
	if err := shared.DecodeJSON(r, &in); err != nil {
		return api.Settings{}, err
	}
	checks := []struct {
		v       *int
		field   string
		lo, hi  int
		perm    auth.Action
		changes func(n int) error
	}{
		{in.Capacity, "capacity", 0, maxCapacity, auth.ActionLines,
			func(n int) error { return s.controls(r).SetCapacity(h.key, n) }},
		{in.MaxOnAir, "max_on_air", 0, maxOnAirLimit, auth.ActionAirLimit,
			func(n int) error { return s.controls(r).SetMaxOnAir(h.key, n) }},
		{in.AnnounceEverySeconds, "announce_every_seconds", 0, api.MaxAnnounceEvery, auth.ActionAnnounceInterval,
			func(n int) error { return s.controls(r).SetAnnounceEvery(h.key, time.Duration(n)*time.Second) }},
		{in.OnAirWarningMinutes, "on_air_warning_minutes", 1, api.MaxWarningMinutes, auth.ActionAirLimit,
			func(n int) error {
				s.controls(r).SetAirLimit(s.show(h), time.Duration(n)*time.Minute)
				return nil
			}},
	}
	for _, c := range checks {
		if c.v == nil {
			continue
		}
		if err := shared.Allow(r, c.perm); err != nil {
			return api.Settings{}, err
		}
		if *c.v < c.lo || *c.v > c.hi {
			return api.Settings{}, shared.Invalid(c.field, "must be between %d and %d", c.lo, c.hi)
		}
	}
	for _, c := range checks {
		if c.v == nil {
			continue
		}
		if err := c.changes(*c.v); err != nil {
			return api.Settings{}, err
		}
	}
	return s.settings(h)
}

func (s *restAPI) apiChangeSettings(w http.ResponseWriter, r *http.Request) {
	out, err := s.changeSettings(r)
	s.reply(w, r, out, err)
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
	id, err := parseID(v)
	if err != nil {
		return 0, shared.BadRequest(field, "must be an event id")
	}
	return id, nil
}

func (s *restAPI) apiEvents(w http.ResponseWriter, r *http.Request) {
	h, err := s.showReq(r, auth.ActionView)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	last, err := lastEventID(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	p, _ := shared.Principal(r)
	c := stream.NewClient(p.Role, 0) // attachAPI sizes its buffer for the replay
	ev := s.events[h.key]
	s.streams.Serve(w, r, c, func() { ev.attach(c, last) }, func() { ev.detach(c) })
}

// parseID reads an event id: a whole number, not negative.
func parseID(v string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err == nil && id < 0 {
		err = strconv.ErrRange
	}
	return id, err
}

// queryInt reads a whole number query parameter within [lo, hi], or def
// when it is absent.
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, shared.BadRequest(name, "must be a whole number")
	}
	if n < lo || n > hi {
		return 0, shared.Invalid(name, "must be between %d and %d", lo, hi)
	}
	return n, nil
}

// apiControl serves one control of the API, a row of control.Table with
// a path. When clearing the air cleared some callers and not others, the
// answer says who was cleared and the log why the others were not.
func (s *restAPI) apiControl(c control.Control) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h, err := s.showReq(r, c.Perm)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		sh := s.show(h)
		in, res, err := c.Run(r, s.controls(r), sh, c.JSON)
		if err != nil && (res.Air.Cleared != nil || res.Air.Locked != nil) {
			s.log.Warn("web: clearing the air left callers on air", "show", h.key, "err", err)
			err = nil
		}
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		out, err := c.Answer(sh, in, res)
		s.reply(w, r, out, err)
	}
}
