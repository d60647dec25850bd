package postgres_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func reqHash(body string) []byte {
	h := sha256.Sum256([]byte("POST /api/v1/shows/morning/calls/c1/hold\n" + body))
	return h[:]
}

// beginWant begins principal's key for a request with body at now, and
// checks the outcome.
func beginWant(t *testing.T, store *postgres.Store, principal, key, body string, now time.Time, want postgres.IdempotencyOutcome) postgres.Idempotency {
	t.Helper()
	got, err := store.BeginIdempotent(context.Background(), principal, key, reqHash(body), now)
	if err != nil {
		t.Fatalf("begin %s %s: %v", principal, key, err)
	}
	if got.Outcome != want {
		t.Fatalf("begin %s %s: got %v, want %v", principal, key, got.Outcome, want)
	}
	return got
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	t0 := day
	t.Run("OK", func(t *testing.T) {
		beginWant(t, store, "token:1", "k1", "{}", t0, postgres.IdempotencyNew)
		beginWant(t, store, "token:1", "k1", "{}", t0.Add(time.Second), postgres.IdempotencyInFlight)
		beginWant(t, store, "token:1", "k1", `{"x":1}`, t0.Add(time.Second), postgres.IdempotencyMismatch)
		// Keys are each principal's own.
		beginWant(t, store, "token:2", "k1", `{"x":1}`, t0, postgres.IdempotencyNew)
		beginWant(t, store, "user:1", "k1", `{"x":1}`, t0, postgres.IdempotencyNew)

		if err := store.FinishIdempotent(ctx, "token:1", "k1", 200, "application/json", []byte(`{"id":"c1"}`)); err != nil {
			t.Fatal(err)
		}
		got := beginWant(t, store, "token:1", "k1", "{}", t0.Add(time.Hour), postgres.IdempotencyReplay)
		if got.Status != 200 || got.ContentType != "application/json" || string(got.Body) != `{"id":"c1"}` || !got.CreatedAt.Equal(t0) {
			t.Errorf("replay: got %+v", got)
		}
		beginWant(t, store, "token:1", "k1", `{"x":1}`, t0.Add(time.Hour), postgres.IdempotencyMismatch)
	})

	t.Run("FinishErrors", func(t *testing.T) {
		beginWant(t, store, "token:1", "f1", "{}", t0, postgres.IdempotencyNew)
		if err := store.FinishIdempotent(ctx, "token:1", "f1", 204, "", nil); err != nil {
			t.Fatal(err)
		}
		if err := store.FinishIdempotent(ctx, "token:1", "f1", 200, "", nil); !errors.Is(err, queue.ErrConflict) {
			t.Errorf("finished twice: got %v, want queue.ErrConflict", err)
		}
		if err := store.FinishIdempotent(ctx, "token:1", "never", 200, "", nil); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("never reserved: got %v, want queue.ErrNotFound", err)
		}
		beginWant(t, store, "token:1", "f2", "{}", t0, postgres.IdempotencyNew)
		if err := store.FinishIdempotent(ctx, "token:1", "f2", 42, "", nil); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("status 42: got %v, want queue.ErrInvalid", err)
		}
	})

}

