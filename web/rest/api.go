package rest

import (
	"errors"
	"net/http"
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
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
	"github.com/callin-radio/callin/web/stream"
	"github.com/go-chi/chi/v5"
)

// The automation API's handlers: each reads, checks and acts with early
// returns, then answers through reply (JSON) or APIFail. The route table
// is in server.go, the JSON types and the document in package api (with
// the conversions from the domain in package web/api/from and the caller actions'
// operations in openapi.go).

// reply writes v as JSON with 200, or err as a JSON error: the one
// response writer of the API.
func (s *API) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	s.WriteJSON(w, r, http.StatusOK, v)
}

// apiSnapshot checks the role may view and returns the show's snapshot.
func (s *API) apiSnapshot(r *http.Request) (broadcast.Snapshot, error) {
	h, err := s.ShowReq(r, auth.ActionView)
	if err != nil {
		return broadcast.Snapshot{}, err
	}
	return s.Cfg.Shows.Snapshot(h.Key)
}

func (s *API) apiShows(w http.ResponseWriter, r *http.Request) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		s.APIFail(w, r, err)
		return
	}
	out := api.ShowList{Shows: []api.Show{}}
	for _, k := range s.Keys {
		snap, err := s.Cfg.Shows.Snapshot(k)
		if err != nil {
			s.APIFail(w, r, err)
			return
		}
		out.Shows = append(out.Shows, from.Show(snap))
	}
	s.reply(w, r, out, nil)
}

func (s *API) apiShow(w http.ResponseWriter, r *http.Request) {
	snap, err := s.apiSnapshot(r)
	s.reply(w, r, from.Show(snap), err)
}

// lineOrder is the order the API lists callers in.
func lineOrder(l queue.Lineup) [][]queue.Call {
	return [][]queue.Call{l.OnAir, l.Ready, l.Waiting, l.Screening, l.Arriving}
}

// callers lists the show's live callers, in one state when asked.
func (s *API) callers(r *http.Request) (api.CallList, error) {
	snap, err := s.apiSnapshot(r)
	if err != nil {
		return api.CallList{}, err
	}
	state := queue.State(r.URL.Query().Get("state"))
	switch state {
	case "", queue.StateArriving, queue.StateWaiting, queue.StateScreening, queue.StateReady, queue.StateCallback, queue.StateOnAir,
		queue.StateEnded: // a CallState like the others: the live callers have none
	default:
		return api.CallList{}, shared.Invalid("state", "must be a CallState: arriving, waiting, screening, ready, callback, on_air or ended")
	}
	var out []queue.Call
	for _, calls := range lineOrder(snap.Lineup) {
		for _, c := range calls {
			if state == "" || c.State == state {
				out = append(out, c)
			}
		}
	}
	list := from.WithQuality(from.Calls(out), snap.Quality)
	list.EventID = s.eventID(r, snap.Show, snap)
	return list, nil
}

func (s *API) apiCallers(w http.ResponseWriter, r *http.Request) {
	out, err := s.callers(r)
	s.reply(w, r, out, err)
}

// caller finds one live caller, reading only that call.
func (s *API) caller(r *http.Request) (api.Call, error) {
	h, err := s.Hub(r)
	if err != nil {
		return api.Call{}, err
	}
	id := chi.URLParam(r, "call")
	c, err := s.Cfg.Shows.Call(h.Key, id)
	if errors.Is(err, queue.ErrNotFound) || err == nil && c.State == queue.StateEnded {
		return api.Call{}, shared.NotFound("caller", id)
	}
	if err != nil {
		return api.Call{}, err
	}
	return from.Call(c), nil
}

func (s *API) apiCaller(w http.ResponseWriter, r *http.Request) {
	c, err := s.caller(r)
	s.reply(w, r, c, err)
}

