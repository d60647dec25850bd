package blocklist_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/internal/blocklist"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// flags records what a reload flags (a blocklist.Flagger); each call is
// also sent on calls, if set.
type flags struct {
	mu    sync.Mutex
	got   map[string]bool
	calls chan string
}

func (f *flags) SetBlocked(number string, blocked bool, _ string, actor queue.Actor) int {
	f.mu.Lock()
	if f.got == nil {
		f.got = map[string]bool{}
	}
	f.got[number] = blocked
	f.mu.Unlock()
	if f.calls != nil {
		f.calls <- number
	}
	return 1
}

func (f *flags) take() map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.got
	f.got = nil
	return got
}

// TestList: the list answers from memory for any spelling of a number,
// follows the console's blocks at once and other instances' on a
// reload, which flags and unflags the callers in line.
func TestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	here, elsewhere := openStore(t, dbURL), openStore(t, dbURL)
	if err := here.Block(ctx, "+12025550101", "alice", "abusive"); err != nil {
		t.Fatal(err)
	}
	list, err := blocklist.Load(ctx, here)
	if err != nil {
		t.Fatal(err)
	}
	wantBlocked := func(number string, want bool) {
		t.Helper()
		if got, _ := list.IsBlocked(number); got != want {
			t.Errorf("IsBlocked(%q) = %v, want %v", number, got, want)
		}
	}
	wantBlocked("+1 (202) 555-0101", true)
	wantBlocked("+12025550102", false)

	t.Run("History", func(t *testing.T) {
		h := blocklist.NewHistory(here, list)
		if err := h.Block(ctx, "+1 202 555 0102", "bob", "prank"); err != nil {
			t.Fatal(err)
		}
		wantBlocked("+12025550102", true) // no reload
		if ok, reason := list.IsBlocked("+12025550102"); !ok || reason != "prank" {
			t.Errorf("got %v %q, want the reason", ok, reason)
		}
		if err := h.Unblock(ctx, "+12025550102", "bob"); err != nil {
			t.Fatal(err)
		}
		wantBlocked("+12025550102", false)
		if err := h.Block(ctx, "no digits", "bob", ""); err == nil {
			t.Error("a number without digits was blocked")
		}
	})

	t.Run("Reload", func(t *testing.T) {
		if err := elsewhere.Block(ctx, "+12025550103", "carol", "spam"); err != nil {
			t.Fatal(err)
		}
		if err := elsewhere.Unblock(ctx, "+12025550101", "carol"); err != nil {
			t.Fatal(err)
		}
		wantBlocked("+12025550103", false) // not yet read
		var f flags
		n, err := list.Reload(ctx, &f)
		if err != nil || n != 2 {
			t.Fatalf("Reload: %d, %v; want 2 changed", n, err)
		}
		wantBlocked("+12025550103", true)
		wantBlocked("+12025550101", false)
		got := f.take()
		if len(got) != 2 || !got["+12025550103"] || got["+12025550101"] {
			t.Errorf("flagged %v, want 0103 blocked and 0101 unblocked", got)
		}
		if n, err := list.Reload(ctx, &f); n != 0 || err != nil || len(f.take()) != 0 {
			t.Errorf("a reload with nothing new: %d, %v", n, err)
		}
	})

	t.Run("Keep", func(t *testing.T) {
		f := flags{calls: make(chan string, 10)}
		kctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			list.Keep(kctx, &f, 10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
			close(done)
		}()
		defer func() { cancel(); <-done }()
		if err := elsewhere.Block(ctx, "+12025550104", "carol", "spam"); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-f.calls:
			if n != "+12025550104" {
				t.Fatalf("flagged %s, want +12025550104", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Keep never read the new block")
		}
		wantBlocked("+12025550104", true)
	})
}

func openStore(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
