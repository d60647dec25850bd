package postgres_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

// readAll pages through a list with limit, calling between after each
// page but the last, and returns every item in order and the number of
// pages. It fails the test past 10,000 pages (a cursor going round).
func readAll[T any](t *testing.T, limit int, read func(postgres.PageRequest) (postgres.Page[T], error), between func(page int)) ([]T, int) {
	t.Helper()
	var all []T
	pr := postgres.PageRequest{Limit: limit}
	for n := 1; n < 10_000; n++ {
		p, err := read(pr)
		if err != nil {
			t.Fatalf("page %d: %v", n, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("page %d: got %d items, want at most %d", n, len(p.Items), limit)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all, n
		}
		if len(p.Items) == 0 {
			t.Fatalf("page %d: empty, with a next cursor", n)
		}
		if between != nil {
			between(n)
		}
		pr.Cursor = p.Next
	}
	t.Fatal("more than 10,000 pages")
	return nil, 0
}

func exec(t *testing.T, store *postgres.Store, sql string, args ...any) {
	t.Helper()
	if _, err := store.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// addCall inserts a call of show arriving at at (NULL when zero), from
// callerID's number (none when 0).
func addCall(t *testing.T, store *postgres.Store, show, id string, at time.Time, callerID int64) {
	t.Helper()
	var arrived, caller any
	if !at.IsZero() {
		arrived = at
	}
	if callerID != 0 {
		caller = callerID
	}
	exec(t, store, `INSERT INTO calls (id, show, state, last_seq, arrived_at, caller_id) VALUES ($1, $2, 'ended', 1, $3, $4)`,
		id, show, arrived, caller)
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func callID(c postgres.Call) string { return c.ID }

// checkStable checks a list read while rows were added: every row of
// before (the list at the start) is in got, and no row is in got twice.
func checkStable(t *testing.T, before, got []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("%s twice", id)
		}
		seen[id] = true
	}
	for _, id := range before {
		if !seen[id] {
			t.Errorf("%s (there at the start) skipped", id)
		}
	}
}

func TestShowCallsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	// 50 calls, in fives arriving at the same microsecond: pages must
	// split ties by id.
	for i := range 50 {
		addCall(t, store, "morning", fmt.Sprintf("call-%03d", 49-i), day.Add(time.Duration(i/5)*time.Second), 0)
	}
	addCall(t, store, "evening", "call-other", day, 0)
	addCall(t, store, "morning", "call-late", day.Add(25*time.Hour), 0)
	to := day.Add(24 * time.Hour)
	full, err := store.ShowCalls(ctx, "morning", day, to)
	if err != nil {
		t.Fatal(err)
	}
	want := ids(full, callID)
	read := func(pr postgres.PageRequest) (postgres.Page[postgres.Call], error) {
		return store.ShowCallsPage(ctx, "morning", day, to, pr)
	}

	for _, limit := range []int{1, 7, 10, 50, 1000} {
		t.Run(fmt.Sprintf("Limit%d", limit), func(t *testing.T) {
			got, pages := readAll(t, limit, read, nil)
			if !slices.Equal(ids(got, callID), want) {
				t.Errorf("got %v\nwant %v", ids(got, callID), want)
			}
			if wantPages := max(1, (50+limit-1)/limit); pages != wantPages {
				t.Errorf("got %d pages, want %d (the last one full has no next cursor)", pages, wantPages)
			}
		})
	}

	t.Run("StableUnderInserts", func(t *testing.T) {
		// After each page: a call before the cursor, one tied with the
		// page's last, one after it.
		n := 0
		got, _ := readAll(t, 6, read, func(page int) {
			at := day.Add(time.Duration(page) * time.Second)
			for _, d := range []time.Duration{-time.Second, 500 * time.Millisecond, 3 * time.Second} {
				n++
				addCall(t, store, "morning", fmt.Sprintf("new-%03d", n), at.Add(d), 0)
			}
		})
		checkStable(t, want, ids(got, callID))
	})

	t.Run("Each", func(t *testing.T) {
		// 2,500 more in one hour: the iterator reads three pages.
		exec(t, store, `INSERT INTO calls (id, show, state, last_seq, arrived_at)
			SELECT 'bulk-' || lpad(i::text, 5, '0'), 'bulk', 'ended', 1, $1::timestamptz + i * interval '1 ms'
			FROM generate_series(1, 2500) AS i`, day)
		var got []string
		for c, err := range store.EachShowCall(ctx, "bulk", day, to) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, c.ID)
		}
		if len(got) != 2500 || got[0] != "bulk-00001" || got[2499] != "bulk-02500" || !slices.IsSorted(got) {
			t.Errorf("got %d calls, %v … %v, want bulk-00001 … bulk-02500 in order", len(got), got[:1], got[len(got)-1:])
		}
		n := 0
		for range store.EachShowCall(ctx, "bulk", day, to) {
			if n++; n == 3 {
				break // stopping early must not panic
			}
		}
	})
}

func TestPageRequestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	for i := range 3 {
		addCall(t, store, "morning", fmt.Sprintf("call-%d", i), day.Add(time.Duration(i)*time.Second), 0)
	}
	p, err := store.ShowCallsPage(ctx, "morning", day, day.Add(time.Hour), postgres.PageRequest{Limit: 1})
	if err != nil || p.Next == "" {
		t.Fatalf("got %+v, %v, want a page and a next cursor", p, err)
	}
	chatCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"k":"chat","t":1,"n":1}`))
	for _, tc := range []struct {
		name, field string
		pr          postgres.PageRequest
	}{
		{"ErrNotBase64", "cursor", postgres.PageRequest{Cursor: "not a cursor!"}},
		{"ErrNotJSON", "cursor", postgres.PageRequest{Cursor: base64.RawURLEncoding.EncodeToString([]byte("{x"))}},
		{"ErrOtherList", "cursor", postgres.PageRequest{Cursor: chatCursor}},
		{"ErrPadded", "cursor", postgres.PageRequest{Cursor: p.Next + "=="}},
		{"ErrLong", "cursor", postgres.PageRequest{Cursor: string(make([]byte, 600))}},
		{"ErrNegativeLimit", "limit", postgres.PageRequest{Limit: -1}},
		{"ErrLimitTooHigh", "limit", postgres.PageRequest{Limit: postgres.MaxPageLimit + 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.ShowCallsPage(ctx, "morning", day, day.Add(time.Hour), tc.pr)
			var ce *postgres.CursorError
			if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, queue.ErrInvalid) {
				t.Fatalf("got %v, want a *CursorError on %s wrapping queue.ErrInvalid", err, tc.field)
			}
			if got := errors.Is(err, postgres.ErrBadCursor); got != (tc.field == "cursor") {
				t.Errorf("errors.Is ErrBadCursor: got %v", got)
			}
		})
	}
	t.Run("OtherListsCursor", func(t *testing.T) {
		// A calls cursor is no transitions cursor.
		_, err := store.ShowTransitionsPage(ctx, "morning", day, day.Add(time.Hour), postgres.PageRequest{Cursor: p.Next})
		if !errors.Is(err, postgres.ErrBadCursor) {
			t.Errorf("got %v, want ErrBadCursor", err)
		}
	})
}

func TestShowTransitionsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := recorded(t, scenario(12, day))
	to := day.Add(time.Hour)
	full, err := store.ShowTransitions(ctx, "morning", day, to)
	if err != nil {
		t.Fatal(err)
	}
	key := func(tr queue.Transition) string { return fmt.Sprintf("%s/%d", tr.CallID, tr.Seq) }
	want := ids(full, key)
	// Two transitions of different calls at the same time, to split by
	// call then seq.
	addEvent := func(callID string, seq int, at time.Time) {
		exec(t, store, `INSERT INTO call_events (call_id, seq, at, show, from_state, to_state, action, actor_kind)
			VALUES ($1, $2, $3, 'morning', 'waiting', 'waiting', 'note', 'system')`, callID, seq, at)
	}
	read := func(pr postgres.PageRequest) (postgres.Page[queue.Transition], error) {
		return store.ShowTransitionsPage(ctx, "morning", day, to, pr)
	}

	t.Run("All", func(t *testing.T) {
		got, _ := readAll(t, 4, read, nil)
		if !slices.Equal(ids(got, key), want) {
			t.Errorf("got %v\nwant %v", ids(got, key), want)
		}
		var each []string
		for tr, err := range store.EachShowTransition(ctx, "morning", day, to) {
			if err != nil {
				t.Fatal(err)
			}
			each = append(each, key(tr))
		}
		if !slices.Equal(each, want) {
			t.Errorf("EachShowTransition: got %v\nwant %v", each, want)
		}
	})
	t.Run("StableUnderInserts", func(t *testing.T) {
		n := 0
		got, _ := readAll(t, 5, read, func(page int) {
			n++
			at := day.Add(time.Duration(page) * 2 * time.Second)
			addEvent("zz-late", n, at.Add(10*time.Second)) // ahead of the cursor
			addEvent("aa-early", n, day)                   // behind it
		})
		checkStable(t, want, ids(got, key))
	})
}

func TestShowRecordingsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	add := func(name string, ended time.Time, calls ...string) {
		t.Helper()
		if err := store.AddRecording(ctx, queue.Recording{Name: name, Show: "morning", Ended: ended, Calls: calls}); err != nil {
			t.Fatal(err)
		}
	}
	// 30 recordings, by threes ending at the same time; every other one
	// with call-1 on air.
	for i := range 30 {
		var calls []string
		if i%2 == 0 {
			calls = []string{"call-1"}
		}
		add(fmt.Sprintf("rec-%02d", i), day.Add(time.Duration(i/3)*time.Minute), calls...)
	}
	recName := func(r queue.Recording) string { return r.Name }
	for _, callID := range []string{"", "call-1"} {
		t.Run("Call"+callID, func(t *testing.T) {
			full, err := store.ShowRecordings(ctx, "morning", callID, 1000)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := readAll(t, 4, func(pr postgres.PageRequest) (postgres.Page[queue.Recording], error) {
				return store.ShowRecordingsPage(ctx, "morning", callID, pr)
			}, nil)
			if !slices.Equal(ids(got, recName), ids(full, recName)) || len(got) == 0 {
				t.Errorf("got %v\nwant %v", ids(got, recName), ids(full, recName))
			}
		})
	}
	t.Run("StableUnderInserts", func(t *testing.T) {
		full, err := store.ShowRecordings(ctx, "morning", "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := readAll(t, 4, func(pr postgres.PageRequest) (postgres.Page[queue.Recording], error) {
			return store.ShowRecordingsPage(ctx, "morning", "", pr)
		}, func(page int) {
			add(fmt.Sprintf("new-%02d", page), day.Add(time.Hour))                           // newer: before the cursor
			add(fmt.Sprintf("old-%02d", page), day.Add(-time.Hour))                          // older: ahead
			add(fmt.Sprintf("tie-%02d", page), day.Add(time.Duration(9-page/2)*time.Minute)) // ties
		})
		checkStable(t, ids(full, recName), ids(got, recName))
	})
}

func TestCallerCallsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	var caller int64
	if err := store.Pool().QueryRow(ctx, `INSERT INTO callers (number) VALUES ('+15550001') RETURNING id`).Scan(&caller); err != nil {
		t.Fatal(err)
	}
	// 20 calls by twos at the same time, and 5 without an arrival time
	// (they come last).
	for i := range 20 {
		addCall(t, store, "morning", fmt.Sprintf("call-%02d", i), day.Add(time.Duration(i/2)*time.Hour), caller)
	}
	for i := range 5 {
		addCall(t, store, "morning", fmt.Sprintf("nul-%02d", i), time.Time{}, caller)
	}
	addCall(t, store, "morning", "someone-else", day, 0)
	full, err := store.CallerCalls(ctx, "+1 555 0001", 100)
	if err != nil || len(full) != 25 {
		t.Fatalf("got %d calls, %v, want 25", len(full), err)
	}
	read := func(pr postgres.PageRequest) (postgres.Page[postgres.Call], error) {
		return store.CallerCallsPage(ctx, "+1 555 0001", pr)
	}
	for _, limit := range []int{1, 3, 20, 25} {
		got, _ := readAll(t, limit, read, nil)
		if !slices.Equal(ids(got, callID), ids(full, callID)) {
			t.Errorf("limit %d: got %v\nwant %v", limit, ids(got, callID), ids(full, callID))
		}
	}
	t.Run("StableUnderInserts", func(t *testing.T) {
		n := 0
		got, _ := readAll(t, 3, read, func(page int) {
			n++
			addCall(t, store, "morning", fmt.Sprintf("new-%02d", n), day.Add(time.Duration(20-page)*time.Hour/2), caller)
			addCall(t, store, "morning", fmt.Sprintf("nnul-%02d", n), time.Time{}, caller)
		})
		checkStable(t, ids(full, callID), ids(got, callID))
	})
	t.Run("Unknown", func(t *testing.T) {
		p, err := store.CallerCallsPage(ctx, "+44 1", postgres.PageRequest{})
		if err != nil || len(p.Items) != 0 || p.Next != "" {
			t.Errorf("got %+v, %v, want an empty last page", p, err)
		}
	})
}

func TestShowMessagesPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	// 23 messages, by fours at the same time.
	for i := range 23 {
		exec(t, store, `INSERT INTO show_messages (show, author, body, at) VALUES ('morning', 'ann', $1, $2)`,
			fmt.Sprintf("m%02d", i), day.Add(time.Duration(i/4)*time.Second))
	}
	latest, err := store.ShowMessages(ctx, "morning", 1000) // oldest first
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(latest)
	body := func(m postgres.ShowMessage) string { return m.Body }
	read := func(pr postgres.PageRequest) (postgres.Page[postgres.ShowMessage], error) {
		return store.ShowMessagesPage(ctx, "morning", pr)
	}
	got, _ := readAll(t, 5, read, nil)
	if !slices.Equal(ids(got, body), ids(latest, body)) {
		t.Errorf("got %v\nwant %v (newest first)", ids(got, body), ids(latest, body))
	}
	t.Run("StableUnderInserts", func(t *testing.T) {
		n := 0
		got, _ := readAll(t, 5, read, func(int) {
			n++
			if _, err := store.AddShowMessage(ctx, "morning", "bob", fmt.Sprintf("new%02d", n)); err != nil {
				t.Fatal(err)
			}
		})
		checkStable(t, ids(latest, body), ids(got, body))
		for _, b := range ids(got, body) {
			if b[0] == 'n' {
				t.Errorf("%s: written after the first page, newer than every cursor, yet read", b)
			}
		}
	})
}
