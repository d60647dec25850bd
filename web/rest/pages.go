package rest

import (
	"context"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/api/from"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// Cursor pagination of the API's lists (issue 22, point 3): a list reads
// ?limit (1..api.MaxPageLimit, default api.DefaultPageLimit) and an opaque
// ?cursor, and answers its items with next_cursor (absent on the last
// page) and has_more. Without Config.Pages the lists answer as before, in
// one page.

// PageRequest asks for one page of a list: at most Limit items (0: the
// default) after the page that gave Cursor ("" for the first page).
type PageRequest struct {
	Limit  int
	Cursor string
}

// Page is one page of a list and the cursor of the next ("" on the last).
type Page[T any] struct {
	Items []T
	Next  string
}

// Pages reads the API's lists a page at a time; cmd/callin adapts
// *postgres.Store. A cursor the list never gave is an error whose status
// is 400 naming the field (shared.BadRequest).
type Pages interface {
	// ShowCallsPage is a page of a show's calls that arrived in [from, to).
	ShowCallsPage(ctx context.Context, show string, from, to time.Time, pr PageRequest) (Page[queue.CallRecord], error)
	// ShowTransitionsPage is a page of a show's transitions in [from, to).
	ShowTransitionsPage(ctx context.Context, show string, from, to time.Time, pr PageRequest) (Page[queue.Transition], error)
	// ShowRecordingsPage is a page of a show's recordings, newest first;
	// with callID, those during which that call was on air.
	ShowRecordingsPage(ctx context.Context, show, callID string, pr PageRequest) (Page[queue.Recording], error)
	// CallerCallsPage is a page of a number's calls, newest first.
	CallerCallsPage(ctx context.Context, number string, pr PageRequest) (Page[queue.CallRecord], error)
	// ShowMessagesPage is a page of a show's chat, newest first.
	ShowMessagesPage(ctx context.Context, show string, pr PageRequest) (Page[queue.ShowMessage], error)
	// EachShowCall yields every call of ShowCallsPage, page by page.
	EachShowCall(ctx context.Context, show string, from, to time.Time) iter.Seq2[queue.CallRecord, error]
	// EachShowTransition yields every transition of ShowTransitionsPage.
	EachShowTransition(ctx context.Context, show string, from, to time.Time) iter.Seq2[queue.Transition, error]
}

// pageReq reads ?limit and ?cursor (400 naming the field when malformed).
func pageReq(r *http.Request) (PageRequest, error) {
	q := r.URL.Query()
	pr := PageRequest{Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > api.MaxPageLimit {
			return PageRequest{}, shared.BadRequest("limit", "must be a whole number from 1 to %d", api.MaxPageLimit)
		}
		pr.Limit = n
	}
	if len(pr.Cursor) > api.MaxCursor {
		return PageRequest{}, shared.BadRequest("cursor", "is not a cursor this list gave")
	}
	return pr, nil
}

// readPage reads the page r asks for (the first page for a nil r) with
// paged when the store pages (s.cfg.Pages is set), else every item with
// all in one page (a cursor is then refused).
func readPage[T any](s *restAPI, r *http.Request, paged func(PageRequest) (Page[T], error), all func() ([]T, error)) (Page[T], error) {
	var pr PageRequest
	if r != nil {
		var err error
		if pr, err = pageReq(r); err != nil {
			return Page[T]{}, err
		}
	}
	if s.cfg.Pages != nil {
		return paged(pr)
	}
	if pr.Cursor != "" {
		return Page[T]{}, shared.BadRequest("cursor", "is not a cursor this list gave")
	}
	items, err := all()
	return Page[T]{Items: items}, err
}

// paging is what a page's answer says of the next page.
func paging[T any](p Page[T]) api.Paging {
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
func (s *restAPI) chatPage(r *http.Request, h *hub) (Page[api.Message], error) {
	p, err := readPage(s, r, func(pr PageRequest) (Page[queue.ShowMessage], error) {
		return s.cfg.Pages.ShowMessagesPage(r.Context(), h.key, pr)
	}, func() ([]queue.ShowMessage, error) { return nil, nil })
	if err != nil {
		return Page[api.Message]{}, err
	}
	if s.cfg.Pages == nil {
		return Page[api.Message]{Items: convert(h.chat.list(), messageOf)}, nil
	}
	out := convert(p.Items, func(m queue.ShowMessage) api.Message { return messageOf(chatOf(m)) })
	slices.Reverse(out)
	return Page[api.Message]{Items: out, Next: p.Next}, nil
}

// apiCallerCalls serves a caller's calls, newest first, a page at a time
// (404 for a number never seen).
func (s *restAPI) apiCallerCalls(w http.ResponseWriter, r *http.Request) {
	n, err := s.knownNumber(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	p, err := readPage(s, r, func(pr PageRequest) (Page[queue.CallRecord], error) {
		return s.cfg.Pages.CallerCallsPage(r.Context(), n, pr)
	}, func() ([]queue.CallRecord, error) { return s.cfg.History.CallerCalls(r.Context(), n, historyLimit) })
	s.reply(w, r, api.CallRecordList{Calls: convert(p.Items, from.CallRecord), Paging: paging(p)}, err)
}

// knownNumber is the {number} of r, with 404 for a number callin has never
// seen or noted.
func (s *restAPI) knownNumber(r *http.Request) (string, error) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		return "", err
	}
	if s.cfg.History == nil {
		return "", shared.NotFound("history", "")
	}
	n, err := number(r)
	if err != nil {
		return "", err
	}
	p, err := s.cfg.History.CallerProfile(r.Context(), n)
	if err == nil && !p.Known() {
		err = shared.NotFound("caller", n)
	}
	return n, err
}