// apiLineQuality measures a caller's line now (one request to Asterisk).
func (s *API) apiLineQuality(w http.ResponseWriter, r *http.Request) {
	h, err := s.Hub(r)
	if err != nil {
		s.reply(w, r, nil, err)
		return
	}
	q, err := s.Cfg.Callers.LineQuality(r.Context(), h.Key, chi.URLParam(r, "call"))
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

func (s *API) apiOnAir(w http.ResponseWriter, r *http.Request) {
	snap, err := s.apiSnapshot(r)
	list := from.Calls(snap.Lineup.OnAir)
	if err == nil {
		list.EventID = s.eventID(r, snap.Show, snap)
	}
	s.reply(w, r, list, err)
}

// apiAct serves one caller action: callerAct with the action's JSON body.
func (s *API) apiAct(a action.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.CallerAct(r, a, a.Body.Read)
		if err == nil && a.Name == queue.ActionScreen && c.Pending == queue.ActionScreen {
			// The screener's phone rings: the outcome comes as a screening
			// event (and the screen transition once answered).
			s.WriteJSON(w, r, http.StatusAccepted, from.Call(c))
			return
		}
		s.reply(w, r, from.Call(c), err)
	}
}

func (s *API) apiTakeNext(w http.ResponseWriter, r *http.Request) {
	c, err := s.TakeNext(r)
	s.reply(w, r, from.Call(c), err)
}

// historyJSON is a caller's profile and last calls, for the API and the
// caller page.
type historyJSON = api.History

// history loads a caller's profile and calls; known says whether callin
// has ever seen or noted the number.
func (s *API) history(r *http.Request) (out historyJSON, known bool, err error) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		return historyJSON{}, false, err
	}
	if s.Cfg.History == nil {
		return historyJSON{}, false, shared.NotFound("history", "")
	}
	n, err := core.Number(r)
	if err != nil {
		return historyJSON{}, false, err
	}
	p, err := s.Cfg.History.CallerProfile(r.Context(), n)
	if err != nil {
		return historyJSON{}, false, err
	}
	page, err := readPage(s, nil, func(pr core.PageRequest) (core.Page[queue.CallRecord], error) {
		return s.Cfg.Pages.CallerCallsPage(r.Context(), n, pr)
	}, func() ([]queue.CallRecord, error) {
		return s.Cfg.History.CallerCalls(r.Context(), n, core.HistoryLimit)
	})
	if err != nil {
		return historyJSON{}, false, err
	}
	out = historyJSON{Profile: from.Profile(p), Calls: convert(page.Items, from.CallRecord), Paging: paging(page)}
	return out, len(page.Items) > 0 || p.Known(), nil
}

// knownHistory is history, with 404 for a number never seen.
func (s *API) knownHistory(r *http.Request) (historyJSON, error) {
	out, known, err := s.history(r)
	if err == nil && !known {
		err = shared.NotFound("caller", out.Profile.Number)
	}
	return out, err
}

func (s *API) apiHistory(w http.ResponseWriter, r *http.Request) {
	out, err := s.knownHistory(r)
	s.reply(w, r, out, err)
}

// apiBlockReq blocks (with the body's reason) or unblocks, then returns
// the caller's history.
func (s *API) apiBlockReq(r *http.Request, blocked bool) (historyJSON, error) {
	var in api.Block
	if blocked {
		if err := shared.DecodeJSON(r, &in); err != nil {
			return historyJSON{}, err
		}
	}
	if err := s.Block(r, blocked, in.Reason); err != nil {
		return historyJSON{}, err
	}
	return s.knownHistory(r)
}

func (s *API) apiBlock(w http.ResponseWriter, r *http.Request) {
	out, err := s.apiBlockReq(r, true)
	s.reply(w, r, out, err)
}

func (s *API) apiUnblock(w http.ResponseWriter, r *http.Request) {
	out, err := s.apiBlockReq(r, false)
	s.reply(w, r, out, err)
}

// searchCallers finds callers by number or name.
func (s *API) searchCallers(r *http.Request) (any, error) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		return nil, err
	}
	if s.Cfg.History == nil {
		return nil, shared.NotFound("history", "")
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	switch {
	case q == "":
		return nil, shared.Invalid("q", "is required: digits of a number or part of a name")
	case !utf8.ValidString(q) || utf8.RuneCountInString(q) > api.MaxText || strings.IndexFunc(q, shared.Unprintable) >= 0:
		return nil, shared.Invalid("q", "must be at most %d characters of text", api.MaxText)
	}
	limit, err := queryInt(r, "limit", core.SearchLimit, 1, api.MaxSearch)
	if err != nil {
		return nil, err
	}
	found, err := s.Cfg.History.SearchCallers(r.Context(), q, limit)
	if err != nil {
		return nil, err
	}
	out := api.ProfileList{Callers: []api.Profile{}}
	for _, p := range found {
		out.Callers = append(out.Callers, from.Profile(p))
	}
	return out, nil
}

