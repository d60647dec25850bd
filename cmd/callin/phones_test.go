package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

// TestPhones: the call path's phones answer from memory, follow changes
// made here at once and elsewhere within a reload, and keep ringing the
// phones they knew through a database outage.
func TestPhones(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	store, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	for _, n := range []string{"alice", "bob", "carol"} {
		if _, err := store.CreateUser(ctx, n, "screener", "x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.SetUserPhone(ctx, "alice", "PJSIP/screener1"); err != nil {
		t.Fatal(err)
	}
	logs := newSyncBuffer()
	p, err := newPhones(ctx, store, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	wantPhone := func(user, want string) {
		t.Helper()
		got, ok := p.Phone(user)
		if got != want || ok != (want != "") {
			t.Errorf("Phone(%q): got %q, %v; want %q", user, got, ok, want)
		}
	}

	t.Run("Loaded", func(t *testing.T) {
		wantPhone("alice", "PJSIP/screener1")
		wantPhone(" Alice", "PJSIP/screener1") // as web/auth folds names
		wantPhone("bob", "")
		wantPhone("nobody", "")
	})

	t.Run("SetPhone", func(t *testing.T) {
		if ep, err := p.SetPhone(ctx, "Bob", "pjsip/bob"); err != nil || ep != "PJSIP/bob" {
			t.Fatalf("got %q, %v", ep, err)
		}
		wantPhone("bob", "PJSIP/bob")
		if _, err := p.SetPhone(ctx, "bob", "PJSIP/bob&PJSIP/eve"); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("a dial string: got %v, want ErrInvalid", err)
		}
		if _, err := p.SetPhone(ctx, "nobody", "PJSIP/x"); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("an unknown user: got %v, want ErrNotFound", err)
		}
		wantPhone("bob", "PJSIP/bob")
		wantPhone("nobody", "")
		if ep, err := p.SetPhone(ctx, "bob", ""); err != nil || ep != "" {
			t.Fatalf("clear: got %q, %v", ep, err)
		}
		wantPhone("bob", "")
	})

	t.Run("Reload", func(t *testing.T) {
		// Another instance, or `callin user phone`, changes the table.
		if _, err := store.SetUserPhone(ctx, "carol", "SIP/carol"); err != nil {
			t.Fatal(err)
		}
		wantPhone("carol", "")
		if err := p.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		wantPhone("carol", "SIP/carol")
	})

	t.Run("Run", func(t *testing.T) {
		p.reloaded.Init()
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { p.Run(rctx, 10*time.Millisecond); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		// waitReload waits for a reload that fails (or succeeds) and after
		// which cond holds.
		waitReload := func(fail bool, what string, cond func() bool) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for {
				err, ok := p.reloaded.Wait(time.Until(deadline))
				if !ok {
					t.Fatalf("timed out waiting for %s", what)
				}
				if (err != nil) == fail && cond() {
					return
				}
			}
		}
		always := func() bool { return true }

		if _, err := store.SetUserPhone(ctx, "bob", "IAX2/bob"); err != nil {
			t.Fatal(err)
		}
		waitReload(false, "bob's new phone", func() bool { ep, _ := p.Phone("bob"); return ep == "IAX2/bob" })

		// The outage: the database takes no connections and ends the ones
		// it has (the pool's among them).
		cfg, err := pgx.ParseConfig(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		name := cfg.Database
		cfg.Database = "postgres" // a database may not refuse its own connection
		admin, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Close(ctx) })
		db := pgx.Identifier{name}.Sanitize()
		if _, err := admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS false`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS true`) })
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
			t.Fatal(err)
		}
		waitReload(true, "a failed reload", always)
		waitReload(true, "a second failed reload", always)
		wantPhone("alice", "PJSIP/screener1")
		wantPhone("bob", "IAX2/bob")
		wantPhone("carol", "SIP/carol")
		if err := p.Reload(ctx); err == nil {
			t.Error("Reload during the outage: no error")
		}
		if _, err := p.SetPhone(ctx, "alice", "PJSIP/other"); err == nil {
			t.Error("SetPhone during the outage: no error")
		}
		wantPhone("alice", "PJSIP/screener1")
		if n := strings.Count(logs.String(), "cannot read the users' phones"); n != 1 {
			t.Errorf("the outage logged %d times, want once:\n%s", n, logs.String())
		}

		if _, err := admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS true`); err != nil {
			t.Fatal(err)
		}
		waitReload(false, "a reload after the outage", always)
		if !strings.Contains(logs.String(), "users' phones read again") {
			t.Errorf("the end of the outage was not logged:\n%s", logs.String())
		}
		wantPhone("alice", "PJSIP/screener1")
	})
}
