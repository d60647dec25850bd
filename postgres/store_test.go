package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

// recorded returns a store holding the history of ts.
func recorded(t *testing.T, ts []queue.Transition) *postgres.Store {
	t.Helper()
	store := pgtest.NewStore(t)
	// One transition per batch: a call's later transitions come in
	// later batches, as they do live.
	w := startWriter(t, store, postgres.WriterConfig{BatchSize: 1}, nil)
	for _, tr := range ts {
		w.Record(tr)
	}
	flush(t, w)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store
}

func TestCallerProfile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// 9 calls from 3 numbers: +15550000000 calls 3 times (calls 0, 3, 6),
	// and all three went on air.
	store := recorded(t, scenario(9, day))

	t.Run("OK", func(t *testing.T) {
		p, err := store.CallerProfile(ctx, "+1 (555) 000-0000")
		if err != nil {
			t.Fatal(err)
		}
		want := postgres.Profile{Number: "+15550000000", Name: "Caller 6", Calls: 3, OnAir: 3,
			FirstCall: day, LastCall: day.Add(12 * time.Second)}
		if p.Number != want.Number || p.Name != want.Name || p.Calls != want.Calls || p.OnAir != want.OnAir ||
			!p.FirstCall.Equal(want.FirstCall) || !p.LastCall.Equal(want.LastCall) || p.Blocked {
			t.Errorf("got %+v, want %+v", p, want)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		p, err := store.CallerProfile(ctx, "+44 1234")
		if err != nil {
			t.Fatal(err)
		}
		if p != (postgres.Profile{Number: "+441234"}) {
			t.Errorf("got %+v, want a zero profile", p)
		}
		if p, err := store.CallerProfile(ctx, "anonymous"); err != nil || p != (postgres.Profile{}) {
			t.Errorf("anonymous: got %+v, %v", p, err)
		}
	})

	t.Run("CallerCalls", func(t *testing.T) {
		calls, err := store.CallerCalls(ctx, "+15550000001", 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range calls {
			ids = append(ids, c.ID)
		}
		if len(ids) != 3 || ids[0] != "call-00007" || ids[1] != "call-00004" || ids[2] != "call-00001" {
			t.Errorf("got %v, want call-00007, call-00004, call-00001", ids)
		}
		if calls[0].Outcome != queue.OutcomeAbandoned || calls[0].State != queue.StateEnded {
			t.Errorf("newest: got %+v", calls[0])
		}
	})

	t.Run("Search", func(t *testing.T) {
		for _, tt := range []struct {
			q    string
			want []string
		}{
			{"0000002", []string{"+15550000002"}},
			{"555", []string{"+15550000002", "+15550000001", "+15550000000"}}, // latest caller first
			{"caller 7", []string{"+15550000001"}},
			{"CALLER", []string{"+15550000002", "+15550000001", "+15550000000"}},
			{"%", nil}, // a wildcard matches itself only
			{"nobody", nil},
		} {
			got, err := store.SearchCallers(ctx, tt.q, 10)
			if err != nil {
				t.Fatalf("%q: %v", tt.q, err)
			}
			var numbers []string
			for _, p := range got {
				numbers = append(numbers, p.Number)
			}
			if len(numbers) != len(tt.want) {
				t.Errorf("%q: got %v, want %v", tt.q, numbers, tt.want)
				continue
			}
			for i := range numbers {
				if numbers[i] != tt.want[i] {
					t.Errorf("%q: got %v, want %v", tt.q, numbers, tt.want)
					break
				}
			}
		}
		if _, err := store.SearchCallers(ctx, " ", 10); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("empty query: got %v, want ErrInvalid", err)
		}
	})
}

func TestBlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := recorded(t, scenario(9, day)) // 3 numbers, 3 calls each

	if err := store.Block(ctx, "+1 555 000 0001", "pat", "abusive"); err != nil {
		t.Fatal(err)
	}
	p, err := store.CallerProfile(ctx, "+15550000001")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Blocked || p.BlockedReason != "abusive" || p.BlockedBy != "pat" || p.BlockedAt.IsZero() || p.Calls != 3 {
		t.Errorf("blocked: got %+v", p)
	}
	// A number never seen can be blocked ahead of its first call.
	if err := store.Block(ctx, "+447700900123", "pat", "known prankster"); err != nil {
		t.Fatal(err)
	}
	if p, err := store.CallerProfile(ctx, "+447700900123"); err != nil || !p.Blocked || p.Calls != 0 {
		t.Errorf("blocked ahead: got %+v, %v", p, err)
	}
	if got, err := store.BlockedNumbers(ctx); err != nil || len(got) != 2 || got["+15550000001"] != "abusive" || got["+447700900123"] != "known prankster" {
		t.Errorf("BlockedNumbers = %v, %v; want both blocked numbers with reasons", got, err)
	}
	if err := store.Unblock(ctx, "+15550000001", "sam"); err != nil {
		t.Fatal(err)
	}
	if got, err := store.BlockedNumbers(ctx); err != nil || len(got) != 1 {
		t.Errorf("BlockedNumbers after unblock = %v, %v; want one", got, err)
	}
	if p, err := store.CallerProfile(ctx, "+15550000001"); err != nil || p.Blocked || p.BlockedReason != "" || p.BlockedBy != "sam" {
		t.Errorf("unblocked: got %+v, %v", p, err)
	}
	if err := store.Unblock(ctx, "+999", "sam"); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("unblock unknown: got %v, want ErrNotFound", err)
	}
	if err := store.Block(ctx, "withheld", "pat", ""); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("block without digits: got %v, want ErrInvalid", err)
	}
	if err := store.SetCallerNotes(ctx, "+15550000002", "regular, likes trains"); err != nil {
		t.Fatal(err)
	}
	if p, err := store.CallerProfile(ctx, "+15550000002"); err != nil || p.Notes != "regular, likes trains" || p.Calls != 3 {
		t.Errorf("notes: got %+v, %v", p, err)
	}
}

func TestShowDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := scenario(6, day) // calls 0 and 3 aired (waited 89s), 1, 2, 4, 5 abandoned (44s)
	// One call the next day, and one to another show: not counted.
	ts = append(ts,
		queue.Transition{CallID: "tomorrow", Seq: 1, Show: "morning", To: queue.StateArriving, At: day.Add(24 * time.Hour), Number: "+1"},
		queue.Transition{CallID: "other", Seq: 1, Show: "evening", To: queue.StateArriving, At: day, Number: "+1"})
	store := recorded(t, ts)

	got, err := store.ShowDay(ctx, "morning", day.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Calls != 6 || got.Outcomes[queue.OutcomeAired] != 2 || got.Outcomes[queue.OutcomeAbandoned] != 4 {
		t.Errorf("calls: got %d %v, want 6: 2 aired, 4 abandoned", got.Calls, got.Outcomes)
	}
	want := postgres.WaitStats{N: 6, Avg: 59 * time.Second, P50: 44 * time.Second, P90: 89 * time.Second, Longest: 89 * time.Second}
	if got.Wait != want {
		t.Errorf("wait: got %+v, want %+v", got.Wait, want)
	}
	if len(got.PerHour) != 24 || got.PerHour[9] != 6 || !got.Start.Equal(day.Truncate(24*time.Hour)) {
		t.Errorf("per hour: got %v from %v, want 6 at 9:00 of 24 hours", got.PerHour, got.Start)
	}

	calls, err := store.ShowCalls(ctx, "morning", got.Start, got.Start.Add(24*time.Hour))
	if err != nil || len(calls) != 6 || calls[0].ID != "call-00000" {
		t.Errorf("show calls: got %d, %v", len(calls), err)
	}
	open, err := store.OpenCalls(ctx, "morning")
	if err != nil || len(open) != 1 || open[0].ID != "tomorrow" {
		t.Errorf("open calls: got %+v, %v, want tomorrow's", open, err)
	}
	// A day with no calls: zeros, not an error.
	empty, err := store.ShowDay(ctx, "morning", day.Add(-48*time.Hour))
	if err != nil || empty.Calls != 0 || empty.Wait != (postgres.WaitStats{}) {
		t.Errorf("empty day: got %+v, %v", empty, err)
	}
}

func TestShows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)

	s, err := store.UpsertShow(ctx, postgres.Show{Key: "morning", Title: "Morning Call", Node: "ast1"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Key != "morning" || string(s.Settings) != "{}" || s.CreatedAt.IsZero() {
		t.Errorf("created: got %+v", s)
	}
	s.LinesOpen, s.Settings = true, json.RawMessage(`{"max_waiting": 50}`)
	if _, err := store.UpsertShow(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := store.UpsertShow(ctx, postgres.Show{Key: "evening"}); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetShow(ctx, "morning")
	if err != nil {
		t.Fatal(err)
	}
	if !got.LinesOpen || got.Title != "Morning Call" || string(got.Settings) != `{"max_waiting": 50}` {
		t.Errorf("updated: got %+v", got)
	}
	list, err := store.ListShows(ctx)
	if err != nil || len(list) != 2 || list[0].Key != "evening" || list[1].Key != "morning" {
		t.Errorf("list: got %+v, %v", list, err)
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := store.GetShow(ctx, "nope"); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, sh := range []postgres.Show{{Key: "Bad Key"}, {Key: "ok", Settings: json.RawMessage(`[1]`)}} {
			if _, err := store.UpsertShow(ctx, sh); !errors.Is(err, queue.ErrInvalid) {
				t.Errorf("%+v: got %v, want ErrInvalid", sh, err)
			}
		}
	})
}

// TestCallerName: a caller's name is the one of their newest call, even
// when an older call goes on air after the newer one arrived.
func TestCallerName(t *testing.T) {
	t.Parallel()
	tr := func(id string, seq int, to queue.State, name string, after time.Duration) queue.Transition {
		return queue.Transition{CallID: id, Seq: seq, To: to, Show: "morning", Number: "+1555", Name: name, At: day.Add(after)}
	}
	store := recorded(t, []queue.Transition{
		tr("a", 1, queue.StateArriving, "Old Name", 0),
		tr("b", 1, queue.StateArriving, "New Name", time.Second),
		tr("a", 2, queue.StateOnAir, "Old Name", 2*time.Second),
	})
	p, err := store.CallerProfile(context.Background(), "+1555")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "New Name" || p.Calls != 2 || p.OnAir != 1 {
		t.Errorf("got %+v, want New Name, 2 calls, 1 on air", p)
	}
}