// TestIdempotencyRelease: a released reservation, or one whose lease ran
// out, is free for a retry; malformed input is refused.
func TestIdempotencyRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	t0 := day
	t.Run("Release", func(t *testing.T) {
		beginWant(t, store, "token:1", "r1", "{}", t0, postgres.IdempotencyNew)
		if err := store.ReleaseIdempotent(ctx, "token:1", "r1"); err != nil {
			t.Fatal(err)
		}
		beginWant(t, store, "token:1", "r1", `{"other":1}`, t0, postgres.IdempotencyNew)
		if err := store.FinishIdempotent(ctx, "token:1", "r1", 201, "", nil); err != nil {
			t.Fatal(err)
		}
		// An answered key stays.
		if err := store.ReleaseIdempotent(ctx, "token:1", "r1"); err != nil {
			t.Fatal(err)
		}
		beginWant(t, store, "token:1", "r1", `{"other":1}`, t0, postgres.IdempotencyReplay)
	})

	t.Run("Lease", func(t *testing.T) {
		beginWant(t, store, "token:1", "l1", "{}", t0, postgres.IdempotencyNew)
		past := t0.Add(postgres.IdempotencyLease + time.Second)
		beginWant(t, store, "token:1", "l1", "{}", t0.Add(postgres.IdempotencyLease-time.Second), postgres.IdempotencyInFlight)
		beginWant(t, store, "token:1", "l1", `{"x":1}`, past, postgres.IdempotencyMismatch) // not another request's
		beginWant(t, store, "token:1", "l1", "{}", past, postgres.IdempotencyNew)
		beginWant(t, store, "token:1", "l1", "{}", past, postgres.IdempotencyInFlight) // the lease starts again
	})

	t.Run("Invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name, principal, key string
			hash                 []byte
		}{
			{"ErrHash", "token:1", "i1", []byte("abc")},
			{"ErrPrincipal", "bob", "i1", reqHash("")},
			{"ErrEmptyKey", "token:1", "", reqHash("")},
			{"ErrLongKey", "token:1", strings.Repeat("k", 256), reqHash("")},
		} {
			_, err := store.BeginIdempotent(ctx, tc.principal, tc.key, tc.hash, t0)
			if !errors.Is(err, queue.ErrInvalid) {
				t.Errorf("%s: got %v, want queue.ErrInvalid", tc.name, err)
			}
		}
	})
}

func TestIdempotencyExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	t0 := day
	for i, at := range []time.Time{t0, t0.Add(time.Hour), t0.Add(23 * time.Hour)} {
		key := fmt.Sprintf("e%d", i)
		if got, err := store.BeginIdempotent(ctx, "token:7", key, reqHash(key), at); err != nil || got.Outcome != postgres.IdempotencyNew {
			t.Fatalf("%s: got %v, %v", key, got.Outcome, err)
		}
		if err := store.FinishIdempotent(ctx, "token:7", key, 200, "text/plain", []byte(key)); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(postgres.IdempotencyTTL + 2*time.Hour)

	// Expired, not yet deleted: the key is used afresh, for any request.
	got, err := store.BeginIdempotent(ctx, "token:7", "e0", reqHash("another"), now)
	if err != nil || got.Outcome != postgres.IdempotencyNew || !got.CreatedAt.Equal(now) {
		t.Fatalf("expired e0: got %+v, %v, want new at %v", got, err, now)
	}

	n, err := store.ExpireIdempotencyKeys(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("got %d expired, %v, want 1 (e1; e0 is new again, e2 is 3 h old)", n, err)
	}
	for key, want := range map[string]postgres.IdempotencyOutcome{
		"e1": postgres.IdempotencyNew, "e2": postgres.IdempotencyReplay,
	} {
		got, err := store.BeginIdempotent(ctx, "token:7", key, reqHash(key), now)
		if err != nil || got.Outcome != want {
			t.Errorf("%s: got %v, %v, want %v", key, got.Outcome, err, want)
		}
	}
}

// TestIdempotencyRace starts many requests with one key at once: exactly
// one may act, the others are told it is in flight. Also when the key is
// an expired one that each of them would take over.
func TestIdempotencyRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	const racers = 16
	for round := range 8 {
		key := fmt.Sprintf("race-%d", round)
		now := day
		if round%2 == 1 {
			// A finished key from yesterday, expired now.
			if _, err := store.BeginIdempotent(ctx, "user:3", key, reqHash("old"), day.Add(-25*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := store.FinishIdempotent(ctx, "user:3", key, 200, "", nil); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		outcomes := make(chan postgres.IdempotencyOutcome, racers)
		for range racers {
			wg.Go(func() {
				<-start
				got, err := store.BeginIdempotent(ctx, "user:3", key, reqHash("{}"), now)
				if err != nil {
					t.Error(err)
				}
				outcomes <- got.Outcome
			})
		}
		close(start)
		wg.Wait()
		close(outcomes)
		count := map[postgres.IdempotencyOutcome]int{}
		for o := range outcomes {
			count[o]++
		}
		if count[postgres.IdempotencyNew] != 1 || count[postgres.IdempotencyInFlight] != racers-1 {
			t.Errorf("round %d: got %v, want 1 new and %d in flight", round, count, racers-1)
		}
	}
}