func (s *API) apiSearch(w http.ResponseWriter, r *http.Request) {
	out, err := s.searchCallers(r)
	s.reply(w, r, out, err)
}

// settings returns the show's settings.
func (s *API) settings(h *core.Hub) (api.Settings, error) {
	snap, err := s.Cfg.Shows.Snapshot(h.Key)
	return from.Settings(snap.Settings, h.AirLimitNow()), err
}

func (s *API) apiSettings(w http.ResponseWriter, r *http.Request) {
	h, err := s.ShowReq(r, auth.ActionView)
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	out, err := s.settings(h)
	if err == nil {
		w.Header().Set("ETag", settingsETag(out))
	}
	s.reply(w, r, out, err)
}

// Bounds of the settings the API changes.
const (
	maxCapacity   = api.MaxCapacity
	maxOnAirLimit = api.MaxOnAirLimit
)

// changeSettings checks every field given (its bounds and the role's
// permission for it) before changing any.
func (s *API) changeSettings(r *http.Request) (api.Settings, error) {
	h, err := s.ShowReq(r, auth.ActionView)
	if err != nil {
		return api.Settings{}, err
	}
	var in api.SettingsChange
	if err := decodeSettingsPatch(r, &in); err != nil {
		return api.Settings{}, err
	}
	// One PATCH, one settings event, however many settings it changes.
	ev := s.events[h.Key]
	ev.holdSettings()
	defer func() {
		snap, _ := s.Cfg.Shows.Snapshot(h.Key)
		ev.releaseSettings(r.Context(), snap.Seq)
	}()
	checks := []struct {
		v       *int
		field   string
		lo, hi  int
		perm    auth.Action
		changes func(n int) error
	}{
		{in.Capacity, "capacity", 0, maxCapacity, auth.ActionLines,
			func(n int) error { return s.Controls(r).SetCapacity(h.Key, n) }},
		{in.MaxOnAir, "max_on_air", 0, maxOnAirLimit, auth.ActionAirLimit,
			func(n int) error { return s.Controls(r).SetMaxOnAir(h.Key, n) }},
		{in.AnnounceEverySeconds, "announce_every_seconds", 0, api.MaxAnnounceEvery, auth.ActionAnnounceInterval,
			func(n int) error { return s.Controls(r).SetAnnounceEvery(h.Key, time.Duration(n)*time.Second) }},
		{in.OnAirWarningMinutes, "on_air_warning_minutes", 1, api.MaxWarningMinutes, auth.ActionAirLimit,
			func(n int) error {
				s.Controls(r).SetAirLimit(s.Show(h), time.Duration(n)*time.Minute)
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
	if err := s.settingsMatch(r, h); err != nil {
		return api.Settings{}, err
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

func (s *API) apiChangeSettings(w http.ResponseWriter, r *http.Request) {
	s.settingsMu.Lock() // If-Match and the change, with no other PATCH between
	defer s.settingsMu.Unlock()
	out, err := s.changeSettings(r)
	if err == nil {
		w.Header().Set("ETag", settingsETag(out))
	}
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

func (s *API) apiEvents(w http.ResponseWriter, r *http.Request) {
	h, err := s.ShowReq(r, auth.ActionView)
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	last, err := lastEventID(r)
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	p, _ := shared.Principal(r)
	c := stream.NewClient(p.Role, 0) // attachAPI sizes its buffer for the replay
	ev := s.events[h.Key]
	s.Streams.Serve(w, r, c, func() { ev.attach(c, last) }, func() { ev.detach(c) })
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
func (s *API) apiControl(c control.Control) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h, err := s.ShowReq(r, c.Perm)
		if err != nil {
			s.APIFail(w, r, err)
			return
		}
		sh := s.Show(h)
		in, res, err := c.Run(r, s.Controls(r), sh, c.JSON)
		if err != nil && (res.Air.Cleared != nil || res.Air.Locked != nil) {
			s.Log.Warn("web: clearing the air left callers on air", "show", h.Key, "err", err)
			err = nil
		}
		if err != nil {
			s.APIFail(w, r, err)
			return
		}
		out, err := c.Answer(sh, in, res)
		s.reply(w, r, out, err)
	}
}
