package postgres_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func hash32(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func TestAccountUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	id, err := store.CreateUser(ctx, "alice", "producer", "hash-a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(ctx, "bob", "host", "hash-b"); err != nil {
		t.Fatal(err)
	}

	t.Run("UserPassword", func(t *testing.T) {
		gotID, role, hash, err := store.UserPassword(ctx, "alice")
		if err != nil || gotID != id || role != "producer" || hash != "hash-a" {
			t.Errorf("got %d %q %q %v, want %d producer hash-a", gotID, role, hash, err, id)
		}
		if _, _, _, err := store.UserPassword(ctx, "nobody"); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("unknown user: got %v, want ErrNotFound", err)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		if _, err := store.CreateUser(ctx, "alice", "host", "x"); !errors.Is(err, queue.ErrConflict) {
			t.Errorf("got %v, want ErrConflict", err)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, c := range []struct{ name, role string }{
			{"carol", "janitor"}, {"Carol", "host"}, {"", "host"}, {"-carol", "host"}, {"car ol", "host"},
		} {
			if _, err := store.CreateUser(ctx, c.name, c.role, "x"); !errors.Is(err, queue.ErrInvalid) {
				t.Errorf("CreateUser(%q, %q): got %v, want ErrInvalid", c.name, c.role, err)
			}
		}
		if err := store.SetUserRole(ctx, "alice", "janitor"); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("SetUserRole janitor: got %v, want ErrInvalid", err)
		}
	})

	t.Run("ListUsers", func(t *testing.T) {
		users, err := store.ListUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range users {
			got = append(got, u.Name+":"+u.Role)
			if u.ID == 0 || u.CreatedAt.IsZero() {
				t.Errorf("user %+v: want id and created_at", u)
			}
		}
		if fmt.Sprint(got) != "[alice:producer bob:host]" {
			t.Errorf("got %v, want [alice:producer bob:host]", got)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		for name, err := range map[string]error{
			"SetUserPassword": store.SetUserPassword(ctx, "nobody", "x"),
			"SetUserRole":     store.SetUserRole(ctx, "nobody", "host"),
			"DeleteUser":      store.DeleteUser(ctx, "nobody"),
			"CreateSession":   store.CreateSession(ctx, hash32("s"), 999999, time.Now(), time.Now().Add(time.Hour), ""),
		} {
			if !errors.Is(err, queue.ErrNotFound) {
				t.Errorf("%s: got %v, want ErrNotFound", name, err)
			}
		}
	})
}

func TestAccountSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	idle := time.Hour
	newUser := func(name string) int64 {
		t.Helper()
		id, err := store.CreateUser(ctx, name, "screener", "h")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	newSession := func(key string, user int64) []byte {
		t.Helper()
		h := hash32(key)
		if err := store.CreateSession(ctx, h, user, t0, t0.Add(24*time.Hour), "test agent"); err != nil {
			t.Fatal(err)
		}
		return h
	}
	// lookup is SessionUser at t0+d with the idle timeout.
	lookup := func(h []byte, d time.Duration) (string, error) {
		now := t0.Add(d)
		_, name, _, err := store.SessionUser(ctx, h, now, now.Add(-idle))
		return name, err
	}

	t.Run("OK", func(t *testing.T) {
		id := newUser("ok")
		h := newSession("ok", id)
		gotID, name, role, err := store.SessionUser(ctx, h, t0.Add(time.Minute), t0.Add(-idle))
		if err != nil || gotID != id || name != "ok" || role != "screener" {
			t.Errorf("got %d %q %q %v, want %d ok screener", gotID, name, role, err, id)
		}
		if _, err := lookup(hash32("unknown"), 0); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("unknown session: got %v, want ErrNotFound", err)
		}
		if err := store.CreateSession(ctx, h, id, t0, t0.Add(time.Hour), ""); !errors.Is(err, queue.ErrConflict) {
			t.Errorf("same id twice: got %v, want ErrConflict", err)
		}
	})

	t.Run("IdleExpiry", func(t *testing.T) {
		h := newSession("idle", newUser("idle"))
		// Seen at 50 min, the session lives until 1 h 50 min.
		if _, err := lookup(h, 50*time.Minute); err != nil {
			t.Fatalf("at 50m: %v", err)
		}
		if _, err := lookup(h, 109*time.Minute); err != nil {
			t.Errorf("at 1h49m, 59m after last seen: got %v, want alive", err)
		}
		if _, err := lookup(h, 170*time.Minute); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("at 2h50m, 61m after last seen: got %v, want ErrNotFound", err)
		}
	})

	t.Run("TouchAtMostOncePerMinute", func(t *testing.T) {
		h := newSession("touch", newUser("touch"))
		// Seen at 30 s: not written (under a minute since t0), so the
		// session is idle since t0 and dead at t0 + idle + 1s.
		if _, err := lookup(h, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := lookup(h, idle+time.Second); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound: last_seen_at written within a minute", err)
		}
	})

	t.Run("AbsoluteExpiry", func(t *testing.T) {
		h := newSession("abs", newUser("abs"))
		for d := 50 * time.Minute; d < 24*time.Hour; d += 50 * time.Minute {
			if _, err := lookup(h, d); err != nil {
				t.Fatalf("at %s: %v", d, err)
			}
		}
		if _, err := lookup(h, 24*time.Hour); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("at 24h, kept busy: got %v, want ErrNotFound", err)
		}
	})

	t.Run("PasswordAndRoleChangesEndSessions", func(t *testing.T) {
		id := newUser("changer")
		other := newSession("bystander", newUser("bystander"))
		h1, h2 := newSession("c1", id), newSession("c2", id)
		if err := store.SetUserPassword(ctx, "changer", "new"); err != nil {
			t.Fatal(err)
		}
		for i, h := range [][]byte{h1, h2} {
			if _, err := lookup(h, time.Minute); !errors.Is(err, queue.ErrNotFound) {
				t.Errorf("session %d after password change: got %v, want ErrNotFound", i, err)
			}
		}
		if _, _, hash, _ := store.UserPassword(ctx, "changer"); hash != "new" {
			t.Errorf("hash: got %q, want new", hash)
		}
		h3 := newSession("c3", id)
		if err := store.SetUserRole(ctx, "changer", "admin"); err != nil {
			t.Fatal(err)
		}
		if _, err := lookup(h3, time.Minute); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("after role change: got %v, want ErrNotFound", err)
		}
		if _, role, _, _ := store.UserPassword(ctx, "changer"); role != "admin" {
			t.Errorf("role: got %q, want admin", role)
		}
		if name, err := lookup(other, time.Minute); err != nil || name != "bystander" {
			t.Errorf("another user's session: got %q %v, want alive", name, err)
		}
	})

	t.Run("DeleteSessionAndUser", func(t *testing.T) {
		h := newSession("del", newUser("del"))
		if err := store.DeleteSession(ctx, h); err != nil {
			t.Fatal(err)
		}
		if _, err := lookup(h, 0); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("after DeleteSession: got %v, want ErrNotFound", err)
		}
		if err := store.DeleteSession(ctx, h); err != nil {
			t.Errorf("second DeleteSession: got %v, want nil", err)
		}
		h = newSession("del2", newUser("gone"))
		if err := store.DeleteUser(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		if _, err := lookup(h, 0); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("after DeleteUser: got %v, want ErrNotFound", err)
		}
	})
}

func TestAccountDeleteExpiredSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	id, err := store.CreateUser(ctx, "u", "host", "h")
	if err != nil {
		t.Fatal(err)
	}
	// expired: absolute expiry passed; idle: not seen for 2 h; live.
	for _, s := range []struct {
		key              string
		created, expires time.Time
	}{
		{"expired", t0.Add(-48 * time.Hour), t0.Add(-time.Hour)},
		{"idle", t0.Add(-2 * time.Hour), t0.Add(time.Hour)},
		{"live", t0.Add(-time.Minute), t0.Add(time.Hour)},
	} {
		if err := store.CreateSession(ctx, hash32(s.key), id, s.created, s.expires, ""); err != nil {
			t.Fatal(err)
		}
	}
	n, err := store.DeleteExpiredSessions(ctx, t0, t0.Add(-time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("got %d, %v; want 2 deleted", n, err)
	}
	if _, _, _, err := store.SessionUser(ctx, hash32("live"), t0, t0.Add(-time.Hour)); err != nil {
		t.Errorf("live session: %v", err)
	}
}

func TestAccountTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	id, err := store.CreateToken(ctx, "automation", "producer", hash32("tok1"), "callin_abcdefgh", "alice")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("TokenRole", func(t *testing.T) {
		gotID, name, role, err := store.TokenRole(ctx, hash32("tok1"), t0)
		if err != nil || gotID != id || name != "automation" || role != "producer" {
			t.Errorf("got %d %q %q %v, want %d automation producer", gotID, name, role, err, id)
		}
		if _, _, _, err := store.TokenRole(ctx, hash32("nope"), t0); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("unknown token: got %v, want ErrNotFound", err)
		}
	})

	t.Run("LastUsed", func(t *testing.T) {
		lastUsed := func() time.Time {
			t.Helper()
			tokens, err := store.ListTokens(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range tokens {
				if tk.ID == id {
					return tk.LastUsed
				}
			}
			t.Fatal("token not listed")
			return time.Time{}
		}
		// TokenRole at t0 (subtest above) wrote it; 30 s later does not;
		// 2 min later does.
		if got := lastUsed(); !got.Equal(t0) {
			t.Errorf("after use at t0: got %v, want %v", got, t0)
		}
		if _, _, _, err := store.TokenRole(ctx, hash32("tok1"), t0.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(t0) {
			t.Errorf("after use at t0+30s: got %v, want %v (unchanged)", got, t0)
		}
		if _, _, _, err := store.TokenRole(ctx, hash32("tok1"), t0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(t0.Add(2 * time.Minute)) {
			t.Errorf("after use at t0+2m: got %v, want %v", got, t0.Add(2*time.Minute))
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		_, err := store.CreateToken(ctx, "automation", "host", hash32("tok2"), "callin_x", "alice")
		if !errors.Is(err, queue.ErrConflict) {
			t.Errorf("same live name: got %v, want ErrConflict", err)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		if _, err := store.CreateToken(ctx, "x", "janitor", hash32("tok3"), "p", ""); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("unknown role: got %v, want ErrInvalid", err)
		}
		if _, err := store.CreateToken(ctx, "", "host", hash32("tok4"), "p", ""); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("empty name: got %v, want ErrInvalid", err)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		if err := store.RevokeToken(ctx, "automation"); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := store.TokenRole(ctx, hash32("tok1"), t0); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("revoked token: got %v, want ErrNotFound", err)
		}
		if err := store.RevokeToken(ctx, "automation"); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("revoke twice: got %v, want ErrNotFound", err)
		}
		// The name is free again; the revoked token stays listed.
		if _, err := store.CreateToken(ctx, "automation", "host", hash32("tok5"), "callin_y", "bob"); err != nil {
			t.Fatalf("reuse name after revoke: %v", err)
		}
		tokens, err := store.ListTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(tokens) != 2 || tokens[0].CreatedBy != "bob" || !tokens[0].Revoked.IsZero() ||
			tokens[1].Revoked.IsZero() || tokens[1].Prefix != "callin_abcdefgh" {
			t.Errorf("got %+v, want the new live token then the revoked one", tokens)
		}
	})
}

func TestAccountShowMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	for i := range 5 {
		m, err := store.AddShowMessage(ctx, "morning", "alice", fmt.Sprintf("msg %d", i))
		if err != nil {
			t.Fatal(err)
		}
		if m.ID == 0 || m.At.IsZero() || m.Show != "morning" || m.Author != "alice" {
			t.Errorf("add: got %+v", m)
		}
	}
	if _, err := store.AddShowMessage(ctx, "evening", "bob", "other show"); err != nil {
		t.Fatal(err)
	}

	t.Run("Latest", func(t *testing.T) {
		got, err := store.ShowMessages(ctx, "morning", 3)
		if err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, m := range got {
			bodies = append(bodies, m.Body)
		}
		if fmt.Sprint(bodies) != "[msg 2 msg 3 msg 4]" {
			t.Errorf("got %v, want the latest 3, oldest first", bodies)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, body := range []string{"", strings.Repeat("x", 501)} {
			if _, err := store.AddShowMessage(ctx, "morning", "alice", body); !errors.Is(err, queue.ErrInvalid) {
				t.Errorf("body of %d chars: got %v, want ErrInvalid", len([]rune(body)), err)
			}
		}
		if _, err := store.ShowMessages(ctx, "morning", 0); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("limit 0: got %v, want ErrInvalid", err)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		got, err := store.ShowMessages(ctx, "nobody-show", 10)
		if err != nil || len(got) != 0 {
			t.Errorf("got %v, %v; want none", got, err)
		}
	})
}
