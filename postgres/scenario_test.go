package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5/pgxpool"
)

// scenario returns the transitions of n calls to show "morning", in the
// order they happen: call i arrives 2s after call i-1, from one of n/3
// numbers (so numbers call several times, often in one batch). Every third
// call goes through screening to air; the others are answered and hang up.
func scenario(n int, start time.Time) []queue.Transition {
	var ts []queue.Transition
	numbers := max(n/3, 1)
	for i := range n {
		id := fmt.Sprintf("call-%05d", i)
		at := start.Add(time.Duration(i) * 2 * time.Second)
		base := queue.Transition{CallID: id, Show: "morning", Node: "ast1", ChannelID: "chan-" + id,
			Number: fmt.Sprintf("+1 555 %07d", i%numbers), Name: fmt.Sprintf("Caller %d", i)}
		step := func(seq int, from, to queue.State, action string, after time.Duration, actor queue.Actor) queue.Transition {
			t := base
			t.Seq, t.From, t.To, t.Action, t.At, t.Actor = seq, from, to, action, at.Add(after), actor
			return t
		}
		caller := queue.Actor{Kind: queue.ActorCaller}
		producer := queue.Actor{Kind: queue.ActorUser, Name: "pat"}
		ts = append(ts,
			step(1, "", queue.StateArriving, queue.ActionArrive, 0, caller),
			step(2, queue.StateArriving, queue.StateWaiting, queue.ActionJoin, time.Second, queue.System))
		if i%3 == 0 {
			screen := step(3, queue.StateWaiting, queue.StateScreening, queue.ActionScreen, 30*time.Second, producer)
			ready := step(4, queue.StateScreening, queue.StateReady, queue.ActionReady, 60*time.Second, producer)
			ready.Notes = &queue.Notes{Name: "Sam", Location: "Leeds", Topic: "buses", Priority: 2}
			air := step(5, queue.StateReady, queue.StateOnAir, queue.ActionPromote, 90*time.Second, producer)
			end := step(6, queue.StateOnAir, queue.StateEnded, queue.ActionHangup, 150*time.Second, caller)
			end.Outcome, end.Cause = queue.OutcomeAired, 16
			ts = append(ts, screen, ready, air, end)
		} else {
			end := step(3, queue.StateWaiting, queue.StateEnded, queue.ActionHangup, 45*time.Second, caller)
			end.Outcome, end.Cause = queue.OutcomeAbandoned, 16
			ts = append(ts, end)
		}
	}
	slices.SortStableFunc(ts, func(a, b queue.Transition) int { return a.At.Compare(b.At) })
	return ts
}

// checkHistory checks that the database holds exactly the history of ts:
// every transition once, every call as its last transition left it, and
// every number's counts.
func checkHistory(t *testing.T, pool *pgxpool.Pool, ts []queue.Transition) {
	t.Helper()
	ctx := context.Background()
	var events, distinct int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT (call_id, seq)) FROM call_events`).Scan(&events, &distinct); err != nil {
		t.Fatal(err)
	}
	if events != len(ts) || distinct != len(ts) {
		t.Errorf("call_events: got %d rows (%d distinct), want %d", events, distinct, len(ts))
	}

	type callWant struct {
		last    queue.Transition
		onAir   bool
		arrived time.Time
	}
	calls := map[string]*callWant{}
	type counts struct{ calls, onAir int }
	callers := map[string]*counts{}
	for _, tr := range ts {
		c := calls[tr.CallID]
		if c == nil {
			c = &callWant{arrived: tr.At}
			calls[tr.CallID] = c
			n := postgres.NormalizeNumber(tr.Number)
			if callers[n] == nil {
				callers[n] = &counts{}
			}
			callers[n].calls++
		}
		if tr.To == queue.StateOnAir && !c.onAir {
			c.onAir = true
			callers[postgres.NormalizeNumber(tr.Number)].onAir++
		}
		if tr.Seq > c.last.Seq {
			c.last = tr
		}
	}

	rows, err := pool.Query(ctx, `SELECT id, state, last_seq, coalesce(outcome, ''), arrived_at, on_air_at IS NOT NULL FROM calls`)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for rows.Next() {
		var id, state, outcome string
		var seq int
		var arrived time.Time
		var onAir bool
		if err := rows.Scan(&id, &state, &seq, &outcome, &arrived, &onAir); err != nil {
			t.Fatal(err)
		}
		got++
		w := calls[id]
		if w == nil {
			t.Errorf("call %s: not in the scenario", id)
			continue
		}
		if state != string(w.last.To) || seq != w.last.Seq || outcome != string(w.last.Outcome) ||
			!arrived.Equal(w.arrived) || onAir != w.onAir {
			t.Errorf("call %s: got state %s seq %d outcome %q arrived %v on air %v, want %s %d %q %v %v",
				id, state, seq, outcome, arrived, onAir, w.last.To, w.last.Seq, w.last.Outcome, w.arrived, w.onAir)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got != len(calls) {
		t.Errorf("calls: got %d, want %d", got, len(calls))
	}

	rows, err = pool.Query(ctx, `SELECT number, calls_count, on_air_count FROM callers`)
	if err != nil {
		t.Fatal(err)
	}
	got = 0
	for rows.Next() {
		var number string
		var n, onAir int
		if err := rows.Scan(&number, &n, &onAir); err != nil {
			t.Fatal(err)
		}
		got++
		w := callers[number]
		if w == nil || w.calls != n || w.onAir != onAir {
			t.Errorf("caller %s: got %d calls, %d on air, want %+v", number, n, onAir, w)
		}
	}
	if got != len(callers) {
		t.Errorf("callers: got %d, want %d", got, len(callers))
	}
}

// trackOrder makes the test database number call_events rows as they are
// inserted, for checkOrder.
func trackOrder(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `ALTER TABLE call_events ADD COLUMN written bigserial`); err != nil {
		t.Fatal(err)
	}
}

// checkOrder checks that the transitions reached call_events in the order
// they were recorded (ts), so no call's transition was applied before an
// earlier one.
func checkOrder(t *testing.T, pool *pgxpool.Pool, ts []queue.Transition) {
	t.Helper()
	type key struct {
		id  string
		seq int
	}
	index := make(map[key]int, len(ts))
	for i, tr := range ts {
		index[key{tr.CallID, tr.Seq}] = i
	}
	rows, err := pool.Query(context.Background(), `SELECT call_id, seq FROM call_events ORDER BY written`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	last := -1
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.seq); err != nil {
			t.Fatal(err)
		}
		i, ok := index[k]
		if !ok || i < last {
			t.Fatalf("call_events: %s/%d written out of order (recorded #%d, after #%d)", k.id, k.seq, i, last)
		}
		last = i
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
