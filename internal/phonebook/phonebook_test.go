package phonebook

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// lockedBuffer is a log that Run writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

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
	logs := &lockedBuffer{}
	p, err := Load(ctx, store, slog.New(slog.NewTextHandler(logs, nil)))
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

// TestRuleFor: the trunks the shows' call-backs dial through are kept out
// of the phones people may set, in both shapes of a dial template, and
// nothing else is.
func TestRuleFor(t *testing.T) {
	t.Parallel()
	rule, err := queue.ParsePhoneRule("PJSIP/*,SIP/*")
	if err != nil {
		t.Fatal(err)
	}
	shows := []broadcast.ShowConfig{
		{CallbackLine: broadcast.CallbackLine{Dial: "PJSIP/{number}@carrier"}},
		{CallbackLine: broadcast.CallbackLine{Dial: "SIP/trunk2/{number}"}},
		{}, // no call-back
	}
	got := RuleFor(rule, shows)
	for ep, allowed := range map[string]bool{
		"PJSIP/carrier": false, "SIP/trunk2": false,
		"PJSIP/screener1": true, "SIP/carol": true,
	} {
		if err := got.Allow(ep); (err == nil) != allowed {
			t.Errorf("%s: %v, want allowed %v", ep, err, allowed)
		}
	}
	if err := RuleFor(rule, nil).Allow("PJSIP/carrier"); err != nil {
		t.Errorf("no call-backs: the rule changed: %v", err)
	}
}

// TestWarnRefused: each stored phone the rule refuses is logged, naming
// its user; the others are not.
func TestWarnRefused(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	p, err := Load(context.Background(), fakeStore{"alice": "PJSIP/screener1", "bob": "Local/200@studio"}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	p.WarnRefused(queue.PhoneRule{}) // queue.DefaultPhonesAllowed
	if out := logs.String(); !strings.Contains(out, "user=bob") || strings.Contains(out, "user=alice") {
		t.Errorf("want bob's phone alone refused:\n%s", out)
	}
}

// fakeStore is a Store of fixed phones.
type fakeStore map[string]string

func (f fakeStore) UserPhones(context.Context) (map[string]string, error) { return maps.Clone(f), nil }

func (f fakeStore) SetUserPhone(_ context.Context, name, endpoint string) (string, error) {
	return "", errors.New("read only")
}
