package rest

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/api/from"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
)

// Cursor pagination of the API's lists (issue 22, point 3): a list reads
// ?limit (1..api.MaxPageLimit, default api.DefaultPageLimit) and an opaque
// ?cursor, and answers its items with next_cursor (absent on the last
// page) and has_more. Without Config.Pages the lists answer as before, in
// one page.

// pageReq reads ?limit and ?cursor (400 naming the field when malformed).
func pageReq(r *http.Request) (core.PageRequest, error) {
	q := r.URL.Query()
	pr := core.PageRequest{Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > api.MaxPageLimit {
			return core.PageRequest{}, shared.BadRequest("limit", "must be a whole number from 1 to %d", api.MaxPageLimit)
		}
		pr.Limit = n
	}
	if len(pr.Cursor) > api.MaxCursor {
		return core.PageRequest{}, shared.BadRequest("cursor", "is not a cursor this list gave")
	}
	return pr, nil
}

// readPage reads the page r asks for (the first page for a nil r) with
// paged when the store pages (s.cfg.Pages is set), else every item with
// all in one page (a cursor is then refused).
func readPage[T any](s *API, r *http.Request, paged func(core.PageRequest) (core.Page[T], error), all func() ([]T, error)) (core.Page[T], error) {
	var pr core.PageRequest
	if r != nil {
		var err error
		if pr, err = pageReq(r); err != nil {
			return core.Page[T]{}, err
		}
	}
	if s.Cfg.Pages != nil {
		return paged(pr)
	}
	if pr.Cursor != "" {
		return core.Page[T]{}, shared.BadRequest("cursor", "is not a cursor this list gave")
	}
	items, err := all()
	return core.Page[T]{Items: items}, err
}

// paging is what a page's answer says of the next page.
func paging[T any](p core.Page[T]) api.Paging {
	return api.Paging{NextCursor: p.Next, HasMore: p.Next != ""}
}

// convert maps f over items.
func convert[T, U any](items []T, f func(T) U) []U {
	out := make([]U, 0, len(items))
	for _, it := range items {
		out = append(out, f(it))
	}
	return out
}

// chatPage is the page of the show's chat the request asks for, oldest
// first within the page: the first page is the latest messages, as the
// list answered before paging; next_cursor leads to older ones.
func (s *API) chatPage(r *http.Request, h *core.Hub) (core.Page[api.Message], error) {
	p, err := readPage(s, r, func(pr core.PageRequest) (core.Page[queue.ShowMessage], error) {
		return s.Cfg.Pages.ShowMessagesPage(r.Context(), h.Key, pr)
	}, func() ([]queue.ShowMessage, error) { return nil, nil })
	if err != nil {
		return core.Page[api.Message]{}, err
	}
	if s.Cfg.Pages == nil {
		return core.Page[api.Message]{Items: convert(h.Chat.List(), messageOf)}, nil
	}
	out := convert(p.Items, func(m queue.ShowMessage) api.Message { return messageOf(core.ChatOf(m)) })
	slices.Reverse(out)
	return core.Page[api.Message]{Items: out, Next: p.Next}, nil
}

// apiCallerCalls serves a caller's calls, newest first, a page at a time
// (404 for a number never seen).
func (s *API) apiCallerCalls(w http.ResponseWriter, r *http.Request) {
	n, err := s.knownNumber(r)
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	p, err := readPage(s, r, func(pr core.PageRequest) (core.Page[queue.CallRecord], error) {
		return s.Cfg.Pages.CallerCallsPage(r.Context(), n, pr)
	}, func() ([]queue.CallRecord, error) {
		return s.Cfg.History.CallerCalls(r.Context(), n, core.HistoryLimit)
	})
	s.reply(w, r, api.CallRecordList{Calls: convert(p.Items, from.CallRecord), Paging: paging(p)}, err)
}

// knownNumber is the {number} of r, with 404 for a number callin has never
// seen or noted.
func (s *API) knownNumber(r *http.Request) (string, error) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		return "", err
	}
	if s.Cfg.History == nil {
		return "", shared.NotFound("history", "")
	}
	n, err := core.Number(r)
	if err != nil {
		return "", err
	}
	p, err := s.Cfg.History.CallerProfile(r.Context(), n)
	if err == nil && !p.Known() {
		err = shared.NotFound("caller", n)
	}
	return n, err
}
