package rest_test

import (
	"context"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// fakePages pages slices: a cursor is "at:<index>" of the next item.
type fakePages struct {
	calls []queue.CallRecord
	ts    []queue.Transition
	recs  []queue.Recording
	msgs  []queue.ShowMessage // newest first
	asked []core.PageRequest
}

func pageOf[T any](f *fakePages, items []T, pr core.PageRequest) (core.Page[T], error) {
	f.asked = append(f.asked, pr)
	i := 0
	if pr.Cursor != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(pr.Cursor, "at:"))
		if err != nil || !strings.HasPrefix(pr.Cursor, "at:") || n > len(items) {
			return core.Page[T]{}, shared.BadRequest("cursor", "is not a cursor this list gave")
		}
		i = n
	}
	limit := pr.Limit
	if limit == 0 {
		limit = 100
	}
	end := min(i+limit, len(items))
	p := core.Page[T]{Items: items[i:end]}
	if end < len(items) {
		p.Next = "at:" + strconv.Itoa(end)
	}
	return p, nil
}

func each[T any](items []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}

func (f *fakePages) ShowCallsPage(_ context.Context, _ string, _, _ time.Time, pr core.PageRequest) (core.Page[queue.CallRecord], error) {
	return pageOf(f, f.calls, pr)
}
func (f *fakePages) ShowTransitionsPage(_ context.Context, _ string, _, _ time.Time, pr core.PageRequest) (core.Page[queue.Transition], error) {
	return pageOf(f, f.ts, pr)
}
func (f *fakePages) ShowRecordingsPage(_ context.Context, _, _ string, pr core.PageRequest) (core.Page[queue.Recording], error) {
	return pageOf(f, f.recs, pr)
}
func (f *fakePages) CallerCallsPage(_ context.Context, _ string, pr core.PageRequest) (core.Page[queue.CallRecord], error) {
	return pageOf(f, f.calls, pr)
}
func (f *fakePages) ShowMessagesPage(_ context.Context, _ string, pr core.PageRequest) (core.Page[queue.ShowMessage], error) {
	return pageOf(f, f.msgs, pr)
}
func (f *fakePages) EachShowCall(context.Context, string, time.Time, time.Time) iter.Seq2[queue.CallRecord, error] {
	return each(f.calls)
}
func (f *fakePages) EachShowTransition(context.Context, string, time.Time, time.Time) iter.Seq2[queue.Transition, error] {
	return each(f.ts)
}

// TestAPIPages pages calls, transitions, a caller's calls and the chat
// with limit and cursor to the end (every exchange validated against the
// document), refuses a bad limit or cursor with 400 naming the field, and
// streams the whole CSV export whatever the page size.
func TestAPIPages(t *testing.T) {
	at := time.Date(2025, 11, 26, 8, 30, 0, 0, time.UTC)
	f := &fakePages{}
	for i := range 5 {
		id := "k" + strconv.Itoa(i)
		f.calls = append(f.calls, queue.CallRecord{ID: id, Show: "morning", Number: "+15550001", State: queue.StateEnded, ArrivedAt: at, Outcome: queue.OutcomeAired})
		f.ts = append(f.ts, queue.Transition{CallID: id, Seq: 1, At: at, Show: "morning", To: queue.StateArriving, Action: queue.ActionArrive,
			Actor: queue.Actor{Kind: queue.ActorCaller}, Number: "+15550001"})
		f.msgs = append(f.msgs, queue.ShowMessage{ID: int64(10 - i), Show: "morning", Author: "pat", Body: "m" + strconv.Itoa(10-i), At: at})
	}
	e := webenv.New(t, func(c *core.Config) { c.Pages = f })
	e.Hist.ProfileFn = func(n string) (queue.Profile, error) { return queue.Profile{Number: n, Calls: 5}, nil }
	for _, tc := range []struct{ path, key string }{
		{"/api/v1/shows/morning/calls?day=2025-11-26", "calls"},
		{"/api/v1/shows/morning/transitions?day=2025-11-26", "transitions"},
		{"/api/v1/callers/+15550001/calls?", "calls"},
		{"/api/v1/shows/morning/chat?", "messages"},
	} {
		var got []any
		cursor, pages := "", 0
		for {
			path := tc.path + "&limit=2"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			res, body := e.API(t, "GET", path, "producer", "")
			items, _ := body[tc.key].([]any)
			if res.StatusCode != 200 || len(items) == 0 || len(items) > 2 {
				t.Fatalf("%s: %d %v", path, res.StatusCode, body)
			}
			got = append(got, items...)
			pages++
			next, _ := body["next_cursor"].(string)
			if more, _ := body["has_more"].(bool); more != (next != "") {
				t.Fatalf("%s: has_more %v with next_cursor %q", path, more, next)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if len(got) != 5 || pages != 3 {
			t.Fatalf("%s: %d items in %d pages, want 5 in 3", tc.path, len(got), pages)
		}
		if tc.key == "messages" && got[0].(map[string]any)["text"] != "m9" {
			t.Fatalf("chat: a page is not oldest first: %v", got)
		}
	}
	for _, tc := range []struct{ query, field string }{{"limit=0", "limit"}, {"limit=1001", "limit"}, {"limit=ten", "limit"}, {"cursor=nope", "cursor"}} {
		res, body := e.API(t, "GET", "/api/v1/shows/morning/calls?"+tc.query, "producer", "")
		if res.StatusCode != 400 || body["field"] != tc.field {
			t.Fatalf("%s: %d %v, want 400 naming %s", tc.query, res.StatusCode, body, tc.field)
		}
	}
	req, _ := http.NewRequest("GET", e.TS.URL+"/api/v1/shows/morning/calls?format=csv&limit=1", nil)
	req.Header.Set("Authorization", "Bearer host")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); res.StatusCode != 200 || len(lines) != 6 {
		t.Fatalf("csv: %d %q, want a header and 5 rows", res.StatusCode, b)
	}
}
